"""Incremental moons equal their batch functions from bar 0 on random series.

The per-moon check on the real data sets is in test_contract.py (one test id per moon).
"""

from __future__ import annotations

import numpy as np
from _helpers import assert_close
from hypothesis import given, settings
from hypothesis import strategies as st

from moons import MOONS, PanelSpec


def _inputs(name: str, high, low, close, volume, bench):
    if name == "atr":
        return (high, low, close)
    if name == "beta_corr":
        return (close, bench)
    if name == "volume_z":
        return (volume,)
    return (close,)


def _run_both(name: str, spec: PanelSpec, high, low, close, volume, bench):
    moon = MOONS[name]
    kwargs = moon.kwargs(spec)
    inputs = _inputs(name, high, low, close, volume, bench)
    ref = moon.batch(*inputs, **kwargs)
    ref = np.column_stack(ref) if isinstance(ref, tuple) else ref[:, None]
    inc = moon.incremental(**kwargs)
    got = np.array([np.atleast_1d(inc.update(*bar)) for bar in zip(*inputs, strict=True)])
    return got.reshape(ref.shape), ref


def test_incremental_reset_starts_over(goog):
    inc = MOONS["rsi"].incremental(period=5)
    first = [inc.update(x) for x in goog.close[:30]]
    inc.reset()
    again = [inc.update(x) for x in goog.close[:30]]
    np.testing.assert_array_equal(first, again)


positive_series = st.lists(
    st.floats(min_value=0.5, max_value=2.0, allow_nan=False), min_size=0, max_size=120
)


@settings(max_examples=25, deadline=None)
@given(
    moves=positive_series,
    period=st.integers(min_value=2, max_value=12),
    name=st.sampled_from(sorted(MOONS)),
)
def test_incremental_equals_batch_random(moves, period, name):
    close = 10.0 * np.cumprod(np.asarray(moves, dtype=float) ** 0.1) if moves else np.empty(0)
    high, low = close * 1.01, close * 0.99
    volume = np.round(close * 1000.0) % 7  # repeats and zeros on purpose
    bench = np.sqrt(close) + 1.0
    spec = PanelSpec(
        sma_period=period, ema_period=period, rsi_period=period, macd_fast=period,
        macd_slow=period + 3, macd_signal=period, bb_period=period, atr_period=period,
        vol_window=period, ret_z_window=period, dd_window=period, var_window=period * 3,
        sharpe_window=period, beta_window=period, volume_z_window=period,
    )  # fmt: skip
    got, ref = _run_both(name, spec, high, low, close, volume, bench)
    assert_close(got, ref, rtol=0.0, name=name)
    warm = MOONS[name].warmup(spec)
    assert np.isnan(ref[: min(warm, ref.shape[0])]).all()
