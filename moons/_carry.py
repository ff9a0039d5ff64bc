"""Carried panel state: the last panel row of a history that EXTENDS the one seen before.

A decision loop walks forward: each call's history is the previous one plus a few new bars.
The full pass (``last_panel_row``) reruns every moon over the whole history; carrying each
instrument's moon state forward costs O(new bars) instead. The carried row is the full pass's
row bit for bit: the state after bar ``m`` depends only on bars ``0..m-1``, and the carry
continues it only after checking that those bars are byte-identical to the ones it ran.

What a call verifies before continuing a carried state (anything else is a full pass):

* same key and spec, and a benchmark on both or on neither;
* the new history is at least as long as the carried one (an earlier date is recomputed);
* every carried bar (open, high, low, close, volume, benchmark) equals the new history's bar
  at the same index, compared as raw bytes against the carry's OWN copy (so an edited past
  bar, a different history or a caller mutating its buffer are all detected, and -0.0 is not
  taken for 0.0);
* the new bars pass the boundary rules of ``Ohlcv`` (range and OHLC rules); a bad one goes
  to the full pass, which raises exactly the error it always raised.

Nothing after the history's last bar is ever used: the carried state holds a verified prefix
of the bars passed in. Memory is bounded: at most ``max_keys`` histories (least recently used
evicted) and ``max_bars`` carried bars in total; histories longer than ``LONG_HISTORY`` are
not carried.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass

import numpy as np
from numba import njit

from moons._cache import MoonCache
from moons._panel import (
    LONG_HISTORY,
    _benchmark,
    _cache_key,
    _Compiled,
    _compute,
    _layout,
    last_panel_row,
)
from moons._spec import DEFAULT_PANEL, PanelSpec
from moons._types import Ohlcv
from moons._validate import bad_bar

_FIELDS = 6  # open, high, low, close, volume, benchmark close (zeros without a benchmark)
_F64 = np.dtype(np.float64)


@njit(cache=True)
def _first_bad_bar(o, h, lo, c, v, b, has_b):
    """Index of the first bar breaking ``bad_bar``'s rules, or -1 when all are valid."""
    for i in range(c.shape[0]):
        if bad_bar(o[i], h[i], lo[i], c[i], v[i], b[i], has_b) >= 0:
            return i
    return -1


@njit(cache=True, inline="always")
def _same_bits(x, y, m):
    """The first ``m`` float64 values of ``x`` and ``y`` are the same bytes (-0.0 != 0.0)."""
    xv = x.view(np.uint64)
    yv = y.view(np.uint64)
    for i in range(m):  # noqa: SIM110  # an early exit numba compiles (no generator)
        if xv[i] != yv[i]:
            return False
    return True


@njit(cache=True)
def _same_prefix(stored, m, o, h, lo, c, v, b):
    """The first ``m`` bars of the six fields are byte-identical to ``stored``'s rows."""
    return (_same_bits(stored[0], o, m) and _same_bits(stored[1], h, m)
            and _same_bits(stored[2], lo, m) and _same_bits(stored[3], c, m)
            and _same_bits(stored[4], v, m) and _same_bits(stored[5], b, m))  # fmt: skip


