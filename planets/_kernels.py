"""Scoring kernels of the built-in planets: plain numba functions over floats and arrays.

One source of truth: the single-instrument ``score`` of a planet calls the scalar kernel and
its ``report_many`` calls the array kernel, which loops the same scalar kernel over the
instruments inside numba. ``math.tanh`` in numba is the C library's ``tanh``, the one
``math.tanh`` calls in Python, so the numbers equal the historical pure-Python formulas.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

STYLE_BLEND = 0
STYLE_MOMENTUM = 1
STYLE_MEAN_REVERSION = 2


@njit(cache=True)
def technical_one(close, sma, ema, macd_hist, atr, rsi, pctb, ret_z, style):
    """(score, confidence, flat) of the technical planet for one instrument.

    ``flat`` is True when the ATR is not positive (no signal, score and confidence 0).
    """
    if atr <= 0.0:
        return 0.0, 0.0, True
    m1 = math.tanh(((close - sma) / atr) / 2.0)
    m2 = math.tanh(((ema - sma) / atr) / 1.0)
    m3 = math.tanh((macd_hist / atr) / 0.25)
    r1 = (50.0 - rsi) / 50.0
    r2 = max(-1.0, min(1.0, (0.5 - pctb) * 2.0))
    r3 = -math.tanh(ret_z / 2.0)
    if style == STYLE_MOMENTUM:
        score = (m1 + m2 + m3) / 3
        agree = (m1 * score > 0) + (m2 * score > 0) + (m3 * score > 0)
        agreeing = agree / 3
    elif style == STYLE_MEAN_REVERSION:
        score = (r1 + r2 + r3) / 3
        agree = (r1 * score > 0) + (r2 * score > 0) + (r3 * score > 0)
        agreeing = agree / 3
    else:
        score = (m1 + m2 + m3 + r1 + r2 + r3) / 6
        agree = (m1 * score > 0) + (m2 * score > 0) + (m3 * score > 0)
        agree += (r1 * score > 0) + (r2 * score > 0) + (r3 * score > 0)
        agreeing = agree / 6
    confidence = 0.2 + 0.6 * agreeing * min(1.0, abs(score) * 2.0)
    return score, confidence, False


@njit(cache=True)
def technical_many(close, sma, ema, macd_hist, atr, rsi, pctb, ret_z, style, score, conf, flat):
    """:func:`technical_one` for every instrument (row i of each input) into the outputs."""
    for i in range(close.shape[0]):
        s, c, f = technical_one(
            close[i], sma[i], ema[i], macd_hist[i], atr[i], rsi[i], pctb[i], ret_z[i], style[i]
        )
        score[i] = s
        conf[i] = c
        flat[i] = f


@njit(cache=True)
def var_cap_one(var95, max_position, max_var95):
    """Largest position fraction whose scaled VaR95 stays within ``max_var95``."""
    if var95 <= 0.0:
        return max_position
    return min(max_position, max_var95 / var95)


@njit(cache=True)
def risk_one(var95, max_drawdown, max_position, max_var95, drawdown_limit):
    """(score, position cap, drawdown breached) of the risk planet for one instrument."""
    cap = var_cap_one(var95, max_position, max_var95)
    if abs(max_drawdown) >= drawdown_limit:
        return -1.0, 0.0, True
    headroom = 1.0 - var95 / max_var95
    return max(-1.0, min(1.0, headroom)), cap, False


@njit(cache=True)
def risk_many(var95, max_drawdown, max_position, max_var95, drawdown_limit, score, cap, breach):
    """:func:`risk_one` for every instrument into the outputs."""
    for i in range(var95.shape[0]):
        s, c, b = risk_one(var95[i], max_drawdown[i], max_position, max_var95, drawdown_limit)
        score[i] = s
        cap[i] = c
        breach[i] = b


def style_code(style: object) -> int:
    """The kernel code of a technical style (``None`` or unknown: the blend)."""
    if style == "momentum":
        return STYLE_MOMENTUM
    if style == "mean_reversion":
        return STYLE_MEAN_REVERSION
    return STYLE_BLEND


def empty_outputs(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fresh (score, confidence-or-cap, flag) output arrays for ``n`` instruments."""
    return np.empty(n), np.empty(n), np.empty(n, dtype=np.bool_)
