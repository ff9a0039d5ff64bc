"""The universe entry of :class:`sun.Sun`: ``decide_universe`` over its context, with the
engine (streaming moons, reflex book) kept per sun."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence

from bus import MarketSnapshot, SunDecision
from sun._context import SunContext
from sun._policy_router import PolicyRouter
from sun.universe import PortfolioLimits, UniverseEngine


class SunUniverse:
    """The universe methods of :class:`sun.Sun` (over its ``context``)."""

    context: SunContext

    @functools.cached_property
    def universe(self) -> UniverseEngine:
        """The universe engine of :meth:`decide_universe` (streaming moons, reflex book)."""
        return UniverseEngine()

    def decide_universe(
        self,
        snapshot: MarketSnapshot,
        instruments: Sequence[str] | None = None,
        *,
        positions: Mapping[str, float] | None = None,
        rejected: Mapping[str, str] | None = None,
        portfolio: PortfolioLimits | None = None,
    ) -> dict[str, SunDecision]:
        """Decide every instrument of ``snapshot`` (or ``instruments``) in one vectorized pass.

        Without reflex alerts and ``portfolio``, each decision equals
        ``decide(snapshot, instrument, position=...)``. Instruments with a gap or a halted
        last bar, and the ``rejected`` ones, get flat "no data" decisions with the reason.
        See :class:`sun.universe.UniverseEngine`.

        Raises:
            ValueError: when the policy has checkpoints or expansions (review, escalation,
                early decision): those run only in :meth:`decide`, never silently skipped.
        """
        router = self.context.orchestration.router
        if isinstance(router, PolicyRouter) and any(
            rule.plan.checkpoints or rule.plan.expansions for rule in router.policy.doc.rules
        ):
            raise ValueError(
                f"policy {router.policy.name!r} has checkpoints or expansions, which "
                "decide_universe does not run; decide each instrument with decide()"
            )
        return self.universe.decide(
            self.context,
            snapshot,
            instruments,
            positions=positions,
            rejected=rejected,
            portfolio=portfolio,
        )
