"""The decision journal's records and a synchronous journal.

Records (bus payloads): ``journal_series`` (:class:`SeriesRecord`, each distinct bar history
once, by content hash) and ``decision_request`` (:class:`DecisionRequest`, one decision's
input referencing stored series by :class:`SeriesRef`). :class:`SyncJournal` appends to and
reads a :class:`~bus.Journal` (JSONL file or Redis stream) from synchronous code.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

import moons
from bus import (
    BarSeries,
    Envelope,
    Headline,
    Journal,
    JournalCheck,
    JsonlJournal,
    OrderBookSizes,
    RedisStreamJournal,
    register_payload,
    to_datetime,
)
from planets import RiskLimits
from planets.remote import EventLoopThread

SENDER = "journal"
DEFAULT_JOURNAL_KEY = "heliarch:journal"


# -- records -------------------------------------------------------------------------------


class SeriesRecord(BaseModel):
    """One bar history, stored once under its content hash."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    hash: str
    series: BarSeries


class SeriesRef(BaseModel):
    """The first ``rows`` bars of the history stored under ``hash``."""

    model_config = ConfigDict(frozen=True)

    hash: str
    rows: int = Field(ge=1)


class SunConfig(BaseModel):
    """What a replaying sun must be built with to decide the same way.

    ``backups`` are the labels of the backup model levels in order; ``planets`` and
    ``council`` the names of the planets and council variants the sun decided with.
    """

    model_config = ConfigDict(frozen=True)

    model: str
    llm_policy: str = "always"
    planet_mode: str = "inline"
    limits: RiskLimits = Field(default_factory=RiskLimits)
    trust_weights: dict[str, float] = Field(default_factory=dict)
    backups: tuple[str, ...] = ()
    planets: tuple[str, ...] = ()
    council: tuple[str, ...] = ()


class DecisionRequest(BaseModel):
    """The input of one decision, referencing stored series instead of repeating them."""

    model_config = ConfigDict(frozen=True)

    request_id: str
    as_of: datetime
    instrument: str | None = None
    position: float = 0.0
    bars: dict[str, SeriesRef]
    benchmark: SeriesRef | None = None
    headlines: tuple[Headline, ...] = ()
    order_books: dict[str, OrderBookSizes] = Field(default_factory=dict)
    sun: SunConfig


register_payload("journal_series", SeriesRecord)
register_payload("decision_request", DecisionRequest)


def series_hash(series: BarSeries) -> str:
    """Content hash of a bar history (instrument, timestamps and every OHLCV column)."""
    return moons.content_key(
        series.timestamps.view(np.int64),
        series.open,
        series.high,
        series.low,
        series.close,
        series.volume,
        params=series.instrument,
        namespace="heliarch.series/v1",
    )


def _columns(series: BarSeries) -> list[np.ndarray]:
    return [series.timestamps, series.open, series.high, series.low, series.close, series.volume]


def full_history(series: BarSeries) -> BarSeries:
    """The history ``series`` is a leading slice of (``BarSeries.up_to`` views share memory
    with it), or ``series`` itself. Lets a backtest store its history once."""
    columns = _columns(series)
    bases = [c.base for c in columns]
    length = {len(b) for b in bases if isinstance(b, np.ndarray)}
    usable = len(length) == 1 and all(
        isinstance(b, np.ndarray)
        and b.ndim == 1
        and b.dtype == c.dtype
        and b.strides == c.strides
        and b.__array_interface__["data"][0] == c.__array_interface__["data"][0]
        for b, c in zip(bases, columns, strict=True)
    )
    if not usable or next(iter(length)) <= len(series):
        return series
    ts, o, h, lo, c, v = (b for b in bases if isinstance(b, np.ndarray))
    return BarSeries.model_construct(
        instrument=series.instrument, timestamps=ts, open=o, high=h, low=lo, close=c, volume=v
    )


def _prefix(series: BarSeries, rows: int) -> BarSeries:
    if rows >= len(series):
        return series
    return series.up_to(to_datetime(series.timestamps[rows - 1]))


# -- the sync journal ----------------------------------------------------------------------


class SyncJournal:
    """A :class:`~bus.Journal` used from synchronous code (its own event-loop thread).

    Args:
        target: A journal, a JSONL path, or a Redis URL (``redis://...``: a stream at ``key``).
        key: The stream key for a Redis URL.
        secret: HMAC key the records are signed with and verified against (see
            :func:`bus.journal_secret`); ignored when ``target`` is a journal already.
    """

    def __init__(
        self,
        target: Journal | str | Path,
        *,
        key: str = DEFAULT_JOURNAL_KEY,
        secret: bytes | None = None,
    ) -> None:
        self._loop = EventLoopThread("heliarch-journal")
        if isinstance(target, Journal):
            self.journal = target
        elif str(target).startswith(("redis://", "rediss://", "unix://")):
            url = str(target)
            self.journal = self._loop.run(_redis_journal(url, key, secret), 30.0)
        else:
            self.journal = JsonlJournal(Path(target), secret=secret)
        self.secret = secret if secret is not None else getattr(self.journal, "secret", None)

    def append(self, envelope: Envelope) -> None:
        """Append one envelope (blocks until written)."""
        self._loop.run(self.journal.append(envelope), 30.0)

    def read_all(self) -> list[Envelope]:
        """Every envelope in append order."""
        return self._loop.run(self.journal.read_all(), 300.0)

    def verify(self) -> JournalCheck:
        """Every record, checked against the chain (and the HMAC key, if any)."""
        return self._loop.run(self.journal.verify(self.secret), 300.0)

    def close(self) -> None:
        """Close the journal and stop its loop thread."""
        try:
            self._loop.run(self.journal.close(), 30.0)
        finally:
            self._loop.stop()

    def __enter__(self) -> SyncJournal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


async def _redis_journal(url: str, key: str, secret: bytes | None) -> RedisStreamJournal:
    return RedisStreamJournal.from_url(url, key, secret=secret)