@dataclass
class _Carried:
    """One history's carried state: its own copy of the bars run, the state after them."""

    spec: PanelSpec
    compiled: _Compiled
    has_b: bool
    bars: np.ndarray  # (_FIELDS, capacity); columns [:length] are the bars run
    length: int
    state: np.ndarray
    row: np.ndarray  # the panel at bar length - 1

    def same_prefix(self, fields: tuple[np.ndarray, ...]) -> bool:
        """True when the first ``length`` bars of ``fields`` are byte-identical to the run."""
        return bool(_same_prefix(self.bars, self.length, *fields))

    def append(self, fields: tuple[np.ndarray, ...]) -> None:
        """Copy the bars past ``length`` into the carry's storage (grown by a quarter)."""
        n = fields[0].shape[0]
        if n > self.bars.shape[1]:
            grown = np.empty((_FIELDS, n + max(64, n // 4)))
            grown[:, : self.length] = self.bars[:, : self.length]
            self.bars = grown
        for j, f in enumerate(fields):
            self.bars[j, self.length : n] = f[self.length :]
        self.length = n


def _fast_fields(arrays: tuple[object, ...], bench: object | None) -> tuple[np.ndarray, ...] | None:
    """The six fields as contiguous 1-D float64 arrays of one length, or None (full pass)."""
    given = [*arrays, bench if bench is not None else arrays[3]]
    fields = [
        a
        for a in given
        if type(a) is np.ndarray and a.dtype is _F64 and a.ndim == 1 and a.flags.c_contiguous
    ]
    n = fields[0].shape[0] if len(fields) == len(given) else 0
    if n == 0 or n > LONG_HISTORY or any(f.shape[0] != n for f in fields):
        return None
    return tuple(fields)


class PanelCarry:
    """Last panel rows of keyed histories, carrying each key's moon state between calls.

    ``last_row(key, ...)`` equals ``last_panel_row(Ohlcv(...), spec, benchmark_close, cache)``
    bit for bit (same errors too); when the history extends the one last seen under ``key``
    it only runs the new bars (see the module doc for what is verified). Thread-safe.

    Args:
        max_keys: Histories carried at most (least recently used evicted).
        max_bars: Carried bars in total across keys (least recently used evicted; 48 bytes
            a bar: six float64 fields).
    """

    def __init__(self, max_keys: int = 64, max_bars: int = 1_000_000) -> None:
        if max_keys < 1 or max_bars < 1:
            raise ValueError(f"max_keys and max_bars must be >= 1, got {max_keys}, {max_bars}")
        self.max_keys = max_keys
        self.max_bars = max_bars
        self._entries: OrderedDict[Hashable, _Carried] = OrderedDict()
        self._bars = 0  # storage columns of the entries held
        self._lock = threading.Lock()
        self.stats = {"carried": 0, "repeated": 0, "full": 0}

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        """Forget every carried state (the next call per key is a full pass)."""
        with self._lock:
            self._entries.clear()
            self._bars = 0

    def last_row(
        self,
        key: Hashable,
        open: np.ndarray,
        high: np.ndarray,
        low: np.ndarray,
        close: np.ndarray,
        volume: np.ndarray,
        benchmark_close: np.ndarray | None = None,
        *,
        spec: PanelSpec = DEFAULT_PANEL,
        cache: MoonCache | None = None,
    ) -> dict[str, float]:
        """The panel values at the history's last bar (see the class doc).

        Args:
            key: Names the history (e.g. the instrument); one carried state per key.
            open, high, low, close, volume: The history, oldest bar first.
            benchmark_close: Benchmark closes aligned with the history, or None.
            spec: Panel parameters.
            cache: Content-keyed cache consulted by the full pass (as ``last_panel_row``).

        Raises:
            ValueError: as ``Ohlcv`` / ``last_panel_row`` for a bad history (naming field and
                index); the carried state of ``key`` is then dropped.
        """
        fields = _fast_fields((open, high, low, close, volume), benchmark_close)
        with self._lock:
            held = self._entries.pop(key, None)  # taken out: a concurrent call recomputes
            self._bars -= held.bars.shape[1] if held is not None else 0
        if fields is not None and held is not None:
            row = self._continue(held, fields, spec, benchmark_close is not None)
            if row is not None:
                self._keep(key, held)
                return row
        ohlcv = Ohlcv(open=open, high=high, low=low, close=close, volume=volume)
        with self._lock:
            self.stats["full"] += 1
        if fields is None:
            return last_panel_row(ohlcv, spec, benchmark_close, cache)
        return self._full(key, ohlcv, fields, spec, benchmark_close, cache)

    def _continue(
        self, held: _Carried, fields: tuple[np.ndarray, ...], spec: PanelSpec, has_b: bool
    ) -> dict[str, float] | None:
        """The row after running only the new bars, or None when ``held`` cannot continue."""
        n = fields[0].shape[0]
        if (held.spec is not spec and held.spec != spec) or held.has_b != has_b or n < held.length:
            return None
        if not held.same_prefix(fields):
            return None
        m = held.length
        ip, fp, _, columns, compiled = held.compiled
        if n == m:
            with self._lock:
                self.stats["repeated"] += 1
            return dict(zip(columns, held.row.tolist(), strict=True))
        o, h, lo, c, v, b = (f[m:] for f in fields)
        if _first_bad_bar(o, h, lo, c, v, b, has_b) >= 0:
            return None  # the full pass raises the boundary's own error
        out = np.empty((len(columns), n - m))
        compiled.panel_run(held.state, ip, fp, o, h, lo, c, v, b, has_b, out)
        held.row = out[:, -1].copy()
        held.append(fields)
        with self._lock:
            self.stats["carried"] += 1
        return dict(zip(columns, held.row.tolist(), strict=True))

    def _full(
        self,
        key: Hashable,
        ohlcv: Ohlcv,
        fields: tuple[np.ndarray, ...],
        spec: PanelSpec,
        benchmark_close: np.ndarray | None,
        cache: MoonCache | None,
    ) -> dict[str, float]:
        """The full pass from a fresh state, kept as ``key``'s carried state.

        With a cache it is consulted first, exactly as ``batch_panel`` does; a cached row has
        no state to carry, so a hit is served without one (the key's next call is full too).
        """
        bench = _benchmark(benchmark_close, len(ohlcv))
        cache_key = _cache_key(ohlcv, spec, bench) if cache is not None else ""
        if cache is not None:
            hit = cache.get(cache_key)
            if hit is not None:
                return {name: float(arr[-1]) for name, arr in hit.items()}
        compiled = _layout(spec)
        state = np.zeros(compiled.state_len)
        columns = _compute(ohlcv, spec, bench, state)
        if cache is not None:
            cache.set(cache_key, columns)
        row = np.array([arr[-1] for arr in columns.values()])
        carried = _Carried(spec, compiled, bench is not None, np.empty((_FIELDS, 0)), 0, state, row)
        carried.append(fields)
        self._keep(key, carried)
        return {name: float(arr[-1]) for name, arr in columns.items()}

    def _keep(self, key: Hashable, carried: _Carried) -> None:
        """Store ``carried`` as the newest entry, evicting the oldest past the bounds (the
        newest is kept even when it alone holds more than ``max_bars``)."""
        with self._lock:
            old = self._entries.pop(key, None)  # a concurrent call's, for the same key
            self._bars -= old.bars.shape[1] if old is not None else 0
            self._entries[key] = carried
            self._bars += carried.bars.shape[1]
            while len(self._entries) > 1 and (
                len(self._entries) > self.max_keys or self._bars > self.max_bars
            ):
                _, dropped = self._entries.popitem(last=False)
                self._bars -= dropped.bars.shape[1]
