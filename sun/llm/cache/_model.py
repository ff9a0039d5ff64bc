""":class:`CachingChatModel`: any LangChain chat model behind an :class:`LlmResponseCache`.

A cached answer skips the call. On a miss the wrapped model's own structured-output mechanism
(tool calling, JSON schema, llama.cpp grammar) is kept; a hit is marked on the returned message
(``response_metadata["heliarch_cache"] == "hit"``, zero token usage); hits and misses are
counted. Listeners see every answer used (hit or miss): the journal records them so replay can
serve them back (see :mod:`sun.replay`).
"""

from __future__ import annotations

import json
import re
import threading
from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import Runnable, RunnableLambda
from pydantic import BaseModel, ConfigDict, PrivateAttr

from bus import PromptRef
from sun.llm._structured import message_text
from sun.llm.cache._backends import CachedAnswer, LlmResponseCache
from sun.llm.cache._keys import _to_messages, llm_cache_key

HIT = "hit"
MISS = "miss"
CACHE_FLAG = "heliarch_cache"
_JSON_OBJECT = re.compile(r"\{.*\}", re.DOTALL)


# -- the chat-model wrapper ----------------------------------------------------------------


def _hit_message(answer: CachedAnswer) -> AIMessage:
    return AIMessage(
        content=answer.text,
        response_metadata={CACHE_FLAG: HIT, "cache_key": answer.key},
        usage_metadata={"input_tokens": 0, "output_tokens": 0, "total_tokens": 0},
    )


def _mark_miss(message: Any, key: str) -> Any:
    if not isinstance(message, BaseMessage):
        return message
    metadata = {**message.response_metadata, CACHE_FLAG: MISS, "cache_key": key}
    return message.model_copy(update={"response_metadata": metadata})


def _parse(schema: Any, text: str) -> tuple[Any, Exception | None]:
    """Parse ``text`` into ``schema`` (a pydantic class or a JSON schema dict)."""
    try:
        match = _JSON_OBJECT.search(text)
        if match is None:
            raise ValueError("no JSON object in the cached answer")
        data = json.loads(match.group(0), strict=False)
        if isinstance(schema, type) and issubclass(schema, BaseModel):
            return schema.model_validate(data), None
        return data, None
    except Exception as error:
        return None, error


def _extra(stop: Any, kwargs: dict[str, Any]) -> str:
    if stop is None and not kwargs:
        return ""
    return json.dumps({"stop": stop, **kwargs}, sort_keys=True, default=repr)


def is_cache_hit(message: Any) -> bool:
    """Whether ``message`` was served by :class:`CachingChatModel` from the cache."""
    metadata = getattr(message, "response_metadata", None) or {}
    return metadata.get(CACHE_FLAG) == HIT


