"""heliarch, the application: what drives a whole :class:`sun.Sun` for a user.

The ``heliarch`` command line (:mod:`heliarch.cli`), walk-forward backtests
(:mod:`heliarch.backtest`), the prompt lab (offline prompt evolution on labelled situations)
and terminal rendering of decisions. Nothing else in the project imports this package.

    from heliarch import render_decision, run_evolution
    from heliarch.backtest import BacktestConfig, run_backtest

The names below load on first use, so a light command (``heliarch moons``) does not pay for
the sun, its models and their libraries.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bus import lazy_names

if TYPE_CHECKING:
    from heliarch._prompt_lab import LlmPromptEvaluator, run_evolution
    from heliarch._render import authority_line, render_decision, render_panel
    from heliarch._situations import (
        LabSituation,
        SituationSets,
        best_examples,
        build_situations,
        memory_examples,
    )

_HOMES = {
    "LabSituation": "heliarch._situations",
    "LlmPromptEvaluator": "heliarch._prompt_lab",
    "SituationSets": "heliarch._situations",
    "best_examples": "heliarch._situations",
    "build_situations": "heliarch._situations",
    "memory_examples": "heliarch._situations",
    "run_evolution": "heliarch._prompt_lab",
    "authority_line": "heliarch._render",
    "render_decision": "heliarch._render",
    "render_panel": "heliarch._render",
}


__getattr__ = lazy_names("heliarch", _HOMES)

__all__ = [
    "LabSituation",
    "LlmPromptEvaluator",
    "SituationSets",
    "best_examples",
    "build_situations",
    "memory_examples",
    "authority_line",
    "render_decision",
    "render_panel",
    "run_evolution",
]
