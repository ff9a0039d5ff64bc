"""Numba step kernels for the statistical and risk moons.

Same conventions as ``moons.kernels.ta``: state lives in a flat float64 array at offset ``o``,
an all-zero slice is a fresh state, and one ``*_step`` call consumes one bar in O(1)
(VaR/CVaR: O(k95) on average, O(w) at worst, see ``var_step``; drawdown: amortized O(1), see ``dd_step``).
The drawdown and VaR/CVaR kernels live in ``moons.kernels.risk`` and are re-exported here;
rolling beta/correlation against a benchmark is ``moons.kernels.beta``.

Rolling mean/variance use Welford updates while filling and an O(1) replace update once full
(both numerically stable, like pandas).
A window whose values are all identical is detected exactly (a run-length counter, as
pandas does) and has variance exactly 0; ratios with a zero deviation are NaN.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from moons.kernels.risk import (
    DD_HDR,
    VAR_HDR,
    dd_size,
    dd_step,
    var_pack,
    var_size,
    var_step,
    var_tail_counts,
)

__all__ = [
    "DD_HDR",
    "MOM_CORE",
    "MOM_HDR",
    "SPIKE2",
    "VAR_HDR",
    "dd_size",
    "dd_step",
    "mom_add",
    "mom_push",
    "mom_size",
    "mom_var",
    "ring_moments",
    "realized_vol_step",
    "ret_pack",
    "ret_size",
    "ret_z_step",
    "sharpe_step",
    "var_pack",
    "var_size",
    "var_step",
    "var_tail_counts",
    "volume_z_step",
]

NAN = np.nan

# Rolling moments block: [n, mean, m2, same-value run, last value, head] + ring[w]; the
# first MOM_CORE fields are what ``mom_add`` reads (a caller with its own ring needs no more)
MOM_CORE = 5
MOM_HDR = 6
# When the value leaving a full window deviated from the mean by more than 32 times the
# square root of what remains of m2 (SPIKE2 = 32**2 on the squares), the replace update
# has cancelled away the bits that matter (a spike left), so mean and m2 are recomputed
# exactly from the ring. Clean data never comes near (a > 100-sigma outlier leaving), so
# there the arithmetic is the plain running one.
SPIKE2 = 1024.0


def mom_size(window: int) -> int:
    """State length of a rolling-moments block over ``window`` values."""
    return MOM_HDR + window


@njit(cache=True)
def ring_moments(st, ring, head, n, w):
    """(mean, m2) of the ``n`` newest ring values, oldest first, by two exact passes."""
    start = head - n if head >= n else head - n + w
    s = 0.0
    for k in range(n):
        j = start + k
        s += st[ring + (j if j < w else j - w)]
    mean = s / n
    m2 = 0.0
    for k in range(n):
        j = start + k
        d = st[ring + (j if j < w else j - w)] - mean
        m2 += d * d
    return mean, m2


@njit(cache=True)
def _remoment(st, o, w):
    """Cold path of ``mom_push``: mean and m2 := exact moments of the (full) ring."""
    mean, m2 = ring_moments(st, o + MOM_HDR, int(st[o + 5]), w, w)
    st[o + 1] = mean
    st[o + 2] = m2


@njit(cache=True, inline="always")
def mom_add(st, o, w, x, old):
    """Add ``x`` to the moments ``st[o:o + MOM_CORE]``; ``old`` is the value leaving a full
    window (read only once ``w`` values are held). Returns True when a spike left.

    Filling uses Welford's update; a full window uses the O(1) replace update
    mean' = mean + (x - old)/w, m2' = m2 + (x - old)(x - mean' + old - mean). On True the
    caller recomputes mean and m2 exactly from its ring (see ``SPIKE2``).
    """
    n = int(st[o])
    mean = st[o + 1]
    m2 = st[o + 2]
    spike_left = False
    if n == w:
        d = x - old
        new_mean = mean + d * (1.0 / w)  # reciprocal: off the dependency chain
        m2 += d * (x - new_mean + old - mean)
        spike_left = (old - mean) * (old - mean) > SPIKE2 * m2
        mean = new_mean
    else:
        n += 1
        d = x - mean
        mean += d / n
        m2 += d * (x - mean)
    if n > 1 and x == st[o + 4]:
        st[o + 3] += 1.0
    else:
        st[o + 3] = 1.0
    st[o + 4] = x
    st[o] = n
    st[o + 1] = mean
    st[o + 2] = m2
    return spike_left


@njit(cache=True, inline="always")
def mom_push(st, o, w, x):
    """Add ``x`` to the rolling window (replacing the oldest value once ``w`` are held):
    ``mom_add`` with the block's own ring, or an exact recompute from it when a spike left."""
    head = int(st[o + 5])
    old = st[o + MOM_HDR + head]
    st[o + MOM_HDR + head] = x
    head += 1
    if head == w:
        head = 0
    st[o + 5] = head
    if mom_add(st, o, w, x, old):  # cold path
        _remoment(st, o, w)


@njit(cache=True, inline="always")
def mom_var(st, o, w, ddof):
    """Variance of the window (0 exactly when all held values are identical)."""
    n = st[o]
    if st[o + 3] >= n:
        return 0.0
    m2 = st[o + 2]
    if m2 <= 0.0:
        return 0.0
    return m2 / (n - ddof)


def ret_size(window: int) -> int:
    """State length of a return-based rolling moment: [count, previous close] + moments."""
    return 2 + mom_size(window)


@njit(cache=True, inline="always")
def _push_return(st, o, w, close, log):
    """Turn ``close`` into a return vs the previous close and push it; False on bar 0."""
    t = int(st[o])
    st[o] = t + 1
    prev = st[o + 1]
    st[o + 1] = close
    if t == 0:
        return False
    r = math.log(close / prev) if log else close / prev - 1.0
    mom_push(st, o + 2, w, r)
    return True


@njit(cache=True, inline="always")
def realized_vol_step(st, o, w, sqrt_ppy, close):
    """Sample std (ddof=1) of the last ``w`` log returns times sqrt(periods_per_year)."""
    if not _push_return(st, o, w, close, True) or st[o + 2] < w:
        return NAN
    return math.sqrt(mom_var(st, o + 2, w, 1)) * sqrt_ppy


def ret_pack(window: int, periods_per_year: float) -> tuple[tuple[int, ...], tuple[float, ...]]:
    """Kernel parameters of the annualized return moons: ints (window,), floats (sqrt ppy,)."""
    return (window,), (math.sqrt(periods_per_year),)


@njit(cache=True, inline="always")
def ret_z_step(st, o, w, close):
    """(r_t - mean) / std (ddof=1) of the last ``w`` simple returns, r_t included; NaN if std 0."""
    if not _push_return(st, o, w, close, False) or st[o + 2] < w:
        return NAN
    var = mom_var(st, o + 2, w, 1)
    if var <= 0.0:
        return NAN
    last = st[o + 2 + 4]
    return (last - st[o + 3]) / math.sqrt(var)


@njit(cache=True, inline="always")
def sharpe_step(st, o, w, sqrt_ppy, close):
    """mean / std (ddof=1) of the last ``w`` simple returns times sqrt(ppy); NaN if std 0."""
    if not _push_return(st, o, w, close, False) or st[o + 2] < w:
        return NAN
    var = mom_var(st, o + 2, w, 1)
    if var <= 0.0:
        return NAN
    return st[o + 3] / math.sqrt(var) * sqrt_ppy


@njit(cache=True, inline="always")
def volume_z_step(st, o, w, volume):
    """(v_t - mean) / std (ddof=1) of the last ``w`` volumes, v_t included; NaN if std 0."""
    mom_push(st, o, w, volume)
    if st[o] < w:
        return NAN
    var = mom_var(st, o, w, 1)
    if var <= 0.0:
        return NAN
    return (volume - st[o + 1]) / math.sqrt(var)
