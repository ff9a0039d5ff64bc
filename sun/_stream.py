"""Streaming one decision (``Sun.stream`` / ``astream``, and ``adecide``): LangGraph's
stream events, traced under the same ``sun.decide`` root span as ``Sun.decide`` when
telemetry is on.

The root span is current only while the graph runs (between two events), never while the
caller holds an event, so the caller's own context is left as it was.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from typing import Any

from bus import MarketSnapshot, SunDecision
from sun._context import SunContext
from sun._request import decision_state
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


class SunStreams:
    """The streaming and async entry points of :class:`sun.Sun` (over its ``graph``,
    ``context``, ``telemetry``, run configuration and ``decide``)."""

    graph: Any
    context: SunContext
    telemetry: Telemetry | None
    decide: Callable[..., SunDecision]
    _config: Callable[[str | None], dict[str, Any]]

    async def adecide(
        self,
        snapshot: MarketSnapshot,
        instrument: str | None = None,
        *,
        position: float = 0.0,
        thread_id: str | None = None,
    ) -> SunDecision:
        """Async :meth:`decide` (runs the graph in a worker thread; the event loop stays free)."""
        return await asyncio.to_thread(
            self.decide, snapshot, instrument, position=position, thread_id=thread_id
        )

    def stream(
        self,
        snapshot: MarketSnapshot,
        instrument: str | None = None,
        *,
        position: float = 0.0,
        stream_mode: StreamMode = ("updates", "custom"),
        thread_id: str | None = None,
    ) -> Iterator[Any]:
        """Decide while yielding LangGraph stream events (``graph.stream``).

        Modes: ``updates`` (each node's output), ``custom`` (progress: one ``planet`` event per
        consulted planet, one ``level`` event per model level tried, one ``reasoned``),
        ``messages`` (the model's message chunks, when a model runs), ``values``. With several
        modes each item is ``(mode, data)``; the decision is in the ``propagate`` update.
        With telemetry on, the run is traced exactly like :meth:`decide` (``sun.decide``).
        """
        state = decision_state(snapshot, instrument, position)
        yield from stream_decision(
            self.graph, state, self._config(thread_id), self.context, stream_mode, self.telemetry
        )

    async def astream(
        self,
        snapshot: MarketSnapshot,
        instrument: str | None = None,
        *,
        position: float = 0.0,
        stream_mode: StreamMode = ("updates", "custom"),
        thread_id: str | None = None,
    ) -> AsyncIterator[Any]:
        """Async :meth:`stream` (``graph.astream``)."""
        state = decision_state(snapshot, instrument, position)
        async for item in astream_decision(
            self.graph, state, self._config(thread_id), self.context, stream_mode, self.telemetry
        ):
            yield item
