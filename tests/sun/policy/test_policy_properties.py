"""Property tests of the loader/validator (hypothesis): random plans, cycles, garbage input."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from sun.policy import (
    NodeOutput,
    PolicyContext,
    TradingProfile,
    build_policy_graph,
    check_policy,
    load_policy,
    run_policy,
)

NAMES = [f"n{i}" for i in range(8)]
FIELDS = sorted(TradingProfile.model_fields)
GRAPH = build_policy_graph()


@st.composite
def dags(draw: st.DrawFn) -> list[dict[str, Any]]:
    """Nodes n0..nk with edges only to earlier nodes (so acyclic)."""
    count = draw(st.integers(1, len(NAMES)))
    nodes = []
    for i in range(count):
        deps = draw(st.lists(st.sampled_from(NAMES[:i]), unique=True)) if i else []
        nodes.append({"name": NAMES[i], "depends_on": deps})
    return nodes


def document(nodes: list[dict[str, Any]], **plan: Any) -> dict[str, Any]:
    return {
        "policy": "prop",
        "profile": "trading",
        "agents": {name: {} for name in NAMES},
        "rules": [{"name": "only", "when": "true", "plan": {"nodes": nodes, **plan}}],
    }


def check(doc: Any) -> list[Any]:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "p.yaml"
        path.write_text(yaml.safe_dump(doc) if not isinstance(doc, str) else doc)
        return check_policy(path)


def load(doc: dict[str, Any]) -> Any:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "p.yaml"
        path.write_text(yaml.safe_dump(doc))
        return load_policy(path)


SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(dags(), st.integers(1, 4))
def test_any_dag_loads_and_runs_in_dependency_order(
    nodes: list[dict[str, Any]], width: int
) -> None:
    policy = load(document(nodes, max_parallel=width))
    context = PolicyContext(agents={n: (lambda call: NodeOutput()) for n in NAMES})
    run = run_policy(GRAPH, policy.select(TradingProfile()), {}, context)
    stage = {e.node: e.stage for e in run.trace}
    assert set(stage) == {n["name"] for n in nodes} and run.disposition == "AUTO"
    for node in nodes:
        assert all(stage[d] < stage[node["name"]] for d in node["depends_on"])
    per_stage: dict[int, int] = {}
    for s in stage.values():
        per_stage[s] = per_stage.get(s, 0) + 1
    assert max(per_stage.values()) <= width


@SETTINGS
@given(st.integers(2, len(NAMES)), st.data())
def test_any_cycle_is_rejected_with_its_path(length: int, data: st.DataObject) -> None:
    nodes = [{"name": NAMES[i], "depends_on": [NAMES[i - 1]] if i else []} for i in range(length)]
    back = data.draw(st.integers(0, length - 1))
    nodes[back]["depends_on"] = sorted({*nodes[back]["depends_on"], NAMES[length - 1]})
    errors = check(document(nodes))
    assert len(errors) == 1 and "cycle in depends_on" in errors[0].reason
    assert errors[0].line > 0


@SETTINGS
@given(
    st.one_of(
        st.sampled_from(FIELDS),
        st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=3, max_size=12),
    )
)
def test_unknown_field_in_a_condition_is_rejected(name: str) -> None:
    assume(name not in ("null", "true", "false"))  # literals, not identifiers
    doc = document([{"name": "n0"}])
    doc["rules"][0]["when"] = f"{name} == 1"
    errors = check(doc)
    if name in FIELDS:  # a known field: accepted (CEL's == compares values of any type)
        assert errors == [], (name, errors)
    else:
        reason = errors[0].reason if errors else ""
        assert f"unknown profile field(s) {name}" in reason or "reserved identifier" in reason


@SETTINGS
@given(st.one_of(st.text(max_size=300), st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)))  # fmt: skip
def test_garbage_never_crashes_the_checker(doc: Any) -> None:
    errors = check(doc)
    assert errors and all(e.reason for e in errors)


@SETTINGS
@given(dags(), st.sampled_from(NAMES))
def test_checkpoint_after_a_missing_node_is_rejected(
    nodes: list[dict[str, Any]], after: str
) -> None:
    doc = document(nodes, checkpoints=[{"name": "c", "after": [after], "then": "DECIDE"}])
    errors = check(doc)
    present = {n["name"] for n in nodes}
    assert (errors == []) == (after in present)
    if after not in present:
        assert "not in the plan" in errors[0].reason
