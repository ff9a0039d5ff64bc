"""Settings of a shard pool and the tick message its coordinator publishes."""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from bus import BusConfig, InstrumentId, register_payload
from sun.universe import PortfolioLimits


@dataclass(frozen=True)
class ShardConfig:
    """Timing of a shard pool (workers and coordinator must agree on it).

    Attributes:
        heartbeat_s: How often a worker renews its membership.
        member_ttl_s: A worker whose last heartbeat is older is dead (its instruments move).
        claim_ttl_s: A claim on (tick, instrument) not committed within this is up for
            takeover by the instrument's current owner.
        vnodes: Virtual nodes per worker on the hash ring.
        poll_s: How often a worker re-checks a tick it waits on (others' instruments).
        tick_timeout_s: A tick not complete after this is abandoned (workers drop it,
            the coordinator raises naming the missing instruments).
        keep_s: How long the record of decided (tick, instrument) pairs is kept.
    """

    heartbeat_s: float = 1.0
    member_ttl_s: float = 3.0
    claim_ttl_s: float = 5.0
    vnodes: int = 64
    poll_s: float = 0.05
    tick_timeout_s: float = 60.0
    keep_s: int = 24 * 3600

    def __post_init__(self) -> None:
        for item in fields(self):
            value = getattr(self, item.name)
            if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
                raise ValueError(
                    f"ShardConfig.{item.name} must be a positive number, got {value!r}"
                )
        if self.member_ttl_s <= self.heartbeat_s:
            raise ValueError("ShardConfig.member_ttl_s must exceed heartbeat_s")
        if self.keep_s <= self.tick_timeout_s:
            raise ValueError("ShardConfig.keep_s must exceed tick_timeout_s")

    @property
    def record_s(self) -> int:
        """How long a tick's published decisions are kept for a coordinator taking it over
        (two tick timeouts: a tick is over by then, complete or abandoned)."""
        return math.ceil(2 * self.tick_timeout_s)

    @property
    def lease_ttl_s(self) -> float:
        """The coordinator's lease: renewed every heartbeat, lost after ``member_ttl_s``."""
        return self.member_ttl_s

    def bus_config(self) -> BusConfig:
        """Bus settings for a pool's buses: idempotency keys (one per decision) are kept
        for two tick timeouts, not the bus's default week (a duplicate can only arrive
        while its tick is open; the commit script already publishes each decision once)."""
        return BusConfig(idempotency_ttl_s=math.ceil(2 * self.tick_timeout_s))


class ShardTick(BaseModel):
    """One tick of a sharded universe: decide ``instruments`` as of ``as_of``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    tick: str = Field(min_length=1, max_length=96, pattern=r"^[A-Za-z0-9_.:\-]+$")
    as_of: datetime
    instruments: tuple[InstrumentId, ...] = Field(min_length=1)
    positions: dict[InstrumentId, Annotated[float, Field(allow_inf_nan=False)]] = Field(
        default_factory=dict
    )
    deadline_unix: float = Field(description="workers drop the tick after this (their clock)")
    portfolio: PortfolioLimits | None = Field(
        default=None,
        description="limits across the whole universe: each pass applies its share of them",
    )


register_payload("shard_tick", ShardTick)
