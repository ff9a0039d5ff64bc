"""Long commands show progress off a terminal too: a plain line per 10%, with elapsed and ETA."""

from __future__ import annotations

import io

from rich.console import Console

from heliarch.cli._backtest import PlainProgress


class StepClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_plain_lines_every_tenth_when_not_a_terminal() -> None:
    out = io.StringIO()
    clock = StepClock()
    progress = PlainProgress(Console(file=out, force_terminal=False), "GOOG walk-forward", clock)
    for done in range(0, 1001, 10):
        clock.now = done / 10
        progress.show(done, 1000, "LLM $0.0000")
    lines = out.getvalue().splitlines()
    assert len(lines) == 11  # 0%, 10%, ..., 100%
    assert lines[1].startswith("GOOG walk-forward: 100/1000 (10%) elapsed 10s eta 90s")
    assert lines[-1].startswith("GOOG walk-forward: 1000/1000 (100%)")


def test_silent_on_a_terminal_where_the_live_bar_shows() -> None:
    out = io.StringIO()
    progress = PlainProgress(Console(file=out, force_terminal=True), "x", StepClock())
    progress.show(500, 1000)
    assert out.getvalue() == ""
