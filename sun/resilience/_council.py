"""The planet council: Byzantine-robust consensus when every sun model has failed.

Each council member (a directional planet, or a planet variant with different parameters)
casts a :class:`Vote` (action, score, confidence). The risk planet does not vote on direction;
it holds a veto and the position cap.

What the council tolerates, with ``n`` direction voters convened for a decision and
``f = floor((n - 1) / 3)``:

* up to ``f`` arbitrary faulty voters: crashed, timed out, "no data", NaN or infinite values,
  scores outside [-1, 1], confidences outside [0, 1], self-contradictory votes (BUY with a
  negative score, SELL with a positive one, HOLD with a score beyond the hold band), and
  adversarial votes that look valid but sit at an extreme. Invalid votes are discarded; valid
  ones are aggregated by a **trimmed, trust-weighted mean**: the ``f`` lowest and ``f`` highest
  scores are dropped and the rest averaged with weight ``trust * confidence``. With at most
  ``f`` faulty votes among at least ``2f + 1`` valid ones, every vote that survives trimming
  lies within the range of the honest votes, so the aggregate does too, whatever the weights.
* fewer than ``2f + 1`` valid votes: no quorum, the decision is HOLD (reason "no quorum").
* risk fails closed: a missing, "no data", invalid (non-finite, out of range, contradictory,
  negative or non-finite ``position_cap``), vetoing or critical risk report is a veto, HOLD.

What it does not tolerate: faults common to every voter (the moon panel they all read, or
planet variants sharing a bug), or more than ``f`` faulty voters; and a risk report that is
wrong but well-formed is trusted (the guard still enforces ``RiskLimits``). Trust weights are
equal by default; pass ``weights`` (the learning loop will provide them).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import Any

from bus import PlanetReport, ReasonedDecision
from planets import (
    MEAN_REVERSION,
    MOMENTUM,
    Planet,
    PlanetContext,
    RiskLimits,
    Role,
    TechnicalVariant,
)
from sun._guard import risk_problem
from sun.resilience._votes import Aggregate, Vote, aggregate, vote_from_report

COUNCIL = "council"
HOLD_LEVEL = "hold"


@dataclass(frozen=True)
class RiskGate:
    """The risk planet's say: allowed or vetoed, and the position cap."""

    allowed: bool
    cap: float
    reason: str


def risk_gate(report: PlanetReport | None, limits: RiskLimits) -> RiskGate:
    """Risk fails closed: anything but a valid, non-vetoing risk report is a veto."""
    why = risk_problem(report)
    if why is not None or report is None:
        return RiskGate(False, 0.0, f"{why}: fails closed")
    if report.veto or report.critical:
        reason = report.veto_reason or report.critical_reason or "no reason given"
        return RiskGate(False, 0.0, f"risk veto: {reason}")
    cap = limits.max_position
    risk_cap = report.evidence.get("position_cap")
    if risk_cap is not None:
        cap = min(cap, float(risk_cap))
    return RiskGate(True, cap, f"risk allows |position| <= {cap:.3f}")


def default_variants(planets: Mapping[str, Planet], count: int = 5) -> dict[str, Planet]:
    """Up to ``count`` technical variants (when a technical planet exists)."""
    if not any(Role.TECHNICAL in planet.roles for planet in planets.values()):
        return {}
    variants: dict[str, Planet] = {
        "technical/momentum": TechnicalVariant(MOMENTUM),
        "technical/mean_reversion": TechnicalVariant(MEAN_REVERSION),
        "technical/sensitive": TechnicalVariant(None, 1.5),
        "technical/damped": TechnicalVariant(None, 0.67),
        "technical/momentum_damped": TechnicalVariant(MOMENTUM, 0.67),
    }
    return dict(list(variants.items())[: max(0, count)])


ContextFor = Callable[[str], PlanetContext]


@dataclass(frozen=True)
class Verdict:
    """What the council decided, and why."""

    decision: ReasonedDecision
    level: str
    aggregate: Aggregate
    gate: RiskGate


