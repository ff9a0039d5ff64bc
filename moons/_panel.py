"""The moon panel: every moon for one or many instruments in one fused compiled pass."""

from __future__ import annotations

import functools
from types import ModuleType
from typing import NamedTuple

import numpy as np

from moons._cache import DEFAULT_CACHE, MoonCache, content_key
from moons._fused import drivers, panel_layout
from moons._spec import DEFAULT_PANEL, PanelSpec, panel_moons
from moons._types import Ohlcv, as_price_array

_CACHE_NAMESPACE = "moons.panel/v1"


class _Compiled(NamedTuple):
    """A spec's compiled panel: parameters, state length, columns and drivers module."""

    ip: np.ndarray
    fp: np.ndarray
    state_len: int
    columns: tuple[str, ...]
    drivers: ModuleType


@functools.lru_cache(maxsize=64)
def _layout(spec: PanelSpec) -> _Compiled:
    ip, fp, state_len = panel_layout(spec)
    ip.flags.writeable = False
    fp.flags.writeable = False
    return _Compiled(ip, fp, state_len, tuple(spec.columns), drivers(panel_moons(spec)))


def _benchmark(benchmark_close: object, n: int) -> np.ndarray | None:
    if benchmark_close is None:
        return None
    b = as_price_array(benchmark_close, "benchmark_close")
    if b.shape[0] != n:
        raise ValueError(f"benchmark_close: length {b.shape[0]} != history length {n}")
    return b


def _compute(
    ohlcv: Ohlcv, spec: PanelSpec, bench: np.ndarray | None, state: np.ndarray | None = None
) -> dict[str, np.ndarray]:
    """The full pass from a fresh ``state`` (zeros; given, it holds the final state after)."""
    ip, fp, state_len, columns, compiled = _layout(spec)
    out = np.empty((len(columns), len(ohlcv)))
    b = bench if bench is not None else ohlcv.close
    st = np.zeros(state_len) if state is None else state
    compiled.panel_run(st, ip, fp, ohlcv.open, ohlcv.high, ohlcv.low,
                       ohlcv.close, ohlcv.volume, b, bench is not None, out)  # fmt: skip
    out.flags.writeable = False
    return {name: out[j] for j, name in enumerate(columns)}


def _cache_key(ohlcv: Ohlcv, spec: PanelSpec, bench: np.ndarray | None) -> str:
    """The content key of one history's panel under ``spec`` (every input's bytes)."""
    return content_key(ohlcv.open, ohlcv.high, ohlcv.low, ohlcv.close, ohlcv.volume, bench,
                       params=spec, namespace=_CACHE_NAMESPACE)  # fmt: skip


def batch_panel(
    ohlcv: Ohlcv,
    spec: PanelSpec = DEFAULT_PANEL,
    benchmark_close: np.ndarray | None = None,
    cache: MoonCache | None = DEFAULT_CACHE,
) -> dict[str, np.ndarray]:
    """Every panel column over the whole history of one instrument, in one compiled pass.

    Args:
        ohlcv: the instrument's history, oldest bar first.
        spec: panel parameters.
        benchmark_close: benchmark closes aligned with ``ohlcv``; without it beta and
            correlation are NaN.
        cache: result cache keyed by content (dtype, shape, bytes of every input + spec);
            None disables caching.

    Returns:
        ``{column: read-only float64 array of length len(ohlcv)}``; NaN during each
        column's warm-up (``MOONS[name].warmup(spec)``).
    """
    if not isinstance(ohlcv, Ohlcv):
        raise TypeError(f"ohlcv must be an Ohlcv, got {type(ohlcv).__name__}")
    bench = _benchmark(benchmark_close, len(ohlcv))
    if cache is None:
        return _compute(ohlcv, spec, bench)
    key = _cache_key(ohlcv, spec, bench)
    hit = cache.get(key)
    if hit is not None:
        return dict(hit)
    result = _compute(ohlcv, spec, bench)
    cache.set(key, result)
    return dict(result)


LONG_HISTORY = 100_000
"""Histories longer than this are not kept whole by :func:`last_panel_row`: it streams them."""
_STREAM_CHUNK = 16_384


def last_panel_row(
    ohlcv: Ohlcv,
    spec: PanelSpec = DEFAULT_PANEL,
    benchmark_close: np.ndarray | None = None,
    cache: MoonCache | None = DEFAULT_CACHE,
) -> dict[str, float]:
    """The panel values at the last bar (decision time). Raises ValueError on an empty history.

    A history longer than :data:`LONG_HISTORY` bars is run through the same compiled pass in
    chunks, keeping only the state and one chunk of output (memory stays flat for millions of
    bars; such results are not cached).
    """
    if len(ohlcv) == 0:
        raise ValueError("last_panel_row: empty history has no last bar")
    if len(ohlcv) > LONG_HISTORY:
        return _streamed_last_row(ohlcv, spec, _benchmark(benchmark_close, len(ohlcv)))
    cols = batch_panel(ohlcv, spec, benchmark_close, cache)
    return {name: float(arr[-1]) for name, arr in cols.items()}


def _streamed_last_row(ohlcv: Ohlcv, spec: PanelSpec, bench: np.ndarray | None) -> dict[str, float]:
    """The last row of ``batch_panel``, computed chunk by chunk from one carried state."""
    history = HistoryPanel(spec)
    history.feed(ohlcv, bench)
    return history.last_row()


class HistoryPanel:
    """The panel of ONE instrument whose history arrives in consecutive chunks, oldest first.

    Only the moons' state and one small output block are kept, so the last row of a history of
    millions of bars (read from a file chunk by chunk) costs no more memory than one chunk.
    ``last_row()`` equals ``batch_panel(whole history)[-1]``.
    """

    def __init__(self, spec: PanelSpec = DEFAULT_PANEL) -> None:
        self._ip, self._fp, state_len, self._columns, self._drivers = _layout(spec)
        self._state = np.zeros(state_len)
        self._out = np.empty((len(self._columns), _STREAM_CHUNK))
        self._last: int | None = None
        self.bars = 0

    def feed(self, ohlcv: Ohlcv, benchmark_close: np.ndarray | None = None) -> None:
        """Advance the state over ``ohlcv``'s bars (the next bars after those already fed)."""
        bench = _benchmark(benchmark_close, len(ohlcv))
        closes = bench if bench is not None else ohlcv.close
        n = len(ohlcv)
        for start in range(0, n, _STREAM_CHUNK):
            stop = min(n, start + _STREAM_CHUNK)
            part = slice(start, stop)
            self._drivers.panel_run(
                self._state, self._ip, self._fp, ohlcv.open[part], ohlcv.high[part],
                ohlcv.low[part], ohlcv.close[part], ohlcv.volume[part], closes[part],
                bench is not None, self._out[:, : stop - start])  # fmt: skip
            self._last = stop - start - 1
        self.bars += n

    def last_row(self) -> dict[str, float]:
        """Panel values at the last bar fed. Raises ValueError before any bar was fed."""
        if self._last is None:
            raise ValueError("HistoryPanel.last_row: no bar was fed")
        return {name: float(self._out[j, self._last]) for j, name in enumerate(self._columns)}
