"""The fused panel: batch, streaming and warp agree; warm-up, shapes and input errors."""

from __future__ import annotations

import numpy as np
import pytest
from _helpers import synthetic_benchmark

import moons
from bus import BarSeries
from moons import (
    DEFAULT_PANEL,
    MOONS,
    Ohlcv,
    PanelSpec,
    StreamingPanel,
    batch_panel,
    column_warmup,
    last_panel_row,
    panel_columns,
)

EXPECTED_COLUMNS = (
    "sma", "ema", "rsi", "macd", "macd_signal", "macd_hist", "bb_mid", "bb_upper", "bb_lower",
    "bb_pctb", "atr", "realized_vol", "ret_z", "max_drawdown", "var95", "cvar95", "var99",
    "cvar99", "sharpe", "beta", "correlation", "volume_z",
)  # fmt: skip


def _instruments(base: Ohlcv, n: int, length: int) -> list[Ohlcv]:
    rng = np.random.default_rng(1)
    out = []
    for i in range(n):
        scale = np.exp(np.cumsum(0.002 * rng.standard_normal(length)))
        s = slice(i * 3, i * 3 + length)
        out.append(Ohlcv(base.open[s] * scale, base.high[s] * scale, base.low[s] * scale,
                         base.close[s] * scale, base.volume[s] * (1 + i)))  # fmt: skip
    return out


def test_public_api_and_columns():
    assert panel_columns(DEFAULT_PANEL) == EXPECTED_COLUMNS
    assert DEFAULT_PANEL.columns == EXPECTED_COLUMNS == DEFAULT_PANEL.columns()
    assert StreamingPanel(2).columns == EXPECTED_COLUMNS
    assert hash(PanelSpec()) == hash(DEFAULT_PANEL)
    assert set(column_warmup(DEFAULT_PANEL)) == set(EXPECTED_COLUMNS)
    for name in moons.__all__:
        assert hasattr(moons, name)
    with pytest.raises(ValueError):
        PanelSpec(macd_fast=30)
    with pytest.raises(ValueError):
        PanelSpec(rsi_period=1)


def test_batch_panel_warmup_lengths_and_read_only(goog):
    bench = synthetic_benchmark(goog.close)
    panel = batch_panel(goog, benchmark_close=bench, cache=None)
    warm = column_warmup(DEFAULT_PANEL)
    for col in EXPECTED_COLUMNS:
        arr = panel[col]
        assert arr.shape == (len(goog),) and not arr.flags.writeable
        assert np.isnan(arr[: warm[col]]).all(), col
        assert np.isfinite(arr[warm[col]]), col
    no_bench = batch_panel(goog, cache=None)
    assert np.isnan(no_bench["beta"]).all() and np.isnan(no_bench["correlation"]).all()
    row = last_panel_row(goog, benchmark_close=bench, cache=None)
    assert list(row) == list(EXPECTED_COLUMNS)
    assert row["rsi"] == panel["rsi"][-1]


def test_short_history_all_nan(goog):
    for n in (0, 1, 5):
        panel = batch_panel(goog.tail(n) if n else Ohlcv(*(np.empty(0),) * 5), cache=None)
        for col in EXPECTED_COLUMNS:
            assert panel[col].shape == (n,) and np.isnan(panel[col]).all()
    for name, moon in MOONS.items():
        x = goog.close[:3]
        args = {"atr": (x, x, x), "beta_corr": (x, x)}.get(name, (x,))
        res = moon.batch(*args, **moon.kwargs(DEFAULT_PANEL))
        for arr in res if isinstance(res, tuple) else (res,):
            assert arr.shape == (3,) and np.isnan(arr).all(), name
    with pytest.raises(ValueError):
        last_panel_row(Ohlcv(*(np.empty(0),) * 5))


