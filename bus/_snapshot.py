"""MarketSnapshot: everything one decision may see, validated so nothing after ``as_of`` leaks in."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from bus._bars import BarSeries, to_datetime, to_datetime64
from bus._errors import DataValidationError
from bus._instrument import InstrumentId


def _naive_utc(value: datetime) -> datetime:
    return to_datetime(to_datetime64(value))


class Headline(BaseModel):
    """A piece of text published at ``timestamp``; treated strictly as data, never as instructions."""

    model_config = ConfigDict(frozen=True)

    timestamp: datetime
    text: str = Field(min_length=1, max_length=2000)
    instrument: InstrumentId | None = None
    source: str | None = None

    _normalize_time = field_validator("timestamp")(_naive_utc)


class OrderBookSizes(BaseModel):
    """Resting sizes per price level on each side of the book at ``timestamp``."""

    model_config = ConfigDict(frozen=True)

    timestamp: datetime
    bid_sizes: tuple[float, ...] = Field(min_length=1)
    ask_sizes: tuple[float, ...] = Field(min_length=1)

    _normalize_time = field_validator("timestamp")(_naive_utc)


class MarketSnapshot(BaseModel):
    """The market as seen at ``as_of``: bar histories, headlines and order-book sizes.

    Any row, headline or order-book entry stamped after ``as_of`` is rejected with a
    :class:`DataValidationError` (build snapshots with :meth:`at` to cut histories explicitly).
    """

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    as_of: datetime
    bars: dict[InstrumentId, BarSeries] = Field(min_length=1)
    headlines: tuple[Headline, ...] = ()
    order_books: dict[InstrumentId, OrderBookSizes] = Field(default_factory=dict)
    benchmark: BarSeries | None = None

    _normalize_time = field_validator("as_of")(_naive_utc)

    @model_validator(mode="after")
    def _no_look_ahead(self) -> MarketSnapshot:
        cutoff = to_datetime64(self.as_of)
        for key, series in self.bars.items():
            if key != series.instrument:
                raise DataValidationError(
                    instrument=series.instrument,
                    timestamp=None,
                    field=f"bars[{key!r}]",
                    reason=f"key does not match the series instrument {series.instrument!r}",
                )
            _reject_future_rows(series, cutoff, f"bars[{key!r}].timestamps")
        if self.benchmark is not None:
            _reject_future_rows(self.benchmark, cutoff, "benchmark.timestamps")
        for index, headline in enumerate(self.headlines):
            if headline.timestamp > self.as_of:
                raise DataValidationError(
                    instrument=headline.instrument,
                    timestamp=headline.timestamp,
                    field=f"headlines[{index}].timestamp",
                    reason=f"after the as-of time {self.as_of.isoformat()}",
                )
        for instrument, book in self.order_books.items():
            _check_book(instrument, book, self.as_of)
        return self

    @property
    def instruments(self) -> tuple[str, ...]:
        """Instrument names in insertion order."""
        return tuple(self.bars)

    def headlines_for(self, instrument: str) -> tuple[Headline, ...]:
        """Headlines tagged with ``instrument`` or untagged (market-wide)."""
        return tuple(h for h in self.headlines if h.instrument in (None, instrument))

    @classmethod
    def at(
        cls,
        as_of: datetime,
        history: Mapping[str, BarSeries],
        *,
        headlines: tuple[Headline, ...] | list[Headline] = (),
        order_books: Mapping[str, OrderBookSizes] | None = None,
        benchmark: BarSeries | None = None,
    ) -> MarketSnapshot:
        """Snapshot at ``as_of`` from full histories, cutting each explicitly at ``as_of``.

        Headlines published after ``as_of`` are excluded here by construction (they did not
        exist yet); passing them to the constructor directly is an error instead.
        """
        visible: dict[str, Any] = {name: series.up_to(as_of) for name, series in history.items()}
        as_of_naive = _naive_utc(as_of)
        return cls(
            as_of=as_of,
            bars=visible,
            headlines=tuple(h for h in headlines if h.timestamp <= as_of_naive),
            order_books=dict(order_books or {}),
            benchmark=benchmark.up_to(as_of) if benchmark is not None else None,
        )


def _reject_future_rows(series: BarSeries, cutoff: np.datetime64, field: str) -> None:
    future = series.timestamps > cutoff
    if future.any():
        index = int(np.flatnonzero(future)[0])
        raise DataValidationError(
            instrument=series.instrument,
            timestamp=to_datetime(series.timestamps[index]),
            field=field,
            reason="row is after the as-of time (look-ahead)",
        )


def _check_book(instrument: str, book: OrderBookSizes, as_of: datetime) -> None:
    if book.timestamp > as_of:
        raise DataValidationError(
            instrument=instrument,
            timestamp=book.timestamp,
            field=f"order_books[{instrument!r}].timestamp",
            reason=f"after the as-of time {as_of.isoformat()}",
        )
    for side in ("bid_sizes", "ask_sizes"):
        sizes = np.asarray(getattr(book, side), dtype=np.float64)
        bad = ~np.isfinite(sizes) | (sizes < 0)
        if bad.any():
            index = int(np.flatnonzero(bad)[0])
            raise DataValidationError(
                instrument=instrument,
                timestamp=book.timestamp,
                field=f"order_books[{instrument!r}].{side}[{index}]",
                reason=f"must be finite and >= 0 (got {sizes[index]!r})",
            )
