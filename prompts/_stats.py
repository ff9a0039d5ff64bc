"""Always-valid statistics for paired prompt comparisons.

* :class:`BettingTest` – a one-sided test by betting (Waudby-Smith & Ramdas 2023; Shafer 2021):
  the wealth ``K_t = prod_i (1 + lam_i * d_i / B)`` of a gambler betting that the mean paired
  difference ``d`` (candidate minus incumbent, ``|d| <= B``) is positive is a nonnegative
  supermartingale when the candidate is not better (``E[d_i | past] <= 0``), with any
  predictable ``lam_i`` in ``[0, 1)``; a mixture over several fixed ``lam`` is one too. By
  Ville's inequality ``P(sup_t K_t >= 1/alpha) <= alpha``: the test may be checked after every
  trial without inflating false wins.
* :class:`PairedSequentialTest` – a "better" gambler (adopts) and a "worse" gambler (futility
  stop) plus the trial cap, giving ``adopt`` / ``reject`` / ``continue``.
* :func:`confidence_sequence` – a time-uniform (normal-mixture, sub-Gaussian) confidence
  sequence for the mean paired difference, for display next to the test's decision.
* :class:`ThompsonAllocator` – Thompson sampling over candidates (Gaussian posterior on each
  candidate's mean paired difference).
* :func:`fixed_horizon_trials` – the sample size a fixed-horizon one-sided z-test needs for the
  same alpha and power (the comparison point for the sequential test).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from statistics import NormalDist
from typing import Literal

import numpy as np

Decision = Literal["adopt", "reject", "continue"]


BETS: tuple[float, ...] = (0.025, 0.05, 0.1, 0.2, 0.35, 0.5, 0.7)


@dataclass
class BettingTest:
    """One-sided always-valid test of ``H0: E[d | past] <= 0`` for ``d`` in ``[-bound, bound]``.

    The wealth is an equal-weight mixture over fixed betting fractions ``BETS``:
    ``K_t = mean_j prod_i (1 + lam_j * d_i / bound)``. Each product is a nonnegative
    supermartingale under ``H0``, hence so is their average, and ``H0`` is rejected once
    ``K_t >= 1/alpha``. The mixture adapts to the unknown effect size without a tuning step.

    Args:
        alpha: Type-I error over the whole (unbounded, continuously monitored) run.
        bound: Known bound on ``|d|``.
    """

    alpha: float = 0.05
    bound: float = 2.0
    bets: tuple[float, ...] = BETS
    n: int = 0
    max_log_wealth: float = 0.0
    log_wealth: float = 0.0
    _logs: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not 0.0 < self.alpha < 1.0:
            raise ValueError(f"alpha must be in (0, 1), got {self.alpha}")
        if any(not 0.0 < b < 1.0 for b in self.bets):
            raise ValueError("betting fractions must lie in (0, 1)")
        self._logs = [0.0] * len(self.bets)

    def update(self, d: float) -> bool:
        """Add one paired difference; returns whether ``H0`` is rejected (ever, so far)."""
        if not math.isfinite(d) or abs(d) > self.bound + 1e-12:
            raise ValueError(f"paired difference {d!r} is outside [-{self.bound}, {self.bound}]")
        x = d / self.bound
        logs = self._logs
        for j, lam in enumerate(self.bets):
            logs[j] += math.log1p(lam * x)
        self.n += 1
        top = max(logs)
        self.log_wealth = top + math.log(sum(math.exp(v - top) for v in logs) / len(logs))
        if self.log_wealth > self.max_log_wealth:
            self.max_log_wealth = self.log_wealth
        return self.rejected

    @property
    def wealth(self) -> float:
        """``K_t`` (the e-value of the evidence so far)."""
        return math.exp(min(self.log_wealth, 700.0))

    @property
    def rejected(self) -> bool:
        """Whether wealth has reached ``1/alpha`` at some time (Ville's inequality)."""
        return self.max_log_wealth >= math.log(1.0 / self.alpha)


@dataclass
class PairedSequentialTest:
    """Sequential paired comparison: adopt, reject, or continue after each trial.

    ``adopt`` when the "candidate is better" gambler reaches ``1/alpha`` (false adoption <=
    alpha however often one looks); ``reject`` when the "candidate is worse" gambler reaches
    ``1/futility_alpha`` (futility; it can only stop a run, never adopt) or when ``max_trials``
    is reached without a decision (no winner).
    """

    alpha: float = 0.05
    bound: float = 2.0
    max_trials: int = 200
    futility_alpha: float = 0.05
    better: BettingTest = field(init=False)
    worse: BettingTest = field(init=False)
    diffs: list[float] = field(default_factory=list)
    _sum: float = 0.0

    def __post_init__(self) -> None:
        self.better = BettingTest(alpha=self.alpha, bound=self.bound)
        self.worse = BettingTest(alpha=self.futility_alpha, bound=self.bound)

    def update(self, d: float) -> Decision:
        """Add ``d = candidate - incumbent`` for one situation; return the current decision."""
        if self.decision != "continue":
            raise RuntimeError("the test has already decided")
        self.diffs.append(float(d))
        self._sum += float(d)
        self.better.update(d)
        self.worse.update(-d)
        return self.decision

    @property
    def decision(self) -> Decision:
        """``adopt`` / ``reject`` / ``continue``."""
        if self.better.rejected:
            return "adopt"
        if self.worse.rejected or len(self.diffs) >= self.max_trials:
            return "reject"
        return "continue"

    def evidence(self) -> dict[str, float | int | str]:
        """What the decision rests on (persisted with every trial)."""
        n = len(self.diffs)
        mean = self._sum / n if n else 0.0
        low, high = cs_bounds(n, mean, self.alpha, self.bound)
        return {
            "n": n,
            "mean_diff": mean,
            "e_better": self.better.wealth,
            "e_worse": self.worse.wealth,
            "threshold": 1.0 / self.alpha,
            "cs_low": low,
            "cs_high": high,
            "decision": self.decision,
        }


def confidence_sequence(
    diffs: list[float] | np.ndarray, alpha: float = 0.05, bound: float = 2.0, rho: float = 10.0
) -> tuple[float, float]:
    """Time-uniform ``1 - alpha`` confidence interval for the mean of ``diffs``.

    Normal-mixture boundary for sub-Gaussian increments (``sigma = bound``, Hoeffding):
    ``|S_t - t*mu| <= sqrt((V + rho) * (log((V + rho) / rho) + 2 log(2 / alpha)))``, ``V = t
    sigma^2`` (Howard et al. 2021). Valid simultaneously for every ``t``.
    """
    t = len(diffs)
    return cs_bounds(t, float(np.mean(diffs)) if t else 0.0, alpha, bound, rho)


def cs_bounds(
    t: int, mean: float, alpha: float = 0.05, bound: float = 2.0, rho: float = 10.0
) -> tuple[float, float]:
    """:func:`confidence_sequence` from the count and mean of the differences."""
    if t == 0:
        return (-bound, bound)
    v = t * bound * bound
    rho = rho * bound * bound
    radius = math.sqrt((v + rho) * (math.log((v + rho) / rho) + 2.0 * math.log(2.0 / alpha))) / t
    return (max(-bound, mean - radius), min(bound, mean + radius))


@dataclass
class ThompsonAllocator:
    """Thompson sampling over candidate variants on their mean paired difference.

    Each candidate's posterior is Normal(mean, var / (n + 1)) with a unit-information prior at 0;
    the next trial goes to the candidate whose posterior draw is highest.
    """

    names: tuple[str, ...]
    seed: int = 0
    _stats: dict[str, list[float]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.rng = np.random.default_rng(self.seed)
        for name in self.names:
            self._stats.setdefault(name, [0.0, 0.0, 0.0])  # n, sum, sumsq

    def choose(self, active: tuple[str, ...] | None = None) -> str:
        """The candidate for the next trial among ``active`` (all by default)."""
        pool = active if active is not None else self.names
        if not pool:
            raise ValueError("no active candidate to allocate")
        draws = {}
        for name in pool:
            n, total, sq = self._stats[name]
            mean = total / (n + 1.0)
            var = max((sq + 1.0) / (n + 1.0) - mean * mean, 1e-6)
            draws[name] = self.rng.normal(mean, math.sqrt(var / (n + 1.0)))
        return max(draws, key=draws.__getitem__)

    def update(self, name: str, d: float) -> None:
        """Record one paired difference of ``name``."""
        stats = self._stats[name]
        stats[0] += 1.0
        stats[1] += d
        stats[2] += d * d


def fixed_horizon_trials(effect: float, sd: float, alpha: float = 0.05, power: float = 0.8) -> int:
    """Trials a fixed-sample one-sided z-test needs to detect ``effect`` with ``power``."""
    z = NormalDist().inv_cdf
    return math.ceil(((z(1 - alpha) + z(power)) * sd / effect) ** 2)
