"""Streaming one decision (``Sun.stream`` / ``astream``): LangGraph's stream events, traced
under the same ``sun.decide`` root span as ``Sun.decide`` when telemetry is on.

The root span is current only while the graph runs (between two events), never while the
caller holds an event, so the caller's own context is left as it was.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Sequence
from typing import Any

from bus import SunDecision
from sun._telemetry import Telemetry

StreamMode = str | Sequence[str]


def _modes(stream_mode: StreamMode) -> tuple[list[str], list[str]]:
    """The modes asked for, and the ones run (``updates`` too: the decision is in it)."""
    asked = [stream_mode] if isinstance(stream_mode, str) else list(stream_mode)
    return asked, asked if "updates" in asked else [*asked, "updates"]


def _decision_of(mode: str, data: Any) -> SunDecision | None:
    if mode == "updates" and isinstance(data, dict):
        update = data.get("propagate")
        if isinstance(update, dict) and isinstance(update.get("decision"), SunDecision):
            return update["decision"]
    return None


class _Traced:
    """One streamed decision: what the caller asked for, and its trace."""

    def __init__(self, telemetry: Telemetry, stream_mode: StreamMode) -> None:
        self.telemetry = telemetry
        self.single = isinstance(stream_mode, str)
        self.asked, self.run_modes = _modes(stream_mode)
        self.trace = telemetry.begin()

    def shown(self, item: Any) -> tuple[bool, Any]:
        """Whether the caller asked for ``item`` (a ``(mode, data)`` pair), and as what."""
        mode, data = item
        decision = _decision_of(mode, data)
        if decision is not None:
            self.trace.decision = decision
        if mode not in self.asked:
            return False, None
        return True, data if self.single else (mode, data)


def stream_decision(
    graph: Any,
    state: Any,
    config: dict[str, Any],
    context: Any,
    stream_mode: StreamMode,
    telemetry: Telemetry | None,
) -> Iterator[Any]:
    """``graph.stream``, traced as one decision when ``telemetry`` is set."""
    if telemetry is None:
        yield from graph.stream(state, config, context=context, stream_mode=stream_mode)
        return
    traced = _Traced(telemetry, stream_mode)
    events = graph.stream(state, config, context=context, stream_mode=traced.run_modes)
    error: BaseException | None = None
    try:
        while True:
            with telemetry.entered(traced.trace):
                item = next(events, None)
            if item is None:
                break
            shown, data = traced.shown(item)
            if shown:
                yield data
    except BaseException as failure:
        error = None if isinstance(failure, GeneratorExit) else failure
        raise
    finally:
        telemetry.finish(traced.trace, error)


async def astream_decision(
    graph: Any,
    state: Any,
    config: dict[str, Any],
    context: Any,
    stream_mode: StreamMode,
    telemetry: Telemetry | None,
) -> AsyncIterator[Any]:
    """``graph.astream``, traced as one decision when ``telemetry`` is set."""
    if telemetry is None:
        async for item in graph.astream(state, config, context=context, stream_mode=stream_mode):
            yield item
        return
    traced = _Traced(telemetry, stream_mode)
    events = graph.astream(state, config, context=context, stream_mode=traced.run_modes)
    error: BaseException | None = None
    try:
        while True:
            with telemetry.entered(traced.trace):
                item = await anext(events, None)
            if item is None:
                break
            shown, data = traced.shown(item)
            if shown:
                yield data
    except BaseException as failure:
        error = None if isinstance(failure, GeneratorExit) else failure
        raise
    finally:
        telemetry.finish(traced.trace, error)
