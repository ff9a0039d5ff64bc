"""Robustness at the moons boundary: OHLC rules as bus.BarSeries, value ranges, shapes, spikes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from _helpers import synthetic_benchmark
from hypothesis import given, settings
from hypothesis import strategies as st

from bus import BarSeries, DataValidationError
from moons import (
    DEFAULT_PANEL,
    PRICE_MAX,
    PRICE_MIN,
    REGISTRY,
    VOLUME_MAX,
    Ohlcv,
    StreamingPanel,
    batch,
    incremental,
)
from moons._types import as_price_array, check_value

PRICES = ("open", "high", "low", "close")


def _bus_accepts(o: list[float], h: list[float], lo: list[float], c: list[float]) -> bool:
    stamps = pd.date_range("2024-01-01", periods=len(o), freq="D")
    try:
        BarSeries(instrument="X", timestamps=stamps, open=o, high=h, low=lo, close=c,
                  volume=[1.0] * len(o))  # fmt: skip
    except DataValidationError:
        return False
    return True


def _ohlcv_accepts(o, h, lo, c) -> bool:
    try:
        Ohlcv(o, h, lo, c, np.ones(len(o)))
    except ValueError:
        return False
    return True


def _panel_accepts(o, h, lo, c) -> bool:
    """Every bar fed to its own instrument in one update; no state change on rejection."""
    panel = StreamingPanel(len(o))
    before = panel._states.copy()
    try:
        panel.update(o, h, lo, c, np.ones(len(o)))
    except ValueError:
        np.testing.assert_array_equal(panel._states, before)
        return False
    return True


CASES = {
    "valid": (10.0, 12.0, 9.0, 11.0),
    "all equal": (10.0, 10.0, 10.0, 10.0),
    "high below low": (10.0, 9.0, 11.0, 10.0),
    "high below open": (10.0, 9.5, 9.0, 9.2),
    "high below close": (10.0, 10.5, 9.0, 11.0),
    "low above open": (10.0, 12.0, 10.5, 11.0),
    "low above close": (11.0, 12.0, 10.5, 10.0),
}


@pytest.mark.parametrize("bar", CASES.values(), ids=CASES.keys())
def test_moons_and_bus_reject_the_same_bars(bar):
    o, h, lo, c = ([x] for x in bar)
    expected = _bus_accepts(o, h, lo, c)
    assert expected == (bar[0] <= bar[1] and bar[3] <= bar[1] and bar[2] <= min(bar[0], bar[3]))
    arrays = [np.array(x) for x in (o, h, lo, c)]
    assert _ohlcv_accepts(*arrays) == expected
    assert _panel_accepts(*arrays) == expected


price = st.sampled_from([1.0, 2.0, 2.5, 3.0, 4.0])  # few values: ties and violations are common


@settings(max_examples=150, deadline=None)
@given(bars=st.lists(st.tuples(price, price, price, price), min_size=1, max_size=6))
def test_ohlc_rules_property_bus_ohlcv_and_panel_agree(bars):
    o, h, lo, c = (list(x) for x in zip(*bars, strict=True))
    expected = _bus_accepts(o, h, lo, c)
    arrays = [np.array(x) for x in (o, h, lo, c)]
    assert _ohlcv_accepts(*arrays) == expected
    assert _panel_accepts(*arrays) == expected


def test_ohlcv_error_names_field_and_index():
    good = np.full(4, 10.0)
    high = good.copy()
    high[2] = 5.0  # below open and close
    with pytest.raises(ValueError, match=r"high\[2\] = 5.0 is below max\(open, close\)"):
        Ohlcv(good, high, np.full(4, 9.0), good, good)
    low = np.full(4, 9.0)
    low[3] = 10.5
    with pytest.raises(ValueError, match=r"low\[3\] = 10.5 is above min\(open, close\)"):
        Ohlcv(good, np.full(4, 11.0), low, good, good)


def test_atr_paths_apply_the_rules_they_can_see():
    """Without an open, high >= close >= low is what the BarSeries rules leave."""
    c = np.full(5, 10.0)
    with pytest.raises(ValueError, match=r"high\[1\] = 9.0 is below close"):
        batch.atr(np.array([11, 9, 11, 11, 11.0]), c - 1, c)
    with pytest.raises(ValueError, match=r"low\[4\] = 10.5 is above close"):
        batch.atr(c + 1, np.array([9, 9, 9, 9, 10.5]), c)
    inc = incremental.Atr(3)
    with pytest.raises(ValueError, match="high = 9.0 is below close"):
        inc.update(9.0, 8.0, 10.0)
    inc.update(11.0, 9.0, 10.0)  # a valid bar is still accepted after a rejection


@settings(max_examples=200, deadline=None)
@given(
    value=st.one_of(
        st.floats(allow_nan=True, allow_infinity=True),
        st.sampled_from([0.0, -0.0, PRICE_MIN, PRICE_MAX, VOLUME_MAX, 1e300, -1.0]),
    ),
    name=st.sampled_from(["open", "high", "low", "close", "volume", "benchmark_close"]),
    index=st.integers(min_value=0, max_value=4),
)
def test_value_range_property(value, name, index):
    """A value is accepted iff it is in its field's documented range; errors name field+index."""
    low, high = (0.0, VOLUME_MAX) if name == "volume" else (PRICE_MIN, PRICE_MAX)
    ok = low <= value <= high
    arr = np.full(5, 1.0)
    arr[index] = value
    if ok:
        assert as_price_array(arr, name)[index] == value
        assert check_value(value, name) == value
        return
    with pytest.raises(ValueError, match=rf"^{name}\[{index}\] = "):
        as_price_array(arr, name)
    with pytest.raises(ValueError, match=rf"^{name} = "):
        check_value(value, name)


