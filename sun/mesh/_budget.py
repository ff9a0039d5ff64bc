"""LLM budgets per decision, per run and per day (calls, tokens, dollars) that fail closed.

Every model call first *reserves* its worst case (one call, the estimated prompt plus the
completion cap, their price) in every scope, atomically; a scope that would go over refuses
and nothing is spent. After the call the reservation is settled to what it really cost. The
daily scope lives in Redis (one Lua script checks and increments), so every worker shares it;
a Redis that does not answer refuses every reservation until it is back.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar

_N = TypeVar("_N", int, float)


class BudgetExhausted(RuntimeError):
    """A budget refused an LLM call (spent, or its store is unreachable: fail closed).

    Not the model's fault: a fallback chain does not count it against the model's breaker.
    """

    counts_against_model = False


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


@dataclass(frozen=True)
class BudgetConfig:
    """LLM budgets by scope.

    Attributes:
        per_decision: Caps of one decision (repairs and escalations included).
        per_run: Caps of one :class:`Budget` (one backtest, one process run).
        per_day: Caps of one UTC day, shared through Redis when ``redis_url`` is set.
        redis_url: Where the daily ledger lives (None: in this process only).
        key_prefix: Redis key prefix of the daily ledger.
        clock: Wall-clock seconds (picks the UTC day); injectable in tests.
    """

    per_decision: BudgetLimits | None = None
    per_run: BudgetLimits | None = None
    per_day: BudgetLimits | None = None
    redis_url: str | None = None
    key_prefix: str = "heliarch:budget"
    clock: Callable[[], float] = time.time


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


@dataclass
class Reservation:
    """What one call reserved, in which scopes (settled after the call)."""

    charge: Charge
    ledgers: list[Ledger] = field(default_factory=list)


_SCOPE: ContextVar[DecisionBudget | None] = ContextVar("heliarch_budget_scope", default=None)


class DecisionBudget:
    """The budget of one decision: its own ledger plus the run's and the day's.

    ``cap`` tightens the per-decision caps for this decision only (a policy plan's budget);
    past ``deadline`` (seconds on ``budget.config.clock``) no further call may start.
    """

    def __init__(
        self, budget: Budget, cap: BudgetLimits | None = None, deadline: float | None = None
    ) -> None:
        self.budget = budget
        self.ledger = MemoryLedger()
        self.deadline = deadline
        per_decision = budget.config.per_decision
        self.per_decision = per_decision.tightest(cap) if per_decision is not None else cap

    def _late(self) -> str | None:
        if self.deadline is None or self.budget.config.clock() <= self.deadline:
            return None
        return "budget exhausted: per-decision latency cap reached"

    def _scopes(self) -> list[tuple[str, Ledger, BudgetLimits]]:
        config = self.budget.config
        scopes: list[tuple[str, Ledger, BudgetLimits]] = []
        if self.per_decision is not None:
            scopes.append(("decision", self.ledger, self.per_decision))
        if config.per_run is not None:
            scopes.append(("run", self.budget.run_ledger, config.per_run))
        if config.per_day is not None:
            scopes.append(("day", self.budget.day_ledger, config.per_day))
        return scopes

    def exhausted(self) -> str | None:
        """Why no further call can be made now (a scope spent, or its store down), or None."""
        late = self._late()
        if late is not None:
            return late
        least = Charge(calls=1, tokens=1, usd=1e-9)  # the smallest call there is
        for scope, ledger, limits in self._scopes():
            try:
                refused = limits.over(ledger.spent(), least)
            except Exception as error:  # the store is unreachable: fail closed
                return f"budget exhausted: {scope} ledger unavailable ({type(error).__name__})"
            if refused is not None:
                return _spent_text(scope, refused, limits)
        return None

    def reserve(self, charge: Charge) -> Reservation:
        """Reserve ``charge`` in every scope, or raise :class:`BudgetExhausted` (nothing kept)."""
        late = self._late()
        if late is not None:
            raise BudgetExhausted(late)
        reservation = Reservation(charge)
        for scope, ledger, limits in self._scopes():
            try:
                refused = ledger.reserve(charge, limits)
            except Exception as error:
                self.release(reservation)
                raise BudgetExhausted(
                    f"budget exhausted: {scope} ledger unavailable, failing closed "
                    f"({type(error).__name__}: {error})"
                ) from error
            if refused is not None:
                self.release(reservation)
                raise BudgetExhausted(_spent_text(scope, refused, limits))
            reservation.ledgers.append(ledger)
        return reservation

    def settle(self, reservation: Reservation, actual: Charge) -> None:
        """Replace the reserved amount by the actual one in every scope that reserved it."""
        delta = actual - reservation.charge
        for ledger in reservation.ledgers:
            with contextlib.suppress(Exception):  # unsettled = over-counted: still closed
                ledger.settle(delta)

    def release(self, reservation: Reservation) -> None:
        """Give a reservation back entirely (the call was not made)."""
        self.settle(reservation, Charge())
        reservation.ledgers.clear()


def _spent_text(scope: str, dimension: str, limits: BudgetLimits) -> str:
    return f"budget exhausted: per-{scope} {dimension} cap {getattr(limits, dimension):g} reached"


class Budget:
    """Budgets of one sun (or one run): open a :meth:`decision` scope around each decision."""

    def __init__(self, config: BudgetConfig, *, day_ledger: Ledger | None = None) -> None:
        self.config = config
        self.run_ledger: Ledger = MemoryLedger()
        if day_ledger is None:
            day_ledger = (
                RedisDayLedger.from_url(config.redis_url, config.key_prefix, config.clock)
                if config.redis_url
                else DailyMemoryLedger(config.clock)
            )
        self.day_ledger = day_ledger

    @contextlib.contextmanager
    def decision(
        self, cap: BudgetLimits | None = None, deadline: float | None = None
    ) -> Iterator[DecisionBudget]:
        """A fresh per-decision scope, current for the calls made inside the block (see
        :class:`DecisionBudget` for ``cap`` and ``deadline``)."""
        scope = DecisionBudget(self, cap, deadline)
        token = _SCOPE.set(scope)
        try:
            yield scope
        finally:
            _SCOPE.reset(token)

    def current(self) -> DecisionBudget:
        """The open decision scope of this thread, or a fresh one outside any decision."""
        scope = _SCOPE.get()
        return scope if scope is not None and scope.budget is self else DecisionBudget(self)
