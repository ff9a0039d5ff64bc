"""Model metadata: shipped defaults with their date, overrides, declared unknown models."""

from __future__ import annotations

import pytest
from conftest import DEEP, answer, scripted

from bus import LlmUsage, MarketSnapshot
from sun import ModelConfig, Sun
from sun.llm import ModelInfo, ModelRegistry, UnknownModelError
from sun.mesh import MeshConfig, Tier


def test_defaults_ship_with_their_date() -> None:
    registry = ModelRegistry.default()
    assert registry.as_of >= "2026-01-01"
    sonnet = registry.info("anthropic:claude-sonnet-4-5")
    assert sonnet.structured_output and sonnet.tool_calling
    assert sonnet.input_usd_per_mtok == 3.0 and sonnet.output_usd_per_mtok == 15.0
    assert registry.info("local:/models/x.gguf") == registry.info("local")


def test_override_and_declare() -> None:
    registry = ModelRegistry.default().with_models(
        {"openai:gpt-4o-mini": {"input_usd_per_mtok": 0.1}, "vllm:mine": DEEP}
    )
    assert registry.info("openai:gpt-4o-mini").input_usd_per_mtok == 0.1
    assert registry.info("openai:gpt-4o-mini").output_usd_per_mtok == 0.6  # kept
    assert registry.info("vllm:mine") is DEEP


def test_unknown_model_without_metadata_is_one_clear_error() -> None:
    with pytest.raises(
        UnknownModelError, match="no metadata for model 'ollama:mystery'.*with_models"
    ):
        ModelRegistry.default().info("ollama:mystery")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"context_window": 1000, "input_usd_per_mtok": -1.0}, "input_usd_per_mtok must be"),
        ({"context_window": 0}, "context_window must be a positive int"),
        ({"context_window": 10, "latency_ms": float("nan")}, "latency_ms must be"),
    ],
)
def test_bad_metadata_is_rejected(fields: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ModelInfo(**fields)  # type: ignore[arg-type]


def test_bad_data_file_names_the_model(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "models.toml"
    path.write_text('[models."x:y"]\ncontext_window = 10\nprice = 3\n')
    with pytest.raises(ValueError, match="model 'x:y': unknown metadata keys \\['price'\\]"):
        ModelRegistry.load(path)


def test_cost_flows_into_the_decision(registry: ModelRegistry, snapshot: MarketSnapshot) -> None:
    deep = scripted(answer(), prompt=2000, completion=200)
    mesh = MeshConfig(registry=registry, deep=Tier([("test:deep", deep)]))
    with Sun("quant", checkpoint="none", models=ModelConfig(mesh=mesh, backup_models=[])) as sun:
        decision = sun.decide(snapshot)
    assert decision.fallback_level == "primary" and decision.reasoner == "test:deep"
    assert decision.llm_usage.calls == 1
    assert decision.llm_usage.cost_usd == pytest.approx((2000 * 3.0 + 200 * 15.0) / 1e6)


def test_unknown_model_in_a_mesh_fails_at_construction(snapshot: MarketSnapshot) -> None:
    mesh = MeshConfig(deep=Tier([("test:nobody", scripted())]))
    with pytest.raises(UnknownModelError, match="test:nobody"):
        Sun("quant", checkpoint="none", models=ModelConfig(mesh=mesh, backup_models=[]))


def test_old_journals_load_without_cost() -> None:
    old = LlmUsage.model_validate({"calls": 1, "prompt_tokens": 5, "completion_tokens": 1})
    assert old.cost_usd == 0.0 and old.cache_saved_usd == 0.0
    assert (old + LlmUsage(cost_usd=0.5)).cost_usd == 0.5
