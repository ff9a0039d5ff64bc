"""One counted, schema-validated LLM call: ``StructuredLLM`` and the ``UsageMeter``.

Invalid model output is data (``StructuredResult.error``), never an exception; transport
errors (connection, timeout, rate limit, 5xx) propagate so a fallback chain can classify them.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.runnables import Runnable
from pydantic import BaseModel, ValidationError

from bus import LlmUsage

_JSON_OBJECT = re.compile(r"\{.*\}", re.DOTALL)
_SCHEMA_NOISE = ("title", "description", "examples", "default")


@dataclass(frozen=True)
class StructuredResult:
    """Outcome of one structured call.

    Attributes:
        parsed: The validated schema instance, or ``None`` when the output was invalid.
        raw_text: What the model answered (tool-call arguments as JSON for tool-calling models).
        error: Why the output was rejected (parse or validation error), ``None`` when valid.
        usage: Accounting of this one call (calls=1, tokens, latency).
    """

    parsed: BaseModel | None
    raw_text: str
    error: str | None
    usage: LlmUsage

    @property
    def ok(self) -> bool:
        """Whether the output parsed and validated."""
        return self.parsed is not None


class UsageMeter:
    """Thread-safe running total of ``LlmUsage``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._total = LlmUsage()

    def add(self, usage: LlmUsage) -> None:
        """Add one call's (or an aggregate's) usage."""
        with self._lock:
            self._total = self._total + usage

    def cache_hit(self) -> None:
        """Count a response served from a cache instead of a model call."""
        self.add(LlmUsage(cache_hits=1))

    @property
    def total(self) -> LlmUsage:
        """The accumulated usage so far."""
        with self._lock:
            return self._total

    def reset(self) -> LlmUsage:
        """Return the total and start again from zero."""
        with self._lock:
            total, self._total = self._total, LlmUsage()
            return total


def compact_json_schema(
    schema: type[BaseModel] | dict[str, Any], max_string_chars: int = 64
) -> dict[str, Any]:
    """A grammar-friendly copy of a JSON schema: no titles/descriptions, short strings, closed.

    Args:
        schema: A pydantic model class or a JSON schema dict.
        max_string_chars: Cap for every string's ``maxLength`` (added where missing).
    """
    raw = schema.model_json_schema() if isinstance(schema, type) else schema

    def clean(node: Any) -> Any:
        if isinstance(node, list):
            return [clean(item) for item in node]
        if not isinstance(node, dict):
            return node
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key in _SCHEMA_NOISE:
                continue
            if key in ("properties", "$defs", "definitions"):
                out[key] = {name: clean(sub) for name, sub in value.items()}
            else:
                out[key] = clean(value)
        if out.get("type") == "string" and "enum" not in out and "const" not in out:
            out["maxLength"] = min(int(out.get("maxLength", max_string_chars)), max_string_chars)
        if out.get("type") == "object" and "properties" in out:
            out["additionalProperties"] = False
            out.setdefault("required", list(out["properties"]))
        return out

    return clean(raw)


def message_text(message: Any) -> str:
    """The text of a model message; a tool call's arguments as JSON (what a parser reads)."""
    if not isinstance(message, BaseMessage):
        return "" if message is None else str(message)
    if isinstance(message, AIMessage) and message.tool_calls:
        return json.dumps(message.tool_calls[0].get("args", {}))
    content = message.content
    if isinstance(content, str):
        return content
    return "".join(p if isinstance(p, str) else str(p.get("text", "")) for p in content)


def _usage_of(message: Any, latency_ms: float) -> LlmUsage:
    if (getattr(message, "response_metadata", None) or {}).get("heliarch_cache") == "hit":
        return LlmUsage(cache_hits=1, latency_ms=latency_ms)  # served by CachingChatModel
    meta = getattr(message, "usage_metadata", None) or {}
    return LlmUsage(
        calls=1,
        prompt_tokens=int(meta.get("input_tokens", 0) or 0),
        completion_tokens=int(meta.get("output_tokens", 0) or 0),
        latency_ms=latency_ms,
    )


def _validate(schema: type[BaseModel], parsed: Any, raw_text: str) -> tuple[BaseModel | None, str]:
    """Validate a provider-parsed value, or parse the raw text; returns (model, error)."""
    if isinstance(parsed, schema):
        return parsed, ""
    try:
        if isinstance(parsed, BaseModel):
            return schema.model_validate(parsed.model_dump()), ""
        if isinstance(parsed, dict):
            return schema.model_validate(parsed), ""
        match = _JSON_OBJECT.search(raw_text)
        if match is None:
            return None, "no JSON object in model output"
        return schema.model_validate(json.loads(match.group(0), strict=False)), ""
    except ValidationError as exc:
        errors = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '<root>'}: {e['msg']}" for e in exc.errors()
        )
        return None, f"schema validation failed: {errors}"
    except ValueError as exc:
        return None, f"invalid JSON: {exc}"


