"""A history edited deep in its past between two ticks is never carried by the stream.

``UniverseMoons`` keeps an instrument streaming only while its history is the one its row
came from plus one bar, verified bit for bit against its own copy; an edit 5 or 200 bars back
(or in the benchmark) must give the batch row that ``compute_panel`` / ``Sun.decide`` give.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import numpy as np
import pytest

import moons
from bus import BarSeries, MarketSnapshot, to_datetime
from heliarch.backtest import bundled_universe
from sun import Sun, compute_panel
from sun.universe import UniverseMoons
from sun.universe._quality import GapMemo, _gaps

BARS = 320


@pytest.fixture(scope="module")
def universe() -> tuple[dict[str, BarSeries], BarSeries]:
    bars, benchmark = bundled_universe(12, BARS)
    return {n: s for n, s in bars.items() if not n.startswith("BTCUSD")}, benchmark


def _upto(series: BarSeries, stamp: np.datetime64) -> BarSeries:
    return series.up_to(to_datetime(stamp))


def _edited(series: BarSeries, back: int, factor: float = 1.01) -> BarSeries:
    """The same history with bar ``len - 1 - back`` scaled (still a valid bar)."""
    i = len(series) - 1 - back
    fields = {f: np.array(getattr(series, f)) for f in ("open", "high", "low", "close")}
    for values in fields.values():
        values[i] *= factor
    return BarSeries(instrument=series.instrument, timestamps=series.timestamps,
                     volume=series.volume, **fields)  # fmt: skip


def _expected(snapshot: MarketSnapshot, columns: tuple[str, ...]) -> np.ndarray:
    panel = compute_panel(snapshot, cache=moons.MoonCache(moons.LruBackend(64)))
    return np.array([[panel.values[n][c] for c in columns] for n in snapshot.bars])


def _bits(rows: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(rows).view(np.uint64)


@pytest.mark.parametrize("edits", [{0: 5}, {0: 5, 3: 200}, {2: 1}])
def test_an_edit_deep_in_a_history_takes_the_batch_row(
    universe: tuple[dict[str, BarSeries], BarSeries], edits: dict[int, int]
) -> None:
    bars, benchmark = universe
    names = tuple(bars)
    engine = UniverseMoons(cache=moons.MoonCache(moons.LruBackend(64)), detach_limit=0.5)
    stamps = benchmark.timestamps[-4:]
    first = MarketSnapshot.at(to_datetime(stamps[0]), {n: _upto(bars[n], stamps[0]) for n in names},
                              benchmark=_upto(benchmark, stamps[0]))  # fmt: skip
    engine.rows(first, names)
    for tick, stamp in enumerate(stamps[1:]):
        chosen = {n: _upto(bars[n], stamp) for n in names}
        if tick == 1:  # edited between two ticks, and grown by one bar as well
            for i, back in edits.items():
                chosen[names[i]] = _edited(chosen[names[i]], back)
        snapshot = MarketSnapshot.at(to_datetime(stamp), chosen,
                                     benchmark=_upto(benchmark, stamp))  # fmt: skip
        batch_rows = engine.stats["batch_rows"]
        rows = engine.rows(snapshot, names)
        assert np.array_equal(_bits(rows), _bits(_expected(snapshot, engine.columns))), tick
        if tick == 1:  # exactly the edited instruments left the stream
            assert engine.stats["batch_rows"] - batch_rows == len(edits)
    assert engine.stats["warmups"] == 1
    assert engine.stats["stream_updates"] == 3


def test_an_edit_with_the_same_length_is_not_taken_for_no_change(
    universe: tuple[dict[str, BarSeries], BarSeries],
) -> None:
    bars, benchmark = universe
    names = tuple(bars)
    stamp = benchmark.timestamps[-2]
    chosen = {n: _upto(bars[n], stamp) for n in names}
    engine = UniverseMoons(cache=moons.MoonCache(moons.LruBackend(64)))
    engine.rows(MarketSnapshot.at(to_datetime(stamp), chosen, benchmark=benchmark), names)
    chosen[names[1]] = _edited(chosen[names[1]], 30)
    snapshot = MarketSnapshot.at(to_datetime(stamp), chosen, benchmark=benchmark)
    rows = engine.rows(snapshot, names)
    assert np.array_equal(_bits(rows), _bits(_expected(snapshot, engine.columns)))


@pytest.mark.parametrize("back", [5, 200])
def test_decide_universe_after_an_edit_equals_decide(
    universe: tuple[dict[str, BarSeries], BarSeries], back: int
) -> None:
    bars, benchmark = universe
    names = tuple(bars)
    sun = Sun("quant", checkpoint="none")
    for tick, stamp in enumerate(benchmark.timestamps[-3:]):
        chosen = {n: _upto(bars[n], stamp) for n in names}
        if tick == 2:
            chosen[names[0]] = _edited(chosen[names[0]], back, factor=0.9)
        snapshot = MarketSnapshot.at(to_datetime(stamp), chosen, benchmark=_upto(benchmark, stamp))
        decisions = sun.decide_universe(snapshot)
    for name in (names[0], names[1]):
        single = sun.decide(snapshot, name)
        assert decisions[name].model_copy(update={"trace": ()}) == single.model_copy(
            update={"trace": ()}
        ), name


def test_an_edit_deep_in_the_benchmark_rebuilds_every_row(
    universe: tuple[dict[str, BarSeries], BarSeries],
) -> None:
    bars, benchmark = universe
    names = tuple(bars)
    engine = UniverseMoons(cache=moons.MoonCache(moons.LruBackend(64)))
    for tick, stamp in enumerate(benchmark.timestamps[-3:]):
        bench = _upto(benchmark, stamp)
        bench = _edited(bench, 40) if tick == 2 else bench
        snapshot = MarketSnapshot.at(to_datetime(stamp), {n: _upto(bars[n], stamp) for n in names},
                                     benchmark=bench)  # fmt: skip
        rows = engine.rows(snapshot, names)
        assert np.array_equal(_bits(rows), _bits(_expected(snapshot, engine.columns))), tick
    assert engine.stats["warmups"] == 2


def test_past_the_memory_bound_rows_are_batched_and_equal(
    universe: tuple[dict[str, BarSeries], BarSeries],
) -> None:
    """Rows past the bound are computed by the batch pass, and their newest bars (read
    without the store) equal the held rows' (read while verifying them), bit for bit."""
    bars, benchmark = universe
    names = tuple(bars)
    engine = UniverseMoons(cache=moons.MoonCache(moons.LruBackend(64)), max_bars=3 * BARS)
    for stamp in benchmark.timestamps[-3:]:
        snapshot = MarketSnapshot.at(to_datetime(stamp), {n: _upto(bars[n], stamp) for n in names},
                                     benchmark=_upto(benchmark, stamp))  # fmt: skip
        rows, last = engine.read(snapshot, names)[:2]
        assert np.array_equal(_bits(rows), _bits(_expected(snapshot, engine.columns)))
        for field, got in (
            ("timestamps", last.stamp),
            ("open", last.open),
            ("high", last.high),
            ("low", last.low),
            ("close", last.close),
            ("volume", last.volume),
        ):
            newest = np.array([getattr(snapshot.bars[n], field)[-1] for n in names])
            assert np.array_equal(got.view(np.uint64), newest.view(np.uint64)), field
    assert engine.stats["batch_rows"] > 0


