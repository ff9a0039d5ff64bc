"""Rule evaluation: the :class:`DynamicPlanet` built from a spec, scored by one of four
hand-written functions selected by the rule's kind (nothing from a spec is ever executed).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from planets._base import Planet, PlanetContext, Verdict, squash
from planets._spec import (
    CrossoverRule,
    PlanetSpec,
    SpecError,
    ThresholdRule,
    WeightedSumRule,
    ZScoreRule,
)


def _rule_score(rule: Any, ev: Mapping[str, float]) -> float:
    """The fixed vocabulary: four hand-written functions selected by ``rule.kind``."""
    if isinstance(rule, ThresholdRule):
        x = ev[rule.column]
        return float(rule.direction) * (1.0 if x > rule.above else -1.0 if x < rule.below else 0.0)
    if isinstance(rule, ZScoreRule):
        return rule.direction * math.tanh((ev[rule.column] - rule.mean) / rule.std / rule.scale)
    if isinstance(rule, CrossoverRule):
        norm = ev[rule.normalizer] if rule.normalizer else 1.0
        if norm <= 0.0:
            return 0.0
        return squash((ev[rule.fast] - ev[rule.slow]) / norm, rule.scale)
    if isinstance(rule, WeightedSumRule):
        total = sum(w * ev[c] for c, w in rule.weights.items()) + rule.bias
        return squash(total, rule.scale)
    raise SpecError(f"unknown rule {type(rule).__name__}")  # unreachable: pydantic union


class DynamicPlanet(Planet):
    """A planet built from a :class:`PlanetSpec` (instance-level name and moons)."""

    in_process = True

    def __init__(self, spec: PlanetSpec) -> None:
        self.spec = spec
        self.name = spec.name
        self.moons = tuple(m.column for m in spec.moons)
        self.directional = spec.directional
        self.prompt = spec.prompt

    def score(self, context: PlanetContext, evidence: Mapping[str, float]) -> Verdict:
        """Apply the spec's rule to the evidence."""
        value = _rule_score(self.spec.rule, evidence)
        if not math.isfinite(value):
            return Verdict(0.0, 0.0, (f"{self.name}: rule gave a non-finite score",))
        return Verdict(
            score=max(-1.0, min(1.0, value)),
            confidence=self.spec.confidence,
            recommendations=(f"{self.name} ({self.spec.rule.kind}): {value:+.2f}",),
        )

    def __repr__(self) -> str:
        return f"DynamicPlanet({self.spec.name!r}, rule={self.spec.rule.kind})"