_FAILED_USAGE = "heliarch_llm_usage"


def failed_usage(error: BaseException) -> LlmUsage:
    """The usage of the model calls that ended in ``error`` (zero if it records none)."""
    usage = getattr(error, _FAILED_USAGE, None)
    return usage if isinstance(usage, LlmUsage) else LlmUsage()


def add_failed_usage(error: BaseException, usage: LlmUsage) -> None:
    """Add ``usage`` (calls made before the failure) to what ``error`` already carries."""
    setattr(error, _FAILED_USAGE, failed_usage(error) + usage)


class CallGate(Protocol):
    """Accounting around each model call (budget, rate limits, prices, traces): ``call`` is
    one try, made by the gate once it is allowed."""

    def around(
        self, messages: list[BaseMessage], call: Callable[[], StructuredResult]
    ) -> StructuredResult:
        """Make ``call`` within the gate's limits and account for it."""
        ...


class StructuredCaller(Protocol):
    """Anything that makes one schema-validated call: :class:`StructuredLLM`, or a wrapper
    around one that adds timeouts and retries."""

    def invoke(self, messages: list[BaseMessage], schema: type[BaseModel]) -> StructuredResult:
        """One structured call; invalid output is reported in the result."""
        ...


class StructuredLLM:
    """Calls a chat model once per request for output matching a pydantic schema.

    Uses the model's own ``with_structured_output(schema, include_raw=True)`` (tool calling or
    JSON schema for remote providers, the grammar for ``LocalChatModel``); models without it
    are called plainly and their text is parsed as JSON. Every call is counted, including
    calls that raise; pass a ``UsageMeter`` to accumulate across calls.
    """

    def __init__(
        self, chat_model: BaseChatModel, spec_label: str, *, meter: UsageMeter | None = None
    ) -> None:
        self.chat_model = chat_model
        self.spec_label = spec_label
        self.meter = meter
        self._runnables: dict[type[BaseModel], Runnable | None] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"StructuredLLM({self.spec_label!r})"

    def _runnable(self, schema: type[BaseModel]) -> Runnable | None:
        with self._lock:
            if schema not in self._runnables:
                try:
                    runnable: Runnable | None = self.chat_model.with_structured_output(
                        schema, include_raw=True
                    )
                except NotImplementedError:
                    runnable = None
                self._runnables[schema] = runnable
            return self._runnables[schema]

    def _finish(self, schema: type[BaseModel], out: Any, started: float) -> StructuredResult:
        latency_ms = (time.perf_counter() - started) * 1000.0
        if isinstance(out, dict) and "raw" in out:
            raw, parsed, error = out["raw"], out.get("parsed"), out.get("parsing_error")
        else:
            raw, parsed, error = out, None, None
        raw_text = message_text(raw)
        usage = _usage_of(raw, latency_ms)
        if self.meter is not None:
            self.meter.add(usage)
        model, reason = _validate(schema, parsed, raw_text)
        if model is None and error is not None:
            reason = f"{reason} ({type(error).__name__}: {str(error)[:300]})"
        return StructuredResult(parsed=model, raw_text=raw_text, error=reason or None, usage=usage)

    def _count_failed(self, error: BaseException, started: float) -> None:
        """A call that raised still happened: counted, and its usage rides on the error."""
        usage = LlmUsage(calls=1, latency_ms=(time.perf_counter() - started) * 1000.0)
        setattr(error, _FAILED_USAGE, usage)  # this call's own usage: wrappers add theirs
        if self.meter is not None:
            self.meter.add(usage)

    def invoke(self, messages: list[BaseMessage], schema: type[BaseModel]) -> StructuredResult:
        """Call the model once; invalid output is reported in the result, transport errors raise.

        Args:
            messages: The prompt (system + user messages).
            schema: Pydantic model the answer must validate against.
        """
        runnable = self._runnable(schema) or self.chat_model
        started = time.perf_counter()
        try:
            out = runnable.invoke(messages)
        except Exception as error:
            self._count_failed(error, started)
            raise
        return self._finish(schema, out, started)

    async def ainvoke(
        self, messages: list[BaseMessage], schema: type[BaseModel]
    ) -> StructuredResult:
        """Async ``invoke``."""
        runnable = self._runnable(schema) or self.chat_model
        started = time.perf_counter()
        try:
            out = await runnable.ainvoke(messages)
        except Exception as error:
            self._count_failed(error, started)
            raise
        return self._finish(schema, out, started)
