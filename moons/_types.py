"""Value types of the moon tier: OHLCV history and the panel parameter set."""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

PANEL_COLUMNS: tuple[str, ...] = (
    "sma",
    "ema",
    "rsi",
    "macd",
    "macd_signal",
    "macd_hist",
    "bb_mid",
    "bb_upper",
    "bb_lower",
    "bb_pctb",
    "atr",
    "realized_vol",
    "ret_z",
    "max_drawdown",
    "var95",
    "cvar95",
    "var99",
    "cvar99",
    "sharpe",
    "beta",
    "correlation",
    "volume_z",
)


class Columns(tuple):
    """Tuple of column names that may also be called (``spec.columns()``) for convenience."""

    __slots__ = ()

    def __call__(self) -> tuple[str, ...]:
        return tuple(self)


def as_price_array(values: object, name: str, *, positive: bool) -> np.ndarray:
    """Convert to a read-only contiguous 1-D float64 array; raise ValueError on bad values."""
    arr = np.asarray(values)
    if arr.dtype != np.float64 or arr.flags.writeable or not arr.flags.c_contiguous:
        arr = np.array(arr, dtype=np.float64, order="C")  # own copy: callers keep theirs
    if arr.ndim != 1:
        raise ValueError(f"{name}: expected a 1-D array, got shape {arr.shape}")
    bad = ~np.isfinite(arr)
    if positive:
        bad |= arr <= 0.0
    else:
        bad |= arr < 0.0
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        need = "finite and > 0" if positive else "finite and >= 0"
        raise ValueError(f"{name}[{i}] = {arr[i]!r}: values must be {need}")
    arr.flags.writeable = False
    return arr


@dataclass(frozen=True, eq=False)
class Ohlcv:
    """OHLCV history of one instrument, oldest bar first.

    Arrays are converted to read-only float64. Prices must be finite and > 0 (returns and
    drawdowns divide by them), volume finite and >= 0, all of the same length.
    """

    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray

    def __post_init__(self) -> None:
        n = None
        for f in fields(self):
            arr = as_price_array(getattr(self, f.name), f.name, positive=f.name != "volume")
            object.__setattr__(self, f.name, arr)
            if n is None:
                n = arr.shape[0]
            elif arr.shape[0] != n:
                raise ValueError(f"{f.name}: length {arr.shape[0]} != open length {n}")

    def __len__(self) -> int:
        return int(self.close.shape[0])

    @classmethod
    def from_frame(cls, frame: object) -> Ohlcv:
        """Build from a pandas DataFrame with Open/High/Low/Close/Volume columns (any case)."""
        cols = {str(c).lower(): c for c in frame.columns}  # type: ignore[attr-defined]
        return cls(*(frame[cols[k]].to_numpy() for k in ("open", "high", "low", "close", "volume")))  # type: ignore[index]

    def tail(self, n: int) -> Ohlcv:
        """The last ``n`` bars."""
        return Ohlcv(*(getattr(self, f.name)[-n:] for f in fields(self)))


@dataclass(frozen=True)
class PanelSpec:
    """Parameters of the moon panel (hashable, so usable as a cache-key part)."""

    sma_period: int = 20
    ema_period: int = 20
    rsi_period: int = 14
    macd_fast: int = 12
    macd_slow: int = 26
    macd_signal: int = 9
    bb_period: int = 20
    bb_k: float = 2.0
    atr_period: int = 14
    vol_window: int = 20
    periods_per_year: int = 252
    ret_z_window: int = 20
    dd_window: int = 60
    var_window: int = 250
    sharpe_window: int = 60
    beta_window: int = 60
    volume_z_window: int = 20

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "bb_k":
                if not (isinstance(value, int | float) and np.isfinite(value) and value > 0):
                    raise ValueError(f"bb_k must be a finite number > 0, got {value!r}")
                continue
            if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 2:
                raise ValueError(f"{f.name} must be an int >= 2, got {value!r}")
        if self.macd_fast >= self.macd_slow:
            raise ValueError(f"macd_fast ({self.macd_fast}) must be < macd_slow ({self.macd_slow})")

    @property
    def columns(self) -> Columns:
        """Output column names in their stable order (``spec.columns`` or ``spec.columns()``)."""
        return Columns(PANEL_COLUMNS)


DEFAULT_PANEL = PanelSpec()


def panel_columns(spec: PanelSpec = DEFAULT_PANEL) -> tuple[str, ...]:
    """Output column names of the panel for ``spec``, in stable order."""
    return PANEL_COLUMNS
