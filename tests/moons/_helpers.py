"""Shared assertions for the moon tests."""

from __future__ import annotations

import numpy as np


def assert_close(actual, expected, rtol: float = 1e-9, atol: float = 0.0, name: str = "") -> None:
    """NaN positions equal, finite values within rtol (relative to expected) + atol."""
    a = np.asarray(actual, dtype=float)
    e = np.asarray(expected, dtype=float)
    assert a.shape == e.shape, f"{name}: shape {a.shape} != {e.shape}"
    nan_a, nan_e = np.isnan(a), np.isnan(e)
    if not np.array_equal(nan_a, nan_e):
        i = int(np.flatnonzero(nan_a != nan_e)[0])
        raise AssertionError(f"{name}: NaN mismatch at {i}: {a[i]} vs {e[i]}")
    m = ~nan_e
    err = np.abs(a[m] - e[m])
    tol = atol + rtol * np.abs(e[m])
    if np.any(err > tol):
        i = int(np.argmax(err - tol))
        raise AssertionError(f"{name}: {a[m][i]} vs {e[m][i]} (abs err {err[i]:.3e})")


def synthetic_benchmark(close: np.ndarray, seed: int = 7) -> np.ndarray:
    """A positive benchmark series correlated with ``close`` (deterministic)."""
    rng = np.random.default_rng(seed)
    r = np.diff(close) / close[:-1]
    rb = 0.6 * r + 0.01 * rng.standard_normal(r.shape[0])
    return 100.0 * np.concatenate([[1.0], np.cumprod(1.0 + rb)])
