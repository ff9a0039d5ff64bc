"""Market regimes from the moon panel: trend x volatility, scale-free."""

from __future__ import annotations

import math
from collections.abc import Mapping

REGIMES: tuple[str, ...] = tuple(
    f"{trend}/{vol}" for trend in ("up", "range", "down") for vol in ("calm", "volatile")
)
"""Every regime label, plus ``"warmup"`` while the needed moons are NaN."""


def market_regime(
    moons: Mapping[str, float],
    *,
    periods_per_year: int = 252,
    trend_threshold: float = 1.0,
    vol_ratio_threshold: float = 1.2,
) -> str:
    """The regime of one instrument's moon values: ``"<trend>/<vol>"`` or ``"warmup"``.

    * trend: ``(close - sma) / atr`` above ``trend_threshold`` is ``up``, below its negative
      ``down``, otherwise ``range`` (the same measure the routing tree uses);
    * volatility: the short-window per-bar volatility
      ``realized_vol / sqrt(periods_per_year)`` against the long-window one implied by VaR95
      (``var95 / 1.645``); a ratio above ``vol_ratio_threshold`` is ``volatile``, else ``calm``.
      Both are per-bar quantities of the same instrument, so the label does not depend on price
      level, bar size or asset class.
    """
    needed = ("close", "sma", "atr", "realized_vol", "var95")
    values = [float(moons.get(name, math.nan)) for name in needed]
    if not all(math.isfinite(v) for v in values):
        return "warmup"
    close, sma, atr, vol, var95 = values
    if atr <= 0.0 or var95 <= 0.0:
        return "warmup"
    gap = (close - sma) / atr
    trend = "up" if gap > trend_threshold else "down" if gap < -trend_threshold else "range"
    short = vol / math.sqrt(periods_per_year)
    long = var95 / 1.645
    return f"{trend}/{'volatile' if short / long > vol_ratio_threshold else 'calm'}"
