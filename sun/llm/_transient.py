"""Transient-error classification and the per-call timeout used by the fallback chain.

:func:`is_transient` tells a retryable failure (connection errors, timeouts, HTTP 408/429/5xx
from httpx / anthropic / openai, classified by exception type and status code) from a permanent
one; :func:`call_with_timeout` runs a call in a daemon worker thread and waits at most its
timeout. An abandoned call is asked to stop: code that can stop part-way (the embedded model
between tokens) checks :func:`cancellation_requested` and raises :class:`CallCancelled`.
"""

from __future__ import annotations

import contextvars
import sys
import threading
from collections.abc import Callable
from typing import Any

TRANSIENT_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504, 529})


class CallTimeout(TimeoutError):
    """A model call did not answer within its timeout (transient)."""


class CallCancelled(CallTimeout):
    """Raised inside an abandoned call that noticed its caller gave up and stopped early."""


_CANCEL: contextvars.ContextVar[threading.Event | None] = contextvars.ContextVar(
    "heliarch_call_cancel", default=None
)


def cancellation_requested() -> bool:
    """Whether the caller of the current :func:`call_with_timeout` call has given up on it."""
    event = _CANCEL.get()
    return event is not None and event.is_set()


class ReplayedFailure(RuntimeError):
    """A model failure reproduced from a journal; its text is the recorded error, verbatim.

    Never transient (the recorded attempt already includes its retries), and the fallback
    chain records its text unchanged, so a replayed attempt reads exactly like the original.
    """


class RetriesExhausted(Exception):
    """Transient errors persisted through every retry; ``__cause__`` is the last one."""

    def __init__(self, tries: int, last: BaseException) -> None:
        super().__init__(f"{type(last).__name__}: {last} (after {tries} tries)")
        self.tries = tries
        self.last = last


def _status_code(error: BaseException) -> int | None:
    code = getattr(error, "status_code", None)
    if code is None:
        response = getattr(error, "response", None)
        code = getattr(response, "status_code", None)
    return code if isinstance(code, int) else None


def _provider_transient(error: BaseException) -> bool:
    """Connection/timeout errors of the provider SDKs, looked up only if they are loaded."""
    httpx = sys.modules.get("httpx")
    if httpx is not None and isinstance(error, httpx.TransportError):
        return True
    for name in ("anthropic", "openai"):
        module = sys.modules.get(name)
        if module is None:
            continue
        kinds = tuple(
            getattr(module, kind)
            for kind in ("APIConnectionError", "APITimeoutError", "RateLimitError")
            if hasattr(module, kind)
        )
        if kinds and isinstance(error, kinds):
            return True
    return False


def is_transient(error: BaseException) -> bool:
    """Whether retrying the same call may succeed.

    Transient: ``ConnectionError`` / ``TimeoutError`` (and :class:`CallTimeout`), httpx transport
    errors, anthropic / openai connection, timeout and rate-limit errors, and any error carrying
    an HTTP status in ``TRANSIENT_STATUS`` (408, 429, 5xx, 529 overloaded). Everything else
    (authentication, 4xx, ``ValueError``, validation errors) is permanent. Chained causes
    (``__cause__``) are looked at too.
    """
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ConnectionError | TimeoutError):
            return True
        code = _status_code(current)
        if code is not None:
            return code in TRANSIENT_STATUS
        if _provider_transient(current):
            return True
        current = current.__cause__
    return False


def retry_after_s(error: BaseException) -> float | None:
    """The ``Retry-After`` seconds of a 429 error (or of the error it wraps), if it gave one."""
    seen: BaseException | None = error
    for _ in range(4):
        if seen is None:
            return None
        value = getattr(seen, "retry_after", None)
        headers = getattr(getattr(seen, "response", None), "headers", None) or {}
        if value is None and hasattr(headers, "get"):
            value = headers.get("retry-after") or headers.get("Retry-After")
        if value is not None:
            try:
                return max(0.0, float(value))
            except (TypeError, ValueError):
                return None
        seen = getattr(seen, "last", None) or seen.__cause__
    return None


def call_with_timeout(fn: Callable[[], Any], timeout_s: float | None, name: str = "call") -> Any:
    """Run ``fn`` in a daemon thread and wait at most ``timeout_s`` seconds for it.

    Raises:
        CallTimeout: ``fn`` did not return in time. It keeps running in the background, but
            is asked to stop (:func:`cancellation_requested` turns true in its thread).
        Exception: whatever ``fn`` raised.
    """
    if timeout_s is None:
        return fn()
    box: dict[str, Any] = {}
    done = threading.Event()
    cancel = threading.Event()

    def run() -> None:
        _CANCEL.set(cancel)
        try:
            box["value"] = fn()
        except BaseException as error:  # noqa: BLE001 - re-raised in the caller
            box["error"] = error
        finally:
            done.set()

    # the caller's context goes along: LangChain callbacks (LangGraph "messages" streaming,
    # LangSmith) and OpenTelemetry spans see the call as part of the decision
    context = contextvars.copy_context()
    threading.Thread(target=context.run, args=(run,), name=f"heliarch-{name}", daemon=True).start()
    if not done.wait(max(0.0, timeout_s)):
        cancel.set()
        raise CallTimeout(f"{name} did not answer within {timeout_s:.3g}s")
    if "error" in box:
        raise box["error"]
    return box["value"]
