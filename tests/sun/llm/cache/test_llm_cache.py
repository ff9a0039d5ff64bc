"""LLM response cache: keys, TTL, the caching chat-model wrapper, the shared Redis backend."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from uuid import uuid4

import pytest
import redis
from langchain_core.messages import HumanMessage, SystemMessage

from bus import BarSeries, MarketSnapshot, PromptRef, ReasonedDecision
from sun import LlmAnswer, ModelConfig, Sun
from sun.llm import (
    CachedAnswer,
    CachingChatModel,
    LlmResponseCache,
    RedisLlmBackend,
    TtlLruBackend,
    is_cache_hit,
    llm_cache_key,
)
from sun.testing import ScriptedChatModel

REF = PromptRef(name="sun_reason", version="1")
ANSWER = json.dumps(
    {"action": "BUY", "size": 0.3, "confidence": 0.6, "rationale": "technical trend is up"}
)


def test_key_normalizes_whitespace_and_separates_model_and_version() -> None:
    a = [SystemMessage("be  brief"), HumanMessage("GOOG\n  rsi 41.2 ")]
    b = [SystemMessage("be brief"), HumanMessage("GOOG rsi 41.2")]
    key = llm_cache_key("openai:gpt", REF, a)
    assert key == llm_cache_key("openai:gpt", REF, b)
    assert key.startswith("llm:openai:gpt:sun_reason@1:")
    assert key != llm_cache_key("openai:other", REF, a)
    assert key != llm_cache_key("openai:gpt", PromptRef(name="sun_reason", version="2"), a)
    assert key != llm_cache_key("openai:gpt", REF, [HumanMessage("be brief GOOG rsi 41.2")])
    assert key != llm_cache_key("openai:gpt", REF, a, schema=ReasonedDecision)


def test_ttl_lru_expires_and_evicts() -> None:
    now = [0.0]
    backend = TtlLruBackend(max_items=2, clock=lambda: now[0])
    cache = LlmResponseCache(backend, ttl_s=10)
    for key in ("a", "b"):
        cache.put(CachedAnswer(key=key, model="m", text=key))
    now[0] = 9.9
    assert cache.get("a") is not None
    cache.put(CachedAnswer(key="c", model="m", text="c"))  # evicts b (least recently used)
    assert cache.get("b") is None
    now[0] = 10.5
    assert cache.get("a") is None and cache.get("c") is not None
    assert (cache.hits, cache.misses) == (2, 2)


def test_plain_invoke_hit_skips_the_model() -> None:
    inner = ScriptedChatModel(script=["first", "second"], prompts=[])
    model = CachingChatModel(
        inner=inner, response_cache=LlmResponseCache(), model_label="openai:gpt"
    )
    first = model.invoke([HumanMessage("hello   world")])
    again = model.invoke([HumanMessage("hello world")])
    assert first.content == again.content == "first" and inner.calls == 1
    assert not is_cache_hit(first) and is_cache_hit(again)
    assert again.usage_metadata["input_tokens"] == 0
    assert (model.hits, model.misses) == (1, 1)


def test_structured_output_and_sun_decisions_hit_the_cache(goog: BarSeries) -> None:
    inner = ScriptedChatModel(script=[ANSWER], prompts=[])
    cache = LlmResponseCache()
    events: list[bool] = []
    cache.subscribe(lambda event: events.append(event.hit))
    model = CachingChatModel(inner=inner, response_cache=cache, model_label="openai:gpt-test")
    snapshot = MarketSnapshot.at(datetime(2012, 6, 1), {"GOOG": goog})
    with Sun("openai:gpt-test", checkpoint="none", models=ModelConfig(chat_model=model)) as sun:
        first = sun.decide(snapshot)
        second = sun.decide(snapshot)
    assert inner.calls == 1 and (model.hits, model.misses) == (1, 1)
    assert events == [False, True]
    assert first.action == second.action == "BUY"
    assert first.target_position == second.target_position
    assert first.llm_usage.prompt_tokens == 100 and second.llm_usage.prompt_tokens == 0


def test_invalid_answers_are_not_cached_by_default() -> None:
    inner = ScriptedChatModel(script=["not json"], prompts=[])
    model = CachingChatModel(inner=inner, response_cache=LlmResponseCache(), model_label="m")
    runnable = model.with_structured_output(ReasonedDecision, include_raw=True)
    for _ in range(2):
        out = runnable.invoke([HumanMessage("decide")])
        assert out["parsed"] is None and out["parsing_error"] is not None
    assert inner.calls == 2 and model.hits == 0


@pytest.fixture
def redis_prefix(redis_url: str) -> Iterator[str]:
    prefix = f"heliarch:test:llm:{uuid4().hex}:"
    yield prefix
    client = redis.Redis.from_url(redis_url)
    keys = list(client.scan_iter(match=f"{prefix}*"))
    if keys:
        client.delete(*keys)
    client.close()


def test_redis_backend_is_shared_and_expires(redis_url: str, redis_prefix: str) -> None:
    messages = [HumanMessage("same prompt")]
    models = []
    for _ in range(2):  # two "workers", each with its own wrapper and connection
        inner = ScriptedChatModel(script=[ANSWER], prompts=[])
        cache = LlmResponseCache.redis(redis_url, prefix=redis_prefix, ttl_s=60)
        models.append((inner, CachingChatModel(inner=inner, response_cache=cache, model_label="m")))
    for _, model in models:
        out = model.with_structured_output(LlmAnswer, include_raw=True).invoke(messages)
        assert out["parsing_error"] is None
    assert [inner.calls for inner, _ in models] == [1, 0]
    assert models[1][1].hits == 1
    client = redis.Redis.from_url(redis_url)
    (key,) = list(client.scan_iter(match=f"{redis_prefix}llm:*"))
    assert 0 < client.pttl(key) <= 60_000
    client.close()


def test_redis_outage_degrades_to_misses() -> None:
    backend = RedisLlmBackend("redis://127.0.0.1:1/0")
    cache = LlmResponseCache(backend)
    cache.put(CachedAnswer(key="k", model="m", text="t"))
    assert cache.get("k") is None and backend.errors == 2


def test_sun_llm_cache_counts_hits_in_decision_usage(goog: BarSeries) -> None:
    inner = ScriptedChatModel(script=[ANSWER], prompts=[])
    snapshot = MarketSnapshot.at(datetime(2012, 6, 1), {"GOOG": goog})
    with Sun(
        "openai:gpt-test",
        checkpoint="none",
        models=ModelConfig(chat_model=inner, llm_cache=LlmResponseCache()),
    ) as sun:
        first = sun.decide(snapshot)
        second = sun.decide(snapshot)
    assert inner.calls == 1
    assert (first.llm_usage.calls, first.llm_usage.cache_hits) == (1, 0)
    assert (second.llm_usage.calls, second.llm_usage.cache_hits) == (0, 1)
    assert second.target_position == first.target_position
