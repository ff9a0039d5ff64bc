"""Every model call is counted and reserved: first calls, in-chain retries and repairs alike;
every retry honours a 429's Retry-After and takes its rate-limit slot."""

from __future__ import annotations

import uuid
from typing import Any

import anthropic
import httpx
import pytest
from conftest import DEEP, answer, scripted
from langchain_core.messages import HumanMessage

from bus import MarketSnapshot
from sun import LlmAnswer, ModelConfig, StructuredLLM, Sun, SunHooks, Telemetry
from sun.llm import ModelRegistry, RetriesExhausted, failed_usage
from sun.mesh import BudgetConfig, BudgetLimits, MeshConfig, MeteredCaller, RateLimit, RateLimiter
from sun.mesh import Tier as MeshTier
from sun.resilience import ChainPolicy, GuardedLLM
from sun.testing import HttpStatusError

LABEL = "anthropic:claude-sonnet-4-5"
REQUEST = httpx.Request("POST", "https://api.example.test/v1/messages")


def busy() -> HttpStatusError:
    return HttpStatusError(503, "overloaded")


def too_many(retry_after: float) -> anthropic.RateLimitError:
    """The provider SDK's own 429, with its Retry-After header."""
    response = httpx.Response(429, headers={"retry-after": f"{retry_after:g}"}, request=REQUEST)
    return anthropic.RateLimitError("rate limited", response=response, body=None)


@pytest.mark.parametrize(
    "script",
    [
        pytest.param(["not json", busy(), "still not json"], id="repair-retried"),
        pytest.param([busy(), "not json", "still not json"], id="first-retried"),
        pytest.param(["not json", busy(), busy()], id="repair-fails"),
    ],
)
def test_every_call_is_counted_priced_reserved_and_traced(
    script: list[Any], registry: ModelRegistry, snapshot: MarketSnapshot
) -> None:
    model = scripted(*script)
    mesh = MeshConfig(
        registry=registry,
        deep=MeshTier([("test:deep", model)]),
        budget=BudgetConfig(per_run=BudgetLimits(calls=100)),
    )
    telemetry = Telemetry.in_memory()
    models = ModelConfig(mesh=mesh, backup_models=[], chain_policy=ChainPolicy(backoff_s=0.0))
    hooks = SunHooks(telemetry=telemetry, telemetry_from_env=False)
    with Sun("quant", checkpoint="none", models=models, hooks=hooks) as sun:
        decision = sun.decide(snapshot)
        assert sun.context.mesh is not None and sun.context.mesh.budget is not None
        spent = sun.context.mesh.budget.run_ledger.spent()
    answered = sum(1 for item in script[: model.calls] if isinstance(item, str))
    assert model.calls == 3 and decision.fallback_level in ("council", "hold")
    usage = decision.llm_usage
    assert usage.calls == spent.calls == 3
    assert usage.prompt_tokens == 1500 * answered
    assert usage.cost_usd == pytest.approx(answered * DEEP.cost_usd(1500, 150))
    assert spent.usd == pytest.approx(usage.cost_usd)
    calls = [s for s in telemetry.finished_spans() if s.name == "llm.call"]
    assert len(calls) == 3
    assert sum(s.attributes["llm.calls"] for s in calls) == 3


class Clock:
    """Wall and monotonic time at once; sleeping advances it (no test waits)."""

    def __init__(self) -> None:
        self.now = 1_700_000_000.0  # 20 s into a minute
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def _guarded(
    script: list[Any], clock: Clock, limiter: RateLimiter | None
) -> tuple[GuardedLLM, Any]:
    model = scripted(*script)
    structured = StructuredLLM(model, LABEL)
    gate = None
    if limiter is not None:
        info = ModelRegistry.default().info(LABEL)
        gate = MeteredCaller(structured, LABEL, info, limiter=limiter)
    policy = ChainPolicy(backoff_s=0.0)
    guarded = GuardedLLM(structured, "primary", policy, clock=clock, sleep=clock.sleep, gate=gate)
    return guarded, model


@pytest.mark.parametrize("limited", [False, True], ids=["no-limiter", "limiter"])
def test_the_in_chain_retry_waits_for_retry_after(limited: bool) -> None:
    clock = Clock()
    limiter = RateLimiter({"anthropic": RateLimit(requests_per_min=50)}, clock=clock)
    limiter.sleep = clock.sleep
    guarded, model = _guarded([too_many(7), answer()], clock, limiter if limited else None)
    result = guarded.invoke([HumanMessage("decide")], LlmAnswer)
    assert result.ok and model.calls == 2
    assert clock.slept == [pytest.approx(7.0)]  # once: the limiter does not wait again
    assert result.usage.calls == 2  # the 429 was a call too


def test_retries_take_rate_limit_slots_shared_by_workers(redis_url: str) -> None:
    clock = Clock()
    prefix = f"test:rate:{uuid.uuid4().hex}"
    limits = {"anthropic": RateLimit(requests_per_min=2)}
    mine, other = (
        RateLimiter.redis(redis_url, limits, prefix=prefix, clock=clock, sleep=clock.sleep)
        for _ in range(2)
    )
    guarded, _ = _guarded([too_many(7), answer()], clock, mine)
    assert guarded.invoke([HumanMessage("decide")], LlmAnswer).ok
    assert clock.slept == [pytest.approx(7.0)]
    # the call and its retry took this minute's two slots: the other worker waits for the next
    assert other.acquire("anthropic") == pytest.approx(60.0 - 27.0)


def test_a_retry_after_past_the_level_budget_is_not_waited_for() -> None:
    clock = Clock()
    guarded, model = _guarded([too_many(120), answer()], clock, None)
    guarded.deadline = clock() + 30.0
    with pytest.raises(RetriesExhausted) as raised:
        guarded.invoke([HumanMessage("decide")], LlmAnswer)
    assert model.calls == 1 and clock.slept == []
    assert failed_usage(raised.value).calls == 1
