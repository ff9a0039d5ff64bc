"""Dynamic agent factory: declarative specs, approval, use by the sun and council, no code."""

from __future__ import annotations

import ast
import json
from datetime import datetime
from pathlib import Path

import pytest

from bus import MarketSnapshot
from planets import DynamicPlanet, PlanetFactory, PlanetSpec, SpecError, default_planets
from planets import _factory as factory_module

RSI_REVERSION = {
    "name": "rsi_reversion",
    "moons": [{"column": "rsi", "params": {"rsi_period": 14}}],
    "rule": {"kind": "zscore", "column": "rsi", "mean": 50, "std": 10, "direction": -1},
    "confidence": 0.6,
    "description": "fade RSI extremes",
}
CROSS = {
    "name": "ema_cross",
    "moons": [{"column": "ema"}, {"column": "sma"}, {"column": "atr"}],
    "rule": {"kind": "crossover", "fast": "ema", "slow": "sma", "normalizer": "atr"},
}


def test_spec_builds_a_planet_that_scores_the_panel(goog) -> None:  # noqa: ANN001
    factory = PlanetFactory(auto_approve=True)
    factory.propose(RSI_REVERSION)
    factory.propose(CROSS)
    planets = factory.planets()
    assert set(planets) == {"rsi_reversion", "ema_cross"}
    planet = planets["rsi_reversion"]
    assert isinstance(planet, DynamicPlanet) and planet.moons == ("rsi",)
    from planets import PlanetContext

    snapshot = MarketSnapshot.at(datetime(2012, 6, 1), {"GOOG": goog})
    context = PlanetContext("GOOG", snapshot.as_of, {"rsi": 80.0}, snapshot)
    report = planet.report(context)
    assert report.score < 0 and report.evidence == {"rsi": 80.0} and report.confidence == 0.6
    missing = planet.report(PlanetContext("GOOG", snapshot.as_of, {}, snapshot))
    assert not missing.has_data


def test_sun_and_council_use_dynamic_planets(goog) -> None:  # noqa: ANN001
    from sun import OrchestrationConfig, Sun
    from sun.resilience import Council, default_variants

    factory = PlanetFactory(auto_approve=True)
    factory.propose(CROSS)
    planets = {**default_planets(), **factory.planets()}
    council = Council({**default_variants(planets), **factory.planets()})
    snapshot = MarketSnapshot.at(datetime(2012, 6, 1), {"GOOG": goog})
    with Sun(
        "quant",
        planets=planets,
        checkpoint="none",
        orchestration=OrchestrationConfig(council=council),
    ) as sun:
        factory.attach(sun)
        decision = sun.decide(snapshot)
    assert "ema_cross" in {r.planet for r in decision.planet_reports}
    assert "ema_cross" in decision.routed_planets
    assert "ema_cross" in council.variants


def test_approval_is_required_unless_auto(tmp_path: Path) -> None:
    factory = PlanetFactory(path=tmp_path / "planets.json")
    proposal = factory.propose(RSI_REVERSION, source="llm")
    assert proposal.status == "pending" and factory.planets() == {}
    factory.approve("rsi_reversion")
    assert set(factory.planets()) == {"rsi_reversion"}
    # approved specs persist and reload as data
    assert set(PlanetFactory(path=tmp_path / "planets.json").planets()) == {"rsi_reversion"}
    factory.reject("rsi_reversion")
    assert factory.planets() == {}


CODE = [
    "__import__('os').system('x')",
    "lambda x: x",
    "f'{x}'",
    "eval('1')",
    "exec(open('x').read())",
    "os.system('rm -rf /')",
    "${IFS}",
]


@pytest.mark.parametrize("payload", CODE)
@pytest.mark.parametrize("where", ["name", "column", "rule_column", "weight_key", "description",
                                   "param_key", "prompt"])  # fmt: skip
def test_specs_carrying_code_are_rejected(payload: str, where: str) -> None:
    spec = json.loads(json.dumps(RSI_REVERSION))
    if where == "name":
        spec["name"] = payload
    elif where == "column":
        spec["moons"][0]["column"] = payload
    elif where == "rule_column":
        spec["rule"]["column"] = payload
    elif where == "weight_key":
        spec["rule"] = {"kind": "weighted_sum", "weights": {payload: 1.0}}
    elif where == "description":
        spec["description"] = payload
    elif where == "param_key":
        spec["moons"][0]["params"] = {payload: 3}
    else:
        spec["prompt"] = payload
    with pytest.raises(SpecError):
        PlanetFactory(auto_approve=True).propose(spec)


def test_rule_kinds_and_numbers_are_a_closed_vocabulary() -> None:
    bad_rules = [
        {"kind": "python", "code": "1+1"},
        {"kind": "zscore", "column": "rsi", "std": "1/0"},
        {"kind": "zscore", "column": "rsi", "mean": "__import__('os')"},
        {"kind": "threshold", "column": "rsi", "above": 30, "below": 70},
        {"kind": "zscore", "column": "rsi", "std": float("nan")},
        {"kind": "zscore", "column": "rsi", "extra": "x"},
    ]
    for rule in bad_rules:
        with pytest.raises(SpecError):
            PlanetFactory().validate({**RSI_REVERSION, "rule": rule})
    with pytest.raises(SpecError, match="panel"):
        PlanetFactory().validate({**RSI_REVERSION, "moons": [{"column": "rsi",
                                                              "params": {"rsi_period": 7}}]})  # fmt: skip
    with pytest.raises(SpecError, match="built-in"):
        PlanetFactory().validate({**RSI_REVERSION, "name": "risk"})
    with pytest.raises(SpecError, match="not declared"):
        PlanetFactory().validate({**RSI_REVERSION, "rule": {"kind": "zscore", "column": "sma"}})


