"""DECISIONING with a model: the LLM picks the break's action from the upstream facts.

The rule-based :func:`~examples.reconciliation.agents.decisioning` stays the reference and the
fallback. The model's answer is validated (one of three actions and a reason); it may never
close a material break or a missing / duplicate confirmation automatically (the rules' action
stands, and the facts say the model was overruled); an invalid answer or a failed call falls
back to the rules and says why. Calls and tokens are reported, so the policy's budget counts
them. The prompt is the versioned template ``prompts/templates/recon_decide``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any, Literal

from langchain_core.messages import HumanMessage, SystemMessage
from pydantic import BaseModel, ConfigDict, Field

from examples.reconciliation.agents import decisioning
from prompts import PromptTemplate, get_prompt
from sun.llm import StructuredLLM, build_chat_model, failed_usage, parse_model_spec
from sun.policy import AgentCall, NodeOutput

_UPSTREAM = ("BREAK_INGESTION", "DATA_ENRICHMENT", "MATCHING_CORRELATION", "RULES_TOLERANCE",
             "PATTERN_INTELLIGENCE")  # fmt: skip


class ReconAnswer(BaseModel):
    """The model's answer: why, then the action (reasoning before the choice)."""

    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=3, max_length=200)
    action: Literal["auto_resolve", "correct", "investigate"]


def recon_model(spec: str, *, timeout_s: float = 120.0) -> StructuredLLM:
    """A structured caller for model ``spec`` (e.g. ``local``, ``openai:gpt-4o-mini``)."""
    parsed = parse_model_spec(spec)
    if not parsed.is_llm:
        raise ValueError(f"DECISIONING needs an LLM model spec, not {spec!r}")
    chat = build_chat_model(parsed, max_tokens=128, timeout_s=timeout_s)
    return StructuredLLM(chat, parsed.label)


def llm_decisioning(
    model: StructuredLLM, prompt: PromptTemplate | None = None
) -> Callable[[AgentCall], NodeOutput]:
    """The DECISIONING agent backed by ``model`` (see the module docstring)."""
    template = prompt or get_prompt("recon_decide")

    def decide(call: AgentCall) -> NodeOutput:
        ruled = decisioning(call)
        rules_action = str(ruled.facts["action"])
        system, user = template.render(
            break_type=call.profile.get("break_type", "unknown"),
            asset_class=call.profile.get("asset_class", "unknown"),
            materiality=f"{float(call.profile.get('materiality', 0.0)):.2f}",
            facts=_facts_text(call.outputs), rules_action=rules_action,
        )  # fmt: skip
        try:
            result = model.invoke([SystemMessage(system), HumanMessage(user)], ReconAnswer)
        except Exception as error:  # a failed call: the rules decide, and say why
            usage = failed_usage(error)
            why = f"model failed: {type(error).__name__}: {str(error)[:120]}"
            return _ruled(ruled, model.spec_label, why, usage.calls, 0)
        usage = result.usage
        tokens = usage.prompt_tokens + usage.completion_tokens
        answer = result.parsed
        if not isinstance(answer, ReconAnswer):
            why = f"invalid answer: {(result.error or 'no answer')[:120]}"
            return _ruled(ruled, model.spec_label, why, usage.calls, tokens)
        if answer.action == "auto_resolve" and _never_auto(call, ruled):
            why = "model's auto_resolve refused: material, missing or duplicate break"
            return _ruled(ruled, model.spec_label, why, usage.calls, tokens)
        return NodeOutput(
            score=1.0 if answer.action == "auto_resolve" else 0.0, confidence=0.9,
            facts={**ruled.facts, "action": answer.action, "decided_by": model.spec_label,
                   "rules_action": rules_action, "model_reason": answer.reason},
            llm_calls=usage.calls, tokens=tokens,
        )  # fmt: skip

    decide.__name__ = "llm_decisioning"
    return decide


def _never_auto(call: AgentCall, ruled: NodeOutput) -> bool:
    found = call.outputs.get("PATTERN_INTELLIGENCE")
    cause = found.facts.get("cause") if found is not None else None
    matched = call.outputs.get("MATCHING_CORRELATION")
    flags = matched.facts if matched is not None else {}
    return bool(
        ruled.facts.get("material")
        or cause in ("missing", "duplicate")
        or flags.get("missing")
        or flags.get("duplicate")
    )


def _ruled(ruled: NodeOutput, label: str, why: str, calls: int, tokens: int) -> NodeOutput:
    facts = {**ruled.facts, "decided_by": "rules", "rules_action": ruled.facts["action"],
             "model": label, "model_note": why}  # fmt: skip
    return ruled.model_copy(update={"facts": facts, "llm_calls": calls, "tokens": tokens})


def _facts_text(outputs: Mapping[str, NodeOutput]) -> str:
    """The upstream agents' facts, one JSON line per agent (data, not instructions)."""
    lines = []
    for name in _UPSTREAM:
        output = outputs.get(name)
        if output is not None:
            facts: dict[str, Any] = {k: v for k, v in output.facts.items()}
            lines.append(f"- {name}: {json.dumps(facts, sort_keys=True, default=str)}")
    return "\n".join(lines) or "- (no upstream facts)"
