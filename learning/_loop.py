"""The continuous learning loop: label outcomes, track performance, learn trust, distill lessons."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from learning._calibration import ConfidenceCalibrator
from learning._distill import Distiller, QuantDistiller
from learning._outcomes import Labelled, OutcomeLabeler
from learning._regime import market_regime
from learning._tracker import PerformanceTracker
from learning._weights import HedgeTrust
from memory import Situation, UniversalMemory
from prompts import LiveExperiment, decision_utility, return_scale

NON_DIRECTIONAL = frozenset({"risk", "execution"})


class LearningLoop:
    """Learns from each decision's outcome, as the bars that decide it arrive.

    Wiring (see ``heliarch.backtest._run`` for a complete walk-forward)::

        loop = LearningLoop(memory, horizon=5)
        sun = Sun("quant", trust_weights=loop.weights, recaller=memory.recaller(),
                  sinks=[loop.sink])
        for each new bar:  loop.on_bar(symbol, timestamp, close); sun.decide(snapshot)

    * :meth:`sink` (a ``Sun`` sink) queues every decision for labelling and records it in the
      episode;
    * :meth:`on_bar` resolves the decisions whose horizon the bar completes (never earlier),
      writes their outcomes to memory, updates the :class:`PerformanceTracker` and, when
      learning is enabled, the :class:`HedgeTrust` weights, and every ``distill_every``
      outcomes distills lessons into semantic memory;
    * every labelled active decision feeds an isotonic confidence calibrator per reasoner
      (``calibrators``; ``calibrator`` pools them): :meth:`calibrated` is what
      ``sun.ConfidenceSizing`` needs to let a calibrated confidence size positions.

    Args:
        memory: Where situations, outcomes and lessons go (None: learn without memory).
        horizon: Bars until a decision is labelled.
        enabled: False freezes the weights and skips distillation (outcomes are still
            labelled, tracked and remembered).
        trust: The weight learner (Hedge with fixed share by default).
        distiller: Lesson writer (deterministic :class:`QuantDistiller` by default).
        distill_every: Distill after this many labelled outcomes.
        periods_per_year: Bars per year of the data (Sharpe of the tracker).
        panel_periods_per_year: The moon panel's ``periods_per_year`` (it annualized
            ``realized_vol``; the regime de-annualizes with it).
        directional: Planets whose scores are calls on direction (default: all but risk and
            execution).
        prompt_experiment: The sun's live prompt experiment: each labelled decision it
            assigned is scored with :func:`prompts.decision_utility` (the offline evolution's
            metric) and recorded, so outcomes decide adoption.
    """

    def __init__(
        self,
        memory: UniversalMemory | None = None,
        *,
        horizon: int = 5,
        enabled: bool = True,
        trust: HedgeTrust | None = None,
        distiller: Distiller | None = None,
        distill_every: int = 250,
        periods_per_year: int = 252,
        panel_periods_per_year: int = 252,
        directional: Iterable[str] | None = None,
        prompt_experiment: LiveExperiment | None = None,
    ) -> None:
        self.memory = memory
        self.enabled = enabled
        self.labeler = OutcomeLabeler(horizon)
        self.tracker = PerformanceTracker(periods_per_year)
        self.trust = trust or HedgeTrust()
        self.distiller = distiller or QuantDistiller()
        self.distill_every = distill_every
        self.periods_per_year = periods_per_year
        self.panel_periods_per_year = panel_periods_per_year
        self.directional = frozenset(directional) if directional is not None else None
        self.labelled = 0
        self.lessons_written = 0
        self.weight_history: list[tuple[datetime, dict[str, float]]] = []
        self.prompt_experiment = prompt_experiment
        self._experiment_scales: dict[str, float] = {}
        self.calibrator = ConfidenceCalibrator()
        self.calibrators: dict[str, ConfidenceCalibrator] = {}
        self._reasoners: dict[tuple[str, datetime], str] = {}

    @property
    def weights(self) -> dict[str, float]:
        """The live trust weights (a dict updated in place)."""
        return self.trust.weights

    def calibrated(self, reasoner: str, confidence: float) -> float | None:
        """The hit rate ``reasoner``'s decisions at ``confidence`` achieved, or None while its
        calibrator has too few labelled active decisions (``sun.ConfidenceSizing`` takes this).
        """
        calibrator = self.calibrators.get(reasoner)
        return None if calibrator is None else calibrator.calibrated(confidence)

    def _is_directional(self, planet: str) -> bool:
        if self.directional is not None:
            return planet in self.directional
        return planet not in NON_DIRECTIONAL

    def _moons(self, decision: Any) -> dict[str, float]:
        if self.memory is not None:
            held = self.memory.short_term.lookup(decision.instrument, decision.as_of)
            if held is not None:
                return held[0]
        moons: dict[str, float] = {}
        for report in decision.planet_reports:
            moons.update(report.evidence)
        return moons

    def sink(self, decision: Any) -> None:
        """Queue a ``SunDecision`` for labelling (use as ``Sun(sinks=[loop.sink])``)."""
        moons = self._moons(decision)
        scores = {
            r.planet: (float(r.score), float(r.confidence))
            for r in decision.planet_reports
            if r.has_data and self._is_directional(r.planet)
        }
        regime = market_regime(moons, periods_per_year=self.panel_periods_per_year)
        fields = {
            "action": decision.action,
            "target_position": decision.target_position,
            "confidence": decision.confidence,
            "regime": regime,
            "planet_scores": scores,
        }
        if self.memory is not None:
            situation = self.memory.situation(decision.instrument, decision.as_of, **fields)
            self.memory.remember_decision(situation)
        else:
            situation = Situation(instrument=decision.instrument, as_of=decision.as_of,
                                  vector=None, **fields)  # fmt: skip
        self._enter_experiment(decision, moons)
        reasoner = getattr(decision, "reasoner", None)  # the calibrator it feeds, if named
        if reasoner is not None:
            self._reasoners[(decision.instrument, decision.as_of)] = str(reasoner)
        var95 = moons.get("var95")
        self.labeler.submit(
            situation, var95 if var95 is not None and math.isfinite(var95) else None
        )

    def _enter_experiment(self, decision: Any, moons: Mapping[str, float]) -> None:
        """Remember the return scale of a decision the live prompt experiment assigned."""
        experiment = self.prompt_experiment
        if experiment is None:
            return
        key = LiveExperiment.key(decision.instrument, decision.as_of.isoformat())
        if key in experiment.assigned:
            vol = moons.get("realized_vol", math.nan)
            self._experiment_scales[key] = return_scale(
                vol, self.labeler.horizon, self.panel_periods_per_year
            )

    def _score_experiment(self, item: Labelled) -> None:
        situation = item.situation
        key = LiveExperiment.key(situation.instrument, situation.as_of.isoformat())
        scale = self._experiment_scales.pop(key, None)
        if self.prompt_experiment is None or scale is None:
            return
        score = decision_utility(situation.target_position, item.outcome.realized_return, scale)
        self.prompt_experiment.record(key, score.utility)

    def on_bar(self, instrument: str, timestamp: datetime, close: float) -> list[Labelled]:
        """Observe a closed bar (before deciding on it); learn from the outcomes it completes."""
        done = self.labeler.on_bar(instrument, timestamp, close)
        for item in done:
            self._learn(item, timestamp)
        return done

    def _learn(self, item: Labelled, now: datetime) -> None:
        if self.memory is not None:
            self.memory.remember_outcome(item.situation, item.outcome, var95=item.var95)
        self.tracker.update(item)
        self.labelled += 1
        situation = item.situation
        reasoner = self._reasoners.pop((situation.instrument, situation.as_of), None)
        if situation.target_position != 0.0:
            hit = situation.target_position * item.outcome.realized_return > 0
            self.calibrator.add(situation.confidence, hit)
            if reasoner is not None:
                per = self.calibrators.setdefault(reasoner, ConfidenceCalibrator())
                per.add(situation.confidence, hit)
        self._score_experiment(item)
        if not self.enabled:
            return
        losses = self.trust.losses_for(item.situation.planet_scores, item.outcome.realized_return)
        if losses:
            self.trust.update(losses)
            self.weight_history.append((now, dict(self.trust.weights)))
        if self.distill_every and self.labelled % self.distill_every == 0:
            self.distill(item.situation.instrument, now)

    def distill(self, instrument: str, as_of: datetime) -> int:
        """Write lessons learned up to ``as_of`` into semantic memory; returns how many."""
        lessons = self.distiller.distill(instrument, as_of, self.tracker, self.trust.weights)
        if self.memory is not None:
            for lesson in lessons:
                self.memory.learn(lesson)
        self.lessons_written += len(lessons)
        return len(lessons)

    def summary(self) -> Mapping[str, Any]:
        """JSON-friendly state: weights, counts, tracker rows."""
        return {
            "enabled": self.enabled,
            "horizon_bars": self.labeler.horizon,
            "labelled": self.labelled,
            "pending": len(self.labeler.pending()),
            "weights": {k: round(v, 6) for k, v in sorted(self.trust.weights.items())},
            "weight_updates": self.trust.updates,
            "lessons_written": self.lessons_written,
            "performance": self.tracker.rows(),
        }