@pytest.mark.parametrize("module", ["_factory.py", "_spec.py", "_rules.py"])
def test_factory_source_never_evaluates_anything(module: str) -> None:
    tree = ast.parse((Path(factory_module.__file__).parent / module).read_text())
    called = {
        node.func.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
    }
    assert not called & {"eval", "exec", "compile", "__import__", "getattr", "setattr"}
    imported = {
        alias.name for node in ast.walk(tree) if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }  # fmt: skip
    assert "importlib" not in imported and "import_module" not in imported


class _ScriptedLlm:
    """Stands in for ``StructuredLLM``: returns a parsed spec (or a code-carrying one)."""

    def __init__(self, answer: dict) -> None:
        self.answer = answer
        self.prompts: list[str] = []

    def invoke(self, messages, schema):  # noqa: ANN001, ANN201
        self.prompts.append(messages[-1].content)
        try:
            parsed = schema.model_validate(self.answer)
        except ValueError:
            parsed = None
        return type("Result", (), {"parsed": parsed})()


def test_llm_proposals_are_validated_and_need_approval() -> None:
    factory = PlanetFactory()
    proposal = factory.propose_with_llm(_ScriptedLlm(CROSS), "trend-following on averages")
    assert proposal is not None and proposal.status == "pending" and proposal.source == "llm"
    assert factory.planets() == {}
    evil = {**CROSS, "name": "x", "description": "__import__('os').system('x')"}
    assert factory.propose_with_llm(_ScriptedLlm(evil), "anything") is None
    assert set(factory.proposals()) == {"ema_cross"}


def test_spec_model_is_plain_data() -> None:
    spec = PlanetSpec.model_validate(RSI_REVERSION)
    assert PlanetSpec.model_validate_json(spec.model_dump_json()) == spec


# -- hardening: identifiers, file-loaded specs, non-mapping specs ---------------------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from planets._spec import IDENTIFIER, _identifier  # noqa: E402


@pytest.mark.parametrize(
    "name", ["risk\n", "rsi_reversion\n", "rsi\u00a0", " rsi", "rsi\x00", "Rsi", "r-si", ""]
)
def test_identifier_must_be_the_whole_text(name: str) -> None:
    with pytest.raises(SpecError, match="not a lowercase identifier"):
        PlanetFactory().validate({**RSI_REVERSION, "name": name})


def test_lookalike_names_are_normalized_before_the_checks() -> None:
    fullwidth = "\uff52\uff53\uff49_fade"  # "ｒｓｉ_fade"
    assert PlanetFactory().validate({**RSI_REVERSION, "name": fullwidth}).name == "rsi_fade"
    with pytest.raises(SpecError, match="built-in planet name"):
        PlanetFactory().validate({**RSI_REVERSION, "name": "\uff52\uff49\uff53\uff4b"})
    with pytest.raises(SpecError, match="not a lowercase identifier"):
        PlanetFactory().validate({**RSI_REVERSION, "name": "risk\n"})


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=45))
def test_identifier_validator_accepts_exactly_full_identifiers(text: str) -> None:
    import unicodedata

    normal = unicodedata.normalize("NFKC", text)
    try:
        accepted = _identifier(text)
    except ValueError:
        assert IDENTIFIER.fullmatch(normal) is None
        return
    assert accepted == normal and IDENTIFIER.fullmatch(accepted)
    assert accepted.isascii() and "\n" not in accepted and len(accepted) <= 40


@settings(max_examples=100, deadline=None)
@given(
    st.from_regex(r"[a-z][a-z0-9_]{0,30}", fullmatch=True),
    st.sampled_from(["\n", "\r\n", " ", "\t", "\x00", "\u2028"]),
)
def test_identifier_with_any_trailing_space_or_newline_is_rejected(name: str, tail: str) -> None:
    with pytest.raises(ValueError, match="not a lowercase identifier"):
        _identifier(name + tail)


@pytest.mark.parametrize("spec", [None, [RSI_REVERSION], 42, b"{}"])
def test_a_spec_that_is_not_a_mapping_is_a_spec_error(spec: object) -> None:
    with pytest.raises(SpecError, match="expected a PlanetSpec, a mapping or JSON text, got"):
        PlanetFactory().validate(spec)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("content", "why"),
    [
        ("{oops", "unreadable planet specs"),
        ('{"name": "x"}', "expected a JSON list of planet specs"),
        ("[null]", r"spec \[0\]: invalid planet spec: expected a PlanetSpec"),
        (
            json.dumps(
                [{**RSI_REVERSION, "moons": [{"column": "rsi", "params": {"rsi_period": 7}}]}]
            ),
            r"spec \[0\]: rsi_reversion: rsi needs rsi_period=7 but the sun's panel computes",
        ),
        (json.dumps([{**RSI_REVERSION, "name": "risk\n"}]), r"spec \[0\]: .*not a lowercase"),
    ],
)
def test_specs_loaded_from_a_file_pass_the_same_checks(
    tmp_path: Path, content: str, why: str
) -> None:
    path = tmp_path / "planets.json"
    path.write_text(content)
    with pytest.raises(SpecError, match=f"planets.json: {why}"):
        PlanetFactory(path=path)
