"""Subprocess of the restart test: decide with PostgreSQL checkpoints, hit HIL_REVIEW, wait.

python _review_restart_proc.py POSTGRES_URL THREAD   # prints the pending decision, then blocks
"""

from __future__ import annotations

import sys
from pathlib import Path

from bus import MarketSnapshot, load_csv
from sun import OrchestrationConfig, Sun

GOOG = Path(__file__).resolve().parents[2] / "examples" / "data" / "GOOG.csv"
BAR = 300  # 2005-10-26: the quant target +0.618 is a large change (materiality 2.47)


def main() -> None:
    url, thread = sys.argv[1:3]
    goog = load_csv(GOOG, "GOOG")
    snapshot = MarketSnapshot.at(goog.up_to(goog.timestamps[BAR]).last_timestamp, {"GOOG": goog})
    guarded = OrchestrationConfig(policy="trading_guarded")
    with Sun("quant", checkpoint=url, orchestration=guarded) as sun:
        decision = sun.decide(snapshot, thread_id=thread)
        print(decision.model_dump_json(), flush=True)
        sys.stdin.read()  # wait here until the test kills this process


if __name__ == "__main__":
    main()
