"""Prompt evolution on past situations: an evaluator that scores a ``sun_reason`` prompt by
what the real reasoner decides with it, and the whole run (:func:`run_evolution`); the
situation sets are :mod:`heliarch._situations`."""

from __future__ import annotations

from collections.abc import Sequence

from langchain_core.messages import HumanMessage, SystemMessage
from pydantic import BaseModel

from bus import BarSeries, LlmUsage
from heliarch._situations import (
    LabSituation,
    best_examples,
    build_situations,
    memory_examples,
)
from memory import UniversalMemory
from prompts import PromptTemplate, TrialScore, TrialStore, decision_utility
from sun import LlmReasoner
from sun.llm import StructuredLLM


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
