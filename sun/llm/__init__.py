"""Models for the sun: specs and providers, structured output, the embedded local model, the
LLM response cache, and the classification of transient errors.

    from sun.llm import parse_model_spec, build_chat_model, StructuredLLM
    model = build_chat_model(parse_model_spec("local"))
"""

from sun.llm._models import (
    build_chat_model,
    default_model_spec,
    local_available,
    local_model_path,
)
from sun.llm._registry import (
    CAPABILITIES,
    Capability,
    ModelInfo,
    ModelRegistry,
    UnknownModelError,
)
from sun.llm._spec import ModelSpec, parse_model_spec
from sun.llm._structured import (
    CallGate,
    StructuredCaller,
    StructuredLLM,
    StructuredResult,
    UsageMeter,
    add_failed_usage,
    compact_json_schema,
    failed_usage,
    message_text,
)
from sun.llm._transient import (
    TRANSIENT_STATUS,
    CallCancelled,
    CallTimeout,
    ReplayedFailure,
    RetriesExhausted,
    call_with_timeout,
    is_transient,
    retry_after_s,
)
from sun.llm.cache import (
    DEFAULT_TTL_S,
    CachedAnswer,
    CachingChatModel,
    LlmAnswerEvent,
    LlmCacheBackend,
    LlmResponseCache,
    RedisLlmBackend,
    TtlLruBackend,
    is_cache_hit,
    llm_cache_key,
    normalize_prompt,
    schema_id,
)

__all__ = [
    "CAPABILITIES",
    "Capability",
    "ModelInfo",
    "ModelRegistry",
    "UnknownModelError",
    "DEFAULT_TTL_S",
    "TRANSIENT_STATUS",
    "CachedAnswer",
    "CachingChatModel",
    "CallGate",
    "CallCancelled",
    "CallTimeout",
    "LlmAnswerEvent",
    "LlmCacheBackend",
    "LlmResponseCache",
    "ModelSpec",
    "RedisLlmBackend",
    "ReplayedFailure",
    "RetriesExhausted",
    "StructuredCaller",
    "StructuredLLM",
    "StructuredResult",
    "TtlLruBackend",
    "UsageMeter",
    "add_failed_usage",
    "build_chat_model",
    "call_with_timeout",
    "compact_json_schema",
    "default_model_spec",
    "failed_usage",
    "is_cache_hit",
    "is_transient",
    "llm_cache_key",
    "local_available",
    "local_model_path",
    "message_text",
    "normalize_prompt",
    "parse_model_spec",
    "retry_after_s",
    "schema_id",
]
