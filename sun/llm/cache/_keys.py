"""LLM cache keys: ``llm:<model label>:<template name>@<version>:<sha256>``.

The hash covers the whitespace-collapsed text of every message (with its role) and the
requested output schema (see :func:`llm_cache_key`).
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from langchain_core.language_models import LanguageModelInput
from langchain_core.messages import BaseMessage, HumanMessage, convert_to_messages
from langchain_core.prompt_values import PromptValue
from pydantic import BaseModel

from bus import PromptRef
from sun.llm._structured import message_text

_SPACES = re.compile(r"\s+")


def _to_messages(value: LanguageModelInput) -> list[BaseMessage]:
    if isinstance(value, PromptValue):
        return value.to_messages()
    if isinstance(value, str):
        return [HumanMessage(value)]
    return convert_to_messages(value)


def normalize_prompt(messages: LanguageModelInput) -> str:
    """Role-tagged, whitespace-collapsed text of every message, one per line."""
    lines = []
    for message in _to_messages(messages):
        text = _SPACES.sub(" ", message_text(message)).strip()
        lines.append(f"{message.type}: {text}")
    return "\n".join(lines)


def schema_id(schema: Any) -> str:
    """A stable identity of a requested output schema (name + hash of its JSON schema)."""
    if schema is None:
        return ""
    if isinstance(schema, type) and issubclass(schema, BaseModel):
        body, name = schema.model_json_schema(), schema.__name__
    else:
        body, name = schema, "schema"
    digest = hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()
    return f"{name}:{digest[:16]}"


def llm_cache_key(
    model: str,
    prompt: PromptRef | None,
    messages: LanguageModelInput,
    *,
    schema: Any = None,
    extra: str = "",
) -> str:
    """The cache key of one LLM call.

    Args:
        model: The model label (e.g. ``anthropic:claude-sonnet-4``).
        prompt: The prompt template (name and version) the messages were rendered from.
        messages: The prompt (messages, a string or a prompt value).
        schema: The requested structured-output schema, if any.
        extra: Anything else that changes the answer (bound call arguments).
    """
    body = f"{schema_id(schema)}\n{extra}\n{normalize_prompt(messages)}"
    digest = hashlib.sha256(body.encode()).hexdigest()
    template = f"{prompt.name}@{prompt.version}" if prompt is not None else "-"
    return f"llm:{model}:{template}:{digest}"
