"""What a planet may see of one decision: built in one place for the fan-out, the council and
the execution planet."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bus import MarketSnapshot
from planets import PlanetContext
from sun._context import SunContext
from sun._state import SunState


def planet_view(snapshot: MarketSnapshot, instrument: str) -> MarketSnapshot:
    """The part of the snapshot a planet reads: its instrument's last bar, headlines, book."""
    series = snapshot.bars[instrument]
    return snapshot.model_copy(
        update={
            "bars": {instrument: series.tail(1)},
            "headlines": snapshot.headlines_for(instrument),
            "order_books": {k: v for k, v in snapshot.order_books.items() if k == instrument},
            "benchmark": None,
        }
    )


def recent_view(snapshot: MarketSnapshot) -> MarketSnapshot:
    """The snapshot with each history cut to its last bar (headlines and books kept)."""
    return snapshot.model_copy(
        update={
            "bars": {name: series.tail(1) for name, series in snapshot.bars.items()},
            "benchmark": snapshot.benchmark.tail(1) if snapshot.benchmark is not None else None,
        }
    )


def planet_context(
    state: SunState, context: SunContext, params: Mapping[str, Any] | None = None
) -> PlanetContext:
    """The :class:`PlanetContext` of this decision's instrument (``params`` from the route)."""
    instrument, snapshot = state["instrument"], state["snapshot"]
    return PlanetContext(
        instrument=instrument,
        as_of=snapshot.as_of,
        moons=state["panel"].for_instrument(instrument),
        snapshot=planet_view(snapshot, instrument),
        limits=context.limits,
        params=params or {},
    )
