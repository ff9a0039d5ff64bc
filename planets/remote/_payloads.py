"""The wire payloads of remote planets: what the sun sends a planet worker and gets back.

:class:`PlanetRequest` carries a :class:`~planets.PlanetContext` (its snapshot as
:class:`SeriesPayload` bar series); a worker answers with a :class:`~bus.PlanetReport`, an
:class:`OrderIntentReply` or, when the planet raised, a :class:`PlanetFailure`.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from bus import (
    BarSeries,
    Headline,
    MarketSnapshot,
    OrderBookSizes,
    OrderIntent,
    register_payload,
)
from planets import PlanetContext, RiskLimits


class SeriesPayload(BaseModel):
    """A bar series on the wire with integer timestamps (ns since the epoch).

    Cheaper to validate than :class:`~bus.BarSeries`' ISO strings; rebuilt into a validated
    :class:`~bus.BarSeries` on the worker.
    """

    model_config = ConfigDict(frozen=True)

    instrument: str
    timestamps_ns: list[int]
    open: list[float]
    high: list[float]
    low: list[float]
    close: list[float]
    volume: list[float]

    @classmethod
    def of(cls, series: BarSeries) -> SeriesPayload:
        """The payload of ``series``."""
        return cls(
            instrument=series.instrument,
            timestamps_ns=series.timestamps.astype("datetime64[ns]").view(np.int64).tolist(),
            open=series.open.tolist(),
            high=series.high.tolist(),
            low=series.low.tolist(),
            close=series.close.tolist(),
            volume=series.volume.tolist(),
        )

    def series(self) -> BarSeries:
        """The validated :class:`~bus.BarSeries`."""
        return BarSeries(
            instrument=self.instrument,
            timestamps=np.array(self.timestamps_ns, dtype=np.int64).view("datetime64[ns]"),
            open=self.open,
            high=self.high,
            low=self.low,
            close=self.close,
            volume=self.volume,
        )


class PlanetRequest(BaseModel):
    """A planet consultation on the wire: the :class:`PlanetContext` plus what to do with it.

    ``moons`` maps NaN (warming up) to ``None`` because JSON has no NaN; the worker maps it
    back, so the planet sees exactly what it would see in process. The snapshot view travels
    as its parts (bars, headlines, order books, benchmark). ``deadline_unix`` lets a worker
    drop requests whose sender has already given up (e.g. after a worker outage).
    """

    model_config = ConfigDict(frozen=True)

    op: Literal["report", "order_intent"] = "report"
    planet: str = Field(min_length=1)
    instrument: str = Field(min_length=1)
    as_of: datetime
    moons: dict[str, float | None]
    snapshot_as_of: datetime
    bars: dict[str, SeriesPayload]
    headlines: tuple[Headline, ...] = ()
    order_books: dict[str, OrderBookSizes] = Field(default_factory=dict)
    benchmark: SeriesPayload | None = None
    limits: RiskLimits = Field(default_factory=RiskLimits)
    params: dict[str, Any] = Field(default_factory=dict)
    target_position: float = 0.0
    current_position: float = 0.0
    deadline_unix: float | None = None

    @classmethod
    def from_context(cls, planet: str, context: PlanetContext, **fields: Any) -> PlanetRequest:
        """The request for ``context`` (NaN moons become ``None``)."""
        moons = {
            k: (float(v) if v is not None and math.isfinite(v) else None)
            for k, v in context.moons.items()
        }
        snapshot = context.snapshot
        return cls(
            planet=planet,
            instrument=context.instrument,
            as_of=context.as_of,
            moons=moons,
            snapshot_as_of=snapshot.as_of,
            bars={name: SeriesPayload.of(series) for name, series in snapshot.bars.items()},
            headlines=snapshot.headlines,
            order_books=dict(snapshot.order_books),
            benchmark=SeriesPayload.of(snapshot.benchmark) if snapshot.benchmark else None,
            limits=context.limits,
            params=dict(context.params),
            **fields,
        )

    def context(self) -> PlanetContext:
        """The :class:`PlanetContext` the planet runs on (``None`` moons back to NaN)."""
        snapshot = MarketSnapshot(
            as_of=self.snapshot_as_of,
            bars={name: payload.series() for name, payload in self.bars.items()},
            headlines=self.headlines,
            order_books=dict(self.order_books),
            benchmark=self.benchmark.series() if self.benchmark is not None else None,
        )
        return PlanetContext(
            instrument=self.instrument,
            as_of=self.as_of,
            moons={k: (math.nan if v is None else v) for k, v in self.moons.items()},
            snapshot=snapshot,
            limits=self.limits,
            params=self.params,
        )


class PlanetFailure(BaseModel):
    """A worker's answer when the planet raised: the error, so the sun fails fast."""

    model_config = ConfigDict(frozen=True)

    planet: str
    error: str


class OrderIntentReply(BaseModel):
    """The execution planet's order intent (``None``: no order needed)."""

    model_config = ConfigDict(frozen=True)

    intent: OrderIntent | None = None


register_payload("planet_request", PlanetRequest)
register_payload("planet_failure", PlanetFailure)
register_payload("order_intent_reply", OrderIntentReply)
