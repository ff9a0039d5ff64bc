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

import math
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import Any, Literal

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

Action = Literal["BUY", "SELL", "HOLD"]
COUNCIL = "council"
HOLD_LEVEL = "hold"


@dataclass(frozen=True)
class Vote:
    """One council member's vote. ``score`` in [-1, 1], ``confidence`` in [0, 1]."""

    voter: str
    action: Action
    score: float
    confidence: float
    abstain_reason: str | None = None


def fault_tolerance(n: int) -> int:
    """``f = floor((n - 1) / 3)``: the faulty voters ``n`` voters can tolerate."""
    return max(0, (n - 1) // 3)


def quorum(n: int) -> int:
    """``2f + 1`` valid votes are needed to decide."""
    return 2 * fault_tolerance(n) + 1


def action_of(score: float, hold_band: float) -> Action:
    """BUY above ``hold_band``, SELL below ``-hold_band``, HOLD in between."""
    if score > hold_band:
        return "BUY"
    if score < -hold_band:
        return "SELL"
    return "HOLD"


def invalid_reason(vote: Vote, hold_band: float = 0.1) -> str | None:
    """Why a vote cannot count (None if it is valid)."""
    if vote.abstain_reason is not None:
        return vote.abstain_reason
    score, confidence = vote.score, vote.confidence
    if not (isinstance(score, int | float) and isinstance(confidence, int | float)):
        return "non-numeric vote"
    if not (math.isfinite(score) and math.isfinite(confidence)):
        return "non-finite vote"
    if not -1.0 <= score <= 1.0:
        return f"score {score:g} out of [-1, 1]"
    if not 0.0 <= confidence <= 1.0:
        return f"confidence {confidence:g} out of [0, 1]"
    contradictory = (
        (vote.action == "BUY" and score <= 0.0)
        or (vote.action == "SELL" and score >= 0.0)
        or (vote.action == "HOLD" and abs(score) > hold_band)
    )
    if contradictory or vote.action not in ("BUY", "SELL", "HOLD"):
        return f"self-contradictory vote ({vote.action} with score {score:+.2f})"
    return None


def vote_from_report(voter: str, report: PlanetReport | None, hold_band: float = 0.1) -> Vote:
    """A planet's vote from its report; missing, no-data and inconsistent reports abstain.

    Reports are checked again here (not trusted for being a ``PlanetReport``): a remote or
    buggy planet can deliver one built without validation.
    """
    if report is None:
        return Vote(voter, "HOLD", 0.0, 0.0, "no report (crashed, timed out or not consulted)")
    score, confidence = report.score, report.confidence
    if not report.has_data:
        if confidence != 0.0 or score != 0.0:
            return Vote(voter, "HOLD", 0.0, 0.0, "self-contradictory: no data but a score")
        why = report.recommendations[0] if report.recommendations else "no data"
        return Vote(voter, "HOLD", 0.0, 0.0, why)
    if report.veto and not report.veto_reason:
        return Vote(voter, "HOLD", 0.0, 0.0, "self-contradictory: veto without a reason")
    if not (isinstance(score, int | float) and math.isfinite(score)):
        return Vote(voter, "HOLD", score, confidence)  # invalid_reason names it
    return Vote(voter, action_of(score, hold_band), score, confidence)


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


@dataclass(frozen=True)
class Aggregate:
    """The council's robust aggregate (``score`` None below quorum)."""

    score: float | None
    confidence: float
    n: int
    f: int
    valid: tuple[Vote, ...]
    invalid: tuple[tuple[str, str], ...]
    kept: tuple[str, ...]

    @property
    def has_quorum(self) -> bool:
        """Whether ``2f + 1`` valid votes were cast."""
        return self.score is not None


def aggregate(
    votes: Sequence[Vote],
    weights: Mapping[str, float] | None = None,
    *,
    n: int | None = None,
    hold_band: float = 0.1,
) -> Aggregate:
    """Trimmed trust-weighted mean of the valid votes (see the module docstring).

    Args:
        votes: One vote per voter (invalid ones are discarded with the reason).
        weights: Trust per voter (default 1); non-positive or non-finite weights count as 0.
        n: Council size for ``f`` (default ``len(votes)``).
        hold_band: Votes' HOLD band, used to check consistency.
    """
    size = len(votes) if n is None else n
    f = fault_tolerance(size)
    valid: list[Vote] = []
    invalid: list[tuple[str, str]] = []
    for vote in votes:
        why = invalid_reason(vote, hold_band)
        if why is None:
            valid.append(vote)
        else:
            invalid.append((vote.voter, why))
    if len(valid) < 2 * f + 1:
        return Aggregate(None, 0.0, size, f, tuple(valid), tuple(invalid), ())
    ordered = sorted(valid, key=lambda v: (v.score, v.voter))
    kept = ordered[f : len(ordered) - f]
    trust = [_weight(weights, v.voter) for v in kept]
    mass = [t * v.confidence for t, v in zip(trust, kept, strict=True)]
    if sum(mass) <= 0.0:
        mass = [t if sum(trust) > 0 else 1.0 for t in trust]
    total = sum(mass)
    score = sum(m * v.score for m, v in zip(mass, kept, strict=True)) / total
    low, high = kept[0].score, kept[-1].score
    score = min(high, max(low, score))  # guard against rounding drifting outside the range
    confidence = sum(v.confidence for v in kept) / len(kept)
    return Aggregate(
        score, confidence, size, f, tuple(valid), tuple(invalid), tuple(v.voter for v in kept)
    )


def _weight(weights: Mapping[str, float] | None, voter: str) -> float:
    if weights is None:
        return 1.0
    value = weights.get(voter, weights.get(voter.split("/")[0], 1.0))
    return value if math.isfinite(value) and value > 0 else 0.0


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
