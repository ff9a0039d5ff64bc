"""What LLM budgets count and where: a charge (calls, tokens, dollars), the caps of one scope,
and the ledgers that keep a scope's spending (in this process, per UTC day, or in Redis shared
by every worker, checked and incremented by one Lua script)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar

_N = TypeVar("_N", int, float)


@dataclass(frozen=True)
class Charge:
    """An amount of LLM use: calls, tokens (prompt + completion) and dollars."""

    calls: int = 0
    tokens: int = 0
    usd: float = 0.0

    def __sub__(self, other: Charge) -> Charge:
        return Charge(self.calls - other.calls, self.tokens - other.tokens, self.usd - other.usd)

    def __add__(self, other: Charge) -> Charge:
        return Charge(self.calls + other.calls, self.tokens + other.tokens, self.usd + other.usd)


@dataclass(frozen=True)
class BudgetLimits:
    """Caps of one scope; ``None`` = no cap on that dimension, 0 = nothing allowed.

    Attributes:
        calls: Model calls.
        tokens: Prompt + completion tokens.
        usd: Dollars.
    """

    calls: int | None = None
    tokens: int | None = None
    usd: float | None = None

    def __post_init__(self) -> None:
        for name in ("calls", "tokens", "usd"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int | float) or not value >= 0):
                raise ValueError(f"budget {name} must be >= 0 or None, got {value!r}")

    def over(self, spent: Charge, extra: Charge) -> str | None:
        """The first dimension ``spent + extra`` would exceed, or None."""
        for name in ("calls", "tokens", "usd"):
            cap = getattr(self, name)
            if cap is not None and getattr(spent, name) + getattr(extra, name) > cap + 1e-12:
                return name
        return None

    def tightest(self, other: BudgetLimits | None) -> BudgetLimits:
        """Each dimension's smaller cap of the two (``None`` = no cap)."""
        if other is None:
            return self
        return BudgetLimits(
            calls=_least(self.calls, other.calls),
            tokens=_least(self.tokens, other.tokens),
            usd=_least(self.usd, other.usd),
        )

    def as_args(self) -> list[float]:
        """The caps for the Redis script (-1 = no cap)."""
        return [-1 if v is None else float(v) for v in (self.calls, self.tokens, self.usd)]


def _least(a: _N | None, b: _N | None) -> _N | None:
    return b if a is None else a if b is None else min(a, b)


class Ledger(Protocol):
    """Where one scope's spending is kept."""

    def reserve(self, charge: Charge, limits: BudgetLimits) -> str | None:
        """Add ``charge`` unless it would go over ``limits``; returns the dimension refused."""
        ...

    def settle(self, delta: Charge) -> None:
        """Adjust the spending by ``delta`` (actual minus reserved)."""
        ...

    def spent(self) -> Charge:
        """What has been spent (and reserved) so far."""
        ...


class MemoryLedger:
    """A ledger in this process (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._spent = Charge()

    def reserve(self, charge: Charge, limits: BudgetLimits) -> str | None:
        """See :meth:`Ledger.reserve`."""
        with self._lock:
            refused = limits.over(self._spent, charge)
            if refused is None:
                self._spent = self._spent + charge
            return refused

    def settle(self, delta: Charge) -> None:
        """See :meth:`Ledger.settle`."""
        with self._lock:
            self._spent = self._spent + delta

    def spent(self) -> Charge:
        """See :meth:`Ledger.spent`."""
        with self._lock:
            return self._spent


class DailyMemoryLedger(MemoryLedger):
    """A day's ledger in this process: starts from zero when the UTC day (by ``clock``) turns."""

    def __init__(self, clock: Callable[[], float]) -> None:
        super().__init__()
        self.clock = clock
        self._day = self._today()

    def _today(self) -> str:
        return datetime.fromtimestamp(self.clock(), UTC).date().isoformat()

    def _roll(self) -> None:
        today = self._today()
        if today != self._day:
            with self._lock:
                self._day, self._spent = today, Charge()

    def reserve(self, charge: Charge, limits: BudgetLimits) -> str | None:
        """See :meth:`Ledger.reserve`."""
        self._roll()
        return super().reserve(charge, limits)

    def spent(self) -> Charge:
        """See :meth:`Ledger.spent`."""
        self._roll()
        return super().spent()


_RESERVE = """
local names = {'calls', 'tokens', 'usd'}
for i = 1, 3 do
  local cap = tonumber(ARGV[3 + i])
  if cap >= 0 then
    local cur = tonumber(redis.call('HGET', KEYS[1], names[i]) or '0')
    if cur + tonumber(ARGV[i]) > cap + 1e-12 then return names[i] end
  end
end
redis.call('HINCRBY', KEYS[1], 'calls', ARGV[1])
redis.call('HINCRBY', KEYS[1], 'tokens', ARGV[2])
redis.call('HINCRBYFLOAT', KEYS[1], 'usd', ARGV[3])
redis.call('EXPIRE', KEYS[1], ARGV[7])
return ''
"""


class RedisDayLedger:
    """The daily ledger in a Redis hash per UTC day (``<prefix>:day:<YYYY-MM-DD>``)."""

    def __init__(self, client: Any, prefix: str, clock: Callable[[], float]) -> None:
        self.client = client
        self.prefix = prefix
        self.clock = clock
        self._script = client.register_script(_RESERVE)

    @classmethod
    def from_url(cls, url: str, prefix: str, clock: Callable[[], float]) -> RedisDayLedger:
        """A ledger over a new client with short timeouts (a dead Redis refuses fast)."""
        import redis

        client = redis.Redis.from_url(url, socket_timeout=1.0, socket_connect_timeout=1.0)
        return cls(client, prefix, clock)

    def key(self) -> str:
        """Today's hash key."""
        day = datetime.fromtimestamp(self.clock(), UTC).date().isoformat()
        return f"{self.prefix}:day:{day}"

    def reserve(self, charge: Charge, limits: BudgetLimits) -> str | None:
        """See :meth:`Ledger.reserve` (one atomic Lua script)."""
        args = [charge.calls, charge.tokens, repr(charge.usd), *limits.as_args(), 2 * 86400]
        refused = self._script(keys=[self.key()], args=args)
        text = refused.decode() if isinstance(refused, bytes) else str(refused or "")
        return text or None

    def settle(self, delta: Charge) -> None:
        """See :meth:`Ledger.settle`."""
        key = self.key()
        pipe = self.client.pipeline(transaction=True)
        pipe.hincrby(key, "calls", delta.calls)
        pipe.hincrby(key, "tokens", delta.tokens)
        pipe.hincrbyfloat(key, "usd", delta.usd)
        pipe.execute()

    def spent(self) -> Charge:
        """See :meth:`Ledger.spent`."""
        calls, tokens, usd = self.client.hmget(self.key(), "calls", "tokens", "usd")
        return Charge(int(calls or 0), int(tokens or 0), float(usd or 0.0))
