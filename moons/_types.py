"""Value types of the moon tier: OHLCV history and validated price arrays."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any, SupportsFloat

import numpy as np


class Columns(tuple):
    """Tuple of column names that may also be called (``spec.columns()``) for convenience."""

    __slots__ = ()

    def __call__(self) -> tuple[str, ...]:
        return tuple(self)


PRICE_MIN = 1e-12
PRICE_MAX = 1e12
VOLUME_MAX = 1e18
"""Accepted ranges at the moons boundary: prices in [PRICE_MIN, PRICE_MAX], volumes in
[0, VOLUME_MAX]. Returns then stay below 1e24 and their squares below 1e48, far from
overflow in any kernel; anything outside is a data error, not a market move."""


def value_range(name: str) -> tuple[float, float]:
    """Accepted [low, high] of a bar field (volume may be 0; prices must be > 0)."""
    return (0.0, VOLUME_MAX) if name == "volume" else (PRICE_MIN, PRICE_MAX)


def _range_text(name: str) -> str:
    low, high = value_range(name)
    return f"finite and in [{low:g}, {high:g}]"


def as_price_array(values: object, name: str) -> np.ndarray:
    """Convert to a read-only contiguous 1-D float64 array; raise ValueError on bad values.

    ``name`` (a bar field) picks the accepted range, see ``value_range``.
    """
    arr = np.asarray(values)
    if arr.dtype != np.float64 or arr.flags.writeable or not arr.flags.c_contiguous:
        arr = np.array(arr, dtype=np.float64, order="C")  # own copy: callers keep theirs
    if arr.ndim != 1:
        raise ValueError(f"{name}: expected a 1-D array, got shape {arr.shape}")
    low, high = value_range(name)
    bad = ~((arr >= low) & (arr <= high))  # NaN compares False: rejected too
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(f"{name}[{i}] = {float(arr[i])!r}: values must be {_range_text(name)}")
    arr.flags.writeable = False
    return arr


def check_value(value: SupportsFloat, name: str) -> float:
    """One bar field as a float in its accepted range (``value_range``); ValueError otherwise."""
    x = float(value)
    low, high = value_range(name)
    if not (low <= x <= high):
        raise ValueError(f"{name} = {value!r}: must be {_range_text(name)}")
    return x


def _bar_rule_failure(fields: Mapping[str, Any]) -> tuple[str, np.ndarray, str] | None:
    """The first OHLC rule broken (field, bad mask, reason), as bus.BarSeries orders them."""
    body = [fields[n] for n in ("open", "close") if n in fields]
    if not body:
        return None
    top, bottom = functools.reduce(np.maximum, body), functools.reduce(np.minimum, body)
    what = "max(open, close)" if len(body) == 2 else "close"
    if "high" in fields:
        bad = np.asarray(fields["high"] < top)
        if bad.any():
            return "high", bad, f"is below {what}"
    if "low" in fields:
        bad = np.asarray(fields["low"] > bottom)
        if bad.any():
            return "low", bad, f"is above {what.replace('max', 'min')}"
    return None


def check_bar_rules(fields: Mapping[str, Any]) -> None:
    """The OHLC rules of ``bus.BarSeries`` on whichever of the fields are given.

    high >= max(open, close) and low <= min(open, close) (so high >= low), checked high
    first; arrays name the first bad index. Fields must already be range-checked.
    """
    failure = _bar_rule_failure(fields)
    if failure is None:
        return
    name, bad, reason = failure
    value = fields[name]
    if bad.ndim == 0:
        raise ValueError(f"{name} = {float(value)!r} {reason}")
    i = int(np.flatnonzero(bad)[0])
    raise ValueError(f"{name}[{i}] = {float(value[i])!r} {reason}")


@dataclass(frozen=True, eq=False)
class Ohlcv:
    """OHLCV history of one instrument, oldest bar first.

    Arrays are converted to read-only float64, all of the same length. Prices must lie in
    [PRICE_MIN, PRICE_MAX] (returns and drawdowns divide by them), volume in [0, VOLUME_MAX],
    and every bar must satisfy bus.BarSeries's rules high >= max(open, close) and
    low <= min(open, close). ValueError names the field and the first bad index.
    """

    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray

    def __post_init__(self) -> None:
        n = None
        for f in fields(self):
            arr = as_price_array(getattr(self, f.name), f.name)
            object.__setattr__(self, f.name, arr)
            if n is None:
                n = arr.shape[0]
            elif arr.shape[0] != n:
                raise ValueError(f"{f.name}: length {arr.shape[0]} != open length {n}")
        check_bar_rules({f.name: getattr(self, f.name) for f in fields(self)})

    def __len__(self) -> int:
        return int(self.close.shape[0])

    @classmethod
    def from_frame(cls, frame: Any) -> Ohlcv:
        """Build from a pandas DataFrame with Open/High/Low/Close/Volume columns (any case)."""
        cols = {str(c).lower(): c for c in frame.columns}
        return cls(*(frame[cols[k]].to_numpy() for k in ("open", "high", "low", "close", "volume")))

    def tail(self, n: int) -> Ohlcv:
        """The last ``n`` bars."""
        return Ohlcv(*(getattr(self, f.name)[-n:] for f in fields(self)))
