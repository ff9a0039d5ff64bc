"""Snapshot -> MoonPanel: the moon tier's fused, cached pass for every instrument."""

from __future__ import annotations

import functools

import numpy as np

import moons
from bus import BarSeries, MarketSnapshot, MoonPanel


def _ohlcv(series: BarSeries) -> moons.Ohlcv:
    return moons.Ohlcv(
        open=series.open, high=series.high, low=series.low, close=series.close, volume=series.volume
    )


def _benchmark_close(series: BarSeries, benchmark: BarSeries | None) -> np.ndarray | None:
    """Benchmark closes on the instrument's timestamps, or None unless every stamp matches.

    Beta and correlation need aligned bars; rather than forward-filling (which would invent
    data), a benchmark that does not cover the instrument's bars yields NaN beta/correlation.
    """
    if benchmark is None:
        return None
    index = np.searchsorted(benchmark.timestamps, series.timestamps)
    inside = index < len(benchmark.timestamps)
    if not inside.all() or not (benchmark.timestamps[index] == series.timestamps).all():
        return None
    return benchmark.close[index]


@functools.lru_cache(maxsize=64)
def _spec_key(spec: moons.PanelSpec) -> str:
    """``repr(spec)``, made once per spec (a dataclass repr of every field costs ~12 us)."""
    return repr(spec)


def compute_panel(
    snapshot: MarketSnapshot,
    spec: moons.PanelSpec = moons.DEFAULT_PANEL,
    cache: moons.MoonCache = moons.DEFAULT_CACHE,
    carry: moons.PanelCarry | None = None,
) -> MoonPanel:
    """Moon values at the last bar of every instrument, plus its last ``close``.

    With ``carry``, an instrument whose history extends the one it last saw under the same
    name only runs its new bars (verified, equal bit for bit: see ``moons.PanelCarry``);
    otherwise, and for a changed history, results come from the content-keyed moon cache
    when the same history was seen before, else from a full pass.
    """
    hits, misses = cache.hits, cache.misses
    values: dict[str, dict[str, float]] = {}
    for name, series in snapshot.bars.items():
        bench = _benchmark_close(series, snapshot.benchmark)
        if carry is None:
            row = moons.last_panel_row(_ohlcv(series), spec, bench, cache)
        else:
            row = carry.last_row(name, series.open, series.high, series.low, series.close,
                                 series.volume, bench, spec=spec, cache=cache)  # fmt: skip
        values[name] = {"close": float(series.close[-1]), **row}  # the row's values are floats
    return MoonPanel(
        as_of=snapshot.as_of,
        values=values,
        spec_key=_spec_key(spec),
        cache_hits=cache.hits - hits,
        cache_misses=cache.misses - misses,
    )
