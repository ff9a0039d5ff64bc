"""The embedded ``local`` model: a LangChain chat model over ``llama_cpp.Llama``.

The GGUF is loaded once per (path, context settings) and process. A llama.cpp context is not
thread-safe, so every generation holds the loaded model's lock (``LoadedLlama.lock``); calls
from several threads are serialized, never interleaved.

Structured output uses a GBNF grammar derived from the JSON schema (llama.cpp's
``json_schema_to_gbnf``), tightened so the answer is short and always valid JSON: no optional
whitespace, no control characters in strings, strings capped at ``max_string_chars``, numbers
bounded to [-1, 1] or [0, 1] when the schema says so (two decimals). Cross-field rules (e.g. BUY
needs a positive target) cannot be expressed in a grammar: callers validate with pydantic.

At temperature 0 decoding is greedy under the grammar (``_greedy_grammar_decode``, which masks
the vocabulary only when the argmax token is rejected). A call abandoned by
``call_with_timeout`` stops waiting for the lock and stops decoding at the next token
(``CallCancelled``), so it frees the model instead of finishing an answer nobody reads; the
prompt evaluation itself (one llama.cpp batch) cannot be interrupted. Determinism: the KV cache is always
split at the same place (everything before the last message is cached and reused; the last
message is evaluated in one batch), so the same messages give the same answer regardless of
what ran before.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from operator import itemgetter
from pathlib import Path
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.messages.ai import UsageMetadata
from langchain_core.output_parsers import JsonOutputParser, PydanticOutputParser
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import Runnable, RunnableMap, RunnablePassthrough
from pydantic import BaseModel, Field, PrivateAttr

from sun.llm._gbnf import _gbnf_for, _greedy_grammar_decode
from sun.llm._llama_load import (
    _LOAD_LOCK,
    LoadedLlama,
    Requant,
    default_cache_dir,
    load_llama,
    requantized_gguf,
)
from sun.llm._structured import compact_json_schema
from sun.llm._transient import CallCancelled, cancellation_requested

__all__ = [
    "LoadedLlama",
    "LocalChatModel",
    "Requant",
    "default_cache_dir",
    "load_llama",
    "requantized_gguf",
    "sanitize_text",
]


_ROLES = {"system": "system", "human": "user", "ai": "assistant"}
_SPECIAL_TOKEN = re.compile(r"<\|[^|<>]{1,40}\|>|</?s>")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def sanitize_text(text: str) -> str:
    """Remove chat-template special tokens and control characters (keeps tabs and newlines)."""
    return _CONTROL.sub(" ", _SPECIAL_TOKEN.sub("", text))


def _message_text(message: BaseMessage) -> str:
    content = message.content
    if isinstance(content, str):
        return content
    parts = [p if isinstance(p, str) else str(p.get("text", "")) for p in content]
    return "".join(parts)


def _common_prefix(a: list[int], b: list[int]) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


@contextmanager
def _holding(lock: threading.Lock) -> Iterator[None]:
    """Hold the model lock; an abandoned call (its caller timed out) stops waiting for it."""
    while not lock.acquire(timeout=0.05):
        _stop_if_cancelled()
    try:
        yield
    finally:
        lock.release()


def _stop_if_cancelled() -> None:
    if cancellation_requested():
        raise CallCancelled("local model call abandoned by its caller (timeout): stopped early")


class LocalChatModel(BaseChatModel):
    """LangChain chat model over an embedded llama.cpp GGUF model.

    Bind ``response_format={"type": "json_object", "schema": <json schema>}`` (or use
    ``with_structured_output``) for grammar-constrained JSON. Usage metadata (input/output
    tokens) is set on every returned ``AIMessage``. With ``requantize`` set (default
    ``"q4_0"``; ``build_chat_model`` sets it only for the bundled SmolLM2) the GGUF is
    re-quantized once into ``cache_dir`` for speed (see ``requantized_gguf``); ``None`` runs
    the file as it is. Strings are capped at ``max_string_chars`` where the schema sets no
    tighter ``maxLength`` (the rationale's 200 characters are honoured).
    """

    model_path: str
    max_tokens: int = Field(default=160, gt=0)
    temperature: float = Field(default=0.0, ge=0.0)
    n_ctx: int = Field(default=2048, gt=0)
    n_threads: int = Field(default=2, gt=0)
    n_batch: int = Field(default=512, gt=0)
    seed: int = 42
    max_string_chars: int = Field(default=200, gt=0)
    requantize: Requant | None = "q4_0"
    cache_dir: str | None = None
    _run_path: tuple[tuple[str, str | None, str | None], str] | None = PrivateAttr(default=None)

    @property
    def _llm_type(self) -> str:
        return "heliarch-local-llama-cpp"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model_path": self.model_path, "max_tokens": self.max_tokens, "seed": self.seed}

    def loaded(self) -> LoadedLlama:
        """The cached llama.cpp model (loaded on first use); hold ``.lock`` to use it directly."""
        source = (self.model_path, self.requantize, self.cache_dir)
        if self._run_path is None or self._run_path[0] != source:
            path: str | Path = self.model_path
            if self.requantize is not None:
                with _LOAD_LOCK:
                    path = requantized_gguf(path, self.requantize, self.cache_dir)
            self._run_path = (source, str(path))
        return load_llama(
            self._run_path[1],
            n_ctx=self.n_ctx,
            n_threads=self.n_threads,
            n_batch=self.n_batch,
            seed=self.seed,
        )

    def _prompt_tokens(self, loaded: LoadedLlama, chat: list[dict[str, str]]) -> tuple[list, int]:
        """Tokens of the rendered chat and the length of the cacheable prefix."""
        llama = loaded.llama
        rendered = loaded.formatter(messages=chat)
        tokens = llama.tokenize(rendered.prompt.encode("utf-8"), add_bos=False, special=True)
        if len(chat) < 2:
            return tokens, 0
        head = loaded.formatter(messages=chat[:-1]).prompt
        head_tokens = llama.tokenize(head.encode("utf-8"), add_bos=False, special=True)
        return tokens, min(_common_prefix(tokens, head_tokens), len(tokens) - 1)

    def _complete(
        self, chat: list[dict[str, str]], gbnf: str | None, stop: list[str] | None, max_tokens: int
    ) -> dict:
        loaded = self.loaded()
        llama = loaded.llama
        with _holding(loaded.lock):
            tokens, prefix = self._prompt_tokens(loaded, chat)
            if len(tokens) + max_tokens > self.n_ctx:
                raise ValueError(
                    f"prompt of {len(tokens)} tokens + max_tokens {max_tokens} exceeds "
                    f"n_ctx {self.n_ctx}"
                )
            cached = llama.n_tokens >= prefix and list(llama.input_ids[:prefix]) == tokens[:prefix]
            if not cached:
                llama.reset()
                if prefix:
                    llama.eval(tokens[:prefix])
            llama.n_tokens = prefix
            if gbnf is not None and self.temperature == 0.0 and not stop:
                _stop_if_cancelled()
                llama.eval(tokens[prefix:])
                out, finish = _greedy_grammar_decode(
                    llama, gbnf, max_tokens, should_stop=cancellation_requested
                )
                if finish == "cancelled":
                    _stop_if_cancelled()
                text = llama.detokenize(out).decode("utf-8", errors="replace")
                usage = {"prompt_tokens": len(tokens), "completion_tokens": len(out)}
                return {"choices": [{"text": text, "finish_reason": finish}], "usage": usage}
            grammar = None
            if gbnf is not None:
                from llama_cpp import LlamaGrammar

                grammar = LlamaGrammar.from_string(gbnf, verbose=False)
            return llama.create_completion(
                prompt=tokens,
                max_tokens=max_tokens,
                temperature=self.temperature,
                seed=self.seed,
                stop=stop or [],
                grammar=grammar,
                repeat_penalty=1.0,
            )

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        chat = [
            {"role": _ROLES.get(m.type, "user"), "content": sanitize_text(_message_text(m))}
            for m in messages
        ]
        gbnf = None
        response_format = kwargs.get("response_format")
        if response_format and response_format.get("type") == "json_object":
            schema = response_format.get("schema") or {"type": "object"}
            gbnf = _gbnf_for(json.dumps(schema, sort_keys=False))
        max_tokens = int(kwargs.get("max_tokens") or self.max_tokens)
        result = self._complete(chat, gbnf, stop, max_tokens)
        choice = result["choices"][0]
        text = _CONTROL.sub(" ", choice["text"]).strip()
        usage = result.get("usage") or {}
        prompt_tokens = int(usage.get("prompt_tokens", 0))
        completion_tokens = int(usage.get("completion_tokens", 0))
        message = AIMessage(
            content=text,
            usage_metadata=UsageMetadata(
                input_tokens=prompt_tokens,
                output_tokens=completion_tokens,
                total_tokens=prompt_tokens + completion_tokens,
            ),
            response_metadata={
                "model_name": Path(self.model_path).name,
                "finish_reason": choice.get("finish_reason"),
            },
        )
        return ChatResult(generations=[ChatGeneration(message=message)])

    def with_structured_output(
        self,
        schema: dict[str, Any] | type,
        *,
        include_raw: bool = False,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, Any]:
        """Grammar-constrained JSON output parsed into ``schema`` (pydantic class or JSON schema).

        Args:
            schema: A pydantic model class (parsed and validated) or a JSON schema dict.
            include_raw: Return ``{"raw", "parsed", "parsing_error"}`` instead of raising on
                a parse/validation failure.
            **kwargs: ``method`` / ``strict`` are accepted and ignored (always the grammar).
        """
        kwargs.pop("method", None)
        kwargs.pop("strict", None)
        if kwargs:
            raise ValueError(f"unsupported arguments {sorted(kwargs)}")
        is_model = isinstance(schema, type) and issubclass(schema, BaseModel)
        if not is_model and not isinstance(schema, dict):
            raise TypeError("schema must be a pydantic model class or a JSON schema dict")
        grammar_schema = compact_json_schema(schema, self.max_string_chars)
        llm = self.bind(response_format={"type": "json_object", "schema": grammar_schema})
        parser = PydanticOutputParser(pydantic_object=schema) if is_model else JsonOutputParser()
        if not include_raw:
            return llm | parser
        parse = RunnablePassthrough.assign(
            parsed=itemgetter("raw") | parser, parsing_error=lambda _: None
        )
        no_parse = RunnablePassthrough.assign(parsed=lambda _: None)
        return RunnableMap(raw=llm) | parse.with_fallbacks(
            [no_parse], exception_key="parsing_error"
        )
