"""Compiled input checks of the streaming panel (one bar per instrument).

The same rules as ``moons._types`` (ranges ``value_range``, then bus.BarSeries's OHLC
rules), evaluated inside the warp call so a rejected update costs no extra Python pass.
"""

from __future__ import annotations

from numba import njit

from moons._types import PRICE_MAX, PRICE_MIN, VOLUME_MAX

N_CODES = 8  # 0..5: open, high, low, close, volume, benchmark out of range; 6, 7: OHLC rules
HIGH_BELOW_BODY = 6
LOW_ABOVE_BODY = 7


@njit(cache=True, inline="always")
def _price_ok(x):
    return x >= PRICE_MIN and x <= PRICE_MAX  # NaN compares False


@njit(cache=True, inline="always")
def bad_bar(o, h, lo, c, v, b, has_b):
    """Code of the first broken rule of one bar (see ``N_CODES``), or -1 if it is valid."""
    if not _price_ok(o):
        return 0
    if not _price_ok(h):
        return 1
    if not _price_ok(lo):
        return 2
    if not _price_ok(c):
        return 3
    if not (v >= 0.0 and v <= VOLUME_MAX):
        return 4
    if has_b and not _price_ok(b):
        return 5
    if h < max(o, c):
        return HIGH_BELOW_BODY
    if lo > min(o, c):
        return LOW_ABOVE_BODY
    return -1


@njit(cache=True, inline="always")
def bars_ok(o, h, lo, c, v, b, has_b):
    """True when every instrument's bar passes ``bad_bar``'s rules.

    Branch-free over the instruments (non-short-circuit ``&``), so the compiler vectorizes
    it; the per-instrument ``bad_bar`` loop only runs to name the first failure.
    """
    ok = True
    no_b = not has_b
    for i in range(o.shape[0]):
        oi = o[i]
        hi = h[i]
        li = lo[i]
        ci = c[i]
        vi = v[i]
        bi = b[i]
        top = oi if oi > ci else ci
        bottom = oi if oi < ci else ci
        ok &= ((oi >= PRICE_MIN) & (oi <= PRICE_MAX) & (hi >= PRICE_MIN) & (hi <= PRICE_MAX)
               & (li >= PRICE_MIN) & (li <= PRICE_MAX) & (ci >= PRICE_MIN) & (ci <= PRICE_MAX)
               & (vi >= 0.0) & (vi <= VOLUME_MAX) & (no_b | ((bi >= PRICE_MIN) & (bi <= PRICE_MAX)))
               & (hi >= top) & (li <= bottom))  # fmt: skip
    return ok