class CachingChatModel(BaseChatModel):
    """Any chat model behind an :class:`LlmResponseCache`.

    ``invoke`` and ``with_structured_output(...)`` look the prompt up first; a hit returns
    the cached answer without calling ``inner`` (message flagged ``heliarch_cache: hit``,
    zero tokens), a miss calls ``inner`` (its own structured-output mechanism included) and
    stores the answer. ``hits`` / ``misses`` count this wrapper's lookups.

    Args:
        inner: The wrapped chat model.
        response_cache: The response cache (shared across wrappers and, with Redis, processes).
            (``cache`` is taken by LangChain's own, unrelated cache switch.)
        model_label: The model part of the key (use the model spec label).
        prompt: The prompt template part of the key (default: ``sun_reason``, current version).
        cache_invalid: Also cache answers that did not parse into the schema (default no;
            they are still reported to listeners, so a journal keeps them for replay).
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    inner: BaseChatModel
    response_cache: LlmResponseCache
    model_label: str
    prompt: PromptRef | None = None
    cache_invalid: bool = False
    _hits: int = PrivateAttr(default=0)
    _misses: int = PrivateAttr(default=0)
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    def model_post_init(self, context: Any) -> None:
        super().model_post_init(context)
        if self.prompt is None:
            from prompts import get_prompt

            template = get_prompt("sun_reason")
            self.prompt = PromptRef(name=template.name, version=template.version)

    @property
    def _llm_type(self) -> str:
        return f"cached:{getattr(self.inner, '_llm_type', type(self.inner).__name__)}"

    @property
    def hits(self) -> int:
        """Calls answered from the cache."""
        return self._hits

    @property
    def misses(self) -> int:
        """Calls that went to the wrapped model."""
        return self._misses

    def key(self, messages: LanguageModelInput, schema: Any = None, extra: str = "") -> str:
        """The cache key this wrapper uses for ``messages`` (and ``schema``)."""
        return llm_cache_key(self.model_label, self.prompt, messages, schema=schema, extra=extra)

    def _lookup(self, key: str) -> CachedAnswer | None:
        answer = self.response_cache.get(key)
        with self._lock:
            if answer is None:
                self._misses += 1
            else:
                self._hits += 1
        if answer is not None:
            self.response_cache.notify(answer, hit=True)
        return answer

    def _store(self, key: str, text: str, valid: bool) -> None:
        answer = CachedAnswer(key=key, model=self.model_label, prompt=self.prompt, text=text)
        if valid or self.cache_invalid:
            self.response_cache.put(answer)
        self.response_cache.notify(answer, hit=False)

    # plain calls ----------------------------------------------------------------------

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        key = self.key(messages, extra=_extra(stop, kwargs))
        answer = self._lookup(key)
        if answer is not None:
            return ChatResult(generations=[ChatGeneration(message=_hit_message(answer))])
        message = self.inner.invoke(messages, stop=stop, **kwargs)
        self._store(key, message_text(message), valid=True)
        return ChatResult(generations=[ChatGeneration(message=_mark_miss(message, key))])

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        key = self.key(messages, extra=_extra(stop, kwargs))
        answer = self._lookup(key)
        if answer is not None:
            return ChatResult(generations=[ChatGeneration(message=_hit_message(answer))])
        message = await self.inner.ainvoke(messages, stop=stop, **kwargs)
        self._store(key, message_text(message), valid=True)
        return ChatResult(generations=[ChatGeneration(message=_mark_miss(message, key))])

    # structured calls -----------------------------------------------------------------

    def with_structured_output(
        self, schema: Any, *, include_raw: bool = False, **kwargs: Any
    ) -> Runnable[LanguageModelInput, Any]:
        """Structured output through the cache; on a miss, ``inner``'s own mechanism runs."""
        try:
            structured: Runnable | None = self.inner.with_structured_output(
                schema, include_raw=True, **kwargs
            )
        except NotImplementedError:
            structured = None

        def finish(out: dict[str, Any]) -> Any:
            if include_raw:
                return out
            if out.get("parsing_error") is not None:
                raise out["parsing_error"]
            return out.get("parsed")

        def from_cache(value: LanguageModelInput) -> tuple[str, dict[str, Any] | None]:
            key = self.key(value, schema)
            answer = self._lookup(key)
            if answer is None:
                return key, None
            parsed, error = _parse(schema, answer.text)
            return key, {"raw": _hit_message(answer), "parsed": parsed, "parsing_error": error}

        def stored(key: str, out: Any) -> dict[str, Any]:
            if isinstance(out, dict) and "raw" in out:
                raw, parsed, error = out["raw"], out.get("parsed"), out.get("parsing_error")
            else:
                raw = out
                parsed, error = _parse(schema, message_text(raw))
            self._store(key, message_text(raw), valid=parsed is not None and error is None)
            return {"raw": _mark_miss(raw, key), "parsed": parsed, "parsing_error": error}

        def call(value: LanguageModelInput) -> Any:
            key, out = from_cache(value)
            if out is None:
                runner = structured if structured is not None else self.inner
                out = stored(key, runner.invoke(_to_messages(value)))
            return finish(out)

        async def acall(value: LanguageModelInput) -> Any:
            key, out = from_cache(value)
            if out is None:
                runner = structured if structured is not None else self.inner
                out = stored(key, await runner.ainvoke(_to_messages(value)))
            return finish(out)

        return RunnableLambda(call, afunc=acall, name="cached_structured_output")
