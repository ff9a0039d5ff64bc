"""The fused panel kernels: every moon for one bar of one or many instruments.

``panel_layout(spec)`` packs the parameters and state offsets into two small arrays; the
state of one instrument is one float64 row of length ``state_len`` (all zeros = fresh).
``panel_step`` runs all moons for one bar; ``panel_warp`` loops it over instruments inside
numba (one call per streaming update); ``panel_run`` loops it over the bars of one history
(batch). Because all three share ``panel_step``, batch, streaming and warp are identical.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from moons._kernels_stats import (
    beta_size,
    beta_step,
    dd_size,
    dd_step,
    mom_size,
    realized_vol_step,
    ret_size,
    ret_z_step,
    sharpe_step,
    var_size,
    var_step,
    var_tail_counts,
    volume_z_step,
)
from moons._kernels_ta import (
    atr_size,
    atr_step,
    bb_size,
    bb_step,
    ema_size,
    ema_step,
    macd_size,
    macd_step,
    rsi_size,
    rsi_step,
    sma_size,
    sma_step,
)
from moons._types import PANEL_COLUMNS, PanelSpec

N_COLS = len(PANEL_COLUMNS)
# ip layout: 17 periods/counts, then 13 state offsets
(P_SMA, P_EMA, P_RSI, P_FAST, P_SLOW, P_SIG, P_BB, P_ATR, P_VOL, P_RZ, P_DD, P_VAR, P_SH,
 P_BETA, P_VZ, P_K95, P_K99) = range(17)  # fmt: skip
(O_SMA, O_EMA, O_RSI, O_MACD, O_BB, O_ATR, O_VOL, O_RZ, O_DD, O_VAR, O_SH, O_BETA,
 O_VZ) = range(17, 30)  # fmt: skip
# fp layout
F_EMA_K, F_KF, F_KS, F_KG, F_BB_K, F_SQRT_PPY = range(6)


def ema_k(period: int) -> float:
    """TA-Lib's smoothing factor 2 / (period + 1)."""
    return 2.0 / float(period + 1)


def panel_layout(spec: PanelSpec) -> tuple[np.ndarray, np.ndarray, int]:
    """(int params, float params, state length) of the fused panel for ``spec``."""
    k95, k99 = var_tail_counts(spec.var_window)
    periods = [
        spec.sma_period, spec.ema_period, spec.rsi_period, spec.macd_fast, spec.macd_slow,
        spec.macd_signal, spec.bb_period, spec.atr_period, spec.vol_window, spec.ret_z_window,
        spec.dd_window, spec.var_window, spec.sharpe_window, spec.beta_window,
        spec.volume_z_window, k95, k99,
    ]  # fmt: skip
    sizes = [
        sma_size(spec.sma_period), ema_size(spec.ema_period), rsi_size(spec.rsi_period),
        macd_size(spec.macd_fast, spec.macd_slow, spec.macd_signal), bb_size(spec.bb_period),
        atr_size(spec.atr_period), ret_size(spec.vol_window), ret_size(spec.ret_z_window),
        dd_size(spec.dd_window), var_size(spec.var_window), ret_size(spec.sharpe_window),
        beta_size(spec.beta_window), mom_size(spec.volume_z_window),
    ]  # fmt: skip
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    ip = np.array(periods + [int(v) for v in offsets[:-1]], dtype=np.int64)
    fp = np.array(
        [
            ema_k(spec.ema_period), ema_k(spec.macd_fast), ema_k(spec.macd_slow),
            ema_k(spec.macd_signal), float(spec.bb_k), math.sqrt(spec.periods_per_year),
        ],
        dtype=np.float64,
    )  # fmt: skip
    return ip, fp, int(offsets[-1])


@njit(cache=True)
def panel_step(st, ip, fp, o, h, lo, c, v, b, has_b, out):
    """All moons for one bar of one instrument; writes the N_COLS outputs to ``out``."""
    out[0] = sma_step(st, ip[O_SMA], ip[P_SMA], c)
    out[1] = ema_step(st, ip[O_EMA], ip[P_EMA], fp[F_EMA_K], c)
    out[2] = rsi_step(st, ip[O_RSI], ip[P_RSI], c)
    macd_step(st, ip[O_MACD], ip[P_FAST], ip[P_SLOW], ip[P_SIG], fp[F_KF], fp[F_KS], fp[F_KG],
              c, out, 3)  # fmt: skip
    bb_step(st, ip[O_BB], ip[P_BB], fp[F_BB_K], c, out, 6)
    out[10] = atr_step(st, ip[O_ATR], ip[P_ATR], h, lo, c)
    out[11] = realized_vol_step(st, ip[O_VOL], ip[P_VOL], fp[F_SQRT_PPY], c)
    out[12] = ret_z_step(st, ip[O_RZ], ip[P_RZ], c)
    out[13] = dd_step(st, ip[O_DD], ip[P_DD], c)
    var_step(st, ip[O_VAR], ip[P_VAR], ip[P_K95], ip[P_K99], c, out, 14)
    out[18] = sharpe_step(st, ip[O_SH], ip[P_SH], fp[F_SQRT_PPY], c)
    if has_b:
        beta_step(st, ip[O_BETA], ip[P_BETA], c, b, out, 19)
    else:
        out[19] = np.nan
        out[20] = np.nan
    out[21] = volume_z_step(st, ip[O_VZ], ip[P_VZ], v)


@njit(cache=True)
def _bad_field(o, h, lo, c, v, b, has_b):
    """Index (0..5 = open, high, low, close, volume, benchmark) of an invalid input, else -1."""
    if not (o > 0.0 and o < np.inf):
        return 0
    if not (h > 0.0 and h < np.inf):
        return 1
    if not (lo > 0.0 and lo < np.inf):
        return 2
    if not (c > 0.0 and c < np.inf):
        return 3
    if not (v >= 0.0 and v < np.inf):
        return 4
    if has_b and not (b > 0.0 and b < np.inf):
        return 5
    return -1


@njit(cache=True)
def panel_warp(states, ip, fp, o, h, lo, c, v, b, has_b, out):
    """One bar for every instrument (row i of ``states``); validates all inputs first.

    Returns -1 on success, else ``6 * i + field`` of the first invalid input (no state is
    touched in that case).
    """
    n = states.shape[0]
    for i in range(n):
        f = _bad_field(o[i], h[i], lo[i], c[i], v[i], b[i], has_b)
        if f >= 0:
            return 6 * i + f
    for i in range(n):
        panel_step(states[i], ip, fp, o[i], h[i], lo[i], c[i], v[i], b[i], has_b, out[i])
    return -1


@njit(cache=True, parallel=True)
def panel_warp_parallel(states, ip, fp, o, h, lo, c, v, b, has_b, out):
    """:func:`panel_warp` with the instruments split across cores (rows are independent)."""
    n = states.shape[0]
    for i in range(n):
        f = _bad_field(o[i], h[i], lo[i], c[i], v[i], b[i], has_b)
        if f >= 0:
            return 6 * i + f
    for i in prange(n):
        panel_step(states[i], ip, fp, o[i], h[i], lo[i], c[i], v[i], b[i], has_b, out[i])
    return -1


@njit(cache=True)
def panel_run(st, ip, fp, o, h, lo, c, v, b, has_b, out):
    """Feed a whole history of one instrument through ``panel_step``; out is (n_cols, n)."""
    row = np.empty(out.shape[0])
    for t in range(c.shape[0]):
        panel_step(st, ip, fp, o[t], h[t], lo[t], c[t], v[t], b[t], has_b, row)
        for j in range(row.shape[0]):
            out[j, t] = row[j]
