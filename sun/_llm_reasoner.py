"""The deep-tier LLM reasoner: the sun's chat model with schema-validated output, one repair
attempt for an invalid or unsafe answer, the model's authority level, and LLM usage
accounting (the quant reasoner and the shared reasoning types are in :mod:`sun._reasoning`).
"""

from __future__ import annotations

import time

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage

from bus import FallbackAttempt, LlmUsage, PromptRef, ReasonedDecision
from prompts import LiveExperiment, PromptTemplate, get_prompt
from sun._authority import ANSWERS, Authority, apply_authority, parse_authority, rationale_problem
from sun._reasoning import QuantReasoner, Reasoning, ReasonInputs, unsafe_reason
from sun._report_text import describe_reports, format_reports
from sun.llm import StructuredCaller, add_failed_usage

_LEVEL_PROMPTS: dict[Authority, str] = {"adjust": "sun_adjust", "explain": "sun_explain"}


class LlmReasoner:
    """The deep-tier LLM reasoner (any LangChain chat model via :class:`StructuredLLM`).

    ``authority`` is how much say the model has (see :mod:`sun._authority`): at ``decide`` it
    answers with the ``sun_reason`` prompt; at ``adjust`` / ``explain`` with ``sun_adjust`` /
    ``sun_explain`` around the quant decision (``band``: the most ``adjust`` may move it).
    """

    def __init__(
        self,
        llm: StructuredCaller,
        label: str,
        prompt: PromptTemplate | None = None,
        repair_prompt: PromptTemplate | None = None,
        *,
        authority: Authority = "decide",
        band: float = 0.25,
    ) -> None:
        self.llm = llm
        self.label = label
        self.prompt = prompt or get_prompt("sun_reason")
        self.repair_prompt = repair_prompt or get_prompt("sun_repair")
        self.experiment: LiveExperiment | None = None
        self.authority = authority
        self.band = band
        self.set_authority(authority, band)

    def set_authority(self, authority: str, band: float) -> None:
        """Change the level (checked) and the ``adjust`` band (in (0, 1])."""
        if not 0.0 < band <= 1.0:
            raise ValueError(f"the adjust band must be in (0, 1]; got {band}")
        self.authority = parse_authority(authority)
        self.band = band

    def prompt_for(self, inputs: ReasonInputs) -> PromptTemplate:
        """This decision's prompt: the level's prompt, or the live experiment's arm for it."""
        if self.authority in _LEVEL_PROMPTS:
            return get_prompt(_LEVEL_PROMPTS[self.authority])
        if self.experiment is not None and self.experiment.name == self.prompt.name:
            return self.experiment.choose(LiveExperiment.key(inputs.instrument, inputs.as_of))
        return self.prompt

    def anchor(self, inputs: ReasonInputs) -> ReasonedDecision:
        """The quant decision that ``adjust`` moves and ``explain`` explains."""
        return inputs.quant if inputs.quant is not None else QuantReasoner().reason(inputs)

    def messages(
        self, inputs: ReasonInputs, prompt: PromptTemplate | None = None
    ) -> list[BaseMessage]:
        """The reasoning prompt: planet evidence verbatim, limits, recalled situations.

        Each template declares the variables it uses (``reports``: compact values;
        ``evidence``: what each score means and moon values as relations; ``quant`` and
        ``band`` for the ``adjust`` / ``explain`` levels).
        """
        template = prompt or self.prompt
        quant = self.anchor(inputs) if {"quant", "band"} & set(template.variables) else None
        values: dict[str, object] = {
            "instrument": inputs.instrument,
            "as_of": inputs.as_of,
            "reports": format_reports(inputs.reports),
            "evidence": describe_reports(inputs.reports, inputs.risk_planet),
            "recalled": "; ".join(inputs.recalled) or "none",
            "limits": f"size at most {inputs.position_cap():.3f}",
            "quant": "" if quant is None else f"{quant.action} {quant.target_position:+.2f}",
            "band": f"{self.band:.2f}",
        }
        system, user = template.render(
            **{k: v for k, v in values.items() if k in template.variables}
        )
        return [SystemMessage(system), HumanMessage(user)]

    def _check(
        self, parsed: object, inputs: ReasonInputs, prompt_text: str
    ) -> tuple[ReasonedDecision | None, str | None]:
        """The decision an answer allows at this level, or why the answer is invalid."""
        schema = ANSWERS[self.authority]
        if not isinstance(parsed, schema):
            return None, f"expected a {schema.__name__}"
        problem = rationale_problem(getattr(parsed, "rationale", ""), inputs.reports, prompt_text)
        if problem is not None:
            return None, problem
        decision = apply_authority(
            parsed, self.anchor(inputs), inputs.reports, inputs.directional, self.band
        )
        return decision, unsafe_reason(decision, inputs)

    def reason(self, inputs: ReasonInputs) -> tuple[ReasonedDecision | None, Reasoning]:
        """Ask the model once, repair once if the answer is invalid, unsafe or says nothing.

        Returns the decision and the record of the attempts. If both tries failed the decision
        is None at ``decide`` (the next level decides) and the quant anchor at ``adjust`` /
        ``explain`` (the model never had a say over the numbers; the rationale says so).
        Transport errors (connection, timeout, rate limit) propagate to the caller, carrying
        the usage of the calls made before them (:func:`~sun.llm.failed_usage`).
        """
        prompt = self.prompt_for(inputs)
        messages = self.messages(inputs, prompt)
        prompt_text = "\n".join(str(m.content) for m in messages)
        usage = LlmUsage()
        attempts: list[FallbackAttempt] = []
        for attempt in range(2):
            started = time.perf_counter()
            try:
                result = self.llm.invoke(messages, ANSWERS[self.authority])
            except Exception as failure:  # the calls made so far were made: they go with it
                add_failed_usage(failure, usage)
                raise
            usage = usage + result.usage
            decision, error = None, result.error
            if error is None:
                decision, error = self._check(result.parsed, inputs, prompt_text)
            elapsed = (time.perf_counter() - started) * 1e3
            level = self.label if attempt == 0 else f"{self.label} (repair)"
            attempts.append(
                FallbackAttempt(level=level, ok=error is None, error=error, latency_ms=elapsed)
            )
            if error is None and decision is not None:
                return decision, self._record(decision, attempts, usage, prompt)
            repair_system, repair_user = self.repair_prompt.render(error=error)
            messages = [
                *messages,
                AIMessage(result.raw_text or ""),
                HumanMessage(f"{repair_system}\n{repair_user}"),
            ]
        if self.authority != "decide":  # the model had no say over the numbers: they stand
            anchor = self.anchor(inputs)
            note = (
                f" [{self.authority}: no valid answer from {self.label}; the quant decision stands]"
            )
            stands = anchor.model_copy(update={"rationale": (anchor.rationale + note)[:600]})
            return stands, self._record(stands, attempts, usage, prompt)
        return None, self._record(None, attempts, usage, prompt)

    def _record(
        self,
        decision: ReasonedDecision | None,
        attempts: list[FallbackAttempt],
        usage: LlmUsage,
        prompt: PromptTemplate,
    ) -> Reasoning:
        placeholder = decision or ReasonedDecision(
            action="HOLD", target_position=0.0, confidence=0.0, rationale="(no valid LLM answer)"
        )
        return Reasoning(
            decision=placeholder,
            reasoner=self.label,
            level="primary",
            attempts=tuple(attempts),
            usage=usage,
            prompt=PromptRef(name=prompt.name, version=prompt.version),
            authority=self.authority,
        )
