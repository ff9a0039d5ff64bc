"""``PlanetBatch``: what a planet may see of many instruments at one time, as columns."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

import numpy as np

from bus import MarketSnapshot, PlanetReport
from planets._base import Planet, PlanetContext, Verdict
from planets._limits import RiskLimits
from planets._packing import no_data_reason, package_rows
from planets._verdicts import VerdictColumns


@dataclass(frozen=True)
class PlanetBatch:
    """Many instruments at one ``as_of``: moon columns, and per-instrument views and params.

    Attributes:
        instruments: Instrument names; row ``i`` of every column belongs to ``instruments[i]``.
        as_of: The decision time (nothing after it is visible).
        moons: Moon column -> float64 array of shape ``(len(instruments),)``; NaN = warming up.
        snapshot: The snapshot of every instrument (their last bars, headlines and books).
        view: The snapshot part a planet may read for one instrument (as in a single decision).
        limits: Risk limits.
        params: Per-instrument routing parameters (empty mappings by default).
    """

    instruments: tuple[str, ...]
    as_of: datetime
    moons: Mapping[str, np.ndarray]
    snapshot: MarketSnapshot
    view: Callable[[str], MarketSnapshot]
    limits: RiskLimits = field(default_factory=RiskLimits)
    params: Sequence[Mapping[str, Any]] = ()

    def __post_init__(self) -> None:
        n = len(self.instruments)
        for name, column in self.moons.items():
            if np.shape(column) != (n,):
                raise ValueError(
                    f"moon column {name!r} has shape {np.shape(column)} for {n} instruments "
                    f"({_first_missing(column, self.instruments)})"
                )
        if self.params and len(self.params) != n:
            raise ValueError(f"{len(self.params)} params for {n} instruments")

    def __len__(self) -> int:
        return len(self.instruments)

    def params_of(self, index: int) -> Mapping[str, Any]:
        """Routing parameters of instrument ``index``."""
        return self.params[index] if self.params else {}

    def column(self, name: str) -> np.ndarray:
        """One moon column (all NaN when the panel lacks it: "no data", never zero)."""
        column = self.moons.get(name)
        return np.full(len(self), np.nan) if column is None else np.asarray(column)

    def row(self, index: int) -> dict[str, float]:
        """The moon values of instrument ``index`` (as a single decision sees them)."""
        return {name: float(column[index]) for name, column in self.moons.items()}

    def context(self, index: int) -> PlanetContext:
        """The :class:`PlanetContext` a single decision would give for instrument ``index``."""
        instrument = self.instruments[index]
        return PlanetContext(
            instrument=instrument,
            as_of=self.as_of,
            moons=self.row(index),
            snapshot=self.view(instrument),
            limits=self.limits,
            params=self.params_of(index),
        )


def _first_missing(column: object, instruments: tuple[str, ...]) -> str:
    values = np.asarray(column)
    size = int(values.size)
    if values.ndim == 1 and size < len(instruments):
        return f"instrument {size} ({instruments[size]!r}) has no value"
    return "expected one value per instrument"


@runtime_checkable
class VectorPlanet(Protocol):
    """A planet whose scoring math runs over arrays (many instruments in one kernel call)."""

    def score_many(self, batch: PlanetBatch, rows: np.ndarray) -> list[Verdict] | None:
        """Verdicts of the instruments ``rows`` (indices into the batch, all with complete
        evidence), or None when this planet's ``score`` was overridden (use the loop)."""
        ...


def select_many(planet: Planet, batch: PlanetBatch) -> list[dict[str, float]]:
    """Per instrument, the finite moon values ``planet`` reads (as :meth:`Planet.select`)."""
    names = planet.moons
    if not names:
        return [{} for _ in batch.instruments]
    # float64 as ``Planet.select`` gives floats (and a report's evidence holds floats)
    stacked = np.stack([batch.column(name) for name in names]).astype(np.float64, copy=False)
    finite = np.isfinite(stacked)
    # one value per name in every row; then the rows with a missing value keep only theirs
    selected: list[dict[str, float]] = list(map(_row_maker(tuple(names)), *stacked.tolist()))
    for i in np.flatnonzero(~finite.all(axis=0)).tolist():
        row, mask = stacked[:, i].tolist(), finite[:, i].tolist()
        selected[i] = {name: value for name, value, good in zip(names, row, mask,
                                                                strict=True) if good}  # fmt: skip
    return selected


