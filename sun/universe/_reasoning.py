"""A universe pass's reasoning: the emergency flat, the quant vote over arrays and the policy
skip for most instruments; the model chain, bounded, only for the instruments the policy
sends to it (each as ``decide_reasoning`` would decide it).

The pass keeps its decisions as columns (:class:`Reasoned`): the quant instruments, most of
a universe, get no decision or reasoning object of their own, only a row and the shared
:data:`QUANT_SOURCE`.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from bus import FallbackAttempt, LlmUsage
from sun._reason import PLANETS_AGREE, decide_reasoning, emergency_reasoning, planets_agree
from sun._reasoning import EMERGENCY, QUANT, Provenance, Reasoning, ReasonInputs, Source
from sun.universe._config import UniverseConfig
from sun.universe._quant import DecisionColumns, quant_columns
from sun.universe._working import Reports, RunData

_NO_USAGE = LlmUsage()
_CRITICAL = operator.attrgetter("critical")
_POLICY = "policy"
_QUANT_KINDS = (QUANT, _POLICY)
QUANT_SOURCE = Provenance(reasoner=QUANT, level=QUANT, usage=_NO_USAGE)
"""Where a pass's quant decisions come from when no model was asked (one, shared)."""


@dataclass(frozen=True)
class Reasoned:
    """A pass's reasoned decisions, one row per live instrument: the decisions as columns
    and where each came from (the :class:`Reasoning` where a model or the emergency rule
    decided, else a shared :class:`Provenance`)."""

    decisions: DecisionColumns
    sources: list[Source]


class ReasoningStage(RunData):
    """The reasoning stage of one pass."""

    def _reason(
        self,
        routes: list[dict[str, Any]],
        reports: list[Reports],
        recalled: list[tuple[str, ...]],
        config: UniverseConfig,
    ) -> Reasoned:
        """Emergency / quant / policy skip over arrays; the model chain, bounded, for the rest."""
        context = self.context

        def inputs(k: int) -> ReasonInputs:
            return ReasonInputs(
                instrument=self.names[self.live[k]],
                as_of=self.as_of.isoformat(),
                reports=reports[k],
                recalled=recalled[k],
                limits=context.limits,
                directional=self.directional,
                risk_planet=self.risk_planet,
            )

        kinds = self._kinds(reports, inputs)
        quant = [k for k, kind in enumerate(kinds) if kind in _QUANT_KINDS]
        columns = quant_columns(
            context.quant, [reports[k] for k in quant], self.directional,
            lambda j: inputs(quant[j]),
        )  # fmt: skip
        skipped = self._policy_source() if _POLICY in kinds else QUANT_SOURCE
        if len(quant) == len(kinds):  # no emergency, no model asked: the columns as they are
            sources: list[Source] = [QUANT_SOURCE if kind == QUANT else skipped for kind in kinds]
            return Reasoned(columns, sources)
        others: dict[int, Reasoning] = {}
        for k in [k for k, kind in enumerate(kinds) if kind == EMERGENCY]:  # no model call
            flat = emergency_reasoning(reports[k])
            assert flat is not None  # the instrument has a critical report
            others[k] = flat
        asked = [k for k, kind in enumerate(kinds) if kind == "model"]
        if asked:
            workers = min(config.llm_concurrency, len(asked))
            with ThreadPoolExecutor(workers, thread_name_prefix="heliarch-universe") as pool:
                states = [self._state(k, routes[k], reports[k], recalled[k]) for k in asked]
                answers = pool.map(lambda state: decide_reasoning(state, context), states)
                others.update(zip(asked, answers, strict=True))
        return _merged(kinds, columns, others, skipped)

    def _kinds(self, reports: list[Reports], inputs: Callable[[int], ReasonInputs]) -> list[str]:
        """Which branch of ``decide_reasoning`` each instrument takes: emergency on a critical
        report, else quant without a model chain, else the policy skip or the model."""
        critical = [any(map(_CRITICAL, rs)) for rs in reports]
        if self.context.chain is None:
            return [EMERGENCY if c else QUANT for c in critical]
        return [EMERGENCY if c else self._asked(inputs, k) for k, c in enumerate(critical)]

    def _asked(self, inputs: Callable[[int], ReasonInputs], k: int) -> str:
        """The branch of a non-critical instrument ``k`` when a model chain is configured."""
        if self.context.orchestration.llm_policy == "auto" and planets_agree(
            inputs(k), self.context
        ):
            return _POLICY
        return "model"

    def _policy_source(self) -> Provenance:
        """Where the decisions the policy skip left to the quant reasoner come from."""
        chain = self.context.chain
        assert chain is not None
        note = FallbackAttempt(level=chain.primary.label, ok=False, error=PLANETS_AGREE)
        return Provenance(reasoner=QUANT, level=_POLICY, attempts=(note,), usage=_NO_USAGE)

    def _state(
        self, k: int, route: dict[str, Any], reports: Reports, recalled: tuple[str, ...]
    ) -> Any:
        """What ``decide_reasoning`` reads of one instrument (its plan's rule: the budget)."""
        i = self.live[k]
        return {
            "route": {"rule": route["rule"]},
            "started_at": self.started_at,
            "instrument": self.names[i],
            "snapshot": self.snapshot,
            "panel": self.panel([i]),
            "reports": list(reports),
            "recalled": list(recalled),
            "position": self.positions.get(self.names[i], 0.0),
        }


def _merged(
    kinds: list[str],
    quant: DecisionColumns,
    others: Mapping[int, Reasoning],
    skipped: Provenance,
) -> Reasoned:
    """The quant rows (in order) and the other reasonings, in instrument order."""
    actions, targets, confidences, rationales = [], [], [], []
    sources: list[Source] = []
    rows = zip(quant.actions, quant.targets, quant.confidences, quant.rationales, strict=True)
    for k, kind in enumerate(kinds):
        if kind in _QUANT_KINDS:
            action, target, confidence, rationale = next(rows)
            sources.append(QUANT_SOURCE if kind == QUANT else skipped)
        else:
            reasoning = others[k]
            decision = reasoning.decision
            action, target = decision.action, decision.target_position
            confidence, rationale = decision.confidence, decision.rationale
            sources.append(reasoning)
        actions.append(action)
        targets.append(target)
        confidences.append(confidence)
        rationales.append(rationale)
    return Reasoned(DecisionColumns(actions, targets, confidences, rationales), sources)
