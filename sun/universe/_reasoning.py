"""A universe pass's reasoning: the emergency flat, the quant vote over arrays and the policy
skip for most instruments; the model chain, bounded, only for the instruments the policy
sends to it (each as ``decide_reasoning`` would decide it)."""

from __future__ import annotations

import operator
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from bus import FallbackAttempt, LlmUsage, ReasonedDecision
from sun._reason import decide_reasoning, emergency_reasoning, planets_agree
from sun._reasoning import EMERGENCY, QUANT, Reasoning, ReasonInputs
from sun.universe._config import UniverseConfig
from sun.universe._quant import quant_reports
from sun.universe._working import Reports, RunData

_NO_USAGE = LlmUsage()
_CRITICAL = operator.attrgetter("critical")

# every field of a quant ``Reasoning`` but its decision, worked out by the constructor itself
_QUANT_FIELDS = dict(vars(Reasoning(decision=None, reasoner=QUANT, level=QUANT, usage=_NO_USAGE)))  # type: ignore[arg-type]  # placeholder decision, replaced per object


def quant_reasoning(decision: ReasonedDecision) -> Reasoning:
    """``Reasoning(decision=decision, reasoner=QUANT, level=QUANT, usage=_NO_USAGE)``, equal
    to it field for field, built without the frozen dataclass's ``__init__`` (one
    ``object.__setattr__`` per field, ~1.6 us; this ~0.4 us), once per quant instrument."""
    reasoning = object.__new__(Reasoning)
    object.__setattr__(reasoning, "__dict__", {**_QUANT_FIELDS, "decision": decision})
    return reasoning


class ReasoningStage(RunData):
    """The reasoning stage of one pass."""

    def _reason(
        self,
        routes: list[dict[str, Any]],
        reports: list[Reports],
        recalled: list[tuple[str, ...]],
        config: UniverseConfig,
    ) -> list[Reasoning]:
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
        result: list[Reasoning | None] = [None] * len(kinds)
        quant = [k for k, kind in enumerate(kinds) if kind in (QUANT, "policy")]
        decided = quant_reports(
            context.quant, [reports[k] for k in quant], self.directional,
            lambda j: inputs(quant[j]),
        )  # fmt: skip
        for k, one in zip(quant, decided, strict=True):
            result[k] = self._quant_reasoning(one, kinds[k])
        for k in [k for k, kind in enumerate(kinds) if kind == EMERGENCY]:  # no model call
            result[k] = emergency_reasoning(reports[k])
        asked = [k for k, kind in enumerate(kinds) if kind == "model"]
        if asked:
            workers = min(config.llm_concurrency, len(asked))
            with ThreadPoolExecutor(workers, thread_name_prefix="heliarch-universe") as pool:
                states = [self._state(k, routes[k], reports[k], recalled[k]) for k in asked]
                answers = pool.map(lambda state: decide_reasoning(state, context), states)
                for k, answer in zip(asked, answers, strict=True):
                    result[k] = answer
        return [r for r in result if r is not None]

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
            return "policy"
        return "model"

    def _quant_reasoning(self, decision: ReasonedDecision, kind: str) -> Reasoning:
        if kind == QUANT:  # no model asked: the empty usage (immutable), shared
            return quant_reasoning(decision)
        chain = self.context.chain
        assert chain is not None
        note = FallbackAttempt(level=chain.primary.label, ok=False, error="skipped: planets agree")
        return Reasoning(decision=decision, reasoner=QUANT, level="policy", attempts=(note,),
                         usage=_NO_USAGE)  # fmt: skip

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
