"""The working data of one universe pass (instrument ``i`` is row ``i`` everywhere), shared
by its stages: consulting the planets (:mod:`sun.universe._consulting`), deciding
(:mod:`sun.universe._decide`) and packaging the decisions (:mod:`sun.universe._packaging`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from bus import (
    MarketSnapshot,
    MoonPanel,
    PlanetReport,
)
from sun._context import SunContext
from sun._plan_runtime import clock_of
from sun._view import planet_view

Reports = tuple[PlanetReport, ...]
"""One live instrument's planet reports, sorted by planet (the tuple its decision keeps)."""


class RunData:
    """One universe decision's working data."""

    def __init__(
        self,
        context: SunContext,
        snapshot: MarketSnapshot,
        names: tuple[str, ...],
        rows: np.ndarray,
        columns: tuple[str, ...],
        live: list[int],
        positions: dict[str, float],
    ) -> None:
        self.context = context
        self.snapshot = snapshot
        self.as_of = snapshot.as_of
        self.names = names
        self.rows = rows
        self.columns = columns
        self.live = live
        self.positions = positions
        self.moons = _Rows(rows, columns)
        self.execution = context.execution_planet
        self.directional = context.directional
        self.risk_planet = context.risk_planet
        self._views: dict[str, MarketSnapshot] = {}
        self._live_columns: dict[str, np.ndarray] | None = None
        self.failed: list[dict[str, str]] = [{} for _ in live]  # per live instrument
        self.started_at = clock_of(context)()  # the plans' latency budgets count from here

    def columns_of(self, indices: Sequence[int]) -> dict[str, np.ndarray]:
        """Moon column -> its values at rows ``indices`` (contiguous arrays; read-only and
        shared between the stages when ``indices`` are the live rows in order)."""
        if list(indices) == self.live:
            if self._live_columns is None:
                self._live_columns = self._gather(self.live)
            return self._live_columns
        return self._gather(indices)

    def _gather(self, indices: Sequence[int]) -> dict[str, np.ndarray]:
        table = np.ascontiguousarray(self.rows[np.asarray(indices, dtype=np.int64)].T)
        table.setflags(write=False)
        return dict(zip(self.columns, table, strict=True))

    def view(self, name: str) -> MarketSnapshot:
        """The snapshot part a planet sees for ``name`` (as in a single decision)."""
        if name not in self._views:
            self._views[name] = planet_view(self.snapshot, name)
        return self._views[name]

    def panel(self, indices: Sequence[int] | range) -> MoonPanel:
        """A :class:`MoonPanel` of the instruments ``indices``."""
        return MoonPanel(as_of=self.as_of, values={self.names[i]: self.moons[i] for i in indices})


class _Rows:
    """Instrument ``i``'s moon values as a dict (``rows[i]`` of the panel), built on first
    use: a pass whose router and execution planet read the columns never builds them."""

    def __init__(self, rows: np.ndarray, columns: tuple[str, ...]) -> None:
        self._rows = rows
        self._columns = columns
        self._built: dict[int, dict[str, float]] = {}

    def __getitem__(self, i: int) -> dict[str, float]:
        row = self._built.get(i)
        if row is None:
            row = dict(zip(self._columns, self._rows[i].tolist(), strict=True))
            self._built[i] = row
        return row
