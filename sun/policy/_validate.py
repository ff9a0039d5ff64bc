"""Semantic checks of a parsed policy: names, cycles, checkpoints and CEL conditions."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from sun.policy._cel import check_expression
from sun.policy._model import Plan, PolicyDoc, Then
from sun.policy._yamlpos import Path

Problem = tuple[Path, str]

RESERVED = frozenset({"outputs", "summary"})
_OUTPUT_REF = re.compile(r"\boutputs\.([A-Za-z_][A-Za-z0-9_]*)")

SUMMARY_SAMPLES: list[dict[str, Any]] = [
    {
        "count": 0, "mean_score": 0.0, "min_score": 0.0, "max_score": 0.0, "spread": 0.0,
        "agreement": 0.0, "min_confidence": 0.0, "any_veto": False, "failed": 0,
        "llm_calls": 0, "tokens": 0, "elapsed_ms": 0.0,
    },
    {
        "count": 1, "mean_score": 1.0, "min_score": 1.0, "max_score": 1.0, "spread": 1.0,
        "agreement": 1.0, "min_confidence": 1.0, "any_veto": True, "failed": 1,
        "llm_calls": 1, "tokens": 1, "elapsed_ms": 1.0,
    },
]  # fmt: skip


def validate(doc: PolicyDoc, samples: list[dict[str, Any]]) -> list[Problem]:
    """Every semantic problem of ``doc`` given typed profile ``samples``."""
    problems: list[Problem] = []
    clash = sorted(RESERVED & set(samples[0]))
    if clash:
        problems.append((("profile",), f"profile fields {clash} clash with reserved names"))
    for index, rule in enumerate(doc.rules):
        base: Path = ("rules", index)
        problems += _cel(rule.when, samples, (*base, "when"))
        problems += _plan(doc, rule.plan, samples, (*base, "plan"))
    return problems


def _cel(
    source: str, samples: list[dict[str, Any]], path: Path, want_bool: bool = True
) -> list[Problem]:
    reason = check_expression(source, samples, want_bool=want_bool)
    return [] if reason is None else [(path, reason)]


def runtime_samples(plan: Plan, samples: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Profile samples plus ``outputs`` and ``summary`` as checkpoints and skips see them."""
    out = []
    for flag, (profile, summary) in enumerate(zip(samples, SUMMARY_SAMPLES, strict=True)):
        output = {"ok": bool(flag), "score": float(flag), "confidence": float(flag),
                  "veto": bool(flag), "facts": {}}  # fmt: skip
        outputs = {node.name: output for node in plan.all_nodes()}
        out.append({**profile, "outputs": outputs, "summary": summary})
    return out


def _plan(doc: PolicyDoc, plan: Plan, samples: list[dict[str, Any]], base: Path) -> list[Problem]:
    problems: list[Problem] = []
    names: dict[str, Path] = {}
    for key in ("nodes", "expansions"):
        for index, node in enumerate(getattr(plan, key)):
            path = (*base, key, index)
            if node.name in names:
                problems.append(((*path, "name"), f"duplicate node name {node.name!r}"))
            names[node.name] = path
            if node.agent_name not in doc.agents:
                problems.append(((*path, "agent" if node.agent else "name"),
                                 f"unknown agent {node.agent_name!r}; declared: {sorted(doc.agents)}"))  # fmt: skip
    problems += list(_references(plan, names, base))
    problems += _cycles(plan, names)
    problems += _conditions(plan, samples, names, base)
    return problems


def _references(plan: Plan, names: dict[str, Path], base: Path) -> Iterator[Problem]:
    expansions = {node.name for node in plan.expansions}
    for node in plan.all_nodes():
        for dep in node.depends_on:
            if dep not in names:
                yield (
                    (*names[node.name], "depends_on"),
                    f"unknown node {dep!r} in depends_on of {node.name!r}",
                )
    for index, group in enumerate(plan.groups):
        for name in group.nodes:
            if name not in names:
                yield (
                    (*base, "groups", index, "nodes"),
                    f"unknown node {name!r} in group {group.name!r}",
                )
    for index, checkpoint in enumerate(plan.checkpoints):
        path = (*base, "checkpoints", index)
        for name in checkpoint.after:
            if name not in names:
                yield (
                    (*path, "after"),
                    f"checkpoint {checkpoint.name!r} is after {name!r}, which is not in the plan",
                )
        for name in checkpoint.expand:
            if name not in expansions:
                yield (
                    (*path, "expand"),
                    f"checkpoint {checkpoint.name!r} expands {name!r}, which is not an expansion node",
                )
        if checkpoint.then is Then.EXPAND and not checkpoint.expand:
            yield (
                (*path, "expand"),
                f"EXPAND checkpoint {checkpoint.name!r} names no node to expand",
            )
    if plan.decision_node is not None and plan.decision_node not in names:
        yield (*base, "decision_node"), f"decision_node {plan.decision_node!r} is not in the plan"
    failure = plan.failure
    for name in (failure.require or []) if failure else []:
        if name not in names:
            yield (
                (*base, "failure", "require"),
                f"failure rule requires {name!r}, which is not in the plan",
            )


def _cycles(plan: Plan, names: dict[str, Path]) -> list[Problem]:
    graph = {node.name: [d for d in node.depends_on if d in names] for node in plan.all_nodes()}
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(name: str) -> list[str] | None:
        state[name] = 1
        stack.append(name)
        for dep in graph[name]:
            if state.get(dep) == 1:
                return [*stack[stack.index(dep) :], dep]
            if dep not in state and (cycle := visit(dep)):
                return cycle
        stack.pop()
        state[name] = 2
        return None

    for name in graph:
        if name not in state and (cycle := visit(name)):
            return [
                ((*names[cycle[0]], "depends_on"), "cycle in depends_on: " + " -> ".join(cycle))
            ]
    return []


def _node_refs(source: str, names: dict[str, Path], path: Path) -> list[Problem]:
    unknown = sorted(set(_OUTPUT_REF.findall(source)) - set(names))
    if not unknown:
        return []
    return [(path, f"condition {source!r} reads outputs of unknown node(s) {', '.join(unknown)}")]


def _conditions(
    plan: Plan, samples: list[dict[str, Any]], names: dict[str, Path], base: Path
) -> list[Problem]:
    problems: list[Problem] = []
    run_samples = runtime_samples(plan, samples)
    for node in plan.all_nodes():
        path = names[node.name]
        if node.skip_if:
            problems += _node_refs(node.skip_if, names, (*path, "skip_if"))
            problems += _cel(node.skip_if, run_samples, (*path, "skip_if"))
        for key, source in node.params_from.items():
            problems += _cel(source, samples, (*path, "params_from", key), want_bool=False)
    for index, checkpoint in enumerate(plan.checkpoints):
        path = (*base, "checkpoints", index, "when")
        problems += _node_refs(checkpoint.when, names, path)
        problems += _cel(checkpoint.when, run_samples, path)
    return problems
