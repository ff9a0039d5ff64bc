"""Authority levels, meaningful rationales, model checks on mirrored evidence."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from bus import BarSeries, MarketSnapshot, PlanetReport, ReasonedDecision, SunDecision
from prompts import get_prompt
from sun import (
    AdjustAnswer,
    AuthorityThresholds,
    ExplainAnswer,
    LlmAnswer,
    ModelCheckStore,
    ModelConfig,
    OrchestrationConfig,
    Settings,
    Sun,
    allowed_authority,
    rationale_problem,
)
from sun._authority import apply_authority
from sun._grants import grant_for
from sun.checks import check_model, mirror_series
from sun.testing import ScriptedChatModel

AS_OF = datetime(2012, 6, 1)  # technical -0.615: the quant reasoner sells -0.492
CITING = "technical score -0.615 is bearish"


def report(planet: str, score: float, **evidence: float) -> PlanetReport:
    return PlanetReport(
        planet=planet, instrument="GOOG", as_of=AS_OF, score=score, confidence=0.8,
        evidence=evidence,
    )  # fmt: skip


REPORTS = (report("technical", -0.615, rsi=35.02, sma=603.3, close=571.0), report("risk", 0.26))
QUANT = ReasonedDecision(action="SELL", target_position=-0.49, confidence=0.8, rationale="[quant]")


@pytest.mark.parametrize(
    ("answer", "target"),
    [
        (ExplainAnswer(rationale=CITING), -0.49),
        (AdjustAnswer(rationale=CITING, adjustment=1.0, confidence=0.5), -0.24),
        (AdjustAnswer(rationale=CITING, adjustment=-1.0, confidence=0.5), -0.74),
        (LlmAnswer(rationale=CITING, action="BUY", size=0.3, confidence=0.5), 0.3),
    ],
)
def test_each_level_moves_the_quant_target_only_as_far_as_it_may(answer, target) -> None:
    decision = apply_authority(answer, QUANT, REPORTS, {"technical"}, band=0.25)
    assert decision.target_position == pytest.approx(target)


@pytest.mark.parametrize(("technical", "expected"), [(-0.615, 0.0), (0.5, 0.01)])
def test_adjust_flips_the_sign_only_when_a_directional_planet_supports_it(
    technical: float, expected: float
) -> None:
    quant = QUANT.model_copy(update={"target_position": -0.24})
    reports = (report("technical", technical), report("momentum", -0.2), report("risk", 0.9))
    answer = AdjustAnswer(rationale=CITING, adjustment=1.0, confidence=0.5)
    decision = apply_authority(answer, quant, reports, {"technical", "momentum"}, band=0.25)
    assert decision.target_position == pytest.approx(expected)


@pytest.mark.parametrize(
    ("rationale", "ok"),
    [
        ("1.0, ", False),
        ("1.000 conf: 1.000 conf: 1.000 conf", False),
        ("the market looks good today", False),
        (CITING, True),
        ("close below SMA and weak momentum", True),
        ("RSI near 35 says oversold", True),
    ],
)
def test_a_rationale_must_be_words_citing_the_reports(rationale: str, ok: bool) -> None:
    assert (rationale_problem(rationale, REPORTS, "") is None) is ok


@pytest.mark.parametrize(
    ("low", "invalid", "level"),
    [(0.6, 0.0, "decide"), (0.3, 0.0, "adjust"), (0.0, 0.0, "explain"), (0.9, 0.5, "explain")],
)
def test_the_allowed_level_follows_the_thresholds(low, invalid, level) -> None:
    assert allowed_authority(low, invalid, AuthorityThresholds()) == level


def scripted(*answers: dict) -> ScriptedChatModel:
    return ScriptedChatModel(script=[json.dumps(a) for a in answers], prompts=[])


@pytest.mark.parametrize(
    ("authority", "answer", "target"),
    [
        ("explain", {"rationale": CITING}, -0.492),
        ("adjust", {"rationale": CITING, "adjustment": 0.4, "confidence": 0.6}, -0.392),
        ("decide", {"rationale": CITING, "action": "BUY", "size": 0.2, "confidence": 0.6}, 0.2),
    ],
)
def test_the_level_is_recorded_in_every_decision(
    goog: BarSeries, authority: str, answer: dict, target: float
) -> None:
    model = scripted(answer)
    config = ModelConfig(chat_model=model, authority=authority)  # type: ignore[arg-type]
    with Sun("openai:gpt-test", checkpoint="none", models=config) as sun:
        decision = sun.decide(MarketSnapshot.at(AS_OF, {"GOOG": goog}))
    assert decision.authority == authority and decision.fallback_level == "primary"
    assert decision.target_position == pytest.approx(target, abs=1e-3)
    assert decision.prompt is not None and decision.rationale.startswith(CITING)


def test_a_rationale_citing_nothing_is_repaired_then_falls_back(goog: BarSeries) -> None:
    empty = {"rationale": "1.0, ", "action": "BUY", "size": 1.0, "confidence": 0.2}
    with Sun("openai:gpt-test", checkpoint="none", models=ModelConfig(chat_model=scripted(empty))) as sun:  # fmt: skip
        decision = sun.decide(MarketSnapshot.at(AS_OF, {"GOOG": goog}))
    assert decision.fallback_level == "council"
    assert [a.ok for a in decision.attempts[:2]] == [False, False]
    assert "rationale" in (decision.attempts[0].error or "")


@pytest.mark.parametrize("authority", ["adjust", "explain"])
def test_below_decide_an_invalid_answer_leaves_the_quant_decision(
    goog: BarSeries, authority: str
) -> None:
    config = ModelConfig(chat_model=scripted({"rationale": "1.0, "}), authority=authority)  # type: ignore[arg-type]
    with Sun("openai:gpt-test", checkpoint="none", models=config) as sun:
        decision = sun.decide(MarketSnapshot.at(AS_OF, {"GOOG": goog}))
    assert decision.target_position == pytest.approx(-0.492, abs=1e-3)
    assert "the quant decision stands" in decision.rationale and not decision.attempts[0].ok


def test_old_journal_decisions_load_with_full_authority(goog: BarSeries) -> None:
    with Sun("quant", checkpoint="none") as sun:
        decision = sun.decide(MarketSnapshot.at(AS_OF, {"GOOG": goog}))
    old = json.loads(decision.model_dump_json())
    del old["authority"]
    assert SunDecision.model_validate(old).authority == "decide"


def test_stored_checks_pick_the_level_of_a_built_model(tmp_path: Path) -> None:
    prompt = get_prompt("sun_reason")
    store = ModelCheckStore(tmp_path / "checks.json", bundled=None)
    key = f"{prompt.name} v{prompt.version}"
    store.put("local", key, {"authority": "adjust", "sensitivity": 0.2})
    assert grant_for("local", prompt, None, store, measured=True)["authority"] == "adjust"
    assert grant_for("local", prompt, None, store, measured=False)["authority"] == "decide"
    assert grant_for("local", prompt, "explain", store, measured=True)["authority"] == "explain"
    assert "not measured" in grant_for("ollama:x", prompt, None, store, measured=True)["source"]


def test_the_shipped_local_measurement_never_grants_full_authority() -> None:
    prompt = get_prompt("sun_reason")
    store = ModelCheckStore(Path("/nonexistent/checks.json"))
    record = store.get("local", f"{prompt.name} v{prompt.version}")
    assert record is not None and record["authority"] in ("explain", "adjust")


def test_mirrored_bars_flip_the_technical_score(goog: BarSeries) -> None:
    scores = []
    for bars in (goog, mirror_series(goog)):
        with Sun("quant", checkpoint="none") as sun:
            decision = sun.decide(MarketSnapshot.at(AS_OF, {"GOOG": bars}))
        scores.append(next(r.score for r in decision.planet_reports if r.planet == "technical"))
    assert scores[0] < -0.3 and scores[1] > 0.3


@pytest.mark.parametrize(
    ("spec", "chat_model", "level"),
    [
        ("quant", None, "decide"),
        (
            "openai:always-long",
            {"rationale": CITING, "action": "BUY", "size": 0.5, "confidence": 0.5},
            "explain",
        ),  # fmt: skip
    ],
)
def test_model_check_separates_a_reader_from_a_model_that_ignores_its_input(
    goog: BarSeries, spec: str, chat_model: dict | None, level: str
) -> None:
    models = ModelConfig(chat_model=scripted(chat_model)) if chat_model else None
    check = check_model(spec, [goog], 12, models=models, settings=Settings())
    assert check.authority == level
    if chat_model is not None:
        assert check.sensitivity == 0.0 and check.invalid_share == 0.0
    else:
        assert check.sensitivity > 0.5 and check.mirror_flips > 0.8


@pytest.mark.slow
def test_the_local_model_answers_rationale_first_within_200_characters(goog: BarSeries) -> None:
    pytest.importorskip("llama_cpp")
    from sun import local_available

    if not local_available():
        pytest.skip("the bundled local model is not installed")
    config = ModelConfig(authority="explain", backup_models=[])
    with Sun("local", checkpoint="none", models=config,
             orchestration=OrchestrationConfig(llm_policy="always")) as sun:  # fmt: skip
        decision = sun.decide(MarketSnapshot.at(AS_OF, {"GOOG": goog}))
        model = sun.context.chain.primary.reasoner  # type: ignore[union-attr]
        assert model.authority == "explain"
    assert decision.authority == "explain" and decision.target_position == pytest.approx(
        -0.492, abs=1e-3
    )
