"""Routing by tier (cheapest capable model within the latency budget) and progressive
refinement: the quick tier answers, the deep tier only when the quick answer needs it."""

from __future__ import annotations

import pytest
from conftest import answer, scripted

from bus import MarketSnapshot
from sun import ModelConfig, Sun
from sun.llm import ModelInfo, ModelRegistry
from sun.mesh import MeshConfig, Refinement, Tier, choose_model
from sun.testing import ScriptedChatModel


def test_cheapest_capable_model_within_the_latency_budget() -> None:
    registry = ModelRegistry.default().with_models(
        {
            "ollama:cheap-no-tools": ModelInfo(
                context_window=8000, structured_output=False, input_usd_per_mtok=0.01
            ),
            "ollama:cheap-slow": ModelInfo(
                context_window=8000, input_usd_per_mtok=0.02, latency_ms=9000
            ),
        }
    )
    tier = Tier(
        [
            "ollama:cheap-no-tools",
            "ollama:cheap-slow",
            "anthropic:claude-sonnet-4-5",
            "openai:gpt-4o-mini",
        ],
        latency_budget_ms=3000,
    )
    assert choose_model(tier, registry) == "openai:gpt-4o-mini"
    slow_ok = Tier(["ollama:cheap-slow", "anthropic:claude-sonnet-4-5"])
    assert choose_model(slow_ok, registry) == "ollama:cheap-slow"


def test_no_fitting_model_says_why_each_was_rejected() -> None:
    tier = Tier(["anthropic:claude-opus-4-1"], requires=frozenset({"json_mode"}))
    with pytest.raises(ValueError, match="anthropic:claude-opus-4-1: lacks json_mode"):
        choose_model(tier, ModelRegistry.default())
    with pytest.raises(ValueError, match="at least one candidate"):
        Tier([])


def _sun(
    registry: ModelRegistry, quick: ScriptedChatModel, deep: ScriptedChatModel, **kw: object
) -> Sun:
    mesh = MeshConfig(
        registry=registry,
        quick=Tier([("test:quick", quick)]),
        deep=Tier([("test:deep", deep)]),
        refinement=Refinement(**kw),  # type: ignore[arg-type]
    )
    return Sun("quant", checkpoint="none", models=ModelConfig(mesh=mesh, backup_models=[]))


def _quant_direction(snapshot: MarketSnapshot) -> str:
    with Sun("quant", checkpoint="none") as sun:
        return sun.decide(snapshot).action


@pytest.mark.parametrize(
    ("quick_answer", "escalated_because"),
    [
        ("no json at all", "quick answer invalid"),
        (answer("SELL", 0.1, 0.4), "confidence 0.40 < 0.60"),
        (answer("BUY", 0.1, 0.9), "disagrees with the planets"),
        (answer("SELL", 0.1, 0.9), None),
    ],
)
def test_refinement_escalates_only_when_needed(
    registry: ModelRegistry,
    snapshot: MarketSnapshot,
    quick_answer: str,
    escalated_because: str | None,
) -> None:
    assert _quant_direction(snapshot) == "SELL"  # the planets lean short on this day
    quick = scripted(quick_answer)
    deep = scripted(answer("SELL", 0.2, 0.8))
    with _sun(registry, quick, deep) as sun:
        decision = sun.decide(snapshot)
    notes = " | ".join(a.error or "" for a in decision.attempts)
    if escalated_because is None:
        assert deep.calls == 0 and decision.fallback_level == "quick"
        assert decision.reasoner == "test:quick"
    else:
        assert deep.calls == 1 and decision.fallback_level == "primary"
        assert f"escalated to deep: {escalated_because}" in notes
        assert decision.llm_usage.cost_usd > 0.002  # the deep call is priced in


def test_disagreement_rule_can_be_turned_off(
    registry: ModelRegistry, snapshot: MarketSnapshot
) -> None:
    quick, deep = scripted(answer("BUY", 0.1, 0.9)), scripted(answer("SELL", 0.2, 0.8))
    with _sun(registry, quick, deep, on_disagreement=False) as sun:
        decision = sun.decide(snapshot)
    assert deep.calls == 0 and decision.fallback_level == "quick"
