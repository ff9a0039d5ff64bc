"""The contract every registered moon keeps, one test id per moon (and data set).

batch == incremental == streaming panel on the bundled GOOG and EURUSD data, reset,
warm-up NaN, no look-ahead, and edge cases (constant prices, zero volume, length 0/1,
shorter than the window). A moon added to the registry is covered without an edit here.
"""

from __future__ import annotations

import numpy as np
import pytest
from _helpers import synthetic_benchmark

from moons import DEFAULT_PANEL, REGISTRY, MoonDef, Ohlcv, PanelSpec, StreamingPanel

MOON_IDS = [d.name for d in REGISTRY]
moon_param = pytest.mark.parametrize("moon", REGISTRY, ids=MOON_IDS)
SMALL = PanelSpec(
    sma_period=5, ema_period=5, rsi_period=5, macd_fast=3, macd_slow=6, macd_signal=3,
    bb_period=5, atr_period=5, vol_window=5, ret_z_window=5, dd_window=5, var_window=12,
    sharpe_window=5, beta_window=5, volume_z_window=5,
)  # fmt: skip


def _fields(data: Ohlcv, bench: np.ndarray) -> dict[str, np.ndarray]:
    return {"open": data.open, "high": data.high, "low": data.low, "close": data.close,
            "volume": data.volume, "benchmark_close": bench}  # fmt: skip


def _batch(moon: MoonDef, fields: dict[str, np.ndarray], spec: PanelSpec = DEFAULT_PANEL):
    """(bars, columns) batch output of ``moon`` on ``fields``."""
    res = moon.batch(*(fields[n] for n in moon.inputs), **moon.kwargs(spec))
    return np.column_stack(res) if isinstance(res, tuple) else res[:, None]


def _incremental(moon: MoonDef, fields: dict[str, np.ndarray], spec: PanelSpec = DEFAULT_PANEL):
    inc = moon.incremental(**moon.kwargs(spec))
    rows = [
        np.atleast_1d(inc.update(*bar))
        for bar in zip(*(fields[n] for n in moon.inputs), strict=True)
    ]
    return np.array(rows).reshape(-1, len(moon.columns))


@pytest.fixture(scope="module")
def streamed(market: Ohlcv) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The market's fields and its streaming-panel output (bars, columns), bar by bar."""
    fields = _fields(market, synthetic_benchmark(market.close))
    panel = StreamingPanel(1)
    rows = [panel.update(*(fields[n][t : t + 1] for n in ("open", "high", "low", "close",
                                                          "volume", "benchmark_close")))[0]
            for t in range(len(market))]  # fmt: skip
    return fields, np.array(rows)


@moon_param
def test_batch_incremental_and_warp_agree_on_real_data(moon, streamed):
    fields, panel = streamed
    ref = _batch(moon, fields)
    np.testing.assert_array_equal(_incremental(moon, fields), ref)
    cols = [list(DEFAULT_PANEL.columns).index(c) for c in moon.columns]
    np.testing.assert_array_equal(panel[:, cols], ref)


@moon_param
def test_reset_starts_over(moon, goog):
    fields = _fields(goog, synthetic_benchmark(goog.close))
    inc = moon.incremental(**moon.kwargs(SMALL))
    bars = list(zip(*(fields[n][:40] for n in moon.inputs), strict=True))
    first = [inc.update(*bar) for bar in bars]
    inc.reset()
    again = [inc.update(*bar) for bar in bars]
    np.testing.assert_array_equal(np.array(first, dtype=float), np.array(again, dtype=float))
    assert np.isfinite(np.array(first[-1], dtype=float)).any()


@moon_param
def test_warmup_is_nan_then_values(moon, market):
    fields = _fields(market, synthetic_benchmark(market.close))
    out = _batch(moon, fields)
    warm = moon.warmup(DEFAULT_PANEL)
    assert np.isnan(out[:warm]).all()
    assert np.isfinite(out[warm]).all()


@moon_param
def test_no_look_ahead(moon, goog):
    """Values up to bar t are the same whether later bars are missing, or changed."""
    fields = _fields(goog.tail(400), synthetic_benchmark(goog.close)[-400:])
    full = _batch(moon, fields, SMALL)
    t = 300
    prefix = _batch(moon, {k: v[: t + 1] for k, v in fields.items()}, SMALL)
    np.testing.assert_array_equal(prefix, full[: t + 1])
    rng = np.random.default_rng(0)
    factor = np.concatenate([np.ones(t + 1), rng.uniform(0.5, 2.0, 400 - t - 1)])
    changed = {k: v * factor for k, v in fields.items()}
    altered = _batch(moon, changed, SMALL)
    np.testing.assert_array_equal(altered[: t + 1], full[: t + 1])
    assert not np.array_equal(altered[t + 1 :], full[t + 1 :], equal_nan=True)


def _flat(n: int, price: float = 42.0, volume: float = 0.0) -> dict[str, np.ndarray]:
    c = np.full(n, price)
    return {"open": c, "high": c, "low": c, "close": c, "volume": np.full(n, volume),
            "benchmark_close": c * 2}  # fmt: skip


@moon_param
def test_constant_prices_and_zero_volume(moon):
    out = _batch(moon, _flat(300), SMALL)
    assert not np.isinf(out).any()
    warm = moon.warmup(SMALL)
    assert np.isnan(out[:warm]).all()
    tail = out[warm:]
    assert (np.isnan(tail) | (tail == tail[-1])).all(), "a flat market gives a constant value"
    np.testing.assert_array_equal(_incremental(moon, _flat(300), SMALL), out)


@moon_param
@pytest.mark.parametrize("n", [0, 1, 2])
def test_shorter_than_the_window_is_all_nan(moon, n):
    out = _batch(moon, _flat(n, volume=3.0))
    assert out.shape == (n, len(moon.columns))
    assert np.isnan(out).all()
    np.testing.assert_array_equal(_incremental(moon, _flat(n, volume=3.0)), out)


@moon_param
def test_exactly_the_warmup_plus_one_bar_gives_one_value(moon, goog):
    fields = _fields(goog, synthetic_benchmark(goog.close))
    n = moon.warmup(DEFAULT_PANEL) + 1
    out = _batch(moon, {k: v[:n] for k, v in fields.items()})
    assert np.isnan(out[:-1]).all() and np.isfinite(out[-1]).all()
