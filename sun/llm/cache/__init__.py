"""The LLM response cache: answers keyed by (model, prompt template version, prompt hash).

    from sun.llm.cache import CachingChatModel, LlmResponseCache
    model = CachingChatModel(inner=chat_model, response_cache=LlmResponseCache(), model_label="m")

:class:`LlmResponseCache` stores raw answers with a TTL in a backend: :class:`TtlLruBackend`
(in-process, the default) or :class:`RedisLlmBackend` (shared by every worker and sun).
:class:`CachingChatModel` wraps any LangChain chat model so a cached answer skips the call.
The key is ``llm:<model label>:<template name>@<version>:<sha256>`` where the hash covers the
whitespace-collapsed text of every message (with its role) and the requested output schema
(:func:`llm_cache_key`). The same names are re-exported by :mod:`sun.llm`.
"""

from sun.llm.cache._backends import (
    DEFAULT_TTL_S,
    CachedAnswer,
    LlmAnswerEvent,
    LlmCacheBackend,
    LlmResponseCache,
    RedisLlmBackend,
    TtlLruBackend,
)
from sun.llm.cache._keys import llm_cache_key, normalize_prompt, schema_id
from sun.llm.cache._model import CACHE_FLAG, HIT, MISS, CachingChatModel, is_cache_hit

__all__ = [
    "CACHE_FLAG",
    "DEFAULT_TTL_S",
    "HIT",
    "MISS",
    "CachedAnswer",
    "CachingChatModel",
    "LlmAnswerEvent",
    "LlmCacheBackend",
    "LlmResponseCache",
    "RedisLlmBackend",
    "TtlLruBackend",
    "is_cache_hit",
    "llm_cache_key",
    "normalize_prompt",
    "schema_id",
]