def _walk(engine: UniverseMoons, bars: dict[str, BarSeries], benchmark: BarSeries,
          stamps: np.ndarray, edit: Callable[[], None] | None = None) -> None:  # fmt: skip
    names = tuple(bars)
    for tick, stamp in enumerate(stamps):
        if edit is not None and tick == len(stamps) - 1:
            edit()
        snapshot = MarketSnapshot.at(to_datetime(stamp), {n: _upto(bars[n], stamp) for n in names},
                                     benchmark=_upto(benchmark, stamp))  # fmt: skip
        rows = engine.rows(snapshot, names)
        assert np.array_equal(_bits(rows), _bits(_expected(snapshot, engine.columns))), tick


def _own_copy(series: BarSeries) -> BarSeries:
    """A validated copy (its own read-only buffers), so a test may break it in place."""
    return BarSeries(**{f: getattr(series, f) for f in BarSeries.model_fields})


def test_a_walk_forward_is_verified_by_its_unchanged_buffers(
    universe: tuple[dict[str, BarSeries], BarSeries],
) -> None:
    bars, benchmark = universe
    engine = UniverseMoons(cache=moons.MoonCache(moons.LruBackend(64)))
    _walk(engine, bars, benchmark, benchmark.timestamps[-4:])
    assert engine.history_checks == {"compared": len(bars), "by_buffers": 3 * len(bars)}
    assert engine.stats["stream_updates"] == 3 and engine.stats["batch_rows"] == 0