class Council:
    """The planets' council (see the module docstring for what it tolerates).

    Args:
        variants: Extra voters beyond the routed directional planets, by name (e.g.
            :func:`default_variants`). Their reports are computed when the council convenes.
        weights: Trust weights by voter name (a variant falls back to its base planet's).
        hold_band: |aggregate score| below this is HOLD.
        variant_timeout_s: Per-variant timeout; a hung variant abstains.
    """

    def __init__(
        self,
        variants: Mapping[str, Planet] | None = None,
        weights: Mapping[str, float] | None = None,
        *,
        hold_band: float = 0.1,
        variant_timeout_s: float | None = 1.0,
    ) -> None:
        self.variants = dict(variants or {})
        self.weights = weights  # kept by reference: the learning loop updates it in place
        self.hold_band = hold_band
        self.variant_timeout_s = variant_timeout_s
        self._pool: ThreadPoolExecutor | None = None

    def _variant_reports(self, context_for: ContextFor) -> dict[str, PlanetReport | None]:
        if not self.variants:
            return {}
        if self._pool is None:
            self._pool = ThreadPoolExecutor(8, thread_name_prefix="heliarch-council")
        futures = {
            name: self._pool.submit(planet.report, context_for(name))
            for name, planet in self.variants.items()
        }
        deadline = time.monotonic() + (self.variant_timeout_s or 1e9)
        out: dict[str, PlanetReport | None] = {}
        for name, future in futures.items():
            try:
                out[name] = future.result(timeout=max(0.0, deadline - time.monotonic()))
            except (FutureTimeout, Exception):
                out[name] = None
        return out

    def votes(
        self, reports: Sequence[PlanetReport], directional: frozenset[str], context_for: ContextFor
    ) -> list[Vote]:
        """Votes of the directional planets that reported, then of the variants."""
        votes = [
            vote_from_report(r.planet, r, self.hold_band)
            for r in sorted(reports, key=lambda r: r.planet)
            if r.planet in directional
        ]
        for name, report in self._variant_reports(context_for).items():
            votes.append(vote_from_report(name, report, self.hold_band))
        return votes

    def decide(
        self,
        reports: Sequence[PlanetReport],
        directional: frozenset[str],
        limits: RiskLimits,
        context_for: ContextFor,
        risk_planet: str = Role.RISK.value,
    ) -> Verdict:
        """Convene: gate on the ``risk_planet``'s report, aggregate the votes, and say which
        level decided."""
        risk = next((r for r in reports if r.planet == risk_planet), None)
        gate = risk_gate(risk, limits)
        agg = aggregate(
            self.votes(reports, directional, context_for), self.weights, hold_band=self.hold_band
        )
        tally = _tally(agg)
        if not agg.has_quorum:
            need = 2 * agg.f + 1
            why = f"no quorum: {len(agg.valid)} valid of {agg.n} votes, {need} needed ({tally})"
            return Verdict(_hold(f"[council] {why}"), HOLD_LEVEL, agg, gate)
        assert agg.score is not None
        if not gate.allowed:
            return Verdict(_hold(f"[council] {gate.reason} ({tally})"), COUNCIL, agg, gate)
        position = 0.0 if abs(agg.score) < self.hold_band else agg.score
        position = max(-gate.cap, min(gate.cap, position))
        action = "BUY" if position > 0 else "SELL" if position < 0 else "HOLD"
        rationale = (
            f"[council] trimmed trust-weighted score {agg.score:+.3f} over "
            f"{len(agg.kept)} kept of {len(agg.valid)} valid votes (n={agg.n}, f={agg.f}); "
            f"{gate.reason} ({tally})"
        )
        decision = ReasonedDecision(
            action=action,
            target_position=position,
            confidence=min(1.0, agg.confidence),
            rationale=rationale[:600],
        )
        return Verdict(decision, COUNCIL, agg, gate)

    def close(self) -> None:
        """Stop the variant worker threads."""
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None


def _hold(rationale: str) -> ReasonedDecision:
    return ReasonedDecision(
        action="HOLD", target_position=0.0, confidence=0.0, rationale=rationale[:600]
    )


def _tally(agg: Aggregate) -> str:
    parts = [f"{v.voter} {v.score:+.2f}" for v in agg.valid]
    parts += [f"{voter} invalid: {why[:60]}" for voter, why in agg.invalid]
    return "; ".join(parts)


def describe(agg: Aggregate) -> dict[str, Any]:
    """The aggregate as a JSON-friendly dict (for the drill and the health view)."""
    return {
        "n": agg.n,
        "f": agg.f,
        "quorum": 2 * agg.f + 1,
        "valid": [v.voter for v in agg.valid],
        "invalid": dict(agg.invalid),
        "kept": list(agg.kept),
        "score": agg.score,
    }
