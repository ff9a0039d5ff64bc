"""Distilling learned patterns into lessons for semantic memory.

* :class:`QuantDistiller` – a deterministic summary of the performance tracker per regime
  (used in quant mode: same inputs, same words).
* :class:`LlmDistiller` – asks the sun's chat model to phrase the same numbers as one lesson;
  falls back to the deterministic text when the model fails or answers nothing.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Protocol

from learning._tracker import SUN, PerformanceTracker
from memory import Lesson


class Distiller(Protocol):
    """Turns the tracker (and current trust weights) into lessons."""

    def distill(
        self,
        instrument: str,
        as_of: datetime,
        tracker: PerformanceTracker,
        weights: Mapping[str, float],
    ) -> list[Lesson]: ...


def _pct(value: float) -> str:
    return "n/a" if not math.isfinite(value) else f"{value:.0%}"


class QuantDistiller:
    """One lesson per regime with at least ``min_count`` labelled decisions.

    Example: ``"up/calm (n=212): sun hit 57%, mean 5-bar return +0.41%; most reliable
    planet momentum (hit 59%, trust 1.18), least mean_reversion (hit 45%, trust 0.82)"``.
    """

    source = "quant"

    def __init__(self, min_count: int = 30) -> None:
        self.min_count = min_count

    def summaries(
        self, tracker: PerformanceTracker, weights: Mapping[str, float]
    ) -> list[tuple[str, str]]:
        """``(regime, text)`` for every regime with enough data, in regime order."""
        out = []
        planets = [s for s in tracker.subjects() if s != SUN]
        for regime in tracker.regimes():
            if regime in ("warmup", "unknown"):
                continue
            sun = tracker.stats(SUN, regime)
            if sun.count < self.min_count:
                continue
            text = (
                f"{regime} (n={sun.count}): sun hit {_pct(sun.hit_rate)}, mean "
                f"{sun.horizon_bars}-bar return {sun.mean:+.2%}"
            )
            ranked = sorted(
                (
                    (tracker.stats(p, regime).hit_rate, p)
                    for p in planets
                    if tracker.stats(p, regime).calls >= self.min_count // 2
                    and math.isfinite(tracker.stats(p, regime).hit_rate)
                ),
                key=lambda x: (-x[0], x[1]),
            )
            if ranked:
                best, worst = ranked[0], ranked[-1]
                text += (
                    f"; most reliable planet {best[1]} (hit {_pct(best[0])}, trust "
                    f"{weights.get(best[1], 1.0):.2f})"
                )
                if worst[1] != best[1]:
                    text += (
                        f", least {worst[1]} (hit {_pct(worst[0])}, trust "
                        f"{weights.get(worst[1], 1.0):.2f})"
                    )
            out.append((regime, text))
        return out

    def distill(
        self,
        instrument: str,
        as_of: datetime,
        tracker: PerformanceTracker,
        weights: Mapping[str, float],
    ) -> list[Lesson]:
        """Deterministic lessons learned as of ``as_of``."""
        return [
            Lesson(
                text=f"{instrument} {text}",
                as_of=as_of,
                instrument=instrument,
                regime=regime,
                source=self.source,
            )  # fmt: skip
            for regime, text in self.summaries(tracker, weights)
        ]


class LlmDistiller(QuantDistiller):
    """Phrases each deterministic summary as one actionable lesson with a chat model.

    Args:
        chat_model: Any LangChain chat model (``invoke(messages) -> AIMessage``).
        label: Recorded as the lesson's ``source``.
        max_chars: Lessons are truncated to this length.
    """

    def __init__(self, chat_model: Any, label: str = "llm", min_count: int = 30,
                 max_chars: int = 240) -> None:  # fmt: skip
        super().__init__(min_count)
        self.chat_model = chat_model
        self.source = label
        self.max_chars = max_chars
        self.calls = 0
        self.failures = 0

    def distill(
        self,
        instrument: str,
        as_of: datetime,
        tracker: PerformanceTracker,
        weights: Mapping[str, float],
    ) -> list[Lesson]:
        """Lessons phrased by the model (the deterministic text when it fails)."""
        from langchain_core.messages import HumanMessage, SystemMessage

        lessons = []
        for regime, summary in self.summaries(tracker, weights):
            text = f"{instrument} {summary}"
            try:
                self.calls += 1
                answer = self.chat_model.invoke(
                    [
                        SystemMessage(
                            "You distill trading performance statistics into one short, "
                            "actionable lesson. Use only the numbers given. One sentence."
                        ),
                        HumanMessage(f"Statistics: {text}\nLesson:"),
                    ]
                )
                phrased = str(getattr(answer, "content", "") or "").strip()
                if phrased:
                    text = f"{instrument} {regime}: {phrased}"[: self.max_chars]
            except Exception:  # a failing model never blocks learning: keep the numbers
                self.failures += 1
            lessons.append(Lesson(text=text, as_of=as_of, instrument=instrument,
                                  regime=regime, source=self.source))  # fmt: skip
        return lessons