@pytest.mark.parametrize("parallel", [False, True])
@pytest.mark.parametrize("with_bench", [False, True])
def test_warp_equals_per_instrument_batch(goog, with_bench, parallel):
    n, length = 7, 400
    insts = _instruments(goog, n, length)
    bench = synthetic_benchmark(goog.close)[:length] if with_bench else None
    panel = StreamingPanel(n, parallel=parallel)
    rows = []
    for t in range(length):
        bar = [np.array([getattr(x, f)[t] for x in insts]) for f in
               ("open", "high", "low", "close", "volume")]  # fmt: skip
        rows.append(panel.update(*bar, benchmark_close=None if bench is None else bench[t]))
    got = np.stack(rows)  # (time, instrument, column)
    for i, inst in enumerate(insts):
        ref = batch_panel(inst, benchmark_close=bench, cache=None)
        for j, col in enumerate(EXPECTED_COLUMNS):
            np.testing.assert_array_equal(got[:, i, j], ref[col], err_msg=f"{i}/{col}")


def test_warmup_from_then_update(goog):
    insts = _instruments(goog, 3, 300)
    head = [x.tail(300)[:0] if False else Ohlcv(*(getattr(x, f)[:-1] for f in
            ("open", "high", "low", "close", "volume"))) for x in insts]  # fmt: skip
    panel = StreamingPanel(3)
    last = panel.warmup_from(head)
    out = panel.update(*[np.array([getattr(x, f)[-1] for x in insts]) for f in
                         ("open", "high", "low", "close", "volume")])  # fmt: skip
    for i, inst in enumerate(insts):
        ref = batch_panel(inst, cache=None)
        prev = batch_panel(head[i], cache=None)
        np.testing.assert_array_equal(out[i], [ref[c][-1] for c in EXPECTED_COLUMNS])
        np.testing.assert_array_equal(last[i], [prev[c][-1] for c in EXPECTED_COLUMNS])


def test_streaming_rejects_bad_input_without_touching_state(goog):
    panel = StreamingPanel(2)
    c = goog.close
    panel.update([c[0]] * 2, [c[0]] * 2, [c[0]] * 2, [c[0]] * 2, [1.0, 1.0])
    before = panel._states.copy()
    with pytest.raises(ValueError, match="instrument 1: close"):
        panel.update([c[1]] * 2, [c[1]] * 2, [c[1]] * 2, [c[1], np.nan], [1.0, 1.0])
    with pytest.raises(ValueError, match="instrument 0: volume"):
        panel.update([c[1]] * 2, [c[1]] * 2, [c[1]] * 2, [c[1]] * 2, [-1.0, 1.0])
    with pytest.raises(ValueError, match="shape"):
        panel.update([c[1]] * 3, [c[1]] * 2, [c[1]] * 2, [c[1]] * 2, [1.0, 1.0])
    np.testing.assert_array_equal(panel._states, before)


def test_ohlcv_validation():
    good = np.ones(3)
    with pytest.raises(ValueError, match="close"):
        Ohlcv(good, good, good, np.array([1.0, np.inf, 1.0]), good)
    with pytest.raises(ValueError, match="length"):
        Ohlcv(good, good, good, good, np.ones(4))
    with pytest.raises(ValueError, match="open"):
        Ohlcv(np.array([1.0, 0.0, 1.0]), good, good, good, good)
    src = np.ones(3)
    Ohlcv(src, src, src, src, src)
    assert src.flags.writeable  # the caller's arrays are not frozen


def test_a_long_history_streams_to_the_same_last_row(goog_ohlcv_for_long: Ohlcv) -> None:
    """Past LONG_HISTORY bars the last row is computed chunk by chunk: same values, flat memory."""
    from moons._panel import LONG_HISTORY

    assert len(goog_ohlcv_for_long) > LONG_HISTORY
    streamed = last_panel_row(goog_ohlcv_for_long, cache=None)
    whole = {k: float(v[-1]) for k, v in batch_panel(goog_ohlcv_for_long, cache=None).items()}
    assert streamed.keys() == whole.keys()
    for name, value in whole.items():
        assert streamed[name] == value or (np.isnan(value) and np.isnan(streamed[name])), name


@pytest.fixture(scope="module")
def goog_ohlcv_for_long(goog: BarSeries) -> Ohlcv:
    reps = 50  # 2,148 bars x 50 > LONG_HISTORY
    return Ohlcv(
        *(np.tile(a, reps) for a in (goog.open, goog.high, goog.low, goog.close, goog.volume))
    )
