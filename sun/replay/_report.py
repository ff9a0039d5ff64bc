"""What a replay found: :class:`ReplayReport` and its :class:`Divergence` entries."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from bus import SunDecision

_VOLATILE = ("llm_usage",)


@dataclass
class Divergence:
    """A replayed decision that differs from the recorded one."""

    request_id: str
    instrument: str
    as_of: str
    recorded: str
    replayed: str
    fields: dict[str, tuple[Any, Any]]

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form."""
        return {
            "request_id": self.request_id,
            "instrument": self.instrument,
            "as_of": self.as_of,
            "recorded": self.recorded,
            "replayed": self.replayed,
            "fields": {k: {"recorded": a, "replayed": b} for k, (a, b) in self.fields.items()},
        }


@dataclass
class ReplayReport:
    """What a replay found."""

    decisions: int = 0
    replayed: int = 0
    divergences: list[Divergence] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    llm_answers: int = 0
    llm_served: int = 0
    llm_missing: int = 0
    llm_failures_reproduced: int = 0

    @property
    def ok(self) -> bool:
        """No divergence and nothing skipped."""
        return not self.divergences and not self.skipped

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form."""
        return {
            "decisions": self.decisions,
            "replayed": self.replayed,
            "diverged": len(self.divergences),
            "skipped": self.skipped,
            "llm_answers": self.llm_answers,
            "llm_served": self.llm_served,
            "llm_missing": self.llm_missing,
            "llm_failures_reproduced": self.llm_failures_reproduced,
            "divergences": [d.to_dict() for d in self.divergences],
        }


def comparable(decision: SunDecision) -> dict[str, Any]:
    """A decision without what legitimately changes on replay (LLM usage, latencies)."""
    data = decision.model_dump(mode="json")
    for name in _VOLATILE:
        data.pop(name, None)
    for attempt in data.get("attempts", []):
        attempt.pop("latency_ms", None)
    # The replayer always serves recorded recalls (compared through ``recalled``): its recall
    # step is no divergence; timings never are.
    data["trace"] = [step for step in data.get("trace", []) if step["node"] != "recall"]
    for step in data["trace"]:
        step.pop("duration_ms", None)
    return data


def compare(recorded: SunDecision, replayed: SunDecision) -> dict[str, tuple[Any, Any]]:
    """Fields that differ (top level), with both values."""
    a, b = comparable(recorded), comparable(replayed)
    return {k: (a.get(k), b.get(k)) for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)}


def _summary(decision: SunDecision) -> str:
    target = decision.target_position
    shown = f"{target:+.4f}" if math.isfinite(target) else str(target)
    return f"{decision.action} {shown} ({decision.fallback_level})"
