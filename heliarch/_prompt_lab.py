"""Past situations with complete outcomes, and an evaluator that scores prompts on them.

``goog``-style situation sets are built from bundled bars without look-ahead: at decision bar
``t`` the planets see only ``MarketSnapshot.at(t)``; the forward return over ``horizon`` bars is
labelled by ``learning.OutcomeLabeler`` from bars after ``t``; and only situations whose
horizon ended on or before the evaluation's ``cutoff`` are kept. Sets are chronological:
few-shot pool (oldest) -> selection -> held-out confirmation (newest).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from langchain_core.messages import HumanMessage, SystemMessage
from pydantic import BaseModel

from bus import BarSeries, LlmUsage, MarketSnapshot, PlanetReport
from learning import OutcomeLabeler
from memory import Situation, UniversalMemory
from planets import Planet, PlanetContext, RiskLimits, default_planets
from prompts import PromptTemplate, TrialScore, TrialStore, decision_utility, return_scale
from sun import LlmReasoner, ReasonInputs, RoutingTree, compute_panel
from sun.llm import StructuredLLM


@dataclass(frozen=True)
class LabSituation:
    """One past decision point with its realized outcome (known only to the scorer)."""

    id: str
    inputs: ReasonInputs
    forward_return: float
    horizon_end: datetime
    scale: float

    def example(self) -> str:
        """A one-line few-shot example: what the planets said and what happened."""
        scores = ", ".join(
            f"{r.planet} {r.score:+.2f}"
            for r in self.inputs.reports
            if r.has_data and r.planet in self.inputs.directional
        )
        move = "rose" if self.forward_return > 0 else "fell"
        best = "BUY" if self.forward_return > 0 else "SELL"
        return f"{scores}: price {move} {abs(self.forward_return):.1%}, {best} was right"


@dataclass(frozen=True)
class SituationSets:
    """Chronological, disjoint sets of labelled situations."""

    pool: tuple[LabSituation, ...]
    selection: tuple[LabSituation, ...]
    holdout: tuple[LabSituation, ...]

    def by_id(self) -> dict[str, LabSituation]:
        """Every situation by id."""
        return {s.id: s for s in (*self.pool, *self.selection, *self.holdout)}


def _reports(
    snapshot: MarketSnapshot, instrument: str, planets: dict[str, Planet], limits: RiskLimits
) -> tuple[PlanetReport, ...]:
    row = compute_panel(snapshot).for_instrument(instrument)
    route = RoutingTree().route(row, False)
    reports = []
    for name in route.planets:
        if name not in planets:
            continue
        context = PlanetContext(
            instrument=instrument,
            as_of=snapshot.as_of,
            moons=row,
            snapshot=snapshot,
            limits=limits,
            params=route.params.get(name, {}),
        )
        reports.append(planets[name].report(context))
    return tuple(sorted(reports, key=lambda r: r.planet))


def build_situations(
    series: BarSeries,
    *,
    horizon: int = 5,
    cutoff: datetime | None = None,
    start: int = 300,
    stride: int = 10,
    pool: int = 10,
    selection: int = 30,
    holdout: int = 20,
    limits: RiskLimits | None = None,
) -> SituationSets:
    """Labelled situations from one instrument's bars (no look-ahead; see the module doc).

    Args:
        series: Bars of one instrument.
        horizon: Bars until the outcome is labelled.
        cutoff: Evaluation cut-off; a situation is kept only if its horizon ended by then
            (default: the last bar).
        start: First decision bar (moons need warm-up).
        stride: Bars between decision points.
        pool / selection / holdout: Sizes of the three chronological sets.
    """
    limits = limits or RiskLimits()
    planets = default_planets()
    directional = frozenset(n for n, p in planets.items() if p.directional)
    name = series.instrument
    stamps = [t.astype("datetime64[us]").item() for t in series.timestamps]
    cutoff = cutoff or stamps[-1]
    wanted = pool + selection + holdout
    decision_bars = set(range(start, len(stamps) - horizon, stride))
    labeler = OutcomeLabeler(horizon)
    out: list[LabSituation] = []
    pending: dict[datetime, tuple[ReasonInputs, float]] = {}
    for i, stamp in enumerate(stamps):
        if stamp > cutoff or len(out) >= wanted:
            break
        for done in labeler.on_bar(name, stamp, float(series.close[i])):
            inputs, scale = pending.pop(done.situation.as_of)
            out.append(
                LabSituation(
                    id=f"{name}@{done.situation.as_of.date().isoformat()}",
                    inputs=inputs,
                    forward_return=done.outcome.realized_return,
                    horizon_end=done.outcome.horizon_end,
                    scale=scale,
                )
            )
        if i not in decision_bars or len(out) + len(pending) >= wanted:
            continue
        snapshot = MarketSnapshot.at(stamp, {name: series})
        reports = _reports(snapshot, name, planets, limits)
        vol = compute_panel(snapshot).for_instrument(name).get("realized_vol", math.nan)
        scale = return_scale(vol, horizon)
        inputs = ReasonInputs(
            instrument=name,
            as_of=stamp.isoformat(),
            reports=reports,
            recalled=(),
            limits=limits,
            directional=directional,
        )
        pending[stamp] = (inputs, scale)
        labeler.submit(Situation(name, stamp, None, "BUY", target_position=1.0, confidence=1.0))
    if len(out) < wanted:
        raise ValueError(f"only {len(out)} complete situations before {cutoff}; need {wanted}")
    return SituationSets(
        pool=tuple(out[:pool]),
        selection=tuple(out[pool : pool + selection]),
        holdout=tuple(out[pool + selection : wanted]),
    )


def best_examples(situations: Sequence[LabSituation], k: int = 3) -> list[str]:
    """Few-shot lines from the largest completed moves of the (oldest) pool."""
    ranked = sorted(situations, key=lambda s: abs(s.forward_return) / s.scale, reverse=True)
    return [s.example() for s in ranked[:k]]


def memory_examples(
    memory: UniversalMemory, sets: SituationSets, instrument: str, k: int = 3
) -> list[str]:
    """Few-shot lines from memory's best episodes whose outcome was known before the first
    evaluated situation (so no example reveals a move the candidates are scored on).

    Raises:
        ValueError: when memory holds no such episode for ``instrument``.
    """
    first = min(s.inputs.as_of for s in (*sets.selection, *sets.holdout))
    cutoff = datetime.fromisoformat(first)
    best = memory.best_episodes(cutoff, k, instrument=instrument)
    if not best:
        raise ValueError(
            f"memory holds no {instrument} episode with an outcome known before {first}; "
            "run a backtest into it first, or evolve without memory"
        )
    return [episode.example() for episode in best]


class LlmPromptEvaluator:
    """Scores a ``sun_reason`` prompt version by what the real reasoner decides with it.

    Uses :class:`LlmReasoner` (the production path: schema-validated answer, one repair) and
    :func:`prompts.decision_utility` (hit rate + risk-adjusted return, -1 if invalid, minus a
    token charge).
    """

    def __init__(
        self,
        llm: StructuredLLM,
        situations: dict[str, LabSituation],
        label: str = "local",
        token_cost_per_1k: float = 0.0,
    ) -> None:
        self.llm = llm
        self.situations = situations
        self.label = label
        self.token_cost_per_1k = token_cost_per_1k

    def evaluate(self, prompt: PromptTemplate, situation: str) -> TrialScore:
        """Decide with ``prompt`` on ``situation`` and score it."""
        lab = self.situations[situation]
        decision, reasoning = LlmReasoner(self.llm, self.label, prompt=prompt).reason(lab.inputs)
        usage = reasoning.usage
        tokens = usage.prompt_tokens + usage.completion_tokens
        position = decision.target_position if decision is not None else None
        score = decision_utility(
            position, lab.forward_return, lab.scale, tokens, self.token_cost_per_1k
        )
        return TrialScore(
            utility=score.utility,
            valid=score.valid,
            position=score.position,
            strategy_return=score.strategy_return,
            hit=score.hit,
            usage=usage,
        )


def structured_call(llm: StructuredLLM):  # noqa: ANN201 - returns prompts.StructuredCall
    """Adapt a :class:`StructuredLLM` to the mutator's ``(system, user, schema)`` call."""

    def call(system: str, user: str, schema: type[BaseModel]) -> tuple[BaseModel | None, LlmUsage]:
        result = llm.invoke([SystemMessage(system), HumanMessage(user)], schema)
        return result.parsed, result.usage

    return call


