"""OpenTelemetry traces and metrics of the sun (off unless a :class:`Telemetry` is given).

Traces: ``sun.decide`` -> one span per graph node (``sun.node.<name>``) -> ``llm.call`` per
model call with token, cost and cache attributes; inside a decision, nodes and calls are noted
as they run and their spans made when it finishes (:mod:`sun._spans`). Metrics: decisions,
decision latency (histogram, ms), LLM calls, LLM cost, cache hits, breaker transitions.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator, Mapping
from typing import Any

from bus import LlmUsage, SunDecision
from sun._spans import DecisionTrace, current_trace, emit, pending, tracing

TELEMETRY_ENV = "HELIARCH_TELEMETRY"


class Telemetry:
    """Tracer and instruments over given OpenTelemetry providers (the global ones by default).

    Build with :meth:`in_memory` (tests), :meth:`console`, :meth:`otlp` or :meth:`from_env`.
    """

    def __init__(self, tracer_provider: Any = None, meter_provider: Any = None) -> None:
        from opentelemetry import metrics, trace

        self.tracer_provider: Any = tracer_provider or trace.get_tracer_provider()
        self.meter_provider: Any = meter_provider or metrics.get_meter_provider()
        self.tracer = self.tracer_provider.get_tracer("heliarch")
        meter = self.meter_provider.get_meter("heliarch")
        self.decisions = meter.create_counter("heliarch.decisions", description="decisions made")
        self.latency = meter.create_histogram(
            "heliarch.decision.duration", unit="ms", description="decision latency"
        )
        self.llm_calls = meter.create_counter("heliarch.llm.calls", description="model calls")
        self.llm_cost = meter.create_counter("heliarch.llm.cost", unit="USD")
        self.cache_hits = meter.create_counter("heliarch.llm.cache_hits")
        self.breaker = meter.create_counter(
            "heliarch.breaker.transitions", description="circuit breaker state changes"
        )
        self.span_exporter: Any = None
        self.metric_reader: Any = None

    @classmethod
    def in_memory(cls, *, batch: bool = False) -> Telemetry:
        """Spans in ``span_exporter`` (InMemorySpanExporter), metrics in ``metric_reader``.

        Args:
            batch: Export spans from a background thread, as production exporters do (call
                :meth:`finished_spans`, which flushes, to read them).
        """
        from opentelemetry.sdk.metrics.export import InMemoryMetricReader
        from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
        from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

        exporter, reader = InMemorySpanExporter(), InMemoryMetricReader()
        tracer_provider = _tracer_provider()
        processor = BatchSpanProcessor(exporter) if batch else SimpleSpanProcessor(exporter)
        tracer_provider.add_span_processor(processor)
        telemetry = cls(tracer_provider, _meter_provider(reader))
        telemetry.span_exporter, telemetry.metric_reader = exporter, reader
        return telemetry

    @classmethod
    def console(cls) -> Telemetry:
        """Spans and metrics printed to stdout (batched)."""
        from opentelemetry.sdk.metrics.export import (
            ConsoleMetricExporter,
            PeriodicExportingMetricReader,
        )
        from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter

        tracer_provider = _tracer_provider()
        tracer_provider.add_span_processor(BatchSpanProcessor(ConsoleSpanExporter()))
        reader = PeriodicExportingMetricReader(ConsoleMetricExporter())
        return cls(tracer_provider, _meter_provider(reader))

    @classmethod
    def otlp(cls, endpoint: str | None = None) -> Telemetry:
        """Export over OTLP/HTTP (``endpoint`` or ``OTEL_EXPORTER_OTLP_ENDPOINT``)."""
        from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
        from opentelemetry.sdk.trace.export import BatchSpanProcessor

        traces = f"{endpoint.rstrip('/')}/v1/traces" if endpoint else None
        metrics = f"{endpoint.rstrip('/')}/v1/metrics" if endpoint else None
        tracer_provider = _tracer_provider()
        tracer_provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=traces)))
        reader = PeriodicExportingMetricReader(OTLPMetricExporter(endpoint=metrics))
        return cls(tracer_provider, _meter_provider(reader))

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Telemetry | None:
        """``HELIARCH_TELEMETRY`` = ``off`` (default) | ``console`` | ``otlp``."""
        value = (environ if environ is not None else os.environ).get(TELEMETRY_ENV, "off")
        choice = value.strip().lower() or "off"
        if choice == "off":
            return None
        if choice == "console":
            return cls.console()
        if choice == "otlp":
            return cls.otlp()
        raise ValueError(f"{TELEMETRY_ENV} must be off, console or otlp; got {value!r}")

    def finished_spans(self) -> list[Any]:
        """The spans exported so far (in-memory telemetry only; flushes first)."""
        if self.span_exporter is None:
            raise ValueError("finished_spans needs Telemetry.in_memory()")
        self.tracer_provider.force_flush()
        return list(self.span_exporter.get_finished_spans())

    def span(self, name: str, **attributes: Any) -> contextlib.AbstractContextManager[Any]:
        """A span, current inside the block (children nest under it)."""
        return self.tracer.start_as_current_span(name, attributes=attributes or None)

    def begin(self, name: str = "sun.decide") -> DecisionTrace:
        """A decision's root span, not current until :meth:`entered`; end it with
        :meth:`finish`."""
        from opentelemetry import trace

        span = self.tracer.start_span(name)
        return DecisionTrace(span, trace.set_span_in_context(span), time.perf_counter())

    @contextlib.contextmanager
    def entered(self, decision: DecisionTrace) -> Iterator[None]:
        """Inside the block the decision's root span is current and its spans are noted
        (every thread the graph starts from here inherits both)."""
        from opentelemetry import context as otel_context

        token = otel_context.attach(decision.context)
        try:
            with tracing(decision):
                yield
        finally:
            otel_context.detach(token)

    def finish(self, decision: DecisionTrace, error: BaseException | None = None) -> None:
        """Make the decision's spans, record it (or the error) and its LLM metrics, end it."""
        emit(self.tracer, decision, self.fail)
        for model, usage in decision.llm.items():
            self._count_llm(model, usage)
        if error is not None:
            self.fail(decision.span, error)
        elif decision.decision is not None:
            elapsed_ms = (time.perf_counter() - decision.started) * 1e3
            self.record_decision(decision.span, decision.decision, elapsed_ms)
        decision.span.end()

    @contextlib.contextmanager
    def decision(self) -> Iterator[DecisionTrace]:
        """:meth:`begin`, :meth:`entered` and :meth:`finish` around one decision (set the
        trace's ``decision`` inside the block)."""
        trace = self.begin()
        try:
            with self.entered(trace):
                yield trace
        except BaseException as error:
            self.finish(trace, error)
            raise
        self.finish(trace)

    def node(self, name: str) -> contextlib.AbstractContextManager[Any]:
        """The span of a graph node or a model call, as a block: noted inside a decision
        (made when it finishes), a live current span outside one. Either takes
        ``set_attributes``."""
        trace = current_trace()
        return self.span(name) if trace is None else pending(trace, name)

    def fail(self, span: Any, error: BaseException) -> None:
        """Mark ``span`` failed with ``error`` (as a ``with`` span does on an exception)."""
        from opentelemetry.trace import Status, StatusCode

        span.record_exception(error)
        span.set_status(Status(StatusCode.ERROR, f"{type(error).__name__}: {error}"))

    def record_decision(self, span: Any, decision: SunDecision, elapsed_ms: float) -> None:
        """Decision attributes on ``span`` and the decision metrics."""
        usage = decision.llm_usage
        labels = {"level": decision.fallback_level, "action": decision.action}
        span.set_attributes(
            {
                "heliarch.instrument": decision.instrument,
                "heliarch.action": decision.action,
                "heliarch.level": decision.fallback_level,
                "heliarch.reasoner": decision.reasoner,
                **usage_attributes(usage),
            }
        )
        self.decisions.add(1, labels)
        self.latency.record(elapsed_ms, labels)

    def record_call(self, span: Any, model: str, usage: LlmUsage) -> None:
        """One model call's attributes on ``span``; its LLM metrics now, or once with its
        decision's."""
        span.set_attributes({"heliarch.model": model, **usage_attributes(usage)})
        trace = current_trace()
        if trace is None:
            self._count_llm(model, usage)
        else:
            trace.llm[model] = trace.llm.get(model, LlmUsage()) + usage

    def _count_llm(self, model: str, usage: LlmUsage) -> None:
        if usage.calls:
            self.llm_calls.add(usage.calls, {"model": model})
            self.llm_cost.add(usage.cost_usd, {"model": model})
        if usage.cache_hits:
            self.cache_hits.add(usage.cache_hits, {"model": model})

    def health_event(self, event: Mapping[str, Any]) -> None:
        """Count breaker transitions (a :class:`~sun.resilience.HealthBoard` listener)."""
        if event.get("event") == "breaker":
            attributes = {"level": str(event.get("level")), "to": str(event.get("to"))}
            self.breaker.add(1, attributes)

    def shutdown(self) -> None:
        """Flush and stop the providers this object built."""
        for provider in (self.tracer_provider, self.meter_provider):
            shutdown = getattr(provider, "shutdown", None)
            if shutdown is not None:
                with contextlib.suppress(Exception):
                    shutdown()


