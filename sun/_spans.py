"""The spans of one decision, taken cheaply while it runs and made when it finishes.

Inside a decision, a node or a model call only notes its name, start, end, error, attributes
and parent (:func:`pending`): a few microseconds on the node's thread. :func:`emit` then makes
the real OpenTelemetry spans, with those times and parents, in one pass on the decision's
thread. The root span is live from the start, so anything that reads the current span while
the decision runs (other instrumentation) sees the decision.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from bus import LlmUsage, SunDecision


@dataclass(slots=True)
class PendingSpan:
    """A span noted during a decision (made by :func:`emit`)."""

    name: str
    start_ns: int
    parent: PendingSpan | None
    end_ns: int | None = None
    attributes: dict[str, Any] = field(default_factory=dict)
    error: BaseException | None = None
    parent_of_some: bool = False
    context: Any = None

    def set_attributes(self, attributes: dict[str, Any]) -> None:
        """Attributes the span will carry (as ``Span.set_attributes``)."""
        self.attributes.update(attributes)


@dataclass
class DecisionTrace:
    """One decision: its live root span and that span's context, its pending spans, the LLM
    usage per model (its metrics are recorded once, at the end) and the decision made."""

    span: Any
    context: Any
    started: float
    spans: list[PendingSpan] = field(default_factory=list)
    llm: dict[str, LlmUsage] = field(default_factory=dict)
    decision: SunDecision | None = None


_TRACE: ContextVar[DecisionTrace | None] = ContextVar("heliarch_decision_trace", default=None)
_OPEN: ContextVar[PendingSpan | None] = ContextVar("heliarch_open_span", default=None)


def current_trace() -> DecisionTrace | None:
    """The decision being traced in this context, if any."""
    return _TRACE.get()


@contextlib.contextmanager
def tracing(trace: DecisionTrace) -> Iterator[None]:
    """``trace`` is the current decision inside the block (threads started here inherit it)."""
    token = _TRACE.set(trace)
    try:
        yield
    finally:
        _TRACE.reset(token)


@contextlib.contextmanager
def pending(trace: DecisionTrace, name: str) -> Iterator[PendingSpan]:
    """Note a span of ``trace`` around the block; spans noted inside it are its children."""
    parent = _OPEN.get()
    record = PendingSpan(name, time.time_ns(), parent)
    if parent is not None:
        parent.parent_of_some = True
    trace.spans.append(record)
    token = _OPEN.set(record)
    try:
        yield record
    except BaseException as error:
        record.error = error
        raise
    finally:
        record.end_ns = time.time_ns()
        _OPEN.reset(token)


def emit(tracer: Any, trace: DecisionTrace, fail: Callable[[Any, BaseException], None]) -> None:
    """Make the real spans of ``trace``'s pending ones (parents come before their children)."""
    from opentelemetry.trace import set_span_in_context

    for record in list(trace.spans):
        parent = trace.context if record.parent is None else record.parent.context
        span = tracer.start_span(
            record.name,
            context=parent,
            start_time=record.start_ns,
            attributes=record.attributes or None,
        )
        if record.error is not None:
            fail(span, record.error)
        span.end(end_time=record.end_ns or time.time_ns())
        if record.parent_of_some:
            record.context = set_span_in_context(span)
