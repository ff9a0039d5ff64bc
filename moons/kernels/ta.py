"""Numba step kernels for the TA-Lib-defined moons (SMA, EMA, RSI, MACD, Bollinger, ATR).

Every moon keeps its state in a slice of a flat float64 array ``st`` starting at offset
``o``; an all-zero slice is a fresh state. A ``*_step`` function consumes one bar, mutates
the state and returns (or writes) the new value(s). Batch, incremental and warp entry points
all drive these same step functions, so the three agree bit for bit. The arithmetic follows
TA-Lib's C code operation by operation (running sums, SMA seeding, Wilder smoothing), which
is why the outputs equal ``talib`` to the last bit except the Bollinger deviation (see
``bb_step``).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from moons.kernels.stats import MOM_CORE, mom_add, mom_var, ring_moments

NAN = np.nan


def ema_k(period: int) -> float:
    """TA-Lib's smoothing factor 2 / (period + 1)."""
    return 2.0 / float(period + 1)


def sma_size(period: int) -> int:
    """State length of an SMA: [count, running sum, head] + ring of ``period`` values."""
    return 3 + period


# The running SMA sum is recomputed from the ring when the (positive) value leaving it was
# more than SUM_SPIKE times the rest of the window (its rounding error would then dominate,
# or the rest came out <= 0): a 4096 * (period - 1)-fold price drop within one window,
# which no clean series has.
SUM_SPIKE = 4096.0


@njit(cache=True)
def _resum(st, o, period, head):
    """Cold path of ``sma_step``: the running sum := exact sum of the period-1 newest values."""
    s = 0.0
    for k in range(1, period):
        j = head + k
        s += st[o + 3 + (j if j < period else j - period)]
    st[o + 1] = s


@njit(cache=True, inline="always")
def sma_step(st, o, period, x):
    """TA-Lib SMA: running sum of the last ``period`` values; NaN for the first period-1 bars."""
    t = int(st[o])
    st[o] = t + 1
    head = int(st[o + 2])
    st[o + 3 + head] = x
    head += 1
    if head == period:
        head = 0
    st[o + 2] = head
    s = st[o + 1] + x
    if t < period - 1:
        st[o + 1] = s
        return NAN
    val = s / period
    old = st[o + 3 + head]  # the oldest value, x[t - period + 1]
    rest = s - old
    st[o + 1] = rest
    if old > SUM_SPIKE * rest:  # a spike leaves (prices are > 0): re-sum the newer values
        _resum(st, o, period, head)
    return val


def ema_size(period: int) -> int:
    """State length of an EMA: [count, seed sum, previous value]."""
    return 3


@njit(cache=True, inline="always")
def ema_step(st, o, period, k, x):
    """TA-Lib EMA: seeded with the SMA of the first ``period`` values, then prev + k*(x-prev)."""
    t = int(st[o])
    st[o] = t + 1
    if t < period - 1:
        st[o + 1] += x
        return NAN
    if t == period - 1:
        prev = (st[o + 1] + x) / period
    else:
        prev = st[o + 2]
        prev = ((x - prev) * k) + prev
    st[o + 2] = prev
    return prev


def ema_pack(period: int) -> tuple[tuple[int, ...], tuple[float, ...]]:
    """Kernel parameters of ``ema``: ints (period,), floats (k,)."""
    return (period,), (ema_k(period),)


def rsi_size(period: int) -> int:
    """State length of an RSI: [count, previous close, average gain, average loss]."""
    return 4


@njit(cache=True, inline="always")
def rsi_step(st, o, period, x):
    """TA-Lib RSI (Wilder): simple average of the first ``period`` moves, then Wilder smoothing.

    Returns 100 when there are gains and no losses and 0 when nothing moved at all
    (gain + loss == 0), as TA-Lib does.
    """
    t = int(st[o])
    st[o] = t + 1
    if t == 0:
        st[o + 1] = x
        return NAN
    d = x - st[o + 1]
    st[o + 1] = x
    gain = st[o + 2]
    loss = st[o + 3]
    if t > period:
        loss *= period - 1
        gain *= period - 1
    # branch-free (the sign of a move is a coin flip); adding 0.0 leaves a sum as it was
    loss -= d if d < 0.0 else 0.0
    gain += 0.0 if d < 0.0 else d
    if t < period:
        st[o + 2] = gain
        st[o + 3] = loss
        return NAN
    loss /= period
    gain /= period
    st[o + 2] = gain
    st[o + 3] = loss
    total = gain + loss
    if total == 0.0:
        return 0.0
    return 100.0 * (gain / total)


def macd_size(fast: int, slow: int, signal: int) -> int:
    """State length of a MACD: [count, fast sum, slow sum, fast ema, slow ema, signal sum, signal]."""
    return 7


