"""Subprocess helper for the restart test: ``start`` raises a review, ``resume`` answers it.

python _review_proc.py start  POSTGRES_URL THREAD   # prints {"pending": ...}, then blocks
python _review_proc.py resume POSTGRES_URL THREAD   # prints the finished run as JSON
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from langgraph.checkpoint.postgres import PostgresSaver
from psycopg import Connection
from psycopg.rows import dict_row

from sun.policy import (
    NodeOutput,
    PolicyContext,
    ReviewDesk,
    TradingProfile,
    build_policy_graph,
    load_policy,
    run_policy,
)

CASES = Path(__file__).with_name("policies") / "executor_cases.yaml"


def main() -> None:
    mode, url, thread = sys.argv[1:4]
    with Connection.connect(
        url, autocommit=True, prepare_threshold=0, row_factory=dict_row
    ) as conn:
        saver = PostgresSaver(conn)
        saver.setup()
        graph = build_policy_graph(saver)
        context = PolicyContext(
            agents={"a": lambda call: NodeOutput(score=0.6, facts={"qty": 100})}
        )
        if mode == "start":
            resolved = load_policy(CASES).select(
                TradingProfile(headline_count=6, has_headlines=True)
            )
            run = run_policy(graph, resolved, {"instrument": "GOOG"}, context, thread_id=thread)
            print(json.dumps({"pending": run.pending_review, "thread": run.thread_id}), flush=True)
            sys.stdin.read()  # wait here until the test kills this process
            return
        desk = ReviewDesk(graph, context)
        pending = [p.thread_id for p in desk.pending()]
        shown = desk.show(thread)
        done = desk.approve(thread, by="restart-test", note="ok after restart")
        print(json.dumps({"listed": thread in pending, "shown_rule": shown.rule,
                          "run": done.model_dump(mode="json")}), flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
