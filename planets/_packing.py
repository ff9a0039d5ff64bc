"""A batch's reports built from its verdict columns at once: checked over arrays.

:func:`package_rows` gives, for every instrument of a batch, the report the planet's own
:meth:`Planet.no_data` / :meth:`Planet.package` would give, equal field for field. Scores
and confidences are clipped as :func:`planets.clip` clips them and checked over arrays
(:func:`bus.report_rows_ok`); the reports are then built without validating each again
(:func:`bus.prechecked`). A row that fails a check (a NaN score, a value of another type,
an empty veto reason, an invalid instrument name) is packaged by the planet's own method, so
it raises or converts exactly as it always did. Why: validating 1,500 reports one by one was
the largest part of a 500-instrument tick.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime

import numpy as np

from bus import PlanetReport, instrument_id, prechecked_builder, report_rows_ok
from planets._base import Planet, PlanetContext
from planets._verdicts import VerdictColumns

_PACKAGED = frozenset(
    (
        "planet",
        "instrument",
        "as_of",
        "score",
        "confidence",
        "evidence",
        "recommendations",
        "veto",
        "veto_reason",
        "critical",
        "critical_reason",
    )
)
_NO_DATA = frozenset(("planet", "instrument", "as_of", "score", "confidence", "has_data",
                      "evidence", "recommendations"))  # fmt: skip
_REPORT = prechecked_builder(PlanetReport, _PACKAGED)
_NO_DATA_REPORT = prechecked_builder(PlanetReport, _NO_DATA)
Light = Callable[[int, Mapping[str, float]], PlanetContext]
"""Instrument ``i``'s context for the planet's own methods, given its evidence."""


def package_rows(
    planet: Planet,
    rows: tuple[Sequence[str], datetime, Light],
    evidence: Sequence[dict[str, float]],
    missing: Sequence[tuple[str, ...]],
    scored: tuple[list[int], VerdictColumns],
) -> list[PlanetReport] | None:
    """The report of every instrument of a batch (None: the planet packages its own).

    Args:
        planet: The planet reporting (its ``package`` and ``no_data`` must be the base's).
        rows: The batch's instruments, its ``as_of``, and the context of one instrument
            (for the rows packaged by the planet's own methods).
        evidence: Per instrument, a fresh dict of the finite moon values the planet read
            (a row packaged here keeps it as its report's evidence, extended by the verdict's
            extra evidence: no copy; a row packaged by the planet's own method copies it).
        missing: Per instrument, the required moons without a value (empty: scored).
        scored: The instruments with nothing missing (ascending) and their verdicts.
    """
    kind = type(planet)
    if kind.package is not Planet.package or kind.no_data is not Planet.no_data:
        return None
    instruments, as_of, light = rows
    indices, columns = scored
    slot = {i: j for j, i in enumerate(indices)}
    name = planet.name
    if type(name) is not str or not name or type(as_of) is not datetime:
        return [_one(planet, light, i, evidence[i], missing[i], columns, slot)
                for i in range(len(instruments))]  # fmt: skip
    score = _clip(np.asarray(columns.score, dtype=np.float64), -1.0, 1.0)
    confidence = _clip(np.asarray(columns.confidence, dtype=np.float64), 0.0, 1.0)
    ok = report_rows_ok(score, confidence, np.ones(len(indices), dtype=np.bool_)).tolist()
    plain = plain_rows(columns)
    if plain is not None:
        ok = [a and b for a, b in zip(ok, plain, strict=True)]
    ids = all(map(_valid_id, instruments))
    fields = _Fields(score.tolist(), confidence.tolist(), columns)
    if ids and len(indices) == len(instruments) and all(ok):  # every row scored and checked
        rows_all = list(zip(instruments, evidence, range(len(instruments)), strict=True))
        return fields.reports(name, as_of, rows_all)
    if ids and all(ok):  # every scored row checked: those in one go, "no data" for the rest
        made = fields.reports(name, as_of, [(instruments[i], evidence[i], j)
                                            for j, i in enumerate(indices)])  # fmt: skip
        by_row = dict(zip(indices, made, strict=True))
        return [
            by_row[i] if i in by_row else _no_data(name, instrument, as_of, evidence[i], missing[i])
            for i, instrument in enumerate(instruments)
        ]
    reports = []
    for i, instrument in enumerate(instruments):
        j = slot.get(i)
        if not ids and not _valid_id(instrument):
            reports.append(_one(planet, light, i, evidence[i], missing[i], columns, slot))
        elif j is None:
            reports.append(_no_data(name, instrument, as_of, evidence[i], missing[i]))
        elif ok[j]:
            reports.extend(fields.reports(name, as_of, [(instrument, evidence[i], j)]))
        else:
            reports.append(_one(planet, light, i, evidence[i], missing[i], columns, slot))
    return reports


def plain_rows(columns: VerdictColumns) -> list[bool] | None:
    """Per row, whether validation keeps its values as they are (None: every row does):
    recommendations a tuple of texts, a veto or critical reason a non-empty text, extra
    evidence floats under text keys. Checked over whole columns first (the common case)."""
    rows = [True] * len(columns) if columns.plain is None else list(columns.plain)
    recommendations = columns.recommendations
    if not all(type(t) is tuple for t in recommendations) or not all(
        type(r) is str for t in recommendations for r in t
    ):
        rows = [ok and _texts(t) for ok, t in zip(rows, recommendations, strict=True)]
    for reasons in (columns.veto_reason, columns.critical_reason):
        if reasons is not None and not all(r is None or _reason(r) for r in reasons):
            rows = [ok and (r is None or _reason(r)) for ok, r in zip(rows, reasons, strict=True)]
    extras = columns.extra_evidence
    if extras is not None and not (
        all(type(k) is str for e in extras for k in e)
        and all(type(v) is float for e in extras for v in e.values())
    ):
        rows = [ok and _floats(e) for ok, e in zip(rows, extras, strict=True)]
    return None if all(rows) else rows


def _texts(texts: object) -> bool:
    return type(texts) is tuple and all(type(t) is str for t in texts)


def _reason(reason: object) -> bool:
    return type(reason) is str and reason != ""


def _floats(evidence: Mapping[str, float]) -> bool:
    return all(type(k) is str and type(v) is float for k, v in evidence.items())


class _Fields:
    """The per-row values of a batch's checked verdict columns."""

    def __init__(self, score: list[float], confidence: list[float], columns: VerdictColumns):
        n = len(score)
        self.score = score
        self.confidence = confidence
        self.recommendations = columns.recommendations
        self.veto = columns.veto_reason if columns.veto_reason is not None else [None] * n
        self.critical = (
            columns.critical_reason if columns.critical_reason is not None else [None] * n
        )
        self.extra = columns.extra_evidence

    def reports(
        self, planet: str, as_of: datetime, rows: Sequence[tuple[str, dict[str, float], int]]
    ) -> list[PlanetReport]:
        """:meth:`Planet.package` of each (instrument, its evidence, checked row ``j``), in
        one comprehension (no call per row); each evidence dict is the report's own."""
        extra = self.extra
        if extra is not None:
            for _, found, j in rows:
                found.update(extra[j])
        score, confidence, recommendations = self.score, self.confidence, self.recommendations
        veto, critical = self.veto, self.critical
        return [
            _REPORT(
                planet=planet,
                instrument=instrument,
                as_of=as_of,
                score=score[j],
                confidence=confidence[j],
                evidence=found,
                recommendations=recommendations[j],
                veto=veto[j] is not None,
                veto_reason=veto[j],
                critical=critical[j] is not None,
                critical_reason=critical[j],
            )  # fmt: skip
            for instrument, found, j in rows
        ]


def _clip(values: np.ndarray, low: float, high: float) -> np.ndarray:
    """``values`` clipped as :func:`planets.clip` clips (``min(high, max(low, v))``: on a tie
    the bound is kept, so -0.0 clipped to [0, 1] is 0.0); NaN stays NaN (the row check
    refuses it and the planet's own ``package`` raises on it)."""
    with np.errstate(invalid="ignore"):
        raised = np.where(values > low, values, low)
        clipped = np.where(raised < high, raised, high)
    result: np.ndarray = np.where(np.isnan(values), np.nan, clipped)
    return result


@functools.lru_cache(maxsize=65536)
def _valid_id(name: object) -> bool:
    """Whether ``name`` is an instrument id that validation keeps as it is."""
    try:
        return type(name) is str and instrument_id(name) == name
    except ValueError:
        return False


def _no_data(
    planet: str,
    instrument: str,
    as_of: datetime,
    evidence: dict[str, float],
    missing: tuple[str, ...],
) -> PlanetReport:
    """:meth:`Planet.no_data` with the reason ``report_many`` gives (checked types)."""
    return _NO_DATA_REPORT(
        planet=planet, instrument=instrument, as_of=as_of, score=0.0, confidence=0.0,
        has_data=False, evidence=evidence, recommendations=(no_data_reason(missing),),
    )  # fmt: skip


def no_data_reason(missing: tuple[str, ...]) -> str:
    """The "no data" reason of a batch row whose required moons are ``missing``."""
    return f"no data: {', '.join(missing)} unavailable"


def _one(
    planet: Planet,
    light: Light,
    i: int,
    evidence: Mapping[str, float],
    missing: tuple[str, ...],
    columns: VerdictColumns,
    slot: Mapping[int, int],
) -> PlanetReport:
    """Row ``i`` packaged by the planet's own (validating) methods."""
    row = light(i, evidence)
    if missing:
        return planet.no_data(row, evidence, no_data_reason(missing))
    return planet.package(row, evidence, columns.verdict(slot[i]))
