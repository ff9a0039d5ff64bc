"""Confidence in sizing: only a calibrated confidence may scale a position.

The rule (``OrchestrationConfig.sizing``):

* no sizing configured, or the calibrator has no fit yet for the decision's reasoner (too few
  labelled outcomes): the reasoner's target stands; its stated confidence is recorded but
  never scales the size;
* a fitted calibrator maps the stated confidence to the hit rate ``p`` decisions at that
  confidence achieved; the target is multiplied by ``clip((p - 0.5) / (full - 0.5), 0, 1)``:
  a coin's hit rate (or worse) gives no position, ``full`` (0.6 by default) or better keeps
  the reasoner's size.

The multiplier is in [0, 1]: sizing only ever shrinks a position, and the guard applies
after it (risk supersedes).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from bus import ReasonedDecision, action_for

__all__ = ["Calibration", "ConfidenceSizing", "size_by_confidence"]

Calibration = Callable[[str, float], float | None]
"""(reasoner, stated confidence) -> observed hit rate, or None while uncalibrated
(e.g. ``LearningLoop.calibrated``)."""


@dataclass(frozen=True)
class ConfidenceSizing:
    """How a calibrated confidence scales the target (see the module docstring).

    Attributes:
        calibration: The calibrated hit rate of a reasoner's stated confidence, or None.
        full_size_hit_rate: The calibrated hit rate that keeps the reasoner's full size.
    """

    calibration: Calibration
    full_size_hit_rate: float = 0.6

    def __post_init__(self) -> None:
        if not 0.5 < self.full_size_hit_rate <= 1.0:
            raise ValueError(
                f"full_size_hit_rate must be in (0.5, 1]; got {self.full_size_hit_rate}"
            )

    def multiplier(self, hit_rate: float) -> float:
        """The size multiplier a calibrated hit rate earns, in [0, 1]."""
        if not math.isfinite(hit_rate):
            return 0.0
        return max(0.0, min(1.0, (hit_rate - 0.5) / (self.full_size_hit_rate - 0.5)))


def size_by_confidence(
    decision: ReasonedDecision, reasoner: str, sizing: ConfidenceSizing
) -> tuple[ReasonedDecision, str]:
    """``decision`` sized by its calibrated confidence, and what was done (for the trace)."""
    if decision.target_position == 0.0:
        return decision, "flat: nothing to size"
    hit_rate = sizing.calibration(reasoner, decision.confidence)
    if hit_rate is None:
        return decision, (
            f"{reasoner} confidence {decision.confidence:.2f} not calibrated yet: "
            "size stands, confidence unused"
        )
    factor = sizing.multiplier(hit_rate)
    target = round(decision.target_position * factor, 6)
    note = (
        f"{reasoner} confidence {decision.confidence:.2f} -> calibrated hit rate "
        f"{hit_rate:.2f}: size x{factor:.2f}"
    )
    if factor == 1.0:
        return decision, note
    sized = ReasonedDecision(
        action=action_for(target),
        target_position=target,
        confidence=decision.confidence,
        rationale=(
            f"{decision.rationale} [sizing: {decision.target_position:+.3f} -> {target:+.3f}, "
            f"calibrated hit rate {hit_rate:.2f}]"
        )[:600],
    )
    return sized, note
