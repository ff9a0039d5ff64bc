"""Per-moon numba drivers: feed a block of bars through one moon's step function.

``*_run(st, params..., inputs..., out)`` advances the state ``st`` (offset 0) over every
bar of the inputs and writes one output row per bar. Batch calls it once on fresh state
over the whole history; the incremental classes call it with one-bar inputs.
"""

from __future__ import annotations

from numba import njit

from moons._kernels_stats import (
    beta_step,
    dd_step,
    realized_vol_step,
    ret_z_step,
    sharpe_step,
    var_step,
    volume_z_step,
)
from moons._kernels_ta import atr_step, bb_step, ema_step, macd_step, rsi_step, sma_step


@njit(cache=True)
def sma_run(st, period, close, out):
    for t in range(close.shape[0]):
        out[t] = sma_step(st, 0, period, close[t])


@njit(cache=True)
def ema_run(st, period, k, close, out):
    for t in range(close.shape[0]):
        out[t] = ema_step(st, 0, period, k, close[t])


@njit(cache=True)
def rsi_run(st, period, close, out):
    for t in range(close.shape[0]):
        out[t] = rsi_step(st, 0, period, close[t])


@njit(cache=True)
def macd_run(st, fast, slow, signal, kf, ks, kg, close, out):
    for t in range(close.shape[0]):
        macd_step(st, 0, fast, slow, signal, kf, ks, kg, close[t], out[t], 0)


@njit(cache=True)
def bb_run(st, period, nbdev, close, out):
    for t in range(close.shape[0]):
        bb_step(st, 0, period, nbdev, close[t], out[t], 0)


@njit(cache=True)
def atr_run(st, period, high, low, close, out):
    for t in range(close.shape[0]):
        out[t] = atr_step(st, 0, period, high[t], low[t], close[t])


@njit(cache=True)
def realized_vol_run(st, window, sqrt_ppy, close, out):
    for t in range(close.shape[0]):
        out[t] = realized_vol_step(st, 0, window, sqrt_ppy, close[t])


@njit(cache=True)
def ret_z_run(st, window, close, out):
    for t in range(close.shape[0]):
        out[t] = ret_z_step(st, 0, window, close[t])


@njit(cache=True)
def sharpe_run(st, window, sqrt_ppy, close, out):
    for t in range(close.shape[0]):
        out[t] = sharpe_step(st, 0, window, sqrt_ppy, close[t])


@njit(cache=True)
def volume_z_run(st, window, volume, out):
    for t in range(volume.shape[0]):
        out[t] = volume_z_step(st, 0, window, volume[t])


@njit(cache=True)
def dd_run(st, window, close, out):
    for t in range(close.shape[0]):
        out[t] = dd_step(st, 0, window, close[t])


@njit(cache=True)
def var_run(st, window, k95, k99, close, out):
    for t in range(close.shape[0]):
        var_step(st, 0, window, k95, k99, close[t], out[t], 0)


@njit(cache=True)
def beta_run(st, window, close, bench, out):
    for t in range(close.shape[0]):
        beta_step(st, 0, window, close[t], bench[t], out[t], 0)
