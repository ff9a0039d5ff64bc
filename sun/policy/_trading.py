"""Trading adapters: planets as policy agents, and the profile of one instrument's decision."""

from __future__ import annotations

from dataclasses import replace

from planets import Planet, PlanetContext
from sun.policy._profile import TradingClassifier, TradingProfile
from sun.policy._types import Agent, AgentCall, NodeOutput


def planet_agent(planet: Planet, context: PlanetContext) -> Agent:
    """An agent that runs ``planet`` on ``context`` with the node's parameters (e.g. style).

    The :class:`PlanetReport` travels in ``data["report"]``; score, confidence and veto are
    copied out for checkpoints (the score a direction vote only for a ``directional`` planet);
    ``facts`` carry ``has_data`` and ``critical``.
    """

    def agent(call: AgentCall) -> NodeOutput:
        params = {**dict(context.params), **dict(call.params)}
        report = planet.report(replace(context, params=params))
        return NodeOutput(
            score=report.score, confidence=report.confidence, veto=report.veto,
            votes=planet.directional,
            facts={"has_data": report.has_data, "critical": report.critical},
            data={"report": report.model_dump(mode="json")},
        )  # fmt: skip

    return agent


def trading_profile(
    context: PlanetContext,
    *,
    classifier: TradingClassifier | None = None,
    proposed_notional: float = 0.0,
    notional_limit: float = 1.0,
) -> TradingProfile:
    """The profile of ``context``'s decision: its moon row and its snapshot's headline count."""
    headlines = context.snapshot.headlines_for(context.instrument)
    row = {"close": float(context.snapshot.bars[context.instrument].close[-1]), **context.moons}
    return (classifier or TradingClassifier()).classify(
        row, len(headlines), proposed_notional=proposed_notional, notional_limit=notional_limit
    )
