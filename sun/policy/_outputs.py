"""What the scheduler reads of a run's state: its plan and the nodes' outputs (parsed once
per state object, never validated again), and the ``summary`` checkpoint conditions read."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sun.policy._policy import ResolvedPlan
from sun.policy._types import NodeOutput


def outputs_of(results: list[dict[str, Any]]) -> dict[str, NodeOutput]:
    """Outputs of the nodes that ran successfully (validated when produced, not again)."""
    return {
        r["node"]: trusted_output(r["output"])
        for r in results
        if r["status"] == "ran" and r.get("output") is not None
    }


_OUTPUTS: dict[int, tuple[dict[str, Any], NodeOutput]] = {}


def trusted_output(data: dict[str, Any]) -> NodeOutput:
    """A :class:`NodeOutput` from its own ``model_dump`` (no re-validation; built once per dict).

    Results stay the same dict objects across supersteps, so the cache is keyed by identity
    (holding the dict keeps its id from being reused).
    """
    hit = _OUTPUTS.get(id(data))
    if hit is not None and hit[0] is data:
        return hit[1]
    output = NodeOutput.model_construct(**data)
    if len(_OUTPUTS) >= 4096:
        _OUTPUTS.clear()
    _OUTPUTS[id(data)] = (data, output)
    return output


_PLANS: dict[int, tuple[dict[str, Any], ResolvedPlan]] = {}


def plan_of(data: dict[str, Any]) -> ResolvedPlan:
    """Parse the plan carried in the state, once per state object (it never changes)."""
    hit = _PLANS.get(id(data))
    if hit is not None and hit[0] is data:
        return hit[1]
    plan = ResolvedPlan.model_validate(data)
    if len(_PLANS) >= 256:
        _PLANS.clear()
    _PLANS[id(data)] = (data, plan)
    return plan


def summarize(
    outputs: Mapping[str, NodeOutput], *, failed: int = 0, elapsed_ms: float = 0.0
) -> dict[str, Any]:
    """The ``summary`` checkpoint conditions read: count, mean/min/max score, spread,
    agreement and min confidence over the direction votes (outputs with ``votes``: a risk
    appetite is not a vote for a direction), any veto, failed nodes, LLM calls, tokens and
    elapsed ms over every output."""
    voters = [o for o in outputs.values() if o.votes]
    scores = [o.score for o in voters if o.score is not None]
    confidences = [o.confidence for o in voters if o.confidence is not None]
    mean = sum(scores) / len(scores) if scores else 0.0
    agree = sum(1 for s in scores if s * mean > 0) / len(scores) if scores else 0.0
    return {
        "count": len(scores),
        "mean_score": mean,
        "min_score": min(scores, default=0.0),
        "max_score": max(scores, default=0.0),
        "spread": (max(scores) - min(scores)) if scores else 0.0,
        "agreement": agree,
        "min_confidence": min(confidences, default=0.0),
        "any_veto": any(o.veto for o in outputs.values()),
        "failed": failed,
        "llm_calls": sum(o.llm_calls for o in outputs.values()),
        "tokens": sum(o.tokens for o in outputs.values()),
        "elapsed_ms": elapsed_ms,
    }
