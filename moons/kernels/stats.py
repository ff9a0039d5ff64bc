"""Numba step kernels for the statistical and risk moons.

Same conventions as ``moons.kernels.ta``: state lives in a flat float64 array at offset ``o``,
an all-zero slice is a fresh state, and one ``*_step`` call consumes one bar in O(1)
(VaR/CVaR: O(k95) on average, O(w) at worst, see ``var_step``; drawdown: amortized O(1), see ``dd_step``).
The drawdown and VaR/CVaR kernels live in ``moons.kernels.risk`` and are re-exported here.

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
    "BETA_HDR",
    "DD_HDR",
    "MOM_CORE",
    "MOM_HDR",
    "SPIKE2",
    "VAR_HDR",
    "beta_size",
    "beta_step",
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


# Beta/correlation: [count, prev close, prev bench, n, mb, ma, cbb, caa, cba,
#                    run_b, last_b, run_a, last_a, head] + ring_b[w] + ring_a[w]
BETA_HDR = 14


def beta_size(window: int) -> int:
    """State length of rolling beta/correlation over ``window`` return pairs."""
    return BETA_HDR + 2 * window


@njit(cache=True)
def _rebeta(st, o, w):
    """Cold path of ``beta_step``: means and (co-)moments := exact values of the full rings."""
    rb = o + BETA_HDR
    ra = rb + w
    head = int(st[o + 13])
    mb, cbb = ring_moments(st, rb, head, w, w)
    ma, caa = ring_moments(st, ra, head, w, w)
    cba = 0.0
    for j in range(w):
        k = head + j
        k = k if k < w else k - w
        cba += (st[rb + k] - mb) * (st[ra + k] - ma)
    st[o + 4] = mb
    st[o + 5] = ma
    st[o + 6] = cbb
    st[o + 7] = caa
    st[o + 8] = cba


@njit(cache=True, inline="always")
def beta_step(st, o, w, close, bench, out, col):
    """Rolling beta = cov(ra, rb)/var(rb) and correlation of simple returns; writes 2 values.

    ra = asset returns, rb = benchmark returns over the last ``w`` bars. Beta equals
    ``talib.BETA(bench, close, w)``. A constant benchmark window gives NaN for both; a
    constant asset window gives beta 0 and correlation NaN.
    """
    t = int(st[o])
    st[o] = t + 1
    pa = st[o + 1]
    pb = st[o + 2]
    st[o + 1] = close
    st[o + 2] = bench
    out[col] = NAN
    out[col + 1] = NAN
    if t == 0:
        return
    a = close / pa - 1.0
    b = bench / pb - 1.0
    n = int(st[o + 3])
    mb = st[o + 4]
    ma = st[o + 5]
    cbb = st[o + 6]
    caa = st[o + 7]
    cba = st[o + 8]
    head = int(st[o + 13])
    rb = o + BETA_HDR
    ra = rb + w
    spike_left = False
    if n == w:
        ob = st[rb + head]
        oa = st[ra + head]
        db = b - ob
        da = a - oa
        inv_w = 1.0 / w
        cbb += (b - mb) * (b - mb) - (ob - mb) * (ob - mb) - db * db * inv_w
        caa += (a - ma) * (a - ma) - (oa - ma) * (oa - ma) - da * da * inv_w
        cba += (b - mb) * (a - ma) - (ob - mb) * (oa - ma) - db * da * inv_w
        spike_left = (ob - mb) * (ob - mb) > SPIKE2 * cbb or (oa - ma) * (oa - ma) > SPIKE2 * caa
        mb += db * inv_w
        ma += da * inv_w
    else:
        n += 1
        db = b - mb
        mb += db / n
        da = a - ma
        ma += da / n
        cbb += db * (b - mb)
        caa += da * (a - ma)
        cba += db * (a - ma)
    st[rb + head] = b
    st[ra + head] = a
    head += 1
    if head == w:
        head = 0
    st[o + 9] = st[o + 9] + 1.0 if (n > 1 and b == st[o + 10]) else 1.0
    st[o + 10] = b
    st[o + 11] = st[o + 11] + 1.0 if (n > 1 and a == st[o + 12]) else 1.0
    st[o + 12] = a
    st[o + 3] = n
    st[o + 4] = mb
    st[o + 5] = ma
    st[o + 6] = cbb
    st[o + 7] = caa
    st[o + 8] = cba
    st[o + 13] = head
    if spike_left:  # cold path: recompute the moments exactly (see SPIKE2)
        _rebeta(st, o, w)
        cbb = st[o + 6]
        caa = st[o + 7]
        cba = st[o + 8]
    if n < w or st[o + 9] >= n or cbb <= 0.0:
        return
    if st[o + 11] >= n:
        out[col] = 0.0
        return
    out[col] = cba / cbb
    if caa > 0.0:
        out[col + 1] = cba / math.sqrt(cbb * caa)
