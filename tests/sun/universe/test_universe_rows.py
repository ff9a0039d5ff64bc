"""The universe's moon rows and routing over arrays equal the one-instrument computations."""

from __future__ import annotations

import numpy as np
import pytest

import moons
from bus import BarSeries, to_datetime
from sun import RoutingTree
from sun.universe import UniverseMoons
from tests.sun.universe.test_universe import snapshot_at


@pytest.mark.parametrize(
    ("detach_limit", "stats"),
    [(0.5, (1, 2, 1)), (0.1, (2, 1, 0))],  # (warm-ups, stream updates, batch rows)
)
def test_moon_rows_match_the_batch_panel_when_an_instrument_skips_a_tick(
    universe: tuple[dict[str, BarSeries], BarSeries],
    detach_limit: float,
    stats: tuple[int, int, int],
) -> None:
    bars, benchmark = universe
    names = [n for n in bars if not n.startswith("BTCUSD")][:6]
    engine = UniverseMoons(detach_limit=detach_limit)
    for tick in (-5, -4, -3):
        chosen = {n: bars[n] for n in names}
        if tick == -4:  # names[0] skips a tick: detached, computed by the batch pass
            chosen[names[0]] = bars[names[0]].up_to(to_datetime(benchmark.timestamps[-5]))
        snapshot = snapshot_at(chosen, benchmark, tick)
        rows = engine.rows(snapshot, tuple(names))
        for i, name in enumerate(names):
            series = snapshot.bars[name]
            ohlcv = moons.Ohlcv(series.open, series.high, series.low, series.close, series.volume)
            expected = moons.last_panel_row(
                ohlcv, benchmark_close=_aligned(series, benchmark), cache=None
            )
            assert rows[i, 1:].tolist() == pytest.approx(
                [expected[c] for c in engine.columns[1:]], nan_ok=True, rel=0, abs=0
            ), (tick, name)
    assert tuple(engine.stats.values()) == stats


def _aligned(series: BarSeries, benchmark: BarSeries) -> np.ndarray:
    index = np.searchsorted(benchmark.timestamps, series.timestamps)
    return np.asarray(benchmark.close[index])


@pytest.mark.parametrize("thresholds", [(1.0, 3.0), (0.3, 1.0), (2.5, 0.5)])
def test_routing_tree_over_arrays_equals_one_by_one(
    universe: tuple[dict[str, BarSeries], BarSeries], thresholds: tuple[float, float]
) -> None:
    bars, benchmark = universe
    snapshot = snapshot_at(bars, benchmark, -1)
    engine = UniverseMoons()
    names = snapshot.instruments
    rows = engine.rows(snapshot, names)
    rows[3, engine.columns.index("atr")] = np.nan  # warming up
    rows[4, engine.columns.index("atr")] = 0.0  # flat prices
    columns = {c: rows[:, j] for j, c in enumerate(engine.columns)}
    headlines = np.arange(len(names)) % 3 == 0
    tree = RoutingTree(*thresholds)
    many = tree.route_many(columns, headlines)
    for i in range(len(names)):
        moon_row = dict(zip(engine.columns, rows[i].tolist(), strict=True))
        assert many[i] == tree.route(moon_row, bool(headlines[i]))
