"""The second domain: reconciliation breaks through the same engine, no LLM."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from examples.reconciliation import (
    AGENT_NAMES,
    BREAK_KINDS,
    RECON_POLICY,
    BreakClassifier,
    Dataset,
    generate_breaks,
    recon_agents,
    write_files,
)
from sun.policy import (
    Policy,
    PolicyContext,
    PolicyRun,
    build_policy_graph,
    check_policy,
    load_policy,
    run_policy,
)


@pytest.fixture(scope="module")
def data() -> Dataset:
    return generate_breaks(600, seed=11)


@pytest.fixture(scope="module")
def policy() -> Policy:
    return load_policy(RECON_POLICY)


@pytest.fixture(scope="module")
def runs(data: Dataset, policy: Policy) -> list[PolicyRun]:
    graph, classifier = build_policy_graph(), BreakClassifier()
    context = PolicyContext(agents=recon_agents(), interrupt_on_review=False)
    return [
        run_policy(graph, policy.select(classifier.classify(b)), b.as_inputs(), context)
        for b in data.breaks
    ]


def test_policies_are_valid() -> None:
    assert check_policy(RECON_POLICY) == []
    assert check_policy(RECON_POLICY.with_name("sequential.yaml")) == []


def test_generator_is_seeded_and_labelled(data: Dataset) -> None:
    again = generate_breaks(600, seed=11)
    assert [b.truth for b in again.breaks] == [b.truth for b in data.breaks]
    assert [b.truth for b in generate_breaks(600, seed=12).breaks] != [b.truth for b in data.breaks]
    kinds = Counter(b.truth.kind for b in data.breaks)
    assert set(kinds) == set(BREAK_KINDS)
    for kind, (share, _, _) in BREAK_KINDS.items():
        assert abs(kinds[kind] / len(data.breaks) - share) < 0.05, kind
    assert {b.internal.asset_class for b in data.breaks} == {"equity", "fx", "derivative"}
    assert {b.truth.break_type for b in data.breaks} == {
        "TRADE_OMS_MISMATCH",
        "CASH_BREAK",
        "BROKER_VS_INTERNAL",
    }
    assert len(data.internal) > 3 * len(data.breaks)  # most trades reconcile cleanly


def test_files_keep_the_ground_truth(data: Dataset, tmp_path: Path) -> None:
    internal, broker, truth = write_files(data, tmp_path)
    assert len(truth.read_text().splitlines()) == len(data.breaks) + 1
    assert len(internal.read_text().splitlines()) == len(data.internal) + 1
    assert broker.stat().st_size > 0


def agents_run(run: PolicyRun) -> list[str]:
    return [e.node for e in run.trace if e.status in ("ran", "failed")]


def test_simple_breaks_run_three_of_seven(runs: list[PolicyRun]) -> None:
    simple = [r for r in runs if r.rule == "simple"]
    assert simple and all(len(agents_run(r)) == 3 for r in simple)


def test_complex_runs_all_seven_middle_three_in_parallel(runs: list[PolicyRun]) -> None:
    complex_ = [r for r in runs if r.rule == "complex"]
    assert complex_
    for run in complex_:
        assert sorted(agents_run(run)) == sorted(AGENT_NAMES)
        stage = {e.node: e.stage for e in run.trace if e.status == "ran"}
        assert (
            stage["MATCHING_CORRELATION"]
            == stage["RULES_TOLERANCE"]
            == stage["PATTERN_INTELLIGENCE"]
        )
        assert stage["DATA_ENRICHMENT"] < stage["RULES_TOLERANCE"] < stage["DECISIONING"]


def test_medium_expands_only_when_the_first_checkpoint_fails(runs: list[PolicyRun]) -> None:
    medium = [r for r in runs if r.rule == "medium"]
    expanded = [r for r in medium if r.checkpoints and r.checkpoints[0].fired]
    plain = [r for r in medium if r not in expanded]
    assert expanded and plain
    assert all(len(agents_run(r)) == 6 for r in expanded)
    assert all(len(agents_run(r)) == 3 for r in plain)
    assert all(r.checkpoints[0].name == "cause_unclear" for r in medium)


def test_no_material_break_is_closed_automatically(data: Dataset, runs: list[PolicyRun]) -> None:
    material = [r for b, r in zip(data.breaks, runs, strict=True) if b.truth.material]
    assert material and all(r.disposition != "AUTO" for r in material)


def test_auto_resolutions_are_mostly_right(data: Dataset, runs: list[PolicyRun]) -> None:
    auto = [(b, r) for b, r in zip(data.breaks, runs, strict=True)
            if r.disposition == "AUTO" and r.decision is not None and r.decision.facts["action"] == "auto_resolve"]  # fmt: skip
    assert len(auto) > 100
    precision = sum(b.truth.resolution == "auto_resolve" for b, _ in auto) / len(auto)
    assert precision >= 0.95


def test_unreadable_records_escalate(data: Dataset, runs: list[PolicyRun]) -> None:
    corrupt = [r for b, r in zip(data.breaks, runs, strict=True) if b.truth.kind == "corrupt"]
    assert corrupt and all(r.disposition == "ESCALATE" and r.alert is not None for r in corrupt)


def test_mean_agents_within_target(runs: list[PolicyRun]) -> None:
    assert sum(len(agents_run(r)) for r in runs) / len(runs) <= 4.5