def _tracer_provider() -> Any:
    """A tracer provider sampling every span (no parent-based lookup per span: a decision's
    spans all start here) unless ``OTEL_TRACES_SAMPLER`` chooses another sampler."""
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.sampling import ALWAYS_ON

    if os.environ.get("OTEL_TRACES_SAMPLER"):
        return TracerProvider()
    return TracerProvider(sampler=ALWAYS_ON)


def _meter_provider(reader: Any) -> Any:
    """A meter provider over ``reader``; exemplars off (costly per measurement, unused here)
    unless ``OTEL_METRICS_EXEMPLAR_FILTER`` asks for them."""
    from opentelemetry.sdk.metrics import AlwaysOffExemplarFilter, MeterProvider

    if os.environ.get("OTEL_METRICS_EXEMPLAR_FILTER"):
        return MeterProvider(metric_readers=[reader])
    return MeterProvider(metric_readers=[reader], exemplar_filter=AlwaysOffExemplarFilter())


def usage_attributes(usage: LlmUsage) -> dict[str, Any]:
    """``LlmUsage`` as span attributes."""
    return {
        "llm.calls": usage.calls,
        "llm.prompt_tokens": usage.prompt_tokens,
        "llm.completion_tokens": usage.completion_tokens,
        "llm.cost_usd": usage.cost_usd,
        "llm.cache_hits": usage.cache_hits,
        "llm.cache_saved_usd": usage.cache_saved_usd,
    }
