"""The moons' compiled kernels (numba), one module per family, read by ``moons._registry``.

* ``ta`` — technical indicators: SMA, EMA, RSI, MACD, Bollinger bands, ATR;
* ``stats`` — rolling moments: realized volatility, return and volume z-scores, Sharpe;
* ``beta`` — rolling beta and correlation against a benchmark;
* ``risk`` — drawdown, VaR and CVaR.

Each kernel keeps its state in a flat float64 array at an offset (``*_size`` says how much),
so the fused panel (``moons._fused``) can step every moon of every instrument in one call.
"""

from moons.kernels import beta, risk, stats, ta

__all__ = ["beta", "risk", "stats", "ta"]
