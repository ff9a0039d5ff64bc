"""Run data: node outputs, the execution trace, alerts and reviews (pydantic, JSON-ready)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Disposition = Literal["AUTO", "HIL_REVIEW", "ESCALATE"]
NodeStatus = Literal["ran", "skipped", "expanded", "failed"]
REVIEW_KIND = "heliarch.policy.review"


class NodeOutput(BaseModel):
    """What an agent returns: an optional score, facts for checkpoints, usage, free payload."""

    model_config = ConfigDict(frozen=True)

    ok: bool = True
    score: float | None = Field(None, description="Direction or verdict in [-1, 1], if any.")
    confidence: float | None = Field(None, description="Confidence in [0, 1], if any.")
    veto: bool = False
    votes: bool = Field(
        True,
        description=(
            "Whether score is a vote on direction, which summary aggregates; False for a score"
            " on another scale (a risk planet's risk appetite, an execution planet's verdict)."
        ),
    )
    facts: dict[str, bool | int | float | str] = Field(
        default_factory=dict, description="Scalars that checkpoint conditions may read."
    )
    llm_calls: int = Field(default=0, ge=0)
    tokens: int = Field(default=0, ge=0)
    data: dict[str, Any] = Field(default_factory=dict, description="Free JSON payload.")

    def cel_view(self) -> dict[str, Any]:
        """The fields conditions see as ``outputs.<node>`` (absent score/confidence omitted)."""
        view: dict[str, Any] = {"ok": self.ok, "veto": self.veto, "facts": dict(self.facts)}
        if self.score is not None:
            view["score"] = self.score
        if self.confidence is not None:
            view["confidence"] = self.confidence
        return view


class TraceEntry(BaseModel):
    """One event of one node: ran, skipped, expanded (activated) or failed — why and how long."""

    model_config = ConfigDict(frozen=True)

    node: str
    status: NodeStatus
    reason: str = ""
    stage: int = 0
    start_ms: float = 0.0
    duration_ms: float = 0.0


class CheckpointRecord(BaseModel):
    """A checkpoint's evaluation: did it fire, and what it did."""

    model_config = ConfigDict(frozen=True)

    name: str
    fired: bool
    then: str
    stage: int
    detail: str = ""


class Usage(BaseModel):
    """Resources one decision consumed."""

    model_config = ConfigDict(frozen=True)

    nodes_run: int = 0
    llm_calls: int = 0
    tokens: int = 0
    elapsed_ms: float = 0.0


class Alert(BaseModel):
    """An escalation: no order; who should look and why."""

    model_config = ConfigDict(frozen=True)

    policy: str
    rule: str
    reason: str
    thread_id: str | None = None
    profile: dict[str, Any] = Field(default_factory=dict)
    trace: list[TraceEntry] = Field(default_factory=list)


class ReviewDecision(BaseModel):
    """A human's answer to a review: approve, reject, or modify (with changes)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    action: Literal["approve", "reject", "modify"]
    by: str = ""
    note: str = ""
    changes: dict[str, Any] = Field(default_factory=dict)


class PolicyRun(BaseModel):
    """Everything one decision's run produced, as data (JSON-serializable)."""

    model_config = ConfigDict(frozen=True)

    policy: str
    version: int
    rule: str
    thread_id: str | None = None
    profile: dict[str, Any] = Field(default_factory=dict)
    disposition: Disposition
    reason: str = ""
    decided_by: str = ""
    early_exit: bool = False
    decision: NodeOutput | None = None
    outputs: dict[str, NodeOutput] = Field(default_factory=dict)
    trace: list[TraceEntry] = Field(default_factory=list)
    checkpoints: list[CheckpointRecord] = Field(default_factory=list)
    usage: Usage = Field(default_factory=Usage)
    alert: Alert | None = None
    pending_review: bool = False
    review: ReviewDecision | None = None

    @property
    def order_allowed(self) -> bool:
        """True when an order may follow: AUTO, or a review that approved or modified it."""
        if self.disposition == "AUTO":
            return True
        return (
            self.disposition == "HIL_REVIEW"
            and self.review is not None
            and self.review.action != "reject"
        )

    def statuses(self) -> dict[str, str]:
        """Final status of each node (the last trace event per node)."""
        return {entry.node: entry.status for entry in self.trace}

    def ran(self) -> list[str]:
        """Nodes that ran successfully, in order of completion."""
        return [e.node for e in self.trace if e.status == "ran"]


@dataclass(frozen=True)
class AgentCall:
    """What an agent receives: its node, parameters, the decision inputs and outputs so far."""

    node: str
    params: Mapping[str, Any]
    inputs: Mapping[str, Any]
    profile: Mapping[str, Any]
    outputs: Mapping[str, NodeOutput] = field(default_factory=dict)


AgentResult = NodeOutput | Mapping[str, Any]
Agent = Callable[[AgentCall], AgentResult | Awaitable[AgentResult]]
AlertSink = Callable[[Alert], None]
