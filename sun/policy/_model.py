"""The policy file format, as pydantic models (also the source of the published JSON Schema).

A policy names a profile type, declares the agents it may use, and lists rules; the first
rule whose ``when`` holds gives the plan. Every condition is CEL.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

_NAME = r"^[A-Za-z_][A-Za-z0-9_]*$"


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Then(StrEnum):
    """What a checkpoint does when its condition holds."""

    DECIDE = "DECIDE"
    EXPAND = "EXPAND"
    HIL_REVIEW = "HIL_REVIEW"
    ESCALATE = "ESCALATE"


class AgentSpec(_Strict):
    """An agent the policy may place in plans (bound to a callable when the graph is built)."""

    kind: Literal["planet", "reasoner", "agent"] = Field(
        "agent", description="planet, the reasoner, or a user agent."
    )
    llm: bool = Field(False, description="Calls an LLM: counted against the LLM-call budget.")
    description: str = Field("", description="What the agent does.")


class PlanNode(_Strict):
    """One node of a plan."""

    name: str = Field(pattern=_NAME, description="Node id, unique in the plan.")
    agent: str | None = Field(None, description="Agent to run; defaults to the node name.")
    label: str | None = Field(None, description="Human name shown in traces (e.g. Events).")
    depends_on: list[str] = Field(
        default_factory=list, description="Nodes that must finish first (ran, skipped or failed)."
    )
    optional: bool = Field(False, description="An optional node's failure is only recorded.")
    skip_if: str | None = Field(
        None, description="CEL over profile, outputs, summary: skip the node when true."
    )
    skip_reason: str | None = Field(None, description="Reason recorded when skip_if holds.")
    params: dict[str, Any] = Field(default_factory=dict, description="Fixed parameters.")
    params_from: dict[str, str] = Field(
        default_factory=dict,
        description="Parameter name -> CEL over the profile; a null result omits the parameter.",
    )
    timeout_ms: float | None = Field(None, gt=0, description="Per-node timeout.")

    @property
    def agent_name(self) -> str:
        """The agent this node runs."""
        return self.agent or self.name


class Group(_Strict):
    """Nodes that may run side by side, with their own concurrency cap."""

    name: str = Field(pattern=_NAME)
    nodes: list[str] = Field(min_length=1)
    max_parallel: int = Field(8, ge=1)


class Checkpoint(_Strict):
    """A decision point evaluated once all ``after`` nodes have finished."""

    name: str = Field(pattern=_NAME)
    after: list[str] = Field(
        default_factory=list, description="Nodes that must have finished; [] = before any node."
    )
    when: str = Field("true", description="CEL over profile, outputs and summary.")
    then: Then
    expand: list[str] = Field(
        default_factory=list, description="Expansion nodes activated by EXPAND."
    )
    reason: str = Field("", description="Why, recorded in the trace and alerts.")


class Budget(_Strict):
    """Per-decision budget; exceeding it skips the remaining LLM nodes (or all, for latency)."""

    llm_calls: int | None = Field(None, ge=0)
    tokens: int | None = Field(None, ge=0)
    latency_ms: float | None = Field(None, gt=0)


class FailureRule(_Strict):
    """What happens when a required node did not run successfully."""

    require: list[str] | None = Field(
        None, description="Nodes that must run; default = every mandatory node of the plan."
    )
    then: Literal["ESCALATE", "HIL_REVIEW"] = "ESCALATE"


class Plan(_Strict):
    """An execution plan: nodes, dormant expansions, groups and checkpoints."""

    nodes: list[PlanNode] = Field(default_factory=list)
    expansions: list[PlanNode] = Field(
        default_factory=list, description="Nodes that run only if a checkpoint expands them."
    )
    groups: list[Group] = Field(default_factory=list)
    max_parallel: int = Field(8, ge=1, description="Nodes dispatched at once, at most.")
    checkpoints: list[Checkpoint] = Field(default_factory=list)
    budget: Budget | None = None
    failure: FailureRule | None = None
    node_timeout_ms: float | None = Field(None, gt=0)
    decision_node: str | None = Field(
        None,
        description="Node whose output is the decision shown to reviewers (default: last run).",
    )

    def all_nodes(self) -> list[PlanNode]:
        """Plan nodes followed by expansion nodes."""
        return [*self.nodes, *self.expansions]


class Rule(_Strict):
    """A rule: when its condition holds over the profile, its plan runs."""

    name: str = Field(pattern=_NAME)
    when: str = Field("true", description="CEL over profile fields.")
    description: str = ""
    plan: Plan


class PolicyDoc(_Strict):
    """A whole policy file."""

    policy: str = Field(min_length=1, description="Policy name.")
    version: int = Field(1, ge=1)
    profile: str = Field(description="Registered profile type the conditions read.")
    description: str = ""
    agents: dict[str, AgentSpec] = Field(min_length=1)
    budget: Budget = Field(
        default_factory=lambda: Budget.model_validate({}),
        description="Default budget of every plan.",
    )
    failure: FailureRule = Field(
        default_factory=lambda: FailureRule.model_validate({}), description="Default failure rule."
    )
    rules: list[Rule] = Field(min_length=1, description="First match wins.")
