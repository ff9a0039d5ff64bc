"""A policy's checkpoints inside the sun graph: which run where, and what fired.

The sun runs a plan in three stages: ``start`` (before any planet; checkpoints ``after: []``),
``planets`` (after the plan's planets; checkpoints whose ``after`` names only planet nodes)
and ``guard`` (after the reasoner and the guard; every other checkpoint). Conditions see the
profile, ``outputs.<node>`` (each planet report as the policy executor's planet agents give
it) and ``summary``, exactly as in :mod:`sun.policy`'s executor.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from bus import PlanetReport, TraceStep
from sun.policy import Checkpoint, NodeOutput, Policy, Rule, Then, summarize

Stage = Literal["start", "planets", "guard"]
STOPS = {Then.DECIDE: "AUTO", Then.HIL_REVIEW: "HIL_REVIEW", Then.ESCALATE: "ESCALATE"}


class Hit(BaseModel):
    """One evaluated checkpoint: whether it fired, what it does, and why."""

    model_config = ConfigDict(frozen=True)

    name: str
    fired: bool
    then: str
    reason: str
    expand: tuple[str, ...] = ()
    detail: str = ""

    @property
    def stop(self) -> dict[str, str] | None:
        """The stop a fired DECIDE / HIL_REVIEW / ESCALATE makes (None: no stop)."""
        if not self.fired or self.then == Then.EXPAND.value:
            return None
        disposition = STOPS[Then(self.then)]
        return {"disposition": disposition, "reason": self.reason, "by": f"checkpoint {self.name}"}


def checkpoint_step(hit: Hit, prefix: str = "") -> TraceStep:
    """The trace step of one evaluated checkpoint."""
    what = f"fired -> {hit.then}: {hit.reason}" if hit.fired else "did not fire"
    reason = f"{what} ({hit.detail})" if hit.detail else what
    return TraceStep(node=f"checkpoint:{prefix}{hit.name}", status="ran", reason=reason)


def planet_output(report: PlanetReport, votes: bool) -> NodeOutput:
    """A planet report as a node output (as ``sun.policy.planet_agent`` gives it); ``votes``:
    the planet is directional (its score is a direction vote)."""
    return NodeOutput(
        score=report.score, confidence=report.confidence, veto=report.veto, votes=votes,
        facts={"has_data": report.has_data, "critical": report.critical},
    )  # fmt: skip


def condition_view(
    profile: Mapping[str, Any],
    reports: Iterable[PlanetReport],
    nodes: Mapping[str, str],
    directional: Collection[str],
) -> dict[str, Any]:
    """What a condition reads: the profile, ``outputs`` per plan node, and ``summary`` (over
    the ``directional`` planets' scores)."""
    by_planet = {report.planet: report for report in reports}
    outputs = {
        node: planet_output(by_planet[p], p in directional)
        for node, p in nodes.items()
        if p in by_planet
    }
    views = {node: output.cel_view() for node, output in outputs.items()}
    return {**profile, "outputs": views, "summary": summarize(outputs)}


def planet_nodes(policy: Policy, rule: Rule) -> set[str]:
    """Nodes of ``rule``'s plan (expansions included) whose agent is a planet."""
    agents = policy.doc.agents
    return {
        node.name
        for node in rule.plan.all_nodes()
        if (spec := agents.get(node.agent_name)) is not None and spec.kind == "planet"
    }


def stage_of(checkpoint: Checkpoint, planets: set[str]) -> Stage:
    """Where the sun evaluates ``checkpoint``."""
    if not checkpoint.after:
        return "start"
    return "planets" if set(checkpoint.after) <= planets else "guard"


def rule_named(policy: Policy, name: str) -> Rule:
    """The policy's rule called ``name``."""
    return next(rule for rule in policy.doc.rules if rule.name == name)


def evaluate(
    policy: Policy,
    checkpoints: Sequence[Checkpoint],
    view: Mapping[str, Any],
    skip: Iterable[str] = (),
) -> list[Hit]:
    """Evaluate ``checkpoints`` in order (minus ``skip``) until one stops the plan."""
    hits: list[Hit] = []
    done = set(skip)
    for checkpoint in checkpoints:
        if checkpoint.name in done:
            continue
        try:
            fired, detail = policy.value_of(checkpoint.when, view) is True, ""
        except Exception as error:  # a condition error is recorded and treated as false
            fired, detail = False, f"condition error (treated as false): {error}"
        hit = Hit(
            name=checkpoint.name, fired=fired, then=checkpoint.then.value,
            reason=checkpoint.reason or f"{checkpoint.when} held",
            expand=tuple(checkpoint.expand), detail=detail,
        )  # fmt: skip
        hits.append(hit)
        if hit.stop is not None:
            break
    return hits


def at_stage(policy: Policy, rule_name: str, stage: Stage) -> list[Checkpoint]:
    """The checkpoints of rule ``rule_name`` the sun evaluates at ``stage``."""
    rule = rule_named(policy, rule_name)
    planets = planet_nodes(policy, rule)
    return [c for c in rule.plan.checkpoints if stage_of(c, planets) == stage]


def material_rule(
    policy: Policy, profile: Mapping[str, Any], materiality: float, routed: str
) -> tuple[Rule | None, dict[str, Any]]:
    """The rule the profile selects once the guarded change's materiality is known, if it is
    not the routed one, with the completed profile (None when the profile has no materiality)."""
    if "materiality" not in profile:
        return None, dict(profile)
    values = {**profile, "materiality": materiality}
    rule = policy.select_rule(values)
    return (None if rule.name == routed else rule), values


def review_checkpoints(rule: Rule) -> list[Checkpoint]:
    """A late-selected rule's checkpoints that still apply after the guard."""
    return [c for c in rule.plan.checkpoints if c.then in (Then.HIL_REVIEW, Then.ESCALATE)]
