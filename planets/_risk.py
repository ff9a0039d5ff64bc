"""Risk planet: VaR and position caps, and the drawdown circuit breaker. Its veto supersedes."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from planets._base import Planet, PlanetContext, Role, Verdict
from planets._batch import PlanetBatch
from planets._kernels import empty_outputs, risk_many, risk_one
from planets._limits import RiskLimits
from planets._verdicts import VerdictColumns


class RiskPlanet(Planet):
    """Checks tail risk and drawdown against :class:`RiskLimits`.

    * ``max_drawdown`` beyond the breaker -> veto and a critical update (emergency flat).
    * ``var95`` above the limit -> a ``position_cap`` below ``max_position`` (the guard clamps).
    The score is risk appetite: +1 with plenty of VaR headroom, negative when over the limit.
    The math is :func:`planets._kernels.risk_one`, shared with :meth:`score_many`.
    """

    name = "risk"
    roles = frozenset({Role.RISK})
    directional = False
    in_process = True
    moons = ("var95", "cvar95", "max_drawdown", "realized_vol")

    def score(self, context: PlanetContext, evidence: Mapping[str, float]) -> Verdict:
        limits = context.limits
        var95, drawdown = evidence["var95"], evidence["max_drawdown"]
        score, cap, breach = risk_one(
            var95, drawdown, limits.max_position, limits.max_var95, limits.max_drawdown
        )
        return _verdict(var95, abs(drawdown), score, cap, breach, limits)

    def score_many(self, batch: PlanetBatch, rows: np.ndarray) -> list[Verdict] | None:
        """Verdicts of the batch's instruments ``rows``: one kernel call over arrays."""
        columns = self.verdict_columns(batch, rows)
        return None if columns is None else columns.verdicts()

    def verdict_columns(self, batch: PlanetBatch, rows: np.ndarray) -> VerdictColumns | None:
        """:meth:`score_many` as columns (what :func:`planets.report_many` packages)."""
        if type(self).score is not RiskPlanet.score:
            return None  # a subclass changed the formula: the loop asks it one by one
        limits = batch.limits
        var95 = np.ascontiguousarray(batch.column("var95")[rows])
        drawdown = np.ascontiguousarray(batch.column("max_drawdown")[rows])
        score, cap, breach = empty_outputs(len(rows))
        risk_many(var95, drawdown, limits.max_position, limits.max_var95, limits.max_drawdown,
                  score, cap, breach)  # fmt: skip
        capped = _cap_template(limits)  # the limit's text formatted once per batch
        texts = [
            _texts(v, abs(d), c, b, limits) if b else ((capped % (c, v * 100.0),), None)
            for v, d, c, b in zip(var95.tolist(), drawdown.tolist(), cap.tolist(),
                                  breach.tolist(), strict=True)
        ]  # fmt: skip
        reasons = [reason for _, reason in texts]
        return VerdictColumns(
            score=score,
            confidence=np.ones(len(rows)),
            recommendations=[recommendations for recommendations, _ in texts],
            veto_reason=reasons,
            critical_reason=reasons,
            extra_evidence=[{"position_cap": c} for c in cap.tolist()],
        )


def _texts(
    var95: float, drawdown: float, cap: float, breach: bool, limits: RiskLimits
) -> tuple[tuple[str], str | None]:
    """(recommendations, veto and critical reason or None) of one verdict."""
    if breach:
        reason = f"drawdown breaker: drawdown {drawdown:.1%} >= limit {limits.max_drawdown:.1%}"
        return ("go flat",), reason
    return (_cap_template(limits) % (cap, var95 * 100.0),), None


def _cap_template(limits: RiskLimits) -> str:
    """The position-cap text as a ``%`` template of (cap, VaR95 in percent), the limit
    already in it: ``template % (cap, var95 * 100.0)`` is ``f"position cap {cap:.2f} (VaR95
    {var95:.2%} vs {limits.max_var95:.2%})"`` (``.2%`` is ``.2f`` of the value times 100,
    then ``%``), built once per batch instead of three format calls per instrument."""
    limit = f"{limits.max_var95:.2%}".replace("%", "%%")
    return f"position cap %.2f (VaR95 %.2f%% vs {limit})"


def _verdict(
    var95: float, drawdown: float, score: float, cap: float, breach: bool, limits: RiskLimits
) -> Verdict:
    recommendations, reason = _texts(var95, drawdown, cap, breach, limits)
    return Verdict(
        score=score,
        confidence=1.0,
        recommendations=recommendations,
        veto_reason=reason,
        critical_reason=reason,
        extra_evidence={"position_cap": cap},
    )
