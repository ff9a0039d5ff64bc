"""OHLCV bar series: an immutable, validated columnar history for one instrument."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import numpy as np
import pandas as pd
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    PlainSerializer,
    ValidationInfo,
    field_validator,
    model_validator,
)

from bus._errors import DataValidationError
from bus._instrument import InstrumentId, instrument_id

PRICE_FIELDS = ("open", "high", "low", "close")


def _to_float_array(value: Any) -> np.ndarray:
    array = np.array(value, dtype=np.float64, copy=True)
    if array.ndim != 1:
        raise ValueError(f"expected a 1-D array, got shape {array.shape}")
    array.setflags(write=False)
    return array


def _to_time_array(value: Any) -> np.ndarray:
    array = np.array(pd.to_datetime(np.asarray(value)), dtype="datetime64[ns]", copy=True)
    if array.ndim != 1:
        raise ValueError(f"expected a 1-D array of timestamps, got shape {array.shape}")
    array.setflags(write=False)
    return array


FloatArray = Annotated[
    np.ndarray,
    BeforeValidator(_to_float_array),
    PlainSerializer(lambda a: a.tolist(), return_type=list),
]
TimeArray = Annotated[
    np.ndarray,
    BeforeValidator(_to_time_array),
    PlainSerializer(
        lambda a: [str(t) for t in np.datetime_as_string(a, unit="us")], return_type=list
    ),
]


def to_datetime(value: np.datetime64) -> datetime:
    """Convert a numpy timestamp to a naive ``datetime`` (microsecond precision)."""
    return pd.Timestamp(value).to_pydatetime()


def to_datetime64(value: datetime) -> np.datetime64:
    """Convert a ``datetime`` (naive, or aware -> UTC naive) to ``datetime64[ns]``.

    Raises:
        ValueError: naming the time when it is outside the nanosecond range (1677..2262),
            which would otherwise wrap around silently to another date.
    """
    stamp = pd.Timestamp(value)
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert("UTC").tz_localize(None)
    if not pd.Timestamp.min <= stamp <= pd.Timestamp.max:
        raise ValueError(
            f"time {stamp.isoformat()} is outside the supported range "
            f"{pd.Timestamp.min.isoformat()} .. {pd.Timestamp.max.isoformat()}"
        )
    return np.datetime64(stamp.to_datetime64(), "ns")


class BarSeries(BaseModel):
    """OHLCV history of one instrument, oldest first.

    Validated on construction: prices finite and positive, ``high >= max(open, close)``,
    ``low <= min(open, close)``, volume finite and ``>= 0``, timestamps strictly increasing.
    The first violation raises :class:`DataValidationError` naming instrument, timestamp
    and field; so does an invalid instrument identifier (see :func:`bus.instrument_id`).
    Nothing is dropped, repaired or defaulted. Arrays are read-only.
    """

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    instrument: InstrumentId
    timestamps: TimeArray
    open: FloatArray
    high: FloatArray
    low: FloatArray
    close: FloatArray
    volume: FloatArray

    @field_validator("instrument", mode="before")
    @classmethod
    def _valid_instrument(cls, value: object) -> str:
        return checked_instrument(value)

    @model_validator(mode="after")
    def _validate_rows(self, info: ValidationInfo) -> BarSeries:
        n = len(self.timestamps)
        for name in (*PRICE_FIELDS, "volume"):
            if len(getattr(self, name)) != n:
                raise DataValidationError(
                    instrument=self.instrument,
                    timestamp=None,
                    field=name,
                    reason=f"length {len(getattr(self, name))} != {n} timestamps",
                )
        if n == 0:
            raise DataValidationError(
                instrument=self.instrument, timestamp=None, field="timestamps", reason="no bars"
            )
        self._check_timestamps(int((info.context or {}).get("first_row", 0)))
        for name in PRICE_FIELDS:
            values = getattr(self, name)
            self._fail_first(~np.isfinite(values), name, "must be finite", values)
            self._fail_first(values <= 0.0, name, "must be positive", values)
        self._fail_first(~np.isfinite(self.volume), "volume", "must be finite", self.volume)
        self._fail_first(self.volume < 0.0, "volume", "must be >= 0", self.volume)
        body_top = np.maximum(self.open, self.close)
        body_bottom = np.minimum(self.open, self.close)
        self._fail_first(self.high < body_top, "high", "is below max(open, close)", self.high)
        self._fail_first(self.low > body_bottom, "low", "is above min(open, close)", self.low)
        return self

    def _check_timestamps(self, first_row: int) -> None:
        """NaT or non-increasing timestamps raise; rows are numbered from ``first_row``."""
        stamps = self.timestamps
        if np.isnat(stamps).any():
            index = int(np.flatnonzero(np.isnat(stamps))[0])
            raise DataValidationError(
                instrument=self.instrument,
                timestamp=None,
                field="timestamps",
                reason=f"row {first_row + index} has no timestamp",
            )
        if len(stamps) > 1:
            not_increasing = np.flatnonzero(np.diff(stamps) <= np.timedelta64(0, "ns"))
            if len(not_increasing):
                index = int(not_increasing[0]) + 1
                raise DataValidationError(
                    instrument=self.instrument,
                    timestamp=to_datetime(stamps[index]),
                    field="timestamps",
                    reason=(
                        f"not strictly increasing (row {first_row + index} follows "
                        f"{np.datetime_as_string(stamps[index - 1], unit='s')})"
                    ),
                )

    def _fail_first(self, bad: np.ndarray, field: str, reason: str, values: np.ndarray) -> None:
        if bad.any():
            index = int(np.flatnonzero(bad)[0])
            raise DataValidationError(
                instrument=self.instrument,
                timestamp=to_datetime(self.timestamps[index]),
                field=field,
                reason=f"{reason} (got {values[index]!r})",
            )

    def __len__(self) -> int:
        return len(self.timestamps)

    @property
    def last_timestamp(self) -> datetime:
        """Timestamp of the newest bar."""
        return to_datetime(self.timestamps[-1])

    @property
    def first_timestamp(self) -> datetime:
        """Timestamp of the oldest bar."""
        return to_datetime(self.timestamps[0])

    def span(self) -> str:
        """``'<instrument> has bars from <first> to <last>'``, for error messages."""
        first, last = self.first_timestamp.isoformat(), self.last_timestamp.isoformat()
        return f"{self.instrument} has bars from {first} to {last}"

    def check_within(self, label: str, stamp: datetime) -> datetime:
        """``stamp`` if it lies within the bars (a time outside them is an error, not a guess).

        Raises:
            ValueError: naming ``label``, the time and the data's range.
        """
        if stamp < self.first_timestamp:
            raise ValueError(f"{label} {stamp.isoformat()} is before the first bar ({self.span()})")
        if stamp > self.last_timestamp:
            raise ValueError(f"{label} {stamp.isoformat()} is after the last bar ({self.span()})")
        return stamp

    def up_to(self, as_of: datetime) -> BarSeries:
        """Return the explicit prefix of bars with timestamp <= ``as_of`` (no look-ahead).

        Raises:
            DataValidationError: if no bar is at or before ``as_of``.
        """
        cutoff = int(np.searchsorted(self.timestamps, to_datetime64(as_of), side="right"))
        if cutoff == 0:
            raise DataValidationError(
                instrument=self.instrument,
                timestamp=as_of,
                field="timestamps",
                reason="no bar at or before the as-of time",
            )
        if cutoff == len(self):
            return self
        return self._slice(0, cutoff)

    def _slice(self, start: int, stop: int) -> BarSeries:
        return BarSeries.model_construct(
            instrument=self.instrument,
            timestamps=self.timestamps[start:stop],
            open=self.open[start:stop],
            high=self.high[start:stop],
            low=self.low[start:stop],
            close=self.close[start:stop],
            volume=self.volume[start:stop],
        )

    def tail(self, count: int) -> BarSeries:
        """Return the newest ``count`` bars (already validated; no copy)."""
        return self._slice(max(0, len(self) - count), len(self))

    @classmethod
    def from_dataframe(cls, frame: pd.DataFrame, instrument: str) -> BarSeries:
        """Build from a DataFrame indexed by timestamp with open/high/low/close/volume columns.

        Column names are matched case-insensitively. Missing columns, cells that are not
        numbers and unreadable timestamps raise :class:`DataValidationError`; values are
        validated, never repaired.
        """
        instrument = checked_instrument(instrument)
        return cls(instrument=instrument, **frame_arrays(frame, instrument))


def checked_instrument(value: object) -> str:
    """``value`` as an instrument identifier, else :class:`DataValidationError` naming it."""
    try:
        return instrument_id(value)
    except ValueError as error:
        raise DataValidationError(
            instrument=None, timestamp=None, field="instrument", reason=str(error)
        ) from None


def frame_arrays(frame: pd.DataFrame, instrument: str, first_row: int = 0) -> dict[str, Any]:
    """Timestamps and OHLCV of ``frame`` as arrays; ``first_row`` numbers its rows in errors."""
    columns = {str(c).lower(): c for c in frame.columns}
    arrays: dict[str, Any] = {}
    for name in (*PRICE_FIELDS, "volume"):
        if name not in columns:
            raise DataValidationError(
                instrument=instrument,
                timestamp=None,
                field=name,
                reason=f"column missing (have {list(frame.columns)})",
            )
        arrays[name] = _numeric_column(frame, columns[name], name, instrument, first_row)
    arrays["timestamps"] = _timestamps(frame, instrument, first_row)
    return arrays


def _numeric_column(
    frame: pd.DataFrame, column: Any, name: str, instrument: str, first_row: int = 0
) -> np.ndarray:
    """One column as float64; a cell that is not a number raises naming row and value."""
    values = frame[column]
    numbers = pd.to_numeric(values, errors="coerce")
    bad = np.flatnonzero(numbers.isna().to_numpy() & values.notna().to_numpy())
    if len(bad):
        row = int(bad[0])
        raise DataValidationError(
            instrument=instrument,
            timestamp=None,
            field=name,
            reason=(
                f"row {first_row + row} (index {frame.index[row]!r}), column {str(column)!r}: "
                f"value {values.iloc[row]!r} is not a number"
            ),
        )
    return numbers.to_numpy(dtype=np.float64, na_value=np.nan)


def _timestamps(frame: pd.DataFrame, instrument: str, first_row: int = 0) -> np.ndarray:
    """The index as timestamps; an unreadable one raises naming its row and value."""
    try:
        return pd.to_datetime(frame.index).to_numpy()
    except (ValueError, TypeError, OverflowError) as error:
        reason = " ".join(str(error).split())
        for row, label in enumerate(frame.index):
            try:
                pd.to_datetime([label])
            except (ValueError, TypeError, OverflowError):
                reason = f"row {first_row + row}: value {label!r} is not a timestamp"
                break
        raise DataValidationError(
            instrument=instrument, timestamp=None, field="timestamps", reason=reason
        ) from error
