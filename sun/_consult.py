"""The sun graph's consult tasks: one planet (``consult``), or the routed in-process planets
one after another in one task (``consult_inline``). Either way each planet runs under the
per-planet timeout, and a failure or timeout becomes a "no data" report naming it.
"""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from langgraph.runtime import Runtime

from bus import PlanetReport, TraceStep
from planets import Planet, PlanetContext
from sun._context import SunContext
from sun._state import ConsultTask, InlineTask, SunState

Answer = tuple[PlanetReport | None, str | None, float]
"""A planet's report (None when it failed), the error, and its latency in ms."""


def consult(task: ConsultTask, runtime: Runtime[SunContext]) -> SunState:
    """One planet's report, in a task of its own (a remote or slow planet)."""
    context = runtime.context
    planet, planet_input = context.planets[task["planet"]], task["context"]
    timeout = context.orchestration.planet_timeout_s
    started = time.perf_counter()
    report, error = None, None
    try:
        if timeout is None:
            report = _checked(_ask(planet, planet_input, context))
        else:
            future = context.workers.pool().submit(_ask, planet, planet_input, context)
            report = _checked(future.result(timeout=timeout))
    except FutureTimeout:
        error = _timed_out(timeout)
    except Exception as failure:  # contained: one failing planet never blocks the others
        error = _failed(failure)
    latency = (time.perf_counter() - started) * 1e3
    return _consulted(task, (report, error, latency), runtime)


def consult_inline(task: InlineTask, runtime: Runtime[SunContext]) -> SunState:
    """The in-process planets' reports, one after another in this task (one thread hop for
    all of them when a timeout is set; each planet still gets the whole timeout)."""
    reports: list[PlanetReport] = []
    trace: list[TraceStep] = []
    tasks = task["planets"]
    answers = _answers(tasks, runtime.context)
    telemetry = runtime.context.telemetry
    for one in tasks:  # a sun.node.consult span per planet, as when each has its own task
        with telemetry.node("sun.node.consult") if telemetry else contextlib.nullcontext():
            update = _consulted(one, next(answers), runtime)
        reports += update["reports"]
        trace += update["trace"]
    return {"reports": reports, "trace": trace}


def _answers(tasks: Sequence[ConsultTask], context: SunContext) -> Iterator[Answer]:
    """Each task's answer, in order. With a timeout the planets run on one pool thread and
    each gets ``timeout`` seconds once its predecessor answered; after a timeout the stuck
    thread is abandoned (told to stop) and the rest go on on a fresh one."""
    timeout = context.orchestration.planet_timeout_s
    if timeout is None:
        yield from _in_turn(tasks, context)
        return
    pending = list(tasks)
    while pending:
        answers: queue.SimpleQueue[Answer] = queue.SimpleQueue()
        stop = threading.Event()
        context.workers.pool().submit(_feed, pending, context, answers, stop)
        for k in range(len(pending)):
            started = time.perf_counter()
            try:
                answer = answers.get(timeout=timeout)
            except queue.Empty:
                stop.set()
                yield None, _timed_out(timeout), (time.perf_counter() - started) * 1e3
                pending = pending[k + 1 :]
                break
            yield answer
        else:
            pending = []


def _feed(
    tasks: Sequence[ConsultTask],
    context: SunContext,
    answers: queue.SimpleQueue[Answer],
    stop: threading.Event,
) -> None:
    for answer in _in_turn(tasks, context, stop):
        answers.put(answer)


def _in_turn(
    tasks: Sequence[ConsultTask], context: SunContext, stop: threading.Event | None = None
) -> Iterator[Answer]:
    for task in tasks:
        if stop is not None and stop.is_set():
            return
        started = time.perf_counter()
        try:
            planet = context.planets[task["planet"]]
            answer: Answer = (_checked(_ask(planet, task["context"], context)), None, 0.0)
        except Exception as failure:  # contained, as in consult
            answer = (None, _failed(failure), 0.0)
        yield answer[0], answer[1], (time.perf_counter() - started) * 1e3


def _consulted(task: ConsultTask, answer: Answer, runtime: Runtime[SunContext]) -> SunState:
    """The update of one planet's answer: its report (or "no data" naming the error), a
    heartbeat, a ``planet`` progress event and a ``consult:<planet>`` trace step."""
    context = runtime.context
    name, planet_input = task["planet"], task["context"]
    report, error, latency = answer
    if report is None and task.get("again"):
        return _failed_again(name, error or "planet failed", latency, runtime)
    if report is None:
        error = error or "planet failed"
        report = context.planets[name].no_data(planet_input, {}, error[:300])
    context.health.beat("planet", name, latency, error is None, error)
    runtime.stream_writer(
        {
            "event": "planet",
            "planet": name,
            "score": report.score,
            "confidence": report.confidence,
            "has_data": report.has_data,
            "ms": round(latency, 3),
            "error": error,
        }
    )
    step = TraceStep(
        node=f"consult:{name}",
        status="ran" if error is None else "failed",
        reason=error or _params_text(planet_input.params),
        duration_ms=latency,
    )
    return {"reports": [report], "trace": [step]}


def _failed_again(name: str, error: str, latency: float, runtime: Runtime[SunContext]) -> SunState:
    """A planet asked again by an expansion failed: its earlier report stands (nothing is
    lost; the node still counts as ran for the failure rule), the trace and health say why."""
    runtime.context.health.beat("planet", name, latency, False, error)
    runtime.stream_writer({"event": "planet_again_failed", "planet": name,
                           "ms": round(latency, 3), "error": error})  # fmt: skip
    why = f"asked again, failed; the earlier report stands: {error}"
    step = TraceStep(node=f"consult:{name}", status="skipped", reason=why[:300],
                     duration_ms=latency)  # fmt: skip
    return {"reports": [], "trace": [step]}


def _timed_out(timeout: float | None) -> str:
    return f"planet timed out after {timeout:g}s"


def _failed(failure: Exception) -> str:
    return f"planet failed: {type(failure).__name__}: {failure}"


def _params_text(params: Mapping[str, Any] | None) -> str:
    return ", ".join(f"{key}={value}" for key, value in (params or {}).items())


def _ask(planet: Planet, planet_input: PlanetContext, context: SunContext) -> PlanetReport:
    if context.orchestration.planet_mode == "subgraph":
        report: PlanetReport = context.workers.subgraph(planet).invoke({"context": planet_input})[
            "report"
        ]
        return report
    return planet.report(planet_input)


def _checked(report: PlanetReport) -> PlanetReport:
    """Re-validate a planet's report at the boundary (a buggy planet may skip validation)."""
    return PlanetReport.model_validate(report.model_dump())