def test_huge_values_are_rejected_on_every_path(goog):
    close = goog.close[:60].copy()
    close[41] = 1e300
    with pytest.raises(ValueError, match=r"close\[41\] = 1e\+300"):
        batch.sma(close, 20)
    with pytest.raises(ValueError, match=r"close\[41\]"):
        Ohlcv(
            goog.open[:60],
            goog.high[:60],
            goog.low[:60],
            close,
            goog.volume[:60],
        )
    with pytest.raises(ValueError, match="close = 1e\\+300"):
        incremental.Sma(20).update(1e300)
    with pytest.raises(ValueError, match=r"volume\[0\] = 1e\+19"):
        batch.volume_z(np.array([1e19, 1.0, 2.0]), 2)
    panel = StreamingPanel(3)
    bar = np.full(3, 100.0)
    with pytest.raises(ValueError, match=r"instrument 2: close = 1e\+300 .*\[1e-12, 1e\+12\]"):
        panel.update(bar, bar, bar, np.array([100.0, 100.0, 1e300]), bar)
    with pytest.raises(ValueError, match="instrument 1: volume"):
        panel.update(bar, bar, bar, bar, np.array([1.0, 1e19, 1.0]))


def test_streaming_shape_errors_name_the_instrument():
    panel = StreamingPanel(4)
    ok = np.full(4, 10.0)
    with pytest.raises(ValueError, match=r"close: shape \(3,\) != \(4,\).*instrument 3"):
        panel.update(ok, ok, ok, ok[:3], ok)
    with pytest.raises(ValueError, match=r"volume: shape \(5,\) != \(4,\).*index 4 .*\(3\)"):
        panel.update(ok, ok, ok, ok, np.ones(5))
    with pytest.raises(ValueError, match=r"open: shape \(4, 1\) != \(4,\)"):
        panel.update(ok[:, None], ok, ok, ok, ok)
    with pytest.raises(ValueError, match=r"high: shape \(1,\) != \(4,\).*instrument 1"):
        panel.update(ok, [10.0], ok, ok, ok)  # one price is not broadcast to every instrument
    out = panel.update(ok, ok, ok, ok, ok, benchmark_close=20.0)  # a shared benchmark is
    assert out.shape == (4, len(DEFAULT_PANEL.columns))


WINDOWED = [d for d in REGISTRY if d.windowed]


def _columns(res) -> np.ndarray:
    return np.column_stack(res) if isinstance(res, tuple) else res[:, None]


@pytest.mark.parametrize("moon", WINDOWED, ids=[d.name for d in WINDOWED])
def test_a_spike_does_not_corrupt_later_values(moon, goog):
    """One bar at the largest accepted values; 50 bars after it has left, every value equals
    a clean recompute of its own window."""
    n, at = 800, 100
    fields = {f: getattr(goog, f)[-n:].copy() for f in ("open", "high", "low", "close",
                                                        "volume")}  # fmt: skip
    fields["benchmark_close"] = synthetic_benchmark(fields["close"])
    for f in PRICES:
        fields[f][at] = PRICE_MAX
    fields["benchmark_close"][at + 5] = PRICE_MAX  # apart: both return rings get a spike
    fields["volume"][at] = VOLUME_MAX
    kwargs = moon.kwargs(DEFAULT_PANEL)
    full = _columns(moon.batch(*(fields[f] for f in moon.inputs), **kwargs))
    span = moon.warmup(DEFAULT_PANEL) + 1  # bars that determine one value
    for t in range(at + span + 50, n, 7):
        fresh = moon.batch(*(fields[f][t + 1 - span : t + 1] for f in moon.inputs), **kwargs)
        np.testing.assert_allclose(full[t], _columns(fresh)[-1], rtol=1e-11, atol=0,
                                   err_msg=f"{moon.name} at bar {t}")  # fmt: skip


def test_the_reported_sma_case_is_fixed():
    """The hostile report: one 1e300 bar turned SMA 313 into 39 fifty bars later."""
    close = 313.0 + np.sin(np.arange(120.0)) / 7  # not integers: their sums would be exact
    close[30] = 1e300
    with pytest.raises(ValueError):
        batch.sma(close, 20)
    close[30] = PRICE_MAX
    assert batch.sma(close, 20)[80] == pytest.approx(close[61:81].mean(), rel=1e-13)
