"""moons.PanelCarry: a carried state gives the full pass's last row bit for bit, and every
history that does not extend the carried one (earlier date, edited bar, other data) is
detected and recomputed."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import fields

import numpy as np
import pytest

from moons import (
    DEFAULT_PANEL,
    LruBackend,
    MoonCache,
    Ohlcv,
    PanelCarry,
    PanelSpec,
    last_panel_row,
)
from moons._panel import LONG_HISTORY
from tests.moons._helpers import synthetic_benchmark

FIELDS = tuple(f.name for f in fields(Ohlcv))


def arrays(ohlcv: Ohlcv, n: int) -> list[np.ndarray]:
    """The first ``n`` bars as five arrays (views, as a sliced BarSeries passes them)."""
    return [getattr(ohlcv, name)[:n] for name in FIELDS]


def full_row(
    ohlcv_fields: Sequence[np.ndarray],
    bench: np.ndarray | None = None,
    spec: PanelSpec = DEFAULT_PANEL,
) -> dict[str, float]:
    """The reference: the full pass over the whole history, uncached."""
    return last_panel_row(Ohlcv(*ohlcv_fields), spec, bench, cache=None)


def assert_bits_equal(got: dict[str, float], want: dict[str, float]) -> None:
    """Same columns, same float64 bytes (NaN where NaN, -0.0 where -0.0)."""
    assert list(got) == list(want)
    g = np.array(list(got.values())).view(np.uint64)
    w = np.array(list(want.values())).view(np.uint64)
    bad = [name for name, a, b in zip(got, g, w, strict=True) if a != b]
    assert not bad, f"columns differ: {bad}"


# steps forward (0 = the same history again), a jump back, then forward again
WALK = [300, 301, 301, 305, 306, 340, 341, 200, 201, 205, 260, 261, 262]


def test_walking_forward_and_back_equals_the_full_pass(market: Ohlcv) -> None:
    carry = PanelCarry()
    for n in WALK:
        assert_bits_equal(carry.last_row("X", *arrays(market, n)), full_row(arrays(market, n)))
    # full: the first call and the jump back to 200; repeated: 301 again; the rest carried
    assert carry.stats == {"carried": 10, "repeated": 1, "full": 2}


def test_the_whole_history_one_bar_at_a_time(market: Ohlcv) -> None:
    carry = PanelCarry()
    n_bars = len(market)
    stops = list(range(1, 60)) + list(range(60, n_bars, 97)) + [n_bars]
    for n in stops:
        assert_bits_equal(carry.last_row("X", *arrays(market, n)), full_row(arrays(market, n)))
    assert carry.stats["full"] == 1


@pytest.mark.parametrize(
    ("field", "index", "change"),
    [
        ("close", 10, lambda x: np.nextafter(x, 0.0)),  # one ulp, still inside [low, high]
        ("volume", 150, lambda x: x + 1.0),
        ("open", 249, lambda x: np.nextafter(x, np.inf)),  # the last carried bar
        ("high", 0, lambda x: x * 1.01),
    ],
)
def test_an_edited_past_bar_is_detected_and_recomputed(
    goog: Ohlcv, field: str, index: int, change: Callable[[float], float]
) -> None:
    carry = PanelCarry()
    carry.last_row("X", *arrays(goog, 250))
    edited = [a.copy() for a in arrays(goog, 260)]
    j = FIELDS.index(field)
    edited[j][index] = change(edited[j][index])
    assert_bits_equal(carry.last_row("X", *edited), full_row(edited))
    assert carry.stats == {"carried": 0, "repeated": 0, "full": 2}


def test_zero_volume_sign_is_an_edit(goog: Ohlcv) -> None:
    """-0.0 == 0.0 as floats, but they are different bytes: never taken for the same bar."""
    history = [a.copy() for a in arrays(goog, 120)]
    history[4][50] = 0.0
    carry = PanelCarry()
    carry.last_row("X", *history)
    history[4][50] = -0.0
    assert_bits_equal(carry.last_row("X", *history), full_row(history))
    assert carry.stats["full"] == 2


def test_a_caller_mutating_its_buffer_is_detected(goog: Ohlcv) -> None:
    """The carry compares with its own copy, not with the caller's (possibly changed) buffer."""
    buffers = [a.copy() for a in arrays(goog, 400)]
    carry = PanelCarry()
    carry.last_row("X", *(b[:300] for b in buffers))
    buffers[3][100] = np.nextafter(buffers[3][100], 0.0)
    got = carry.last_row("X", *(b[:310] for b in buffers))
    assert_bits_equal(got, full_row([b[:310] for b in buffers]))
    assert carry.stats["full"] == 2


def test_keys_are_independent_and_another_history_under_a_key_is_recomputed(
    goog: Ohlcv, eurusd: Ohlcv
) -> None:
    carry = PanelCarry()
    for n in (200, 210):
        assert_bits_equal(carry.last_row("G", *arrays(goog, n)), full_row(arrays(goog, n)))
        assert_bits_equal(carry.last_row("E", *arrays(eurusd, n)), full_row(arrays(eurusd, n)))
    assert carry.stats == {"carried": 2, "repeated": 0, "full": 2}
    assert_bits_equal(carry.last_row("G", *arrays(eurusd, 220)), full_row(arrays(eurusd, 220)))
    assert carry.stats["full"] == 3


