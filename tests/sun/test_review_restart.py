"""A pending review survives the death of the process that decided: a new process lists it
from PostgreSQL and approves it through ``heliarch review``, and the decision completes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from bus import SunDecision

ROOT = Path(__file__).resolve().parents[2]
HELPER = Path(__file__).with_name("_review_restart_proc.py")
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


def heliarch(*args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "heliarch", "review", *args]
    return subprocess.run(command, capture_output=True, text=True, env=ENV, timeout=300)


@pytest.mark.services
@pytest.mark.slow
def test_a_pending_review_is_approved_after_the_deciding_process_was_killed(
    postgres_url: str,
) -> None:
    thread = f"sun-restart-{uuid.uuid4().hex}"
    first = subprocess.Popen(
        [sys.executable, str(HELPER), postgres_url, thread],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV,
    )  # fmt: skip
    try:
        assert first.stdout is not None
        line = first.stdout.readline()
        assert line, first.stderr.read() if first.stderr else "no output"
        pending = SunDecision.model_validate_json(line)
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
    assert first.returncode == -signal.SIGKILL
    assert pending.disposition == "HIL_REVIEW" and pending.review is not None
    assert pending.review.thread_id == thread and pending.order_intent is None

    listed = heliarch("list", "--checkpoint", postgres_url, "--json")
    assert listed.returncode == 0, listed.stderr
    waiting = {d["review"]["thread_id"]: d for d in json.loads(listed.stdout)}
    assert SunDecision.model_validate(waiting[thread]) == pending

    approved = heliarch("approve", thread, "--by", "restart-test", "--note", "ok after restart",
                        "--checkpoint", postgres_url, "--json")  # fmt: skip
    assert approved.returncode == 0, approved.stderr
    done = SunDecision.model_validate_json(approved.stdout)
    assert done.review is not None and done.review.status == "approved"
    assert (done.review.by, done.review.note) == ("restart-test", "ok after restart")
    assert done.target_position == pending.target_position
    assert done.order_intent is not None and done.order_intent.target_position > 0
    assert [s.node for s in done.trace][-2:] == ["review", "propagate"]

    again = heliarch("approve", thread, "--checkpoint", postgres_url)
    assert again.returncode == 2 and again.stderr.count("\n") == 1
    assert f"thread_id {thread!r}: no decision is waiting for review" in again.stderr
