"""The Redis Streams transport: the bus (priority lanes, consumer groups, dead letters,
backpressure), its key layout, and the hash-chained decision journal kept in a stream.

The names load on first use, so importing :mod:`bus` needs no Redis client.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bus._lazy import lazy_names

if TYPE_CHECKING:
    from bus.redis_streams._bus import RedisBus
    from bus.redis_streams._journal import RedisStreamJournal
    from bus.redis_streams._keys import RedisKeys

__all__ = ["RedisBus", "RedisKeys", "RedisStreamJournal"]

__getattr__ = lazy_names(
    "bus.redis_streams",
    {
        "RedisBus": "bus.redis_streams._bus",
        "RedisKeys": "bus.redis_streams._keys",
        "RedisStreamJournal": "bus.redis_streams._journal",
    },
)
