"""A pending review survives the death of the process that raised it (PostgreSQL checkpoints)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
HELPER = Path(__file__).with_name("_review_proc.py")


def spawn(mode: str, url: str, thread: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, str(HELPER), mode, url, thread],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip


@pytest.mark.services
@pytest.mark.slow
def test_review_survives_process_kill(postgres_url: str) -> None:
    thread = f"policy-restart-{uuid.uuid4().hex}"
    first = spawn("start", postgres_url, thread)
    try:
        assert first.stdout is not None
        line = first.stdout.readline()
        assert line, first.stderr.read() if first.stderr else "no output"
        assert json.loads(line) == {"pending": True, "thread": thread}
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
    assert first.returncode == -signal.SIGKILL

    second = spawn("resume", postgres_url, thread)
    out, err = second.communicate(timeout=120)
    assert second.returncode == 0, err
    result = json.loads(out.strip().splitlines()[-1])
    assert result["listed"] is True and result["shown_rule"] == "review"
    run = result["run"]
    assert run["disposition"] == "HIL_REVIEW" and run["pending_review"] is False
    assert run["review"]["action"] == "approve" and run["review"]["by"] == "restart-test"
    assert run["decision"]["facts"] == {"qty": 100}
    assert [e["node"] for e in run["trace"]] == ["a"]
