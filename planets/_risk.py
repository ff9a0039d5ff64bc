"""Risk planet: VaR and position caps, and the drawdown circuit breaker. Its veto supersedes."""

from __future__ import annotations

from collections.abc import Mapping

from planets._base import Planet, PlanetContext, Role, Verdict


class RiskPlanet(Planet):
    """Checks tail risk and drawdown against :class:`RiskLimits`.

    * ``max_drawdown`` beyond the breaker -> veto and a critical update (emergency flat).
    * ``var95`` above the limit -> a ``position_cap`` below ``max_position`` (the guard clamps).
    The score is risk appetite: +1 with plenty of VaR headroom, negative when over the limit.
    """

    name = "risk"
    roles = frozenset({Role.RISK})
    directional = False
    moons = ("var95", "cvar95", "max_drawdown", "realized_vol")

    def score(self, context: PlanetContext, evidence: Mapping[str, float]) -> Verdict:
        limits = context.limits
        var95 = evidence["var95"]
        drawdown = abs(evidence["max_drawdown"])
        cap = limits.var_cap(var95)
        headroom = 1.0 - var95 / limits.max_var95
        if drawdown >= limits.max_drawdown:
            reason = f"drawdown breaker: drawdown {drawdown:.1%} >= limit {limits.max_drawdown:.1%}"
            return Verdict(
                score=-1.0,
                confidence=1.0,
                recommendations=("go flat",),
                veto_reason=reason,
                critical_reason=reason,
                extra_evidence={"position_cap": 0.0},
            )
        recommendations = (f"position cap {cap:.2f} (VaR95 {var95:.2%} vs {limits.max_var95:.2%})",)
        return Verdict(
            score=max(-1.0, min(1.0, headroom)),
            confidence=1.0,
            recommendations=recommendations,
            extra_evidence={"position_cap": cap},
        )