@njit(cache=True, inline="always")
def macd_step(st, o, fast, slow, signal, kf, ks, kg, x, out, col):
    """TA-Lib MACD: writes (macd, signal, hist) to ``out[col:col+3]``.

    As in TA-Lib both EMAs start at bar slow-1: the slow one is seeded with the SMA of bars
    0..slow-1, the fast one with the SMA of bars slow-fast..slow-1. The signal EMA is seeded
    with the SMA of the first ``signal`` MACD values, so all three outputs start at bar
    slow+signal-2 (TA-Lib's lookback).
    """
    t = int(st[o])
    st[o] = t + 1
    if t < slow - 1:
        st[o + 2] += x
        if t >= slow - fast:
            st[o + 1] += x
        out[col] = NAN
        out[col + 1] = NAN
        out[col + 2] = NAN
        return
    if t == slow - 1:
        f = (st[o + 1] + x) / fast
        s = (st[o + 2] + x) / slow
    else:
        f = st[o + 3]
        f = ((x - f) * kf) + f
        s = st[o + 4]
        s = ((x - s) * ks) + s
    st[o + 3] = f
    st[o + 4] = s
    m = f - s
    j = t - (slow - 1)
    if j < signal - 1:
        st[o + 5] += m
        out[col] = NAN
        out[col + 1] = NAN
        out[col + 2] = NAN
        return
    if j == signal - 1:
        g = (st[o + 5] + m) / signal
    else:
        g = st[o + 6]
        g = ((m - g) * kg) + g
    st[o + 6] = g
    out[col] = m
    out[col + 1] = g
    out[col + 2] = m - g


def macd_pack(fast: int, slow: int, signal: int) -> tuple[tuple[int, ...], tuple[float, ...]]:
    """Kernel parameters of ``macd``: ints (fast, slow, signal), floats their EMA factors."""
    return (fast, slow, signal), (ema_k(fast), ema_k(slow), ema_k(signal))


def bb_size(period: int) -> int:
    """State length of Bollinger bands: an SMA state + the core of a rolling-moments block
    (the SMA's ring is the moments' window too)."""
    return sma_size(period) + MOM_CORE


@njit(cache=True, inline="always")
def bb_step(st, o, period, nbdev, x, out, col):
    """Bollinger bands: writes (mid, upper, lower, %b) to ``out[col:col+4]``.

    mid is TA-Lib's SMA (bit-exact); the population standard deviation comes from a rolling
    Welford accumulator, which agrees with TA-Lib 0.8 (itself no longer the naive
    sum-of-squares formula) to ~1e-11 relative. A window of identical prices has deviation
    exactly 0, so upper == lower == mid and %b = (close-lower)/(upper-lower) is NaN.
    """
    leaving = st[o + 3 + int(st[o + 2])]  # the SMA ring's oldest slot, before the write
    mid = sma_step(st, o, period, x)
    mo = o + 3 + period  # after the SMA state (sma_size)
    if mom_add(st, mo, period, x, leaving):  # cold path: exact moments of the SMA's ring
        mean, m2 = ring_moments(st, o + 3, int(st[o + 2]), period, period)
        st[mo + 1] = mean
        st[mo + 2] = m2
    if math.isnan(mid):
        out[col] = NAN
        out[col + 1] = NAN
        out[col + 2] = NAN
        out[col + 3] = NAN
        return
    var = mom_var(st, mo, period, 0)
    dev = math.sqrt(var) * nbdev
    upper = mid + dev
    lower = mid - dev
    out[col] = mid
    out[col + 1] = upper
    out[col + 2] = lower
    width = upper - lower
    out[col + 3] = (x - lower) / width if width > 0.0 else NAN


def atr_size(period: int) -> int:
    """State length of an ATR: [count, previous close, average true range]."""
    return 3


@njit(cache=True, inline="always")
def atr_step(st, o, period, high, low, close):
    """TA-Lib ATR (Wilder): SMA of the first ``period`` true ranges (bars 1..period), then
    (prev*(period-1) + tr)/period. Gaps count fully through the previous close."""
    t = int(st[o])
    st[o] = t + 1
    if t == 0:
        st[o + 1] = close
        return NAN
    prev_close = st[o + 1]
    st[o + 1] = close
    tr = high - low
    v = abs(prev_close - high)
    if v > tr:
        tr = v
    v = abs(prev_close - low)
    if v > tr:
        tr = v
    if t < period:
        st[o + 2] += tr
        return NAN
    if t == period:
        acc = (st[o + 2] + tr) / period
    else:
        acc = st[o + 2] * (period - 1)
        acc += tr
        acc /= period
    st[o + 2] = acc
    return acc
