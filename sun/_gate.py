"""The policy's stages after the guard in the sun graph: the gate and the review (the stages
before the reasoner are in :mod:`sun._settle`).

``gate`` completes the profile with the guarded change's materiality, evaluates the remaining
checkpoints and sets the disposition: ESCALATE holds the position (as guarded) and carries an
alert; HIL_REVIEW goes to ``review``, which calls LangGraph ``interrupt()`` with the decision,
its evidence and trace, and applies the answer (approve, reject, or modify with a new target
that passes the guard again). Without a checkpointer the review stays pending (no order).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

from langgraph.config import get_config
from langgraph.runtime import Runtime
from langgraph.types import interrupt
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from bus import (
    EscalationAlert,
    PlanetReport,
    ReasonedDecision,
    ReviewRecord,
    SunDecision,
    TraceStep,
    action_for,
)
from planets import RiskLimits
from sun._checkpoints import (
    at_stage,
    checkpoint_step,
    condition_view,
    evaluate,
    material_rule,
    review_checkpoints,
)
from sun._context import SunContext
from sun._guard import guard
from sun._plan_runtime import (
    failure_stop,
    outranks,
    policy_of,
    routed_rule,
)
from sun._state import SunState

REVIEW_KIND = "heliarch.sun.review"


class ReviewAnswer(BaseModel):
    """A reviewer's answer to a HIL_REVIEW decision (the ``Command(resume=...)`` value).

    Attributes:
        action: ``approve`` (the order is released), ``reject`` (no order: the position is
            held) or ``modify`` (``target`` replaces the proposed target, guarded again).
        by: Who answered (recorded on the decision).
        note: Why (recorded on the decision).
        target: The new target position, for ``modify`` only.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    action: Literal["approve", "reject", "modify"]
    by: str = ""
    note: str = ""
    target: float | None = Field(None, ge=-1.0, le=1.0, allow_inf_nan=False)

    @model_validator(mode="after")
    def _target_with_modify(self) -> ReviewAnswer:
        if self.action == "modify" and self.target is None:
            raise ValueError("target: modify needs a target position in [-1, 1]")
        if self.action != "modify" and self.target is not None:
            raise ValueError(f"target: only modify takes a target, not {self.action}")
        return self


def review_answer(
    action: str, *, target: float | None = None, by: str = "", note: str = ""
) -> ReviewAnswer:
    """A :class:`ReviewAnswer`; a ValueError names the bad field (action or target)."""
    try:
        return ReviewAnswer.model_validate(
            {"action": action, "target": target, "by": by, "note": note}
        )
    except ValidationError as error:
        problems = []
        for item in error.errors():
            text = str(item["msg"]).removeprefix("Value error, ")
            field = ".".join(str(part) for part in item["loc"])
            problems.append(f"{field} {item.get('input')!r}: {text}" if field else text)
        raise ValueError("; ".join(problems)) from None


def materiality(target: float, position: float, limits: RiskLimits) -> float:
    """|proposed change| x capital / max notional: >= 1 means the change reaches the limit."""
    return abs(target - position) * limits.capital / limits.max_notional


def gate(state: SunState, runtime: Runtime[SunContext]) -> SunState:
    """The disposition of the guarded decision (see the module docstring)."""
    context, route, decision = runtime.context, state["route"], state["decision"]
    stop, steps = state.get("stop"), []
    policy = policy_of(context)
    if policy is not None and route.get("rule") and (stop or {}).get("disposition") != "ESCALATE":
        view = condition_view(
            route["profile"], decision.planet_reports, route["nodes"], context.directional
        )
        if stop is None:
            hits = evaluate(policy, at_stage(policy, route["rule"], "guard"), view,
                            state.get("checked", []))  # fmt: skip
            steps += [checkpoint_step(hit) for hit in hits]
            stop = next((hit.stop for hit in hits if hit.stop is not None), None)
        size = materiality(decision.target_position, state["position"], context.limits)
        rule, profile = material_rule(policy, route["profile"], size, route["rule"])
        if rule is not None:
            hits = evaluate(policy, review_checkpoints(rule), {**view, **profile})
            steps += [checkpoint_step(hit, f"{rule.name}.") for hit in hits]
            late = next((hit.stop for hit in hits if hit.stop is not None), None)
            if late is not None:
                late["by"] = f"rule {rule.name} (materiality {size:.2f}), {late['by']}"
            if outranks(late, stop):
                stop = late
    chosen = routed_rule(context, route)
    if chosen is not None:
        failed = failure_stop(*chosen, state.get("trace", []), state["reasoning"])
        if outranks(failed, stop):
            assert failed is not None
            why = f"-> {failed['disposition']}: {failed['reason']}"
            steps.append(TraceStep(node="failure_rule", status="ran", reason=why))
            stop = failed
    thread = get_config().get("configurable", {}).get("thread_id")
    disposed = dispose(
        decision, stop, position=state["position"], route=route, context=context, thread=thread,
        trace=(*state.get("trace", ()), *steps),
    )  # fmt: skip
    return {"decision": disposed, "stop": stop, "trace": steps}


