"""LLM budgets per decision, per run and per day (calls, tokens, dollars) that fail closed.

Every model call first *reserves* its worst case (one call, the estimated prompt plus the
completion cap, their price) in every scope, atomically; a scope that would go over refuses
and nothing is spent. After the call the reservation is settled to what it really cost. The
daily scope lives in Redis (one Lua script checks and increments), so every worker shares it;
a Redis that does not answer refuses every reservation until it is back.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field

from sun.mesh._ledger import (
    BudgetLimits,
    Charge,
    DailyMemoryLedger,
    Ledger,
    MemoryLedger,
    RedisDayLedger,
)


class BudgetExhausted(RuntimeError):
    """A budget refused an LLM call (spent, or its store is unreachable: fail closed).

    Not the model's fault: a fallback chain does not count it against the model's breaker.
    """

    counts_against_model = False


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
