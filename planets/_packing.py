"""A batch's reports built from its verdicts at once: checked over arrays, not one by one.

:func:`package_rows` gives, for every instrument of a batch, the report the planet's own
:meth:`Planet.no_data` / :meth:`Planet.package` would give, equal field for field. The score
and confidence are clipped as :func:`planets.clip` clips them and checked over arrays
(:func:`bus.report_rows_ok`); the text fields and evidence are checked per row for the types
validation would keep unchanged. A row that fails any check (a NaN score, an int, an empty
veto reason, an invalid instrument name) is packaged by the planet's own method, so it
raises or converts exactly as it always did. Why: validating 1,500 reports one by one was
the largest part of a 500-instrument tick.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime

import numpy as np

from bus import PlanetReport, instrument_id, prechecked, report_rows_ok
from planets._base import Planet, PlanetContext, Verdict

Light = Callable[[int, Mapping[str, float]], PlanetContext]
"""Instrument ``i``'s context for the planet's own methods, given its evidence."""


def package_rows(
    planet: Planet,
    rows: tuple[Sequence[str], datetime, Light],
    evidence: Sequence[Mapping[str, float]],
    missing: Sequence[tuple[str, ...]],
    verdicts: Mapping[int, Verdict],
) -> list[PlanetReport] | None:
    """The report of every instrument of a batch (None: the planet packages its own).

    Args:
        planet: The planet reporting (its ``package`` and ``no_data`` must be the base's).
        rows: The batch's instruments, its ``as_of``, and the context of one instrument
            (for the rows packaged by the planet's own methods).
        evidence: Per instrument, the finite moon values the planet read.
        missing: Per instrument, the required moons without a value (empty: scored).
        verdicts: The verdict of every instrument with nothing missing, by index.
    """
    kind = type(planet)
    if kind.package is not Planet.package or kind.no_data is not Planet.no_data:
        return None
    instruments, as_of, light = rows
    if type(planet.name) is not str or not planet.name or type(as_of) is not datetime:
        return [
            _one(planet, light, i, evidence[i], missing[i], verdicts)
            for i in range(len(instruments))
        ]
    scored = sorted(verdicts)
    score, confidence = _clipped(verdicts, scored)
    valid = report_rows_ok(score, confidence, np.ones(len(scored), dtype=np.bool_))
    ok = dict(zip(scored, valid.tolist(), strict=True))
    scores = dict(zip(scored, score.tolist(), strict=True))
    confidences = dict(zip(scored, confidence.tolist(), strict=True))
    reports = []
    for i, name in enumerate(instruments):
        if not _valid_id(name):
            reports.append(_one(planet, light, i, evidence[i], missing[i], verdicts))
        elif missing[i]:
            reports.append(_no_data(planet.name, name, as_of, evidence[i], missing[i]))
        elif ok[i] and _plain(verdicts[i]):
            reports.append(_packaged(planet.name, name, as_of, evidence[i], verdicts[i],
                                     scores[i], confidences[i]))  # fmt: skip
        else:
            reports.append(_one(planet, light, i, evidence[i], missing[i], verdicts))
    return reports


def _clipped(verdicts: Mapping[int, Verdict], rows: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """Scores clipped into [-1, 1] and confidences into [0, 1] as :func:`planets.clip` does
    (``min(high, max(low, v))``: the bound wins ties, so +0.0 stays the lower bound 0.0);
    NaN stays NaN (rejected by the row check). Non-floats become NaN (their row falls back)."""
    score = np.array([_float(verdicts[i].score) for i in rows], dtype=np.float64)
    confidence = np.array([_float(verdicts[i].confidence) for i in rows], dtype=np.float64)
    return _clip(score, -1.0, 1.0), _clip(confidence, 0.0, 1.0)


def _clip(values: np.ndarray, low: float, high: float) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        raised = np.where(values > low, values, low)
        clipped = np.where(raised < high, raised, high)
    result: np.ndarray = np.where(np.isnan(values), np.nan, clipped)
    return result


def _float(value: object) -> float:
    return value if type(value) is float else float("nan")


def _plain(verdict: Verdict) -> bool:
    """Whether validation would keep the verdict's text and evidence unchanged (and accept)."""
    recommendations = verdict.recommendations
    if type(recommendations) is not tuple or any(type(r) is not str for r in recommendations):
        return False
    for reason in (verdict.veto_reason, verdict.critical_reason):
        if reason is not None and (type(reason) is not str or not reason):
            return False
    extra = verdict.extra_evidence
    return all(type(k) is str and type(v) is float for k, v in extra.items())


@functools.lru_cache(maxsize=65536)
def _valid_id(name: object) -> bool:
    """Whether ``name`` is an instrument id that validation keeps as it is."""
    try:
        return type(name) is str and instrument_id(name) == name
    except ValueError:
        return False


def _packaged(
    planet: str,
    instrument: str,
    as_of: datetime,
    evidence: Mapping[str, float],
    verdict: Verdict,
    score: float,
    confidence: float,
) -> PlanetReport:
    """:meth:`Planet.package` of a checked row."""
    return prechecked(PlanetReport, {
        "planet": planet, "instrument": instrument, "as_of": as_of, "score": score,
        "confidence": confidence, "evidence": {**evidence, **verdict.extra_evidence},
        "recommendations": verdict.recommendations, "veto": verdict.veto_reason is not None,
        "veto_reason": verdict.veto_reason, "critical": verdict.critical_reason is not None,
        "critical_reason": verdict.critical_reason,
    })  # fmt: skip


def _no_data(
    planet: str,
    instrument: str,
    as_of: datetime,
    evidence: Mapping[str, float],
    missing: tuple[str, ...],
) -> PlanetReport:
    """:meth:`Planet.no_data` with the reason ``report_many`` gives (checked types)."""
    return prechecked(PlanetReport, {
        "planet": planet, "instrument": instrument, "as_of": as_of, "score": 0.0,
        "confidence": 0.0, "has_data": False, "evidence": dict(evidence),
        "recommendations": (no_data_reason(missing),),
    })  # fmt: skip


def no_data_reason(missing: tuple[str, ...]) -> str:
    """The "no data" reason of a batch row whose required moons are ``missing``."""
    return f"no data: {', '.join(missing)} unavailable"


def _one(
    planet: Planet,
    light: Light,
    i: int,
    evidence: Mapping[str, float],
    missing: tuple[str, ...],
    verdicts: Mapping[int, Verdict],
) -> PlanetReport:
    """Row ``i`` packaged by the planet's own (validating) methods."""
    row = light(i, evidence)
    if missing:
        return planet.no_data(row, evidence, no_data_reason(missing))
    return planet.package(row, evidence, verdicts[i])
