"""Incremental (streaming) moons: O(1)-per-bar state objects.

``update(...)`` consumes one closed bar and returns the new value (a float, or a tuple for
multi-output moons). Fed from bar 0, every class reproduces its ``moons.batch`` function
exactly (both drive the same numba step kernel). Values are NaN during warm-up.
"""

from __future__ import annotations

import math

import numpy as np

from moons import _runs
from moons._kernels_stats import (
    beta_size,
    dd_size,
    mom_size,
    ret_size,
    var_size,
    var_tail_counts,
)
from moons._kernels_ta import atr_size, bb_size, ema_size, macd_size, rsi_size, sma_size
from moons._warp import ema_k
from moons.batch import check_period


def _check(value: float, name: str, *, positive: bool = True) -> float:
    x = float(value)
    if not math.isfinite(x) or (x <= 0.0 if positive else x < 0.0):
        raise ValueError(f"{name} = {value!r}: must be finite and {'> 0' if positive else '>= 0'}")
    return x


class _Moon:
    """Shared plumbing: a state vector, one-bar input buffers and an output buffer."""

    _n_out = 1

    def __init__(self, state_len: int, n_inputs: int = 1) -> None:
        self._st = np.zeros(state_len)
        self._in = [np.empty(1) for _ in range(n_inputs)]
        self._out = np.empty(1) if self._n_out == 1 else np.empty((1, self._n_out))

    def reset(self) -> None:
        """Forget all history (back to the state before bar 0)."""
        self._st[:] = 0.0

    def _single(self) -> float:
        return float(self._out[0])

    def _multi(self) -> tuple[float, ...]:
        return tuple(float(v) for v in self._out[0])


class Sma(_Moon):
    """TA-Lib SMA. Warm-up: period - 1 bars."""

    def __init__(self, period: int = 20) -> None:
        self.period = check_period("period", period)
        super().__init__(sma_size(self.period))

    def update(self, close: float) -> float:
        self._in[0][0] = _check(close, "close")
        _runs.sma_run(self._st, self.period, self._in[0], self._out)
        return self._single()


class Ema(_Moon):
    """TA-Lib EMA (SMA-seeded). Warm-up: period - 1 bars."""

    def __init__(self, period: int = 20) -> None:
        self.period = check_period("period", period)
        self._k = ema_k(self.period)
        super().__init__(ema_size(self.period))

    def update(self, close: float) -> float:
        self._in[0][0] = _check(close, "close")
        _runs.ema_run(self._st, self.period, self._k, self._in[0], self._out)
        return self._single()


class Rsi(_Moon):
    """TA-Lib RSI (Wilder). Warm-up: period bars."""

    def __init__(self, period: int = 14) -> None:
        self.period = check_period("period", period)
        super().__init__(rsi_size(self.period))

    def update(self, close: float) -> float:
        self._in[0][0] = _check(close, "close")
        _runs.rsi_run(self._st, self.period, self._in[0], self._out)
        return self._single()


class Macd(_Moon):
    """TA-Lib MACD -> (macd, signal, hist). Warm-up: slow + signal - 2 bars."""

    _n_out = 3

    def __init__(self, fast: int = 12, slow: int = 26, signal: int = 9) -> None:
        self.fast = check_period("fast", fast)
        self.slow = check_period("slow", slow)
        self.signal = check_period("signal", signal)
        if self.fast >= self.slow:
            raise ValueError(f"fast ({fast}) must be < slow ({slow})")
        self._k = (ema_k(self.fast), ema_k(self.slow), ema_k(self.signal))
        super().__init__(macd_size(self.fast, self.slow, self.signal))

    def update(self, close: float) -> tuple[float, float, float]:
        self._in[0][0] = _check(close, "close")
        _runs.macd_run(
            self._st, self.fast, self.slow, self.signal, *self._k, self._in[0], self._out
        )
        return self._multi()  # type: ignore[return-value]


class Bollinger(_Moon):
    """Bollinger bands -> (mid, upper, lower, %b). Warm-up: period - 1 bars."""

    _n_out = 4

    def __init__(self, period: int = 20, k: float = 2.0) -> None:
        self.period = check_period("period", period)
        if not (math.isfinite(k) and k > 0):
            raise ValueError(f"k must be finite and > 0, got {k!r}")
        self.k = float(k)
        super().__init__(bb_size(self.period))

    def update(self, close: float) -> tuple[float, float, float, float]:
        self._in[0][0] = _check(close, "close")
        _runs.bb_run(self._st, self.period, self.k, self._in[0], self._out)
        return self._multi()  # type: ignore[return-value]


