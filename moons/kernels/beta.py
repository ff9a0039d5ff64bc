"""Numba step kernel of rolling beta and correlation against a benchmark.

Same conventions as ``moons.kernels.stats``: state in a flat float64 array
at offset ``o``, an all-zero slice is a fresh state, one ``beta_step`` call consumes one bar in
O(1), with an exact recomputation of the moments when a value leaves the window far from the
mean (``SPIKE2``).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from moons.kernels.stats import SPIKE2, ring_moments

__all__ = ["BETA_HDR", "beta_size", "beta_step"]

NAN = np.nan


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
