"""Edge cases: no losses, flat prices, gaps, order-book imbalance errors."""

from __future__ import annotations

import numpy as np
import pytest
import talib
from _helpers import assert_close

from moons import Ohlcv, batch_panel, order_book_imbalance
from moons import batch as B


def test_rsi_is_100_without_losses_like_talib():
    c = np.linspace(10.0, 20.0, 40)
    ours = B.rsi(c, 14)
    assert_close(ours, talib.RSI(c, 14))
    assert (ours[14:] == 100.0).all()


def test_flat_prices():
    c = np.full(300, 42.0)
    panel = batch_panel(Ohlcv(c, c, c, c, np.full(300, 5.0)), benchmark_close=c * 2, cache=None)
    assert (panel["rsi"][14:] == 0.0).all()  # TA-Lib: no movement at all -> 0
    assert_close(panel["rsi"], talib.RSI(c, 14))
    up, mid, lo = talib.BBANDS(c, 20, 2.0, 2.0, 0)
    assert_close(panel["bb_upper"], up)
    assert_close(panel["bb_lower"], lo)
    assert (panel["bb_upper"][19:] == panel["bb_lower"][19:]).all()
    assert np.isnan(panel["bb_pctb"]).all()  # zero band width -> undefined %b
    assert (panel["atr"][14:] == 0.0).all()
    assert (panel["realized_vol"][20:] == 0.0).all()  # zero volatility is well defined
    assert np.isnan(panel["ret_z"]).all() and np.isnan(panel["sharpe"]).all()  # std 0 -> NaN
    assert np.isnan(panel["volume_z"]).all()
    assert (panel["max_drawdown"][59:] == 0.0).all()
    assert (panel["var95"][250:] == 0.0).all() and (panel["cvar99"][250:] == 0.0).all()
    assert np.isnan(panel["beta"]).all() and np.isnan(panel["correlation"]).all()


def test_flat_window_after_moves_is_exactly_zero_variance():
    c = np.concatenate([np.linspace(10, 12, 50) ** 1.3, np.full(40, 7.0)])
    vol = B.realized_vol(c, 20)
    assert vol[-1] == 0.0 and vol[49] > 0.0
    assert np.isnan(B.ret_z(c, 20)[-1])


def test_price_gap_is_handled_like_talib(goog):
    c = goog.close[:200].copy()
    c[100:] *= 1.35  # a 35% overnight gap
    h = np.maximum(goog.high[:200] * (c / goog.close[:200]), c)
    lo = np.minimum(goog.low[:200] * (c / goog.close[:200]), c)
    assert_close(B.atr(h, lo, c, 14), talib.ATR(h, lo, c, 14))
    assert_close(B.rsi(c, 14), talib.RSI(c, 14))
    dd = B.max_drawdown(c[::-1].copy(), 60)  # the gap as a crash
    assert np.nanmax(dd) >= 1 - 1 / 1.35 - 1e-12


def test_order_book_imbalance():
    assert order_book_imbalance([3, 1], [1, 1]) == pytest.approx(1 / 3)
    assert order_book_imbalance([0.0], [5.0]) == -1.0
    assert order_book_imbalance(2.0, 2.0) == 0.0
    for bids, asks in (([-1, 2], [1]), ([np.nan], [1]), ([1], [np.inf]), ([], []), ([0], [0])):
        with pytest.raises(ValueError):
            order_book_imbalance(bids, asks)


def test_invalid_parameters_and_inputs():
    c = np.linspace(1, 2, 30)
    with pytest.raises(ValueError):
        B.sma(c, 1)
    with pytest.raises(ValueError):
        B.macd(c, 26, 12)
    with pytest.raises(ValueError):
        B.rsi(np.array([1.0, -1.0, 2.0]))
    with pytest.raises(ValueError):
        B.volume_z(np.array([1.0, np.nan]))