class Atr(_Moon):
    """TA-Lib ATR (Wilder). Warm-up: period bars."""

    def __init__(self, period: int = 14) -> None:
        self.period = check_period("period", period)
        super().__init__(atr_size(self.period), 3)

    def update(self, high: float, low: float, close: float) -> float:
        self._in[0][0] = _check(high, "high")
        self._in[1][0] = _check(low, "low")
        self._in[2][0] = _check(close, "close")
        _runs.atr_run(self._st, self.period, *self._in, self._out)
        return self._single()


class RealizedVol(_Moon):
    """Annualized rolling std of log returns. Warm-up: window bars."""

    def __init__(self, window: int = 20, periods_per_year: int = 252) -> None:
        self.window = check_period("window", window)
        if periods_per_year <= 0:
            raise ValueError("periods_per_year must be > 0")
        self._sqrt_ppy = math.sqrt(periods_per_year)
        super().__init__(ret_size(self.window))

    def update(self, close: float) -> float:
        self._in[0][0] = _check(close, "close")
        _runs.realized_vol_run(self._st, self.window, self._sqrt_ppy, self._in[0], self._out)
        return self._single()


class RetZ(_Moon):
    """z-score of the last return within its rolling window. Warm-up: window bars."""

    def __init__(self, window: int = 20) -> None:
        self.window = check_period("window", window)
        super().__init__(ret_size(self.window))

    def update(self, close: float) -> float:
        self._in[0][0] = _check(close, "close")
        _runs.ret_z_run(self._st, self.window, self._in[0], self._out)
        return self._single()


class MaxDrawdown(_Moon):
    """Rolling max drawdown over the last ``window`` closes. Warm-up: window - 1 bars."""

    def __init__(self, window: int = 60) -> None:
        self.window = check_period("window", window)
        super().__init__(dd_size(self.window))

    def update(self, close: float) -> float:
        self._in[0][0] = _check(close, "close")
        _runs.dd_run(self._st, self.window, self._in[0], self._out)
        return self._single()


class VarCvar(_Moon):
    """Historical (var95, cvar95, var99, cvar99) of simple returns. Warm-up: window bars."""

    _n_out = 4

    def __init__(self, window: int = 250) -> None:
        self.window = check_period("window", window)
        self._k95, self._k99 = var_tail_counts(self.window)
        super().__init__(var_size(self.window))

    def update(self, close: float) -> tuple[float, float, float, float]:
        self._in[0][0] = _check(close, "close")
        _runs.var_run(self._st, self.window, self._k95, self._k99, self._in[0], self._out)
        return self._multi()  # type: ignore[return-value]


class Sharpe(_Moon):
    """Rolling annualized Sharpe ratio of simple returns. Warm-up: window bars."""

    def __init__(self, window: int = 60, periods_per_year: int = 252) -> None:
        self.window = check_period("window", window)
        if periods_per_year <= 0:
            raise ValueError("periods_per_year must be > 0")
        self._sqrt_ppy = math.sqrt(periods_per_year)
        super().__init__(ret_size(self.window))

    def update(self, close: float) -> float:
        self._in[0][0] = _check(close, "close")
        _runs.sharpe_run(self._st, self.window, self._sqrt_ppy, self._in[0], self._out)
        return self._single()


class BetaCorr(_Moon):
    """Rolling (beta, correlation) of returns vs a benchmark. Warm-up: window bars."""

    _n_out = 2

    def __init__(self, window: int = 60) -> None:
        self.window = check_period("window", window)
        super().__init__(beta_size(self.window), 2)

    def update(self, close: float, benchmark_close: float) -> tuple[float, float]:
        self._in[0][0] = _check(close, "close")
        self._in[1][0] = _check(benchmark_close, "benchmark_close")
        _runs.beta_run(self._st, self.window, self._in[0], self._in[1], self._out)
        return self._multi()  # type: ignore[return-value]


class VolumeZ(_Moon):
    """z-score of volume within its rolling window. Warm-up: window - 1 bars."""

    def __init__(self, window: int = 20) -> None:
        self.window = check_period("window", window)
        super().__init__(mom_size(self.window))

    def update(self, volume: float) -> float:
        self._in[0][0] = _check(volume, "volume", positive=False)
        _runs.volume_z_run(self._st, self.window, self._in[0], self._out)
        return self._single()
