"""Loading, validation (file:line errors), atomic reload, explain, and the published schema."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from sun.policy import (
    SCHEMA_PATH,
    PolicyLoadError,
    PolicyStore,
    TradingProfile,
    check_policy,
    load_policy,
    policy_json_schema,
    shipped_policy,
)

GOOD = """\
policy: t
profile: trading
agents:
  a: {kind: planet}
  b: {kind: planet}
  r: {kind: reasoner, llm: true}
rules:
  - name: trend
    when: 'regime == "trend_up"'
    plan:
      nodes:
        - {name: a}
        - {name: b, skip_if: "!has_headlines"}
        - {name: r, depends_on: [a, b]}
  - name: other
    plan:
      nodes:
        - {name: a}
"""


def write(tmp_path: Path, text: str, name: str = "p.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def test_shipped_policies_are_valid() -> None:
    for name in ("trading_default", "trading_guarded"):
        assert check_policy(shipped_policy(name)) == []


def test_published_schema_matches_the_models() -> None:
    assert json.loads(SCHEMA_PATH.read_text()) == json.loads(json.dumps(policy_json_schema()))


def test_good_policy_loads_and_selects(tmp_path: Path) -> None:
    policy = load_policy(write(tmp_path, GOOD))
    assert policy.select(TradingProfile(regime="trend_up")).rule == "trend"
    assert policy.select(TradingProfile()).rule == "other"


@pytest.mark.parametrize(
    ("old", "new", "line", "words"),
    [
        ('regime == "trend_up"', 'regim == "trend_up"', 9, "unknown profile field(s) regim"),
        ("depends_on: [a, b]", "depends_on: [a, zz]", 14, "unknown node 'zz'"),
        ("- {name: a}\n        - {name: b,", "- {name: a, depends_on: [r]}\n        - {name: b,", 12, "cycle in depends_on"),
        ('regime == "trend_up"', 'regime == ', 9, "CEL syntax error"),
        ('regime == "trend_up"', "regime > 1.0", 9, "CEL type error"),
        ('regime == "trend_up"', "materiality + 1 > 2.0", 9, "CEL type error"),
        ('regime == "trend_up"', "headline_count", 9, "must be a bool"),
        ("{name: r, depends_on: [a, b]}", "{name: r, agent: nobody}", 14, "unknown agent 'nobody'"),
        ("profile: trading", "profile: weather", 2, "unknown profile 'weather'"),
        ("    when: 'regime", "    whenn: 'regime", 9, "Extra inputs are not permitted"),
    ],
)  # fmt: skip
def test_bad_input_names_file_line_and_reason(
    tmp_path: Path, old: str, new: str, line: int, words: str
) -> None:
    assert old in GOOD
    path = write(tmp_path, GOOD.replace(old, new, 1))
    errors = check_policy(path)
    assert errors, "expected a validation error"
    assert any(words in e.reason and e.line == line for e in errors), [str(e) for e in errors]
    assert all(e.file == str(path) for e in errors)
    assert str(errors[0]).startswith(f"{path}:")
    with pytest.raises(PolicyLoadError):
        load_policy(path)


def test_checkpoint_after_a_node_not_in_the_plan(tmp_path: Path) -> None:
    text = GOOD.replace(
        "        - {name: a}\n",
        "        - {name: a}\n",
    ).replace(
        "  - name: other\n    plan:\n      nodes:\n        - {name: a}\n",
        "  - name: other\n    plan:\n      nodes:\n        - {name: a}\n"
        "      checkpoints:\n        - {name: c, after: [b], then: DECIDE}\n",
    )
    errors = check_policy(write(tmp_path, text))
    assert [(e.line, "not in the plan" in e.reason) for e in errors] == [(20, True)]


def test_checkpoint_conditions_see_outputs_and_summary(tmp_path: Path) -> None:
    text = GOOD + (
        "      checkpoints:\n"
        "        - {name: c, after: [a], when: 'summary.agreement > 0.5 && outputs.a.ok', then: DECIDE}\n"
        "        - {name: d, after: [a], when: 'summary.agreement + 1 > 2.0', then: DECIDE}\n"
    )
    errors = check_policy(write(tmp_path, text))
    assert len(errors) == 1 and errors[0].line == 21 and "type error" in errors[0].reason


def test_condition_reading_an_unknown_node_is_rejected(tmp_path: Path) -> None:
    text = GOOD + (
        "      checkpoints:\n"
        "        - {name: c, after: [a], when: 'outputs.ghost.score > 0.5', then: DECIDE}\n"
    )
    errors = check_policy(write(tmp_path, text))
    assert len(errors) == 1 and errors[0].line == 20 and "unknown node(s) ghost" in errors[0].reason


def test_module_level_explain(tmp_path: Path) -> None:
    from sun.policy import explain

    assert explain(write(tmp_path, GOOD), {"regime": "trend_up"}).resolved.rule == "trend"


def test_yaml_syntax_error_has_a_line(tmp_path: Path) -> None:
    errors = check_policy(
        write(tmp_path, GOOD.replace("  b: {kind: planet}", "  b: {kind: planet"))
    )
    assert len(errors) == 1 and errors[0].line > 0 and "invalid YAML" in errors[0].reason


def test_missing_file_is_an_error_not_a_crash(tmp_path: Path) -> None:
    errors = check_policy(tmp_path / "absent.yaml")
    assert len(errors) == 1 and "cannot read" in errors[0].reason


def test_reload_is_atomic(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD)
    store = PolicyStore(path)
    before = store.current
    path.write_text(GOOD.replace("depends_on: [a, b]", "depends_on: [a, nope]"))
    errors = store.reload()
    assert errors and store.current is before
    path.write_text(GOOD.replace("name: trend", "name: trending"))
    assert store.reload() == []
    assert store.current is not before
    assert store.current.select(TradingProfile(regime="trend_up")).rule == "trending"
    assert store.reload_if_changed() == []


def test_explain_shows_rules_and_plan(tmp_path: Path) -> None:
    policy = load_policy(write(tmp_path, GOOD))
    explanation = policy.explain(TradingProfile(regime="range", has_headlines=False))
    assert [(r.rule, r.result) for r in explanation.rules] == [
        ("trend", "no"),
        ("other", "matched"),
    ]
    explanation = policy.explain(TradingProfile(regime="trend_up"))
    assert explanation.resolved.rule == "trend"
    assert explanation.preview["b"].startswith("skip")
    assert "rule trend: matched" in explanation.render()
    json.loads(explanation.model_dump_json())
