"""heliarch, the application: what drives a whole :class:`sun.Sun` for a user.

The ``heliarch`` command line (:mod:`heliarch.cli`), walk-forward backtests
(:mod:`heliarch.backtest`), the prompt lab (offline prompt evolution on labelled situations)
and terminal rendering of decisions. Nothing else in the project imports this package.

    from heliarch import render_decision, run_evolution
    from heliarch.backtest import BacktestConfig, run_backtest
"""

from heliarch._prompt_lab import (
    LabSituation,
    LlmPromptEvaluator,
    SituationSets,
    best_examples,
    build_situations,
    memory_examples,
    run_evolution,
)
from heliarch._render import authority_line, render_decision, render_panel

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
