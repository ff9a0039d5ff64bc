"""The council's votes and their Byzantine-robust aggregate: which votes count, and the
trimmed trust-weighted mean over them (see :mod:`sun.resilience._council` for what it
tolerates and why)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from bus import PlanetReport

Action = Literal["BUY", "SELL", "HOLD"]


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
