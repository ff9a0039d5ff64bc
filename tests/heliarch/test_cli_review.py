"""`heliarch review`: list, show and answer pending reviews over a SQLite checkpointer; bad
input is one line naming the option or the thread."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bus import BarSeries, MarketSnapshot, SunDecision
from heliarch.cli import app
from sun import OrchestrationConfig, Sun

runner = CliRunner()
BAR = 300  # 2005-10-26: a large change (target +0.618) under trading_guarded


@pytest.fixture
def pending(tmp_path: Path, goog: BarSeries) -> tuple[str, SunDecision]:
    path = str(tmp_path / "checkpoints.sqlite")
    snapshot = MarketSnapshot.at(goog.up_to(goog.timestamps[BAR]).last_timestamp, {"GOOG": goog})
    with Sun(
        "quant", checkpoint=path, orchestration=OrchestrationConfig(policy="trading_guarded")
    ) as sun:
        return path, sun.decide(snapshot)


def thread_of(decision: SunDecision) -> str:
    assert decision.review is not None and decision.review.thread_id is not None
    return decision.review.thread_id


def test_list_show_and_modify(pending: tuple[str, SunDecision]) -> None:
    path, decision = pending
    thread = thread_of(decision)
    listed = runner.invoke(app, ["review", "list", "--checkpoint", path])
    assert listed.exit_code == 0, listed.output
    assert thread in listed.output and "1 decision(s) waiting" in listed.output
    shown = runner.invoke(app, ["review", "show", thread, "--checkpoint", path, "--json"])
    assert shown.exit_code == 0 and SunDecision.model_validate_json(shown.output) == decision
    table = runner.invoke(app, ["review", "show", thread, "--checkpoint", path])
    assert "execution trace" in table.output and "pending" in table.output
    done = runner.invoke(app, ["review", "approve", thread, "--target", "0.25", "--by", "ann",
                               "--checkpoint", path, "--json"])  # fmt: skip
    assert done.exit_code == 0, done.output
    result = json.loads(done.output)
    assert result["review"]["status"] == "modified" and result["target_position"] == 0.25
    empty = runner.invoke(app, ["review", "list", "--checkpoint", path, "--json"])
    assert json.loads(empty.output) == []


def test_reject_holds_the_position(pending: tuple[str, SunDecision]) -> None:
    path, decision = pending
    done = runner.invoke(app, ["review", "reject", thread_of(decision), "--note", "too big",
                               "--checkpoint", path])  # fmt: skip
    assert done.exit_code == 0, done.output
    assert "rejected" in done.output and "too big" in done.output and "HOLD" in done.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["show", "nope"], "thread_id 'nope': no decision is waiting for review"),
        (["approve", "nope", "--target", "1.5"], "target 1.5: Input should be less than"),
        (["modify", "nope", "--target", "nan"], "target nan"),
        (["list", "--checkpoint", "/nonexistent/c.sqlite"],
         "--checkpoint '/nonexistent/c.sqlite': no such checkpoint file"),
        (["list", "--checkpoint", "postgresql://ann:secret@127.0.0.1:1/x"],
         "--checkpoint 'postgresql://ann:***@127.0.0.1:1/x': cannot open"),
    ],
)  # fmt: skip
def test_bad_input_is_one_line(
    pending: tuple[str, SunDecision], args: list[str], message: str
) -> None:
    path, _ = pending
    if "--checkpoint" not in args:
        args = [*args, "--checkpoint", path]
    result = runner.invoke(app, ["review", *args])
    assert result.exit_code == 2
    assert result.output.startswith("error: ") and result.output.count("\n") == 1
    assert message in result.output


def test_decide_names_a_checkpoint_it_cannot_open() -> None:
    url = "postgresql://ann:secret@127.0.0.1:1/x"
    args = ["decide", "--data", "examples/data/GOOG.csv", "--model", "quant", "--checkpoint", url]
    result = runner.invoke(app, args)
    assert result.exit_code == 2 and result.output.count("\n") == 1
    assert result.output.startswith("error: --checkpoint 'postgresql://ann:***@127.0.0.1:1/x'")
    assert "secret" not in result.output