@functools.lru_cache(maxsize=256)
def _row_maker(names: tuple[str, ...]) -> Callable[..., dict[str, float]]:
    """``lambda *values: dict(zip(names, values))`` as one dict display with the names as
    constants (generated once per name tuple; half the time of ``dict(zip(...))`` per row,
    measured). The names enter the source only as ``repr`` literals."""
    keys = ", ".join(f"{name!r}: _{k}" for k, name in enumerate(names))
    params = ", ".join(f"_{k}" for k in range(len(names)))
    maker: Callable[..., dict[str, float]] = eval(f"lambda {params}: {{{keys}}}")  # noqa: S307  # the source is built above from repr literals
    return maker


def _missing_many(
    planet: Planet, batch: PlanetBatch, evidence: list[dict[str, float]]
) -> list[tuple[str, ...]]:
    """Per instrument, :meth:`Planet.missing` of its evidence (the base's, over arrays: the
    required moons that are not finite)."""
    if type(planet).missing is not Planet.missing:
        return [planet.missing(e) for e in evidence]
    names = planet.moons
    finite = np.isfinite(np.stack([batch.column(name) for name in names]))
    if finite.all():
        return [()] * len(batch)
    complete = np.asarray(finite.all(axis=0)).tolist()
    return [
        () if whole else tuple(m for m in names if m not in found)
        for whole, found in zip(complete, evidence, strict=True)
    ]


def report_many(planet: Planet, batch: PlanetBatch) -> list[PlanetReport]:
    """``planet``'s report on every instrument of ``batch``, equal to one ``report`` each.

    A :class:`VectorPlanet` scores all instruments with complete evidence in one array call
    (its ``verdict_columns`` if it has one, else ``score_many``) and the reports are built
    from the checked columns (:func:`planets._packing.package_rows`); any other planet is
    asked one instrument at a time with the context a single decision would give it.
    """
    if not isinstance(planet, VectorPlanet) or not planet.moons:
        return [planet.report(batch.context(i)) for i in range(len(batch))]
    evidence = select_many(planet, batch)
    missing = _missing_many(planet, batch, evidence)
    rows = np.array([i for i, m in enumerate(missing) if not m], dtype=np.int64)
    columns = _columns(planet, batch, rows)
    if columns is None:
        return [planet.report(batch.context(i)) for i in range(len(batch))]

    def light(i: int, found: Mapping[str, float]) -> PlanetContext:
        return _light_context(batch, i, batch.instruments[i], found)

    scored = (rows.tolist(), columns)
    fast = package_rows(planet, (batch.instruments, batch.as_of, light), evidence, missing, scored)
    if fast is not None:
        return fast
    by_row = dict(zip(scored[0], columns.verdicts(), strict=True))
    return [
        planet.no_data(light(i, found), found, no_data_reason(missing[i]))
        if missing[i]
        else planet.package(light(i, found), found, by_row[i])
        for i, found in enumerate(evidence)
    ]


def _columns(planet: VectorPlanet, batch: PlanetBatch, rows: np.ndarray) -> VerdictColumns | None:
    """The planet's verdicts on ``rows`` as columns (None: its ``score`` was overridden)."""
    by_columns = getattr(planet, "verdict_columns", None)
    if by_columns is not None:
        found: VerdictColumns | None = by_columns(batch, rows)
        if found is not None:
            return found
    verdicts = planet.score_many(batch, rows)
    return None if verdicts is None else VerdictColumns.of(verdicts)


def _light_context(
    batch: PlanetBatch, index: int, instrument: str, evidence: Mapping[str, float]
) -> PlanetContext:
    """A context naming instrument and time (all a report's packaging reads)."""
    return PlanetContext(
        instrument=instrument,
        as_of=batch.as_of,
        moons=evidence,
        snapshot=batch.snapshot,
        limits=batch.limits,
        params=batch.params_of(index),
    )
