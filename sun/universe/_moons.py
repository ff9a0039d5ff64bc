"""The universe's moons: every instrument's panel row, one warp call per tick when possible.

The first snapshot (or a new instrument list) warms a :class:`moons.StreamingPanel` up from
each history. A later snapshot whose histories each grew by exactly one bar (the previous
last bar unchanged) advances every instrument with ONE compiled call. An instrument whose
history did anything else (a gap, a revision anywhere in it, no new bar) is detached from the
stream and computed by the cached batch pass, exactly as a single decision computes it; the
stream is rebuilt when too many are detached. "Grew by one" and "unchanged" are verified bit
for bit against the universe's own copy of every history and of the benchmark (see
``_prefix``), so an edit deep in a history is never carried. Streaming and batch share one
kernel, so every row equals ``sun.compute_panel``'s.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

import moons
from bus import BarSeries, MarketSnapshot
from sun._panel import _benchmark_close
from sun.universe._prefix import CHANGED, GREW_ONE, SAME, BarStore


@dataclass(frozen=True)
class _LastBars:
    """The newest bar of every instrument (whether a history only grew is ``BarStore``'s
    question, answered over the whole history)."""

    stamp: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray


def bars_of_words(words: np.ndarray) -> _LastBars:
    """:class:`_LastBars` of the ``(n, 6)`` bar words ``BarStore.sync`` gives."""
    columns = [np.ascontiguousarray(words[:, j]) for j in range(words.shape[1])]
    return _LastBars(
        stamp=columns[0].view("datetime64[ns]"),
        open=columns[1].view(np.float64),
        high=columns[2].view(np.float64),
        low=columns[3].view(np.float64),
        close=columns[4].view(np.float64),
        volume=columns[5].view(np.float64),
    )


class MoonRows(NamedTuple):
    """One read of the universe's moons (see :meth:`UniverseMoons.read`)."""

    rows: np.ndarray  # (instruments, columns): the panel at each instrument's last bar
    bars: _LastBars  # each instrument's newest bar
    tick: int  # this read's number, counted per UniverseMoons
    grew_one: bool  # every history is the previous read's plus exactly one bar (bit for bit)


