"""Model specs, chat-model construction (no network) and the structured-call wrapper."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from langchain_core.language_models import BaseChatModel
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langchain_core.outputs import ChatGeneration, ChatResult

from bus import LlmUsage, ReasonedDecision
from sun.llm import (
    ModelSpec,
    StructuredLLM,
    UsageMeter,
    build_chat_model,
    default_model_spec,
    local_available,
    parse_model_spec,
)

VALID = '{"action": "BUY", "target_position": 0.4, "confidence": 0.7, "rationale": "trend up"}'
PROMPT: list[BaseMessage] = [SystemMessage("decide"), HumanMessage("GOOG rsi 55")]


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("anthropic:claude-sonnet-4-5", ModelSpec("anthropic", "claude-sonnet-4-5")),
        ("openai:gpt-4o-mini", ModelSpec("openai", "gpt-4o-mini")),
        ("ollama:llama3.2:1b", ModelSpec("ollama", "llama3.2:1b")),
        (
            "ollama:qwen2.5@http://gpu-box:11434/",
            ModelSpec("ollama", "qwen2.5", base_url="http://gpu-box:11434"),
        ),
        (
            "openai-compatible:qwen2.5@http://127.0.0.1:8000/v1",
            ModelSpec("openai-compatible", "qwen2.5", base_url="http://127.0.0.1:8000/v1"),
        ),
        ("local", ModelSpec("local")),
        ("local:/models/x.gguf", ModelSpec("local", path=Path("/models/x.gguf"))),
        ("quant", ModelSpec("quant")),
        ("  QUANT ", ModelSpec("quant")),
    ],
)
def test_parse_model_spec_accepts_every_form(spec: str, expected: ModelSpec) -> None:
    parsed = parse_model_spec(spec)
    assert parsed == expected
    assert parse_model_spec(parsed.label) == parsed
    assert parsed.is_llm is (parsed.kind != "quant")


@pytest.mark.parametrize(
    "spec",
    [
        "",
        "gpt-4o",
        "anthropic:",
        "openai",
        "openai:gpt-4o@http://x:1/v1",
        "openai-compatible:qwen",
        "openai-compatible:qwen@ftp://x",
        "openai-compatible:@http://x:1/v1",
        "ollama:llama3@localhost:11434",
        "local:model.bin",
        "local:",
        "quant:fast",
        "mistral:large",
    ],
)
def test_parse_model_spec_rejects_ill_formed(spec: str) -> None:
    with pytest.raises(ValueError, match="accepted forms: anthropic:<model>") as info:
        parse_model_spec(spec)
    assert "openai-compatible:<model>@" in str(info.value)
    assert "quant" in str(info.value)


def test_build_anthropic(monkeypatch: pytest.MonkeyPatch) -> None:
    from langchain_anthropic import ChatAnthropic

    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-dummy")
    model = build_chat_model("anthropic:claude-sonnet-4-5", max_tokens=160, timeout_s=7.0)
    assert isinstance(model, ChatAnthropic)
    assert model.model == "claude-sonnet-4-5"
    assert model.max_tokens == 160
    assert model.default_request_timeout == 7.0
    assert model.temperature == 0.0


def test_build_openai_and_compatible(monkeypatch: pytest.MonkeyPatch) -> None:
    from langchain_openai import ChatOpenAI

    monkeypatch.setenv("OPENAI_API_KEY", "sk-dummy")
    model = build_chat_model("openai:gpt-4o-mini", max_tokens=120, timeout_s=5.0)
    assert isinstance(model, ChatOpenAI)
    assert model.model_name == "gpt-4o-mini"
    assert model.max_tokens == 120
    assert model.request_timeout == 5.0
    assert model.openai_api_base is None

    monkeypatch.delenv("OPENAI_API_KEY")
    spec = "openai-compatible:qwen2.5@http://127.0.0.1:8000/v1"
    compatible = build_chat_model(spec, max_tokens=64, timeout_s=3.0)
    assert isinstance(compatible, ChatOpenAI)
    assert compatible.openai_api_base == "http://127.0.0.1:8000/v1"
    assert compatible.model_name == "qwen2.5"


def test_build_ollama() -> None:
    from langchain_ollama import ChatOllama

    model = build_chat_model(
        "ollama:llama3.2:1b@http://127.0.0.1:11434", max_tokens=80, timeout_s=4.0
    )
    assert isinstance(model, ChatOllama)
    assert model.model == "llama3.2:1b"
    assert model.num_predict == 80
    assert model.base_url == "http://127.0.0.1:11434"
    assert model.temperature == 0.0


@pytest.mark.parametrize(
    ("spec", "env"),
    [("anthropic:claude-x", "ANTHROPIC_API_KEY"), ("openai:gpt-x", "OPENAI_API_KEY")],
)
def test_missing_api_key_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, spec: str, env: str
) -> None:
    monkeypatch.delenv(env, raising=False)
    with pytest.raises(ValueError, match=env):
        build_chat_model(spec, max_tokens=10, timeout_s=1.0)


def test_quant_is_not_a_chat_model() -> None:
    with pytest.raises(ValueError, match="quant reasoner, not a chat model"):
        build_chat_model("quant", max_tokens=10, timeout_s=1.0)


def test_missing_provider_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "langchain_anthropic", None)
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-dummy")
    with pytest.raises(ImportError, match=r"pip install 'heliarch\[anthropic\]'"):
        build_chat_model("anthropic:claude-x", max_tokens=10, timeout_s=1.0)


def test_local_with_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not found"):
        build_chat_model(f"local:{tmp_path / 'nope.gguf'}", max_tokens=10, timeout_s=1.0)


def test_default_model_spec_matches_availability() -> None:
    assert default_model_spec() == ("local" if local_available() else "quant")


class _FixedChat(BaseChatModel):
    """Answers every prompt with fixed text and fixed token usage."""

    text: str

    @property
    def _llm_type(self) -> str:
        return "fixed"

    def _generate(
        self, messages: list[BaseMessage], stop: Any = None, *_: Any, **__: Any
    ) -> ChatResult:
        usage = {"input_tokens": 11, "output_tokens": 7, "total_tokens": 18}
        message = AIMessage(content=self.text, usage_metadata=usage)
        return ChatResult(generations=[ChatGeneration(message=message)])


class _DownChat(_FixedChat):
    def _generate(
        self, messages: list[BaseMessage], stop: Any = None, *_: Any, **__: Any
    ) -> ChatResult:
        raise ConnectionError("provider unreachable")


def test_structured_valid_output_is_parsed_and_counted() -> None:
    meter = UsageMeter()
    llm = StructuredLLM(_FixedChat(text=f"Sure: {VALID}"), "fixed", meter=meter)
    result = llm.invoke(PROMPT, ReasonedDecision)
    assert result.ok and result.error is None
    assert result.parsed == ReasonedDecision(
        action="BUY", target_position=0.4, confidence=0.7, rationale="trend up"
    )
    assert result.usage.calls == 1
    assert (result.usage.prompt_tokens, result.usage.completion_tokens) == (11, 7)
    assert result.usage.latency_ms > 0
    assert meter.total.calls == 1


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("I think you should buy.", "no JSON object"),
        ('{"action": "BUY", "target_position": 0.4,', "no JSON object"),
        ('{"action": "BUY" "target_position": 1}', "invalid JSON"),
        (VALID.replace("0.4", "1.5"), "target_position"),
        (VALID.replace("BUY", "SELL"), "SELL needs target_position < 0"),
    ],
)
def test_structured_invalid_output_is_data(text: str, error: str) -> None:
    meter = UsageMeter()
    result = StructuredLLM(_FixedChat(text=text), "fixed", meter=meter).invoke(
        PROMPT, ReasonedDecision
    )
    assert result.parsed is None and not result.ok
    assert result.error is not None and error in result.error
    assert result.raw_text == text
    assert result.usage.calls == 1 and result.usage.prompt_tokens == 11
    assert meter.total.completion_tokens == 7


def test_structured_with_generic_fake_chat_model() -> None:
    fake = GenericFakeChatModel(messages=iter([AIMessage(content="not json"), VALID]))
    llm = StructuredLLM(fake, "fake")
    bad = llm.invoke(PROMPT, ReasonedDecision)
    assert bad.parsed is None and bad.error and bad.usage.calls == 1
    good = llm.invoke(PROMPT, ReasonedDecision)
    assert isinstance(good.parsed, ReasonedDecision) and good.parsed.action == "BUY"


def test_structured_transport_errors_raise_and_are_counted() -> None:
    meter = UsageMeter()
    llm = StructuredLLM(_DownChat(text=""), "down", meter=meter)
    with pytest.raises(ConnectionError):
        llm.invoke(PROMPT, ReasonedDecision)
    with pytest.raises(ConnectionError):
        asyncio.run(llm.ainvoke(PROMPT, ReasonedDecision))
    assert meter.total.calls == 2


async def test_structured_ainvoke() -> None:
    result = await StructuredLLM(_FixedChat(text=VALID), "fixed").ainvoke(PROMPT, ReasonedDecision)
    assert isinstance(result.parsed, ReasonedDecision)
    assert result.usage.calls == 1


def test_usage_meter_is_thread_safe() -> None:
    from concurrent.futures import ThreadPoolExecutor

    meter = UsageMeter()
    one = LlmUsage(calls=1, prompt_tokens=2, completion_tokens=3, latency_ms=1.0)
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda _: meter.add(one), range(400)))
    meter.cache_hit()
    total = meter.reset()
    assert (total.calls, total.prompt_tokens, total.cache_hits) == (400, 800, 1)
    assert meter.total == LlmUsage()
