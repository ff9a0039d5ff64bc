"""Planet trust weights learned online with Hedge (multiplicative weights) + fixed share.

Rule. Each labelled decision gives every directional planet that had data a loss in [0, 1]:

    loss_i = (1 - clip(score_i * confidence_i, -1, 1) * sign(realized_return)) / 2

(0 for a fully confident correct call, 1 for a fully confident wrong one, 0.5 for no view or a
zero return). Then

    w_i <- w_i * exp(-eta * loss_i)                          (Hedge / multiplicative weights)
    w_i <- (1 - alpha) * w_i + alpha * mean(w)               (fixed share)
    w   <- w * (sum of w before the step) / sum(w)           (total trust preserved)

over the planets ``S`` that voted on that decision only; the others keep their weight. This is
the "sleeping experts" form of Hedge (Freund, Schapire, Singer & Warmuth, 1997): a planet that
had no data (e.g. sentiment without headlines) neither gains nor loses trust from decisions it
took no part in.

Why Hedge rather than a Bayesian Beta update: a Beta-Bernoulli posterior assumes each planet's
hits are i.i.d. with a fixed rate, which markets violate (regimes change, outcomes of
overlapping horizons are correlated). Hedge needs no distributional assumption: for losses in
[0, 1] its regret against the best planet in hindsight is at most ``ln(N) / eta + eta * T / 8``
for any (even adversarial) loss sequence, ``O(sqrt(T ln N))`` with ``eta = sqrt(8 ln N / T)``.
The fixed-share step (Herbster & Warmuth, 1998) bounds regret against the best *switching*
sequence of planets, so a planet that was wrong in one regime can regain trust in the next
instead of being driven to zero forever. Starting every planet at 1 and preserving the total
keeps the mean weight at 1, the quant reasoner's default for planets it has not learned about.
"""

from __future__ import annotations

import math
from collections.abc import Mapping


def planet_loss(score: float, confidence: float, realized_return: float) -> float:
    """Loss in [0, 1] of a planet's call given the realized return (see the module docstring)."""
    view = max(-1.0, min(1.0, score * confidence))
    sign = 0.0 if realized_return == 0.0 else math.copysign(1.0, realized_return)
    return (1.0 - view * sign) / 2.0


class HedgeTrust:
    """Trust weights per planet, updated by Hedge with fixed share.

    Args:
        planets: Planets to start with (weight 1 each); others are added on first sight.
        eta: Learning rate (``sqrt(8 ln N / T)`` is the textbook choice for T updates).
        share: Fixed-share mixing rate ``alpha`` in [0, 1).

    ``weights`` is a live ``dict`` (updated in place); :meth:`attach` registers more mappings
    (e.g. the quant reasoner's weights, a council aggregator's) to keep in sync.
    """

    def __init__(
        self, planets: tuple[str, ...] | list[str] = (), eta: float = 0.05, share: float = 0.01
    ) -> None:
        if eta <= 0.0:
            raise ValueError("eta must be > 0")
        if not 0.0 <= share < 1.0:
            raise ValueError("share must be in [0, 1)")
        self.eta = eta
        self.share = share
        self.weights: dict[str, float] = {name: 1.0 for name in planets}
        self.updates = 0

    def update(self, losses: Mapping[str, float]) -> dict[str, float]:
        """One Hedge + fixed-share step over the planets in ``losses``; returns the weights."""
        if not losses:
            return self.weights
        for name, loss in losses.items():
            if not 0.0 <= loss <= 1.0:
                raise ValueError(f"loss of {name} must be in [0, 1], got {loss}")
            self.weights.setdefault(name, 1.0)
        awake = sorted(losses)
        before = sum(self.weights[name] for name in awake)
        stepped = {name: self.weights[name] * math.exp(-self.eta * losses[name]) for name in awake}
        mean = sum(stepped.values()) / len(awake)
        shared = {name: (1.0 - self.share) * w + self.share * mean for name, w in stepped.items()}
        scale = before / sum(shared.values())
        for name in awake:
            self.weights[name] = shared[name] * scale
        self.updates += 1
        return self.weights

    def losses_for(
        self, planet_scores: Mapping[str, tuple[float, float]], realized_return: float
    ) -> dict[str, float]:
        """The loss of every planet in ``planet_scores`` for one realized return."""
        return {
            name: planet_loss(score, confidence, realized_return)
            for name, (score, confidence) in planet_scores.items()
        }