def test_benchmark_carried_and_switching_it_recomputes(goog: Ohlcv) -> None:
    bench = synthetic_benchmark(goog.close)
    carry = PanelCarry()
    for n in (300, 320, 321):
        got = carry.last_row("X", *arrays(goog, n), bench[:n])
        assert_bits_equal(got, full_row(arrays(goog, n), bench[:n]))
    assert_bits_equal(carry.last_row("X", *arrays(goog, 330)), full_row(arrays(goog, 330)))
    edited = bench[:340].copy()
    edited[5] *= 1.001
    assert_bits_equal(
        carry.last_row("X", *arrays(goog, 340), edited), full_row(arrays(goog, 340), edited)
    )
    assert carry.stats == {"carried": 2, "repeated": 0, "full": 3}


def test_another_spec_recomputes(goog: Ohlcv) -> None:
    spec = PanelSpec(moons=("sma", "rsi"))
    carry = PanelCarry()
    carry.last_row("X", *arrays(goog, 300))
    got = carry.last_row("X", *arrays(goog, 310), spec=spec)
    assert_bits_equal(got, full_row(arrays(goog, 310), spec=spec))
    assert carry.stats["full"] == 2


def test_a_bad_new_bar_raises_the_boundary_error_and_drops_the_state(goog: Ohlcv) -> None:
    carry = PanelCarry()
    carry.last_row("X", *arrays(goog, 300))
    bad = [a.copy() for a in arrays(goog, 305)]
    bad[1][302] = bad[3][302] * 0.5  # high below close
    with pytest.raises(ValueError) as carried_error:
        carry.last_row("X", *bad)
    with pytest.raises(ValueError) as full_error:
        Ohlcv(*bad)
    assert str(carried_error.value) == str(full_error.value)
    assert "high[302]" in str(carried_error.value) and len(carry) == 0
    assert_bits_equal(carry.last_row("X", *arrays(goog, 306)), full_row(arrays(goog, 306)))


@pytest.mark.parametrize("price", [np.nan, np.inf, 1e13, 0.0])
def test_an_out_of_range_new_price_raises_like_ohlcv(goog: Ohlcv, price: float) -> None:
    carry = PanelCarry()
    carry.last_row("X", *arrays(goog, 300))
    bad = [a.copy() for a in arrays(goog, 303)]
    for j in range(4):
        bad[j][301] = price
    with pytest.raises(ValueError, match=r"open\[301\]"):
        carry.last_row("X", *bad)


def test_plain_lists_and_empty_histories_take_the_full_pass(goog: Ohlcv) -> None:
    carry = PanelCarry()
    lists = [a.tolist() for a in arrays(goog, 100)]
    assert_bits_equal(carry.last_row("X", *lists), full_row(arrays(goog, 100)))
    assert len(carry) == 0
    with pytest.raises(ValueError, match="empty history"):
        carry.last_row("X", *(np.empty(0) for _ in FIELDS))


def test_a_long_history_is_streamed_not_carried(goog: Ohlcv) -> None:
    reps = LONG_HISTORY // len(goog) + 1
    long = [np.tile(a, reps) for a in arrays(goog, len(goog))]
    long = [a.copy() for a in long]
    # tiling breaks no bar rule; the jump at each seam is just a price move
    carry = PanelCarry()
    assert_bits_equal(carry.last_row("X", *long), full_row(long))
    assert len(carry) == 0


def test_memory_is_bounded_by_keys_and_bars(goog: Ohlcv) -> None:
    carry = PanelCarry(max_keys=2)
    for key in ("a", "b", "c"):
        carry.last_row(key, *arrays(goog, 100))
    assert len(carry) == 2
    carry.last_row("a", *arrays(goog, 101))  # "a" was evicted: a full pass
    assert carry.stats["full"] == 4
    small = PanelCarry(max_bars=900)
    for key in ("a", "b", "c"):
        small.last_row(key, *arrays(goog, 400))
    assert len(small) == 1  # each keeps 500 columns (400 bars + a quarter spare)
    with pytest.raises(ValueError, match="max_keys"):
        PanelCarry(max_keys=0)


def test_a_cache_hit_is_served_and_a_miss_is_carried(goog: Ohlcv) -> None:
    cache = MoonCache(LruBackend(8))
    last_panel_row(Ohlcv(*arrays(goog, 300)), DEFAULT_PANEL, None, cache)
    carry = PanelCarry()
    assert_bits_equal(
        carry.last_row("X", *arrays(goog, 300), cache=cache), full_row(arrays(goog, 300))
    )
    assert (cache.hits, cache.misses, len(carry)) == (1, 1, 0)  # a hit has no state to carry
    carry.last_row("X", *arrays(goog, 310), cache=cache)
    assert (cache.hits, cache.misses, len(carry)) == (1, 2, 1)
    got = carry.last_row("X", *arrays(goog, 311), cache=cache)
    assert (cache.hits, cache.misses) == (1, 2)  # carried: the cache is not consulted
    assert_bits_equal(got, full_row(arrays(goog, 311)))
    assert_bits_equal(
        last_panel_row(Ohlcv(*arrays(goog, 310)), DEFAULT_PANEL, None, cache),
        full_row(arrays(goog, 310)),
    )
    assert cache.hits == 2  # the full pass of 310 was cached


def test_concurrent_calls_on_one_key_all_equal_the_full_pass(goog: Ohlcv) -> None:
    carry = PanelCarry()
    stops = list(range(200, 260))
    want = {n: full_row(arrays(goog, n)) for n in stops}
    failures: list[str] = []

    def walk(offset: int) -> None:
        for n in stops[offset:] + stops[:offset]:
            got = carry.last_row("X", *arrays(goog, n))
            if np.array(list(got.values())).tobytes() != np.array(list(want[n].values())).tobytes():
                failures.append(f"{offset}/{n}")

    threads = [threading.Thread(target=walk, args=(k * 15,)) for k in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures
