"""Numba step kernels for the risk moons: rolling max drawdown and historical VaR/CVaR.

Same conventions as ``moons.kernels.stats``: state lives in a flat float64 array at offset ``o``,
an all-zero slice is a fresh state, and one ``*_step`` call consumes one bar (VaR/CVaR: O(k95)
per bar and a rare O(w) re-selection, see ``var_step``; drawdown: amortized O(1), see
``dd_step``).
"""

from __future__ import annotations

import numpy as np
from numba import njit

NAN = np.nan


# Drawdown (two-stack sliding-window aggregation of (max, min, mdd) summaries):
# [count, start, front_len, back_len, back_max, back_min, back_mdd] + ring[w] + fmax[w] + fmdd[w]
DD_HDR = 7


def dd_size(window: int) -> int:
    """State length of the rolling max drawdown over ``window`` prices."""
    return DD_HDR + 3 * window


@njit(cache=True, inline="always")
def dd_step(st, o, w, x):
    """Max drawdown 1 - trough/peak (peak before trough) over the last ``w`` prices.

    Summaries (max, min, mdd) of adjacent segments combine associatively
    (mdd = max(mdd_a, mdd_b, 1 - min_b/max_a)), so a two-stack queue gives amortized O(1)
    per bar: the front stack stores suffix summaries and is rebuilt from the back in O(w)
    once every ``w`` bars.
    """
    count = int(st[o])
    start = int(st[o + 1])
    flen = int(st[o + 2])
    blen = int(st[o + 3])
    buf = o + DD_HDR
    fmax = buf + w
    fmdd = fmax + w
    if count == w:
        if flen == 0:
            # flip: rebuild suffix summaries of the back segment, newest to oldest
            j = start + blen - 1  # ring index without %: start < w and blen <= w
            j = j if j < w else j - w
            amax = st[buf + j]
            amin = amax
            amdd = 0.0
            st[fmax + j] = amax
            st[fmdd + j] = 0.0
            for k in range(blen - 2, -1, -1):
                j = start + k
                j = j if j < w else j - w
                v = st[buf + j]
                dd = 1.0 - amin / v
                if dd > amdd:
                    amdd = dd
                if v > amax:
                    amax = v
                if v < amin:
                    amin = v
                st[fmax + j] = amax
                st[fmdd + j] = amdd
            flen = blen
            blen = 0
        start = start + 1 if start + 1 < w else 0
        flen -= 1
        count -= 1
    j = start + count
    st[buf + (j if j < w else j - w)] = x
    count += 1
    if blen == 0:
        bmax = x
        bmin = x
        bmdd = 0.0
    else:
        bmax = st[o + 4]
        bmin = st[o + 5]
        bmdd = st[o + 6]
        dd = 1.0 - x / bmax
        if dd > bmdd:
            bmdd = dd
        if x > bmax:
            bmax = x
        if x < bmin:
            bmin = x
    blen += 1
    st[o] = count
    st[o + 1] = start
    st[o + 2] = flen
    st[o + 3] = blen
    st[o + 4] = bmax
    st[o + 5] = bmin
    st[o + 6] = bmdd
    if count < w:
        return NAN
    if flen == 0:
        return bmdd
    res = st[fmdd + start]
    if bmdd > res:
        res = bmdd
    dd = 1.0 - bmin / st[fmax + start]
    if dd > res:
        res = dd
    return res


# VaR/CVaR: [count, prev close, n, head, m, cvar95, cvar99] + ring[w] + buf[K] (the m smallest,
# sorted; K = 2 k95)
VAR_HDR = 7


def var_tail_counts(window: int) -> tuple[int, int]:
    """Tail sizes k95 = ceil(0.05 w), k99 = ceil(0.01 w), in exact integer arithmetic."""
    return (window * 5 + 99) // 100, (window + 99) // 100


def var_pack(window: int) -> tuple[tuple[int, ...], tuple[float, ...]]:
    """Kernel parameters of ``var_cvar``: ints (window, k95, k99)."""
    return (window, *var_tail_counts(window)), ()


def var_buffer(window: int) -> int:
    """K: how many of the smallest returns the VaR state keeps sorted (2 k95, at most w)."""
    return min(2 * var_tail_counts(window)[0], window)


def var_size(window: int) -> int:
    """State length of historical VaR/CVaR over ``window`` returns."""
    return VAR_HDR + window + var_buffer(window)


@njit(cache=True)
def _rebuild_tail(st, ring, w, tail, k):
    """Select the k smallest ring values into the sorted tail (O(w) + insertions)."""
    m = 0
    for i in range(w):
        v = st[ring + i]
        if m == k:
            if v >= st[tail + k - 1]:
                continue
            m -= 1
        j = m
        while j > 0 and st[tail + j - 1] > v:
            st[tail + j] = st[tail + j - 1]
            j -= 1
        st[tail + j] = v
        m += 1


@njit(cache=True, inline="always")
def _buffer_remove(st, buf, m, x):
    """Remove one value equal to ``x`` from the sorted buffer of ``m`` values; returns m - 1."""
    j = m - 1
    while j > 0 and st[buf + j] != x:
        j -= 1
    for i in range(j, m - 1):
        st[buf + i] = st[buf + i + 1]
    return m - 1


@njit(cache=True, inline="always")
def _buffer_insert(st, buf, m, cap, x):
    """Insert ``x`` into the sorted buffer (dropping its largest value when full)."""
    j = m if m < cap else cap - 1
    while j > 0 and st[buf + j - 1] > x:
        st[buf + j] = st[buf + j - 1]
        j -= 1
    st[buf + j] = x
    return m + 1 if m < cap else cap


@njit(cache=True, inline="always")
def _nan_out(out, col, k):
    """NaN into ``out[col:col + k]``."""
    for c in range(k):
        out[col + c] = NAN


@njit(cache=True, inline="always")
def var_step(st, o, w, k95, k99, close, out, col):
    """Historical VaR/CVaR at 95 and 99 of the last ``w`` simple returns (positive = loss).

    Quantile: the k-th smallest return with k = ceil(w*(1-level)) (numpy's
    ``method="inverted_cdf"``); VaR = -r_(k), CVaR = -mean(r_(1..k)). Writes
    (var95, cvar95, var99, cvar99).

    The state keeps the m smallest returns of the window sorted (k95 <= m <= K = 2 k95), and
    every return outside that buffer is >= its largest. A return leaving the window is
    removed from the buffer if it is in it, a new one is inserted if it is below the
    buffer's largest (both O(K)); only when m falls below k95 is the buffer re-selected from
    the ring in O(w). The slack of k95 values makes that rare (m drifts like a random walk),
    instead of once in ~w/k95 bars for a buffer of exactly k95. The two CVaRs are kept in
    the state and re-summed (the same loop, so the same bits) only on bars that change the
    k95 smallest, about one in ten.
    """
    t = int(st[o])
    st[o] = t + 1
    prev = st[o + 1]
    st[o + 1] = close
    if t == 0:
        _nan_out(out, col, 4)
        return
    r = close / prev - 1.0
    n = int(st[o + 2])
    head = int(st[o + 3])
    ring = o + VAR_HDR
    buf = ring + w
    cap = min(2 * k95, w)
    old = st[ring + head]
    st[ring + head] = r
    head = head + 1 if head + 1 < w else 0
    st[o + 3] = head
    if n < w:
        n += 1
        st[o + 2] = n
        if n < w:
            _nan_out(out, col, 4)
            return
        _rebuild_tail(st, ring, w, buf, cap)
        m = cap
        dirty = True
    else:
        m = int(st[o + 4])
        # the k95 smallest change only if the leaving return is among them (the removal
        # takes the highest equal value) or the new one goes below the k95-th
        dirty = old <= st[buf + k95 - 1]
        if old <= st[buf + m - 1]:
            m = _buffer_remove(st, buf, m, old)
        if m > 0 and r < st[buf + m - 1]:  # below the largest: below everything outside
            dirty = dirty or m < k95 or r < st[buf + k95 - 1]
            m = _buffer_insert(st, buf, m, cap, r)
        if m < k95:
            _rebuild_tail(st, ring, w, buf, cap)
            m = cap
            dirty = True
    st[o + 4] = m
    if dirty:  # else the sums of the unchanged k95 smallest are the ones kept
        s = 0.0
        for j in range(k99):  # the same running sum as one loop: k99 <= k95
            s += st[buf + j]
        st[o + 6] = -(s / k99)
        for j in range(k99, k95):
            s += st[buf + j]
        st[o + 5] = -(s / k95)
    out[col] = -st[buf + k95 - 1]
    out[col + 1] = st[o + 5]
    out[col + 2] = -st[buf + k99 - 1]
    out[col + 3] = st[o + 6]
