"""The universe's own copy of the bars behind every panel row, verified bit for bit each tick.

``UniverseMoons`` keeps a row streaming only while the instrument's history is the one the
row was computed from plus exactly one new bar. Length, last stamp and previous close cannot
tell that (an edit deeper in the history keeps all three), so this store holds a copy of every
history it was handed (timestamps, open, high, low, close, volume as raw 64-bit words) and of
the benchmark (timestamps, close), and each tick compares the new histories against it word
by word (so -0.0 is not taken for 0.0, and NaN equals only the same NaN), then makes the copy
equal the new history. Why this is exact:

* the moon kernel's state after bar ``m`` depends only on bars ``0..m-1`` of the five fields
  and the aligned benchmark closes; the five fields are compared directly;
* an aligned benchmark close is ``benchmark.close[searchsorted(benchmark.timestamps, t)]``
  at an instrument stamp ``t`` that the benchmark holds (else the row has no benchmark). With
  the instrument stamps and the benchmark's old bars unchanged, and the benchmark's stamps
  strictly increasing (``BarSeries`` validates it), each old stamp is found at the same index
  with the same close: only an instrument whose stamps were NOT all covered can change when the
  benchmark grows, and the caller recomputes those (``covered`` in ``UniverseMoons``).

Memory is bounded: at most ``max_bars`` storage columns are held (48 bytes each); an
instrument that would go past it is not held, reports ``CHANGED`` every tick, and its row is
computed by the batch pass (correct, only slower). The benchmark copy is one series.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numba import njit

from bus import BarSeries

SAME, GREW_ONE, GREW_MORE, CHANGED = 0, 1, 2, 3
_FIELDS = 6  # timestamps, open, high, low, close, volume


@njit(cache=True)
def _sync(store, m, t, o, h, lo, c, v):
    """Compare ``store[:, :m]`` with the new fields word by word, then copy them into ``store``.

    Returns SAME, GREW_ONE, GREW_MORE (the first ``m`` bars unchanged) or CHANGED.
    """
    n = t.shape[0]
    words = (t.view(np.uint64), o.view(np.uint64), h.view(np.uint64),
             lo.view(np.uint64), c.view(np.uint64), v.view(np.uint64))  # fmt: skip
    k = min(m, n)
    start = k
    for i in range(k):
        if (store[0, i] != words[0][i] or store[1, i] != words[1][i]
                or store[2, i] != words[2][i] or store[3, i] != words[3][i]
                or store[4, i] != words[4][i] or store[5, i] != words[5][i]):  # fmt: skip
            start = 0
            break
    for i in range(start, n):
        for j in range(_FIELDS):
            store[j, i] = words[j][i]
    if start < k or n < m:
        return CHANGED
    if n == m:
        return SAME
    return GREW_ONE if n == m + 1 else GREW_MORE


def _fits(store: np.ndarray, n: int) -> np.ndarray:
    """``store`` or a larger copy of it holding at least ``n`` bars (grown by a quarter)."""
    if n <= store.shape[1]:
        return store
    grown = np.empty((_FIELDS, n + max(64, n // 4)), dtype=np.uint64)
    grown[:, : store.shape[1]] = store
    return grown


class BarStore:
    """Copies of the histories behind the rows, one slot per row (not thread-safe: the
    caller holds its lock).

    Args:
        max_bars: Instrument bars copied at most, in total (storage columns).
    """

    def __init__(self, max_bars: int) -> None:
        if max_bars < 1:
            raise ValueError(f"max_bars must be >= 1, got {max_bars}")
        self.max_bars = max_bars
        self._stores: list[np.ndarray | None] = []
        self._lengths: list[int] = []
        self._held_bars = 0
        self._bench = np.empty((_FIELDS, 0), dtype=np.uint64)
        self._bench_length = -1  # -1: no benchmark seen

    def reset(self, rows: int) -> None:
        """Forget every copy and hold ``rows`` empty slots (a new instrument list)."""
        self._stores = [np.empty((_FIELDS, 0), dtype=np.uint64) for _ in range(rows)]
        self._lengths = [0] * rows
        self._held_bars = 0

    def sync(self, series: Sequence[BarSeries]) -> np.ndarray:
        """Each row's status against its copy (SAME, GREW_ONE, GREW_MORE, CHANGED); afterwards
        every held copy equals the new history."""
        status = [self._sync_row(i, s) for i, s in enumerate(series)]
        return np.array(status, dtype=np.int8)

    def _sync_row(self, i: int, s: BarSeries) -> int:
        store = self._stores[i]
        if store is None:
            return CHANGED
        stamps = s.timestamps
        n = stamps.shape[0]
        if n > store.shape[1]:
            grown = _fits(store, n)
            extra = grown.shape[1] - store.shape[1]
            if self._held_bars + extra > self.max_bars:
                self._stores[i] = None  # past the bound: no copy, batched from now on
                self._held_bars -= store.shape[1]
                return CHANGED
            self._held_bars += extra
            self._stores[i] = store = grown
        m, self._lengths[i] = self._lengths[i], n
        return int(_sync(store, m, stamps.view(np.int64), s.open, s.high, s.low, s.close,
                         s.volume))  # fmt: skip

    def sync_benchmark(self, benchmark: BarSeries | None) -> int:
        """The benchmark's status against its copy (CHANGED when it appears or disappears)."""
        if benchmark is None:
            changed = self._bench_length != -1
            self._bench_length = -1
            return CHANGED if changed else SAME
        m = max(self._bench_length, 0)
        self._bench = store = _fits(self._bench, len(benchmark))
        close = benchmark.close
        got = int(_sync(store, m, benchmark.timestamps.view(np.int64), close, close, close,
                        close, close))  # fmt: skip
        status = CHANGED if self._bench_length == -1 else got
        self._bench_length = len(benchmark)
        return status
