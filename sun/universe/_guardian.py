"""The portfolio guardian: limits across instruments, applied after each one was guarded.

Targets are capital weights (``target_position`` 1.0 = the whole capital in one instrument).
Rules, in order; each only scales positions toward zero (never flips or enlarges one):

1. ``vol_unknown``: an open target without a finite positive realized volatility is flat
   (it cannot be sized: fails closed).
2. ``risk_parity``: ``|w_i| <= target_volatility / (n_open * vol_i)``: equal risk budgets,
   and the portfolio's volatility stays within the target even if every correlation were 1.
3. ``correlated_cluster``: instruments whose correlation with the benchmark is at least
   ``correlation_threshold`` form one cluster (at most ``-threshold``: another; unknown
   correlation: a third, assumed correlated); each cluster's gross weight is at most
   ``max_cluster_gross`` (scaled down proportionally).
4. ``max_gross``: ``sum |w_i| <= max_gross`` (all scaled down proportionally).
5. ``max_net``: ``|sum w_i| <= max_net`` (the dominant side scaled down).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from bus import GuardCorrection

RULES = ("vol_unknown", "risk_parity", "correlated_cluster", "max_gross", "max_net")


@dataclass(frozen=True)
class PortfolioLimits:
    """Limits across the instruments of one universe decision (fractions of capital).

    Attributes:
        target_volatility: Annualized portfolio volatility budget (risk parity sizing).
        max_gross: Largest sum of absolute weights.
        max_net: Largest absolute sum of weights.
        max_cluster_gross: Largest gross weight of one correlated cluster.
        correlation_threshold: |correlation with the benchmark| from which instruments
            count as one cluster.
    """

    target_volatility: float = 0.10
    max_gross: float = 1.0
    max_net: float = 0.5
    max_cluster_gross: float = 0.6
    correlation_threshold: float = 0.7

    def __post_init__(self) -> None:
        for name in ("target_volatility", "max_gross", "max_net", "max_cluster_gross"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0.0):
                raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
        if not 0.0 < self.correlation_threshold <= 1.0:
            raise ValueError(
                f"correlation_threshold must be in (0, 1], got {self.correlation_threshold!r}"
            )

    def share(self, fraction: float) -> PortfolioLimits:
        """The limits of one part of a universe decided apart (a shard's pass): the budgets
        (volatility, gross, net, cluster gross) times ``fraction``, the part's share of the
        instruments. Parts whose fractions sum to 1 stay within these limits together,
        whatever the others hold: |sum of nets| <= sum of |nets|, and so on. Stricter than
        one pass over the whole universe (offsetting parts are not netted), never looser.

        Raises:
            ValueError: when ``fraction`` is not in (0, 1].
        """
        if not (math.isfinite(fraction) and 0.0 < fraction <= 1.0):
            raise ValueError(f"share must be in (0, 1], got {fraction!r}")
        return replace(
            self,
            target_volatility=self.target_volatility * fraction,
            max_gross=self.max_gross * fraction,
            max_net=self.max_net * fraction,
            max_cluster_gross=self.max_cluster_gross * fraction,
        )


def portfolio_guard(
    targets: np.ndarray, vol: np.ndarray, correlation: np.ndarray, limits: PortfolioLimits
) -> np.ndarray:
    """The weights after each rule: a ``(len(RULES) + 1, n)`` array, row 0 the input.

    Args:
        targets: Guarded per-instrument weights, shape ``(n,)``.
        vol: Annualized realized volatility per instrument (the moons' ``realized_vol``).
        correlation: Correlation with the benchmark (the moons' ``correlation``; NaN: unknown).
        limits: The portfolio limits.

    Raises:
        ValueError: naming the index of an instrument whose inputs do not line up.
    """
    n = _check_shapes(targets, vol, correlation)
    steps = np.empty((len(RULES) + 1, n))
    w = np.asarray(targets, dtype=np.float64).copy()
    steps[0] = w
    open_ = w != 0.0
    sizable = np.isfinite(vol) & (vol > 0.0)
    w = np.where(open_ & ~sizable, 0.0, w)
    steps[1] = w
    n_open = int(np.count_nonzero(w))
    if n_open:
        with np.errstate(divide="ignore", invalid="ignore"):
            budget = np.where(sizable, limits.target_volatility / (n_open * vol), 0.0)
        w = np.where(np.abs(w) > budget, np.copysign(budget, w), w)
    steps[2] = w
    cluster = np.where(
        ~np.isfinite(correlation),
        2,
        np.where(
            correlation >= limits.correlation_threshold,
            0,
            np.where(correlation <= -limits.correlation_threshold, 1, -1),
        ),
    )
    for c in range(3):
        member = cluster == c
        gross = float(np.abs(w[member]).sum())
        if gross > limits.max_cluster_gross:
            w = np.where(member, w * (limits.max_cluster_gross / gross), w)
    steps[3] = w
    gross = float(np.abs(w).sum())
    if gross > limits.max_gross:
        w = w * (limits.max_gross / gross)
    steps[4] = w
    net = float(w.sum())
    if abs(net) > limits.max_net:
        side = w > 0.0 if net > 0 else w < 0.0
        dominant = float(np.abs(w[side]).sum())
        other = dominant - abs(net)
        w = np.where(side, w * ((limits.max_net + other) / dominant), w)
    steps[5] = w
    return steps


def _check_shapes(targets: np.ndarray, vol: np.ndarray, correlation: np.ndarray) -> int:
    n = int(np.shape(targets)[0]) if np.ndim(targets) == 1 else -1
    if n < 0:
        raise ValueError(f"targets must be 1-D, got shape {np.shape(targets)}")
    for name, values in (("vol", vol), ("correlation", correlation)):
        if np.shape(values) != (n,):
            size = int(np.size(values))
            where = f"instrument {size} has none" if np.ndim(values) == 1 and size < n else ""
            raise ValueError(
                f"{name} has shape {np.shape(values)} for {n} instruments"
                + (f": {where}" if where else "")
            )
    if not np.isfinite(targets).all():
        bad = int(np.flatnonzero(~np.isfinite(targets))[0])
        raise ValueError(f"instrument {bad}: target {targets[bad]!r} is not finite")
    return n


def corrections_of(steps: np.ndarray, limits: PortfolioLimits) -> list[list[GuardCorrection]]:
    """Per instrument, one :class:`GuardCorrection` for each rule that changed its weight."""
    result: list[list[GuardCorrection]] = [[] for _ in range(steps.shape[1])]
    for r, rule in enumerate(RULES):
        before, after = steps[r], steps[r + 1]
        for i in np.flatnonzero(before != after).tolist():
            result[i].append(
                GuardCorrection(
                    rule=f"portfolio:{rule}",
                    before=float(before[i]),
                    after=float(after[i]),
                    reason=_reason(rule, limits),
                )
            )
    return result


def _reason(rule: str, limits: PortfolioLimits) -> str:
    return {
        "vol_unknown": "no realized volatility: an open position cannot be sized",
        "risk_parity": f"risk budget: portfolio volatility target {limits.target_volatility:.1%}",
        "correlated_cluster": (
            f"correlated cluster (|corr| >= {limits.correlation_threshold:.2f} or unknown) "
            f"gross limited to {limits.max_cluster_gross:.2f}"
        ),
        "max_gross": f"gross exposure limited to {limits.max_gross:.2f}",
        "max_net": f"net exposure limited to {limits.max_net:.2f}",
    }[rule]
