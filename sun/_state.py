"""The sun graph's state."""

from __future__ import annotations

import operator
from typing import Annotated, Any, NotRequired, TypedDict

from bus import MarketSnapshot, MoonPanel, PlanetReport, SunDecision, TraceStep
from planets import PlanetContext
from sun._reasoning import Reasoning


def merge_reports(held: list[PlanetReport], new: list[PlanetReport]) -> list[PlanetReport]:
    """``reports``' reducer: the new reports, each replacing an earlier one of its planet (an
    expansion that consults a planet again with other parameters, e.g. a wider window)."""
    if not held:
        return list(new)
    again = {report.planet for report in new}
    return [*(r for r in held if r.planet not in again), *new]


class SunState(TypedDict, total=False):
    """One decision's state. ``request`` is the JSON-friendly input used by Studio and the CLI.

    ``stop`` is what a policy checkpoint decided (disposition, reason, by); ``checked`` the
    checkpoints (and run-time skips, as ``skip:<node>``) already evaluated; ``expand`` the
    expansion planets to consult next; ``started_at`` when the decision began (on the clock
    of its latency budget). ``reports`` holds one report per planet: a later one replaces it.
    """

    request: dict[str, Any]
    snapshot: MarketSnapshot
    instrument: str
    position: float
    panel: MoonPanel
    route: dict[str, Any]
    reports: Annotated[list[PlanetReport], merge_reports]
    recalled: list[str]
    reasoning: Reasoning
    decision: SunDecision
    directives: list[dict[str, Any]]
    trace: Annotated[list[TraceStep], operator.add]
    stop: dict[str, str] | None
    checked: list[str]
    expand: list[dict[str, Any]]
    started_at: float


class ConsultTask(TypedDict):
    """The input of one ``consult`` task (one planet) in the fan-out; ``again``: an expansion
    asking a planet that already reported, with other parameters."""

    planet: str
    context: PlanetContext
    again: NotRequired[bool]


class InlineTask(TypedDict):
    """The input of the ``consult_inline`` task: the routed in-process planets, in order."""

    planets: list[ConsultTask]


class RecallTask(TypedDict):
    """The input of the ``recall`` task."""

    instrument: str
    panel: MoonPanel