def test_a_buffer_made_writable_and_edited_in_place_is_compared(
    universe: tuple[dict[str, BarSeries], BarSeries],
) -> None:
    bars, benchmark = universe
    bars = {n: _own_copy(s) for n, s in bars.items()}
    victim = bars[next(iter(bars))]
    engine = UniverseMoons(cache=moons.MoonCache(moons.LruBackend(64)))

    def edit() -> None:  # an unsupported in-place edit 40 bars back, left writable
        i = len(victim) - 40
        for field in ("open", "high", "low", "close"):
            values = getattr(victim, field)
            values.setflags(write=True)
            values[i] *= 1.02

    _walk(engine, bars, benchmark, benchmark.timestamps[-3:], edit)
    assert engine.history_checks["compared"] == len(bars) + 1  # the first tick, then the victim
    assert engine.stats["batch_rows"] == 1


def test_a_sliding_window_over_one_buffer_is_compared(
    universe: tuple[dict[str, BarSeries], BarSeries],
) -> None:
    bars, benchmark = universe
    names = tuple(bars)
    engine = UniverseMoons(cache=moons.MoonCache(moons.LruBackend(64)))
    for stamp in benchmark.timestamps[-3:]:  # the same length each tick: the start moves
        chosen = {n: _upto(bars[n], stamp).tail(200) for n in names}
        snapshot = MarketSnapshot.at(to_datetime(stamp), chosen, benchmark=_upto(benchmark, stamp))
        rows = engine.rows(snapshot, names)
        assert np.array_equal(_bits(rows), _bits(_expected(snapshot, engine.columns)))
    assert engine.history_checks == {"compared": 3 * len(names), "by_buffers": 0}


def _drop_bar(series: BarSeries, back: int) -> BarSeries:
    """The same history without bar ``len - 1 - back`` (a gap)."""
    keep = np.arange(len(series)) != len(series) - 1 - back
    return BarSeries(**{f: getattr(series, f)[keep] if f != "instrument" else series.instrument
                        for f in BarSeries.model_fields})  # fmt: skip


@pytest.mark.parametrize(
    "anomaly",
    ["none", "gap_appears", "instrument_misses_tick", "stamps_differ", "window_changes"],
)
def test_the_gap_memo_equals_the_full_check_every_tick(
    universe: tuple[dict[str, BarSeries], BarSeries], anomaly: str
) -> None:
    """Over a walk forward, the carried "no gap" verdict is only used when it must hold:
    each tick's verdict equals the full check's, whatever one instrument does."""
    bars, benchmark = universe
    names = tuple(bars)
    engine = UniverseMoons(cache=moons.MoonCache(moons.LruBackend(64)))
    memo = GapMemo()
    stamps = benchmark.timestamps[-6:]
    for tick, stamp in enumerate(stamps):
        chosen = {n: _upto(bars[n], stamp) for n in names}
        window = 20
        if tick == 4:
            first = names[0]
            if anomaly == "gap_appears":
                chosen[first] = _drop_bar(chosen[first], 3)
            elif anomaly == "instrument_misses_tick":
                chosen[first] = _upto(bars[first], stamps[tick - 1])
            elif anomaly == "stamps_differ":
                shifted = np.array(chosen[first].timestamps)
                shifted[-1] += np.timedelta64(1, "h")
                chosen[first] = BarSeries(**{**{f: getattr(chosen[first], f) for f in
                                                BarSeries.model_fields}, "timestamps": shifted})  # fmt: skip
            elif anomaly == "window_changes":
                window = 10
        snapshot = MarketSnapshot.at(to_datetime(stamp) + timedelta(hours=2), chosen,
                                     benchmark=_upto(benchmark, stamp))  # fmt: skip
        read = engine.read(snapshot, names)
        carried = memo.gaps(snapshot, names, engine, read, window)
        assert carried == _gaps(snapshot, names, read.bars, window), (anomaly, tick)
    assert memo.checks["carried"] >= (3 if anomaly == "none" else 2)
    if anomaly in ("gap_appears", "instrument_misses_tick", "stamps_differ"):
        assert memo.checks["full"] >= 3  # the first tick, the anomaly and the tick after it
