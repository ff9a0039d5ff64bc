"""Names of the Redis keys of the Redis Streams backend (no Redis client needed).

Key layout under ``prefix`` (default ``heliarch:``):

- ``bus:<recipient>:lane<0..3>`` data lanes, ``bus:<recipient>:control`` control plane
- ``bus:<reply address>:inbox`` reply inbox of one bus instance (request/reply)
- ``bus:dead`` dead-letter stream, ``bus:recipients`` set of subscribed recipients
- ``bus:idem:<recipient>:<group>:<key>`` applied idempotency keys (with TTL)
"""

from __future__ import annotations

from bus._envelope import PRIORITIES, REPLY_PREFIX


class RedisKeys:
    """Names of every key the backend uses under one prefix."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix

    def lane(self, recipient: str, priority: int) -> str:
        """Data lane of ``recipient`` for ``priority`` (reply addresses map to the inbox)."""
        if recipient.startswith(REPLY_PREFIX):
            return self.inbox(recipient)
        return f"{self.prefix}bus:{recipient}:lane{int(priority)}"

    def control(self, recipient: str) -> str:
        """Control-plane stream of ``recipient``."""
        return f"{self.prefix}bus:{recipient}:control"

    def inbox(self, address: str) -> str:
        """Reply inbox stream of one bus instance."""
        return f"{self.prefix}bus:{address}:inbox"

    def errors(self, stream: str) -> str:
        """Hash of the last handler error per pending entry of ``stream``."""
        return f"{stream}:errors"

    def idempotency(self, recipient: str, group: str, key: str) -> str:
        """Marker of an applied idempotency key."""
        return f"{self.prefix}bus:idem:{recipient}:{group}:{key}"

    @property
    def dead(self) -> str:
        """The dead-letter stream."""
        return f"{self.prefix}bus:dead"

    @property
    def recipients(self) -> str:
        """Set of subscribed recipients."""
        return f"{self.prefix}bus:recipients"

    def streams_of(self, recipient: str) -> list[str]:
        """Control plane first, then data lanes from highest to lowest priority."""
        return [self.control(recipient), *(self.lane(recipient, p) for p in PRIORITIES)]
