"""How the sun graph's ``reason`` node decides: the emergency stop, the quant-only and ``auto``
policies, the model fallback chain, and the planet council when every model level failed.

Also the planet's view of a snapshot (its instrument's last bar, headlines and book), which the
graph's fan-out and the council's planet contexts share.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from bus import FallbackAttempt, MarketSnapshot, PlanetReport, ReasonedDecision
from planets import PlanetContext
from sun._council import COUNCIL
from sun._reasoning import QUANT, Reasoning, ReasonInputs

if TYPE_CHECKING:
    from sun._graph import SunRuntime, SunState


def _planet_view(snapshot: MarketSnapshot, instrument: str) -> MarketSnapshot:
    """The part of the snapshot a planet reads: its instrument's last bar, headlines, book."""
    series = snapshot.bars[instrument]
    return snapshot.model_copy(
        update={
            "bars": {instrument: series.tail(1)},
            "headlines": snapshot.headlines_for(instrument),
            "order_books": {k: v for k, v in snapshot.order_books.items() if k == instrument},
            "benchmark": None,
        }
    )


def _reason(runtime: SunRuntime, state: SunState) -> Reasoning:
    reports = tuple(sorted(state.get("reports", []), key=lambda r: r.planet))
    inputs = ReasonInputs(
        instrument=state["instrument"],
        as_of=state["snapshot"].as_of.isoformat(),
        reports=reports,
        recalled=tuple(state.get("recalled", [])),
        limits=runtime.limits,
        directional=runtime.directional,
    )
    critical = [r for r in reports if r.critical]
    if critical:
        reasons = "; ".join(f"{r.planet}: {r.critical_reason}" for r in critical)
        flat = ReasonedDecision(
            action="HOLD", target_position=0.0, confidence=1.0, rationale=f"[emergency] {reasons}"
        )
        return Reasoning(decision=flat, reasoner=critical[0].planet, level="emergency")
    chain = runtime.fallback_chain()
    if chain is None:
        return Reasoning(decision=runtime.quant.reason(inputs), reasoner=QUANT, level=QUANT)
    if runtime.llm_policy == "auto" and _planets_agree(reports, runtime):
        decision = runtime.quant.reason(inputs)
        note = FallbackAttempt(level=chain.primary.label, ok=False, error="skipped: planets agree")
        return Reasoning(decision=decision, reasoner=QUANT, level="policy", attempts=(note,))
    decided, attempts, usage, prompt = chain.run(inputs)
    if decided is not None:
        return decided
    # Every model level failed: the planets' council decides (HOLD below quorum).
    started = time.perf_counter()
    verdict = runtime.council.decide(
        reports, runtime.directional, runtime.limits, _context_factory(runtime, state)
    )
    note = FallbackAttempt(
        level=verdict.level,
        ok=True,
        error=None if verdict.level == COUNCIL else verdict.decision.rationale[:300],
        latency_ms=(time.perf_counter() - started) * 1e3,
    )
    return Reasoning(
        decision=verdict.decision,
        reasoner=COUNCIL,
        level=verdict.level,
        attempts=(*attempts, note),
        usage=usage,
        prompt=prompt,
    )


def _context_factory(runtime: SunRuntime, state: SunState) -> Callable[[str], PlanetContext]:
    instrument, snapshot = state["instrument"], state["snapshot"]
    moons_row = state["panel"].for_instrument(instrument)
    view = _planet_view(snapshot, instrument)

    def context_for(name: str) -> PlanetContext:
        return PlanetContext(
            instrument=instrument,
            as_of=snapshot.as_of,
            moons=moons_row,
            snapshot=view,
            limits=runtime.limits,
        )

    return context_for


def _planets_agree(reports: tuple[PlanetReport, ...], runtime: SunRuntime) -> bool:
    voters = [r for r in reports if r.planet in runtime.directional and r.has_data]
    if not voters:
        return True
    signs = {r.score > 0 for r in voters}
    return len(signs) == 1 and all(
        r.confidence >= runtime.agree_threshold and abs(r.score) >= 0.3 for r in voters
    )
