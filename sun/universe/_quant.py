"""The quant reasoner over many instruments: the trust-weighted vote as array arithmetic.

Each result equals ``QuantReasoner.reason`` on that instrument's reports: the sums run over
the directional planets in the same (name) order, non-voters adding an exact ``0.0``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from bus import PlanetReport, ReasonedDecision, action_for
from sun._reasoning import QuantReasoner, ReasonInputs

_NO_VOTERS = "[quant] no data from any directional planet: holding"


def quant_many(reasoner: QuantReasoner, inputs: Sequence[ReasonInputs]) -> list[ReasonedDecision]:
    """``reasoner.reason(inputs[i])`` for every instrument, the vote computed over arrays."""
    if type(reasoner).reason is not QuantReasoner.reason:
        return [reasoner.reason(one) for one in inputs]  # a custom reasoner: one by one
    if not inputs:
        return []
    directional = inputs[0].directional
    reports = [one.reports for one in inputs]
    planets = sorted({r.planet for rs in reports for r in rs if r.planet in directional})
    slot = {name: k for k, name in enumerate(planets)}
    n = len(reports)
    score = np.zeros((len(planets), n))
    conf = np.zeros((len(planets), n))
    voter = np.zeros((len(planets), n), dtype=np.bool_)
    for i, rs in enumerate(reports):
        for r in rs:
            k = slot.get(r.planet)
            if k is not None and r.has_data:
                score[k, i], conf[k, i], voter[k, i] = r.score, r.confidence, True
    combined, confidence = _vote(reasoner.weights, planets, score, conf, voter)
    return [
        _decision(rs, directional, c, k, reasoner.hold_band)
        for rs, c, k in zip(reports, combined.tolist(), confidence.tolist(), strict=True)
    ]


def _vote(
    weights: Mapping[str, float],
    planets: list[str],
    score: np.ndarray,
    conf: np.ndarray,
    voter: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """(combined score, confidence) per instrument (NaN where no planet voted)."""
    n = score.shape[1]
    total = np.zeros(n)
    signed = np.zeros(n)
    for k, name in enumerate(planets):
        w = weights.get(name, 1.0)
        total = total + np.where(voter[k], w, 0.0)
        signed = signed + np.where(voter[k], w * conf[k] * score[k], 0.0)
    count = voter.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        combined = np.maximum(-1.0, np.minimum(1.0, signed / total))
    agree_sum = np.zeros(n)
    for k in range(len(planets)):
        agree_sum = agree_sum + np.where(voter[k] & (score[k] * combined > 0), conf[k], 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        confidence = np.minimum(1.0, agree_sum / count)
    return combined, confidence


def _decision(
    reports: Sequence[PlanetReport],
    directional: frozenset[str],
    combined: float,
    confidence: float,
    hold_band: float,
) -> ReasonedDecision:
    voters = [r for r in reports if r.planet in directional and r.has_data]
    if not voters:
        return ReasonedDecision(
            action="HOLD", target_position=0.0, confidence=0.0, rationale=_NO_VOTERS
        )
    position = 0.0 if abs(combined) < hold_band else combined
    parts = ", ".join(f"{r.planet} {r.score:+.2f}@{r.confidence:.2f}" for r in voters)
    band = f"; inside the hold band {hold_band}" if position == 0.0 else ""
    return ReasonedDecision(
        action=action_for(position),
        target_position=position,
        confidence=confidence,
        rationale=f"[quant] trust-weighted planet score {combined:+.3f} ({parts}){band}",
    )
