"""Every moon against TA-Lib (where TA-Lib defines it) or an independent pandas/numpy formula."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import talib
from _helpers import assert_close, synthetic_benchmark
from hypothesis import given, settings
from hypothesis import strategies as st

from moons import DEFAULT_PANEL, batch_panel
from moons import batch as B


def test_sma_ema_rsi_match_talib(market):
    c = market.close
    for p in (2, 5, 20, 50):
        assert_close(B.sma(c, p), talib.SMA(c, p), name=f"sma{p}")
        assert_close(B.ema(c, p), talib.EMA(c, p), name=f"ema{p}")
        assert_close(B.rsi(c, p), talib.RSI(c, p), name=f"rsi{p}")


def test_macd_matches_talib(market):
    c = market.close
    for fast, slow, sig in ((12, 26, 9), (5, 35, 5), (3, 10, 16)):
        ours = B.macd(c, fast, slow, sig)
        ref = talib.MACD(c, fast, slow, sig)
        assert np.isnan(ours[0][: slow + sig - 2]).all() and not np.isnan(ours[0][slow + sig - 2])
        for o, r, n in zip(ours, ref, ("macd", "signal", "hist"), strict=True):
            assert_close(o, r, rtol=1e-9, atol=1e-12 * np.nanmax(np.abs(r)), name=n)


def test_bollinger_matches_talib(market):
    c = market.close
    for p, k in ((20, 2.0), (10, 1.0), (30, 2.5)):
        mid, up, lo, pctb = B.bollinger(c, p, k)
        ref_up, ref_mid, ref_lo = talib.BBANDS(c, p, k, k, 0)
        assert_close(mid, ref_mid, name="mid")
        assert_close(up, ref_up, name="upper")
        assert_close(lo, ref_lo, name="lower")
        assert_close(pctb, (c - ref_lo) / (ref_up - ref_lo), rtol=1e-6, atol=1e-9, name="pctb")


def test_atr_matches_talib(market):
    for p in (2, 14, 30):
        assert_close(B.atr(market.high, market.low, market.close, p),
                     talib.ATR(market.high, market.low, market.close, p), name=f"atr{p}")  # fmt: skip


def test_beta_matches_talib_and_correlation_matches_talib_on_returns(market):
    c = market.close
    bench = synthetic_benchmark(c)
    beta, corr = B.beta_corr(c, bench, 60)
    assert_close(beta, talib.BETA(bench, c, 60), rtol=1e-9, atol=1e-12, name="beta")
    ra, rb = c[1:] / c[:-1] - 1.0, bench[1:] / bench[:-1] - 1.0
    ref_corr = np.concatenate([[np.nan], talib.CORREL(rb, ra, 60)])
    assert_close(corr, ref_corr, rtol=1e-9, atol=1e-12, name="corr")
    sa, sb = pd.Series(ra), pd.Series(rb)
    ref_beta = sa.rolling(60).cov(sb) / sb.rolling(60).var()
    assert_close(beta[1:], ref_beta, rtol=1e-9, atol=1e-12, name="beta-pandas")


def test_rolling_return_stats_match_pandas(market):
    c = pd.Series(market.close)
    logr = np.log(c).diff()
    ref_vol = logr.rolling(20).std() * math.sqrt(252)
    assert_close(B.realized_vol(market.close, 20, 252), ref_vol, name="vol")
    r = c.pct_change()
    ref_z = (r - r.rolling(20).mean()) / r.rolling(20).std()
    assert_close(B.ret_z(market.close, 20), ref_z, rtol=1e-9, atol=1e-9, name="ret_z")
    ref_sh = r.rolling(60).mean() / r.rolling(60).std() * math.sqrt(252)
    assert_close(B.sharpe(market.close, 60, 252), ref_sh, rtol=1e-9, atol=1e-9, name="sharpe")
    v = pd.Series(market.volume)
    ref_vz = (v - v.rolling(20).mean()) / v.rolling(20).std()
    assert_close(B.volume_z(market.volume, 20), ref_vz, rtol=1e-9, atol=1e-9, name="vol_z")


def test_max_drawdown_matches_brute_force(market):
    c = market.close
    for w in (2, 7, 60):
        ref = np.full(c.shape[0], np.nan)
        for t in range(w - 1, c.shape[0]):
            win = c[t - w + 1 : t + 1]
            ref[t] = np.max(1.0 - win / np.maximum.accumulate(win))
        assert_close(B.max_drawdown(c, w), ref, rtol=1e-12, name=f"dd{w}")


def test_var_cvar_match_numpy_inverted_cdf(market):
    c = market.close[:1200]
    r = c[1:] / c[:-1] - 1.0
    for w in (100, 250, 37):
        ours = B.var_cvar(c, w)
        ref = np.full((4, c.shape[0]), np.nan)
        for t in range(w, c.shape[0]):
            win = r[t - w : t]
            srt = np.sort(win)
            for j, level in enumerate((0.05, 0.01)):
                k = math.ceil(round(w * level, 9))
                ref[2 * j, t] = -np.quantile(win, level, method="inverted_cdf")
                ref[2 * j + 1, t] = -srt[:k].mean()
        for j, name in enumerate(("var95", "cvar95", "var99", "cvar99")):
            assert_close(ours[j], ref[j], rtol=1e-12, atol=1e-15, name=f"{name}/{w}")


def test_panel_columns_equal_per_moon_batch(goog):
    bench = synthetic_benchmark(goog.close)
    panel = batch_panel(goog, DEFAULT_PANEL, bench, cache=None)
    s = DEFAULT_PANEL
    np.testing.assert_array_equal(panel["rsi"], B.rsi(goog.close, s.rsi_period))
    np.testing.assert_array_equal(panel["bb_pctb"], B.bollinger(goog.close, s.bb_period)[3])
    np.testing.assert_array_equal(panel["var99"], B.var_cvar(goog.close, s.var_window)[2])
    np.testing.assert_array_equal(panel["beta"], B.beta_corr(goog.close, bench, s.beta_window)[0])
    np.testing.assert_array_equal(panel["volume_z"], B.volume_z(goog.volume, s.volume_z_window))
    np.testing.assert_array_equal(panel["atr"], B.atr(goog.high, goog.low, goog.close, 14))


@settings(max_examples=60, deadline=None)
@given(
    steps=st.lists(st.sampled_from([-0.02, -0.01, 0.0, 0.0, 0.01, 0.03]), min_size=2, max_size=400),
    w=st.integers(min_value=2, max_value=45),
)
def test_var_cvar_with_ties_and_any_window_match_a_full_sort(steps: list[float], w: int) -> None:
    """The buffered tail (removals, inserts, drift, re-selection) against sorting each window;
    few distinct returns make ties the rule, not the exception."""
    c = 100.0 * np.cumprod(1.0 + np.asarray(steps))
    r = c[1:] / c[:-1] - 1.0
    ours = B.var_cvar(c, w)
    k95, k99 = math.ceil(round(w * 0.05, 9)), math.ceil(round(w * 0.01, 9))
    for t in range(w, c.shape[0]):
        srt = np.sort(r[t - w : t])
        expected = (-srt[k95 - 1], -srt[:k95].mean(), -srt[k99 - 1], -srt[:k99].mean())
        for j, value in enumerate(expected):
            assert math.isclose(ours[j][t], value, rel_tol=1e-12, abs_tol=1e-15), (w, t, j)
    assert np.isnan(np.asarray(ours)[:, :w]).all()
