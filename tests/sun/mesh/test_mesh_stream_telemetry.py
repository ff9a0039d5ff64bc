"""Streaming (real LangGraph stream modes) and OpenTelemetry (in-memory exporters)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from conftest import answer, scripted
from typer.testing import CliRunner

from bus import MarketSnapshot
from sun import ModelConfig, Sun, SunHooks, Telemetry
from sun.llm import ModelRegistry
from sun.mesh import MeshConfig, Tier


def _sun(registry: ModelRegistry, **hooks: Any) -> Sun:
    mesh = MeshConfig(
        registry=registry,
        quick=Tier([("test:quick", scripted(answer("SELL", 0.1, 0.4)))]),
        deep=Tier([("test:deep", scripted(answer("SELL", 0.2, 0.9)))]),
    )
    return Sun(
        "quant",
        checkpoint="none",
        models=ModelConfig(mesh=mesh, backup_models=[]),
        hooks=SunHooks(telemetry_from_env=False, **hooks),
    )


def test_stream_yields_updates_progress_and_messages(
    registry: ModelRegistry, snapshot: MarketSnapshot
) -> None:
    with _sun(registry) as sun:
        items = list(sun.stream(snapshot, stream_mode=["updates", "custom", "messages"]))
    modes = {mode for mode, _ in items}
    assert modes == {"updates", "custom", "messages"}
    nodes = [next(iter(data)) for mode, data in items if mode == "updates"]
    assert nodes[:3] == ["ingest", "moons", "route"] and nodes[-1] == "propagate"
    custom = [data for mode, data in items if mode == "custom"]
    planets = {e["planet"] for e in custom if e["event"] == "planet"}
    assert {"technical", "risk"} <= planets
    levels = [e["level"] for e in custom if e["event"] == "level"]
    assert levels[0] == "quick:test:quick" and "primary:test:deep" in levels
    assert custom[-1]["event"] == "reasoned" and custom[-1]["cost_usd"] > 0
    messages = [data[0].content for mode, data in items if mode == "messages"]
    assert len(messages) == 2  # the quick model's answer and the deep model's
    decision = dict(items[-1][1])["propagate"]["decision"]
    assert decision.fallback_level == "primary"


def test_astream(registry: ModelRegistry, snapshot: MarketSnapshot) -> None:
    async def collect() -> list[Any]:
        with _sun(registry) as sun:
            return [item async for item in sun.astream(snapshot, stream_mode="custom")]

    events = asyncio.run(collect())
    assert events[-1]["event"] == "reasoned"


def test_decide_stream_flag_shows_steps(tmp_path: Any) -> None:
    from heliarch.cli import app

    result = CliRunner().invoke(
        app,
        [
            "decide",
            "--data",
            "examples/data/GOOG.csv",
            "--as-of",
            "2012-06-01",
            "--model",
            "quant",
            "--stream",
        ],  # fmt: skip
    )
    assert result.exit_code == 0, result.output
    assert "planet technical" in result.output and "step propagate" in result.output


def test_traces_nest_decision_nodes_and_model_calls(
    registry: ModelRegistry, snapshot: MarketSnapshot
) -> None:
    telemetry = Telemetry.in_memory()
    with _sun(registry, telemetry=telemetry) as sun:
        decision = sun.decide(snapshot)
    spans = telemetry.finished_spans()
    by_name: dict[str, list[Any]] = {}
    for span in spans:
        by_name.setdefault(span.name, []).append(span)
    (root,) = by_name["sun.decide"]
    assert root.attributes["heliarch.level"] == "primary"
    assert root.attributes["llm.cost_usd"] == pytest.approx(decision.llm_usage.cost_usd)
    (reason,) = by_name["sun.node.reason"]
    assert reason.parent.span_id == root.context.span_id
    assert len(by_name["sun.node.consult"]) == len(decision.routed_planets)
    assert all(s.parent.span_id == root.context.span_id for s in by_name["sun.node.consult"])
    nodes = [s for s in spans if s.name.startswith("sun.node.")]
    assert all(root.start_time <= s.start_time <= s.end_time <= root.end_time for s in nodes)
    ingest, propagate = by_name["sun.node.ingest"][0], by_name["sun.node.propagate"][0]
    assert ingest.end_time <= reason.start_time <= reason.end_time <= propagate.start_time
    calls = by_name["llm.call"]
    assert [c.attributes["heliarch.model"] for c in calls] == ["test:quick", "test:deep"]
    assert all(c.parent.span_id == reason.context.span_id for c in calls)
    assert calls[1].attributes["llm.prompt_tokens"] == 1500
    assert calls[1].attributes["llm.cost_usd"] == pytest.approx((1500 * 3 + 150 * 15) / 1e6)
    metrics = _metrics(telemetry)
    assert metrics["heliarch.decisions"] == 1
    assert metrics["heliarch.llm.calls"] == 2
    assert metrics["heliarch.decision.duration"] == 1  # one histogram sample


def _metrics(telemetry: Telemetry) -> dict[str, float]:
    data = telemetry.metric_reader.get_metrics_data()
    out: dict[str, float] = {}
    for resource in data.resource_metrics:
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                points = metric.data.data_points
                out[metric.name] = sum(
                    getattr(p, "value", None) or getattr(p, "count", 0) for p in points
                )
    return out


def test_telemetry_is_off_by_default_and_env_chooses() -> None:
    assert Telemetry.from_env({}) is None
    assert Telemetry.from_env({"HELIARCH_TELEMETRY": "off"}) is None
    with pytest.raises(ValueError, match="must be off, console or otlp"):
        Telemetry.from_env({"HELIARCH_TELEMETRY": "jaeger"})
    console = Telemetry.from_env({"HELIARCH_TELEMETRY": "console"})
    assert console is not None
    console.shutdown()


def test_langchain_callbacks_reach_the_model(
    registry: ModelRegistry, snapshot: MarketSnapshot
) -> None:
    """LangSmith tracing rides on LangChain callbacks: they must reach the model call."""
    from langchain_core.callbacks import BaseCallbackHandler

    seen: list[str] = []

    class Handler(BaseCallbackHandler):
        def on_chat_model_start(self, serialized: Any, messages: Any, **kw: Any) -> None:
            seen.append("model")

    with _sun(registry) as sun:
        sun.graph.invoke(
            {"snapshot": snapshot, "position": 0.0},
            {"callbacks": [Handler()]},
            context=sun.context,
        )
    assert seen == ["model", "model"]


def test_breaker_transitions_are_counted(snapshot: MarketSnapshot) -> None:
    from sun.resilience import BreakerConfig, ChainPolicy

    telemetry = Telemetry.in_memory()
    down = scripted(ConnectionError("provider down"))
    policy = ChainPolicy(max_retries=0, breaker=BreakerConfig(failure_threshold=1))
    models = ModelConfig(chat_model=down, backup_models=[], chain_policy=policy)
    hooks = SunHooks(telemetry=telemetry, telemetry_from_env=False)
    with Sun("quant", checkpoint="none", models=models, hooks=hooks) as sun:
        decision = sun.decide(snapshot)
    assert decision.fallback_level in ("council", "hold")
    assert _metrics(telemetry)["heliarch.breaker.transitions"] >= 1


def _tree(spans: list[Any]) -> list[tuple[str, str | None]]:
    """Each span's name with its parent's name (None for a root), in a stable order."""
    names = {span.context.span_id: span.name for span in spans}
    return sorted(
        (span.name, names.get(span.parent.span_id) if span.parent else None) for span in spans
    )


def _run(how: str, sun: Sun, snapshot: MarketSnapshot) -> None:
    if how == "decide":
        sun.decide(snapshot)
    elif how == "stream":
        assert list(sun.stream(snapshot, stream_mode="custom"))  # no "updates" asked for

    else:

        async def drain() -> None:
            async for _ in sun.astream(snapshot, stream_mode=["messages", "updates"]):
                pass

        asyncio.run(drain())


@pytest.mark.parametrize("how", ["stream", "astream"])
def test_streams_are_traced_like_decide(
    how: str, registry: ModelRegistry, snapshot: MarketSnapshot
) -> None:
    trees, roots, decided = {}, {}, {}
    for run in ("decide", how):
        telemetry = Telemetry.in_memory()
        with _sun(registry, telemetry=telemetry) as sun:
            _run(run, sun, snapshot)
        spans = telemetry.finished_spans()
        trees[run] = _tree(spans)
        (roots[run],) = [s for s in spans if s.parent is None]
        decided[run] = _metrics(telemetry)["heliarch.decisions"]
    assert trees[how] == trees["decide"]
    assert ("llm.call", "sun.node.reason") in trees[how]
    assert roots[how].name == "sun.decide"
    assert roots[how].attributes["heliarch.level"] == "primary"
    assert roots[how].attributes["llm.cost_usd"] == roots["decide"].attributes["llm.cost_usd"]
    assert decided[how] == decided["decide"] == 1


def test_a_failing_stream_ends_its_root_span_as_an_error(
    registry: ModelRegistry, snapshot: MarketSnapshot
) -> None:
    telemetry = Telemetry.in_memory()
    with _sun(registry, telemetry=telemetry) as sun, pytest.raises(KeyError):
        list(sun.stream(snapshot, "MSFT"))
    spans = {s.name: s for s in telemetry.finished_spans()}
    assert spans["sun.decide"].parent is None and not spans["sun.decide"].status.is_ok
    failed = spans["sun.node.ingest"]  # a leaf node span (never current) records its failure
    assert failed.parent.span_id == spans["sun.decide"].context.span_id
    assert not failed.status.is_ok and failed.events[0].name == "exception"


def test_metrics_carry_no_exemplars(registry: ModelRegistry, snapshot: MarketSnapshot) -> None:
    """Exemplars cost on every measurement and nothing reads them: off unless asked for."""
    telemetry = Telemetry.in_memory()
    with _sun(registry, telemetry=telemetry) as sun:
        sun.decide(snapshot)
    data = telemetry.metric_reader.get_metrics_data()
    points = [
        point
        for resource in data.resource_metrics
        for scope in resource.scope_metrics
        for metric in scope.metrics
        for point in metric.data.data_points
    ]
    assert points and all(not point.exemplars for point in points)