def dispose(
    decision: SunDecision,
    stop: dict[str, str] | None,
    *,
    position: float,
    route: Mapping[str, Any],
    context: SunContext,
    thread: Any = None,
    trace: Sequence[TraceStep] = (),
) -> SunDecision:
    """``decision`` with the disposition of ``stop`` (None: as it is, AUTO). ESCALATE holds
    ``position`` through the guard again and carries an alert; HIL_REVIEW records the pending
    review (in ``thread``, if any) with ``trace`` as the decision's trace so far."""
    if stop is None:
        return decision
    why = f"{stop['by']}: {stop['reason']}"
    update: dict[str, Any] = {"disposition": stop["disposition"], "disposition_reason": why}
    if stop["disposition"] == "ESCALATE":
        alert = EscalationAlert(
            instrument=decision.instrument, as_of=decision.as_of, reason=stop["reason"],
            by=stop["by"], policy=route.get("path", ("",))[0], rule=route.get("rule", ""),
            proposed_target=decision.target_position,
        )  # fmt: skip
        decision = retarget(decision, position, context, f"[escalated: {why}]")
        update["alert"] = alert
    elif stop["disposition"] == "HIL_REVIEW":
        update["review"] = ReviewRecord(
            thread_id=None if thread is None else str(thread),
            proposed_target=decision.target_position,
        )
        update["trace"] = tuple(trace)
    return decision.model_copy(update=update)


def retarget(decision: SunDecision, target: float, context: SunContext, note: str) -> SunDecision:
    """``decision`` moved to ``target`` through the guard again (its corrections added)."""
    reports: Sequence[PlanetReport] = decision.planet_reports
    reasoned = ReasonedDecision(
        action=action_for(target), target_position=target, confidence=decision.confidence,
        rationale=f"{note} {decision.rationale}"[:600],
    )  # fmt: skip
    guarded, corrections = guard(reasoned, reports, context.limits, context.risk_planet)
    return decision.model_copy(
        update={
            "action": guarded.action,
            "target_position": guarded.target_position,
            "rationale": guarded.rationale,
            "corrections": (*decision.corrections, *corrections),
        }
    )


def after_gate(state: SunState) -> str:
    """``review`` for a decision waiting for a human, else ``propagate``."""
    review = state["decision"].review
    return "review" if review is not None and review.status == "pending" else "propagate"


def review(state: SunState, runtime: Runtime[SunContext]) -> SunState:
    """Wait for a human (``interrupt``), then apply the :class:`ReviewAnswer`."""
    decision = state["decision"]
    record = decision.review
    assert record is not None
    if record.thread_id is None:
        why = "no checkpointer to wait on: the review stays pending and no order is sent"
        return {"trace": [TraceStep(node="review", status="skipped", reason=why)]}
    answer = ReviewAnswer.model_validate(
        interrupt(
            {
                "kind": REVIEW_KIND,
                "thread_id": record.thread_id,
                "decision": decision.model_dump(mode="json"),
                "evidence": [r.model_dump(mode="json") for r in decision.planet_reports],
                "trace": [step.model_dump(mode="json") for step in decision.trace],
            }
        )
    )
    resolved = resolve(decision, answer, state["position"], runtime.context)
    who = answer.by or "an unnamed reviewer"
    reason = f"{resolved.review.status if resolved.review else ''} by {who}"
    reason += f": {answer.note}" if answer.note else ""
    return {"decision": resolved, "trace": [TraceStep(node="review", status="ran", reason=reason)]}


def resolve(
    decision: SunDecision, answer: ReviewAnswer, position: float, context: SunContext
) -> SunDecision:
    """Apply a reviewer's answer to a pending decision (see :class:`ReviewAnswer`)."""
    record = decision.review or ReviewRecord(proposed_target=decision.target_position)
    who = answer.by or "reviewer"
    if answer.action == "approve":
        status = "approved"
    elif answer.action == "reject":
        status = "rejected"
        decision = retarget(decision, position, context, f"[rejected by {who}: {answer.note}]")
    else:
        assert answer.target is not None
        status = "modified"
        decision = retarget(decision, answer.target, context, f"[modified by {who}]")
    done = record.model_copy(
        update={
            "status": status,
            "by": answer.by,
            "note": answer.note,
            "requested_target": answer.target,
        }  # fmt: skip
    )
    return decision.model_copy(update={"review": done})