def run_evolution(
    series: BarSeries,
    *,
    model: str = "local",
    variants: int = 3,
    selection: int = 24,
    holdout: int = 12,
    max_calls: int = 160,
    max_tokens: int | None = None,
    alpha: float = 0.05,
    auto_adopt: bool = True,
    store: TrialStore | None = None,
    seed: int = 0,
    mutations: Sequence[str] = ("few_shot", "add_instruction", "reorder_evidence", "rephrase"),
    memory: UniversalMemory | None = None,
    candidates: Sequence[str] = (),
) -> dict[str, object]:
    """One evolution of ``sun_reason`` on ``series``: mutate, A/B test, confirm, adopt.

    Few-shot examples come from ``memory``'s best episodes known before the evaluated
    situations when a memory is given, else from the oldest pool of situations.
    ``candidates``: existing ``sun_reason`` versions to test instead of mutations (e.g. a
    hand-written candidate such as ``"2"``; no mutation calls are made then).
    Returns a JSON-friendly report (variants tried, trials, winner or "no winner", LLM usage).
    """
    from prompts import Budget, Evolution, EvolutionConfig, Mutator, get_prompt
    from sun.llm import build_chat_model, parse_model_spec

    sets = build_situations(series, pool=10, selection=selection, holdout=holdout)
    spec = parse_model_spec(model)
    chat = build_chat_model(spec, max_tokens=160, timeout_s=60.0)
    llm = StructuredLLM(chat, spec.label)
    budget = Budget(max_calls=max_calls, max_tokens=max_tokens)
    incumbent = get_prompt("sun_reason")
    if candidates:
        tested = [get_prompt("sun_reason", version) for version in candidates]
    else:
        mutator = Mutator(structured_call(llm), budget, seed=seed)
        if memory is not None:
            examples = memory_examples(memory, sets, series.instrument)
        else:
            examples = best_examples(sets.pool)
        tested = mutator.propose(incumbent, variants, mutations=mutations, examples=examples)
    mutation_usage = budget.as_dict()
    evaluator = LlmPromptEvaluator(llm, sets.by_id(), label=spec.label)
    config = EvolutionConfig(alpha=alpha, auto_adopt=auto_adopt, seed=seed, budget=budget)
    result = Evolution(evaluator, store, config).run(
        "sun_reason",
        tested,
        [s.id for s in sets.selection],
        [s.id for s in sets.holdout],
        incumbent=incumbent,
    )
    return {
        "model": spec.label,
        "incumbent": incumbent.version,
        "few_shot_source": "memory" if memory is not None else "situation pool",
        "variants_tried": [
            {
                "version": c.version,
                "note": _note(c),
                "outcome": r.outcome,
                "valid_rate": r.valid_rate,
                "mean_diff": r.selection.get("mean_diff"),
                "trials": r.selection.get("n"),
                "e_value": r.selection.get("e_better"),
            }
            for c, r in zip(tested, result.candidates, strict=True)
        ],  # fmt: skip
        "selection_situations": len(sets.selection),
        "holdout_situations": len(sets.holdout),
        "trials": result.trials,
        "winner": result.winner or "no winner",
        "outcome": result.outcome,
        "run_id": result.run_id,
        "mutation_usage": mutation_usage,
        "usage": result.usage,
    }


def _note(template: PromptTemplate) -> str:
    for line in template.path.read_text(encoding="utf-8").splitlines():
        if line.startswith("note:"):
            return line[5:].strip()
    return ""