class UniverseMoons:
    """Panel rows of many instruments, kept streaming between ticks (thread-safe).

    Args:
        spec: The moon panel parameters.
        cache: The moon cache of the batch pass (detached instruments).
        detach_limit: Rebuild the stream when more than this fraction is detached.
        max_bars: Storage columns the verifying copy holds at most, over all instruments
            (48 bytes each: default 96 MB; columns grow by a quarter, at least 64, ahead of
            the history). An instrument past it is computed by the batch pass every tick
            (correct, slower; many such instruments also re-warm the stream each tick).
    """

    def __init__(
        self,
        spec: moons.PanelSpec = moons.DEFAULT_PANEL,
        cache: moons.MoonCache = moons.DEFAULT_CACHE,
        detach_limit: float = 0.1,
        max_bars: int = 2_000_000,
    ) -> None:
        self.spec = spec
        self.cache = cache
        self.detach_limit = detach_limit
        self.columns: tuple[str, ...] = ("close", *moons.panel_columns(spec))
        self._lock = threading.Lock()
        self._names: tuple[str, ...] = ()
        self._panel: moons.StreamingPanel | None = None
        self._bench = False
        self._seen: _LastBars | None = None
        self._rows = np.empty((0, len(self.columns)))
        self._detached = np.zeros(0, dtype=np.bool_)
        self._store = BarStore(max_bars)
        self._covered = np.zeros(0, dtype=np.bool_)  # row unaffected by the benchmark growing
        self.stats = {"warmups": 0, "stream_updates": 0, "batch_rows": 0}
        self._reads = 0

    @property
    def history_checks(self) -> dict[str, int]:
        """How the histories were verified, over all ticks: ``compared`` word by word, or
        known unchanged ``by_buffers`` (see :mod:`sun.universe._prefix`)."""
        return dict(self._store.checks)

    def rows(self, snapshot: MarketSnapshot, names: tuple[str, ...]) -> np.ndarray:
        """The ``(len(names), len(self.columns))`` panel at each instrument's last bar."""
        return self.read(snapshot, names).rows

    def read(self, snapshot: MarketSnapshot, names: tuple[str, ...]) -> MoonRows:
        """:meth:`rows`, each instrument's newest bar (read while verifying the histories),
        and whether every history only grew by one bar since the previous read.

        Args:
            snapshot: The market data.
            names: The instruments, in row order.
        """
        series = [snapshot.bars[name] for name in names]
        with self._lock:
            if names != self._names:
                self._store.reset(len(names))
            status, words = self._store.sync(series)  # the copies now equal these histories
            self._reads += 1
            bars = bars_of_words(words)
            bench_status = self._store.sync_benchmark(snapshot.benchmark)
            bench = self._stream_benchmark(snapshot, names, bars, bench_status)
            if bench is None:
                benches = [_benchmark_close(s, snapshot.benchmark) for s in series]
                self._warm_up(names, series, bars, benches)
                self._covered = np.array([b is not None for b in benches], dtype=np.bool_)
                self._covered |= snapshot.benchmark is None
            else:
                self._advance(snapshot, series, bars, bench, status, bench_status)
            grew_one = bool(len(status)) and bool((status == GREW_ONE).all())
            return MoonRows(self._rows.copy(), bars, self._reads, grew_one)

    def _stream_benchmark(
        self, snapshot: MarketSnapshot, names: tuple[str, ...], bars: _LastBars, bench_status: int
    ) -> np.ndarray | None:
        """The benchmark close at each instrument's last bar (NaN where it has none; ones
        for a stream without benchmark), or None when the stream cannot continue (the
        benchmark's bars the stream saw changed, or it appeared or disappeared)."""
        if self._panel is None or self._seen is None or names != self._names:
            return None
        if self._detached.mean() > self.detach_limit:
            return None
        benchmark = snapshot.benchmark
        if (benchmark is not None) != self._bench:
            return None
        if bench_status == CHANGED:
            return None
        if benchmark is None:
            return np.ones(len(names))
        index = np.searchsorted(benchmark.timestamps, bars.stamp)
        inside = index < len(benchmark)
        index = np.where(inside, index, 0)
        aligned = inside & (benchmark.timestamps[index] == bars.stamp)
        return np.where(aligned, benchmark.close[index], np.nan)

    def _warm_up(
        self,
        names: tuple[str, ...],
        series: list[BarSeries],
        bars: _LastBars,
        benches: list[np.ndarray | None],
    ) -> None:
        """Replay every history into a fresh stream; with a benchmark covering only some
        instruments (one stream call needs all or none) every row takes the batch path."""
        self._names, self._seen = names, bars
        self._rows = np.empty((len(names), len(self.columns)))
        self._detached = np.ones(len(names), dtype=np.bool_)
        covered = [b for b in benches if b is not None]
        if covered and len(covered) != len(benches):
            self._panel, self._bench = None, False
            self._batch(np.arange(len(names)), series, benches)
            return
        panel = moons.StreamingPanel(len(names), self.spec)
        raw = panel.warmup_from([_ohlcv(s) for s in series], covered or None)
        self._rows[:, 0] = bars.close
        self._rows[:, 1:] = raw
        self._panel, self._bench = panel, bool(covered)
        self._detached[:] = False
        self.stats["warmups"] += 1

    def _advance(
        self,
        snapshot: MarketSnapshot,
        series: list[BarSeries],
        bars: _LastBars,
        bench: np.ndarray,
        status: np.ndarray,
        bench_status: int,
    ) -> None:
        """Stream the rows verified to have grown by one bar; batch every other changed row.

        ``status`` and ``bench_status`` come from ``BarStore`` (bit-for-bit checks). A row
        computed without benchmark coverage is recomputed whenever the benchmark grew, since
        the new benchmark bars may now cover it."""
        assert self._panel is not None
        same = status == SAME
        if bench_status != SAME:
            same &= self._covered
        grew = (status == GREW_ONE) & np.isfinite(bench)
        if same.all():
            return
        stream = grew & ~self._detached
        if stream.any():
            out = self._panel.update(
                np.where(stream, bars.open, 1.0),
                np.where(stream, bars.high, 1.0),
                np.where(stream, bars.low, 1.0),
                np.where(stream, bars.close, 1.0),
                np.where(stream, bars.volume, 0.0),
                np.where(stream, bench, 1.0) if self._bench else None,
            )  # rows not streamed get a placeholder bar: they are detached below, never read
            self._rows[stream, 0] = bars.close[stream]
            self._rows[stream, 1:] = out[stream]
            self.stats["stream_updates"] += 1
        # every row the stream did not advance is now stale in it: detach and batch it
        self._detached |= ~stream
        stale = np.flatnonzero(~stream & ~same)
        if len(stale):
            benches: list[np.ndarray | None] = [None] * len(series)
            for i in stale.tolist():
                benches[i] = _benchmark_close(series[i], snapshot.benchmark)
            self._batch(stale, series, benches)
            self._covered[stale] = [benches[i] is not None for i in stale.tolist()]
            self._covered[stale] |= snapshot.benchmark is None
        self._seen = bars

    def _batch(
        self, indices: np.ndarray, series: list[BarSeries], benches: list[np.ndarray | None]
    ) -> None:
        for i in indices.tolist():
            row = moons.last_panel_row(_ohlcv(series[i]), self.spec, benches[i], self.cache)
            self._rows[i, 0] = float(series[i].close[-1])
            self._rows[i, 1:] = [row[c] for c in self.columns[1:]]
        self.stats["batch_rows"] += len(indices)


def _ohlcv(series: BarSeries) -> moons.Ohlcv:
    return moons.Ohlcv(
        open=series.open, high=series.high, low=series.low, close=series.close, volume=series.volume
    )
