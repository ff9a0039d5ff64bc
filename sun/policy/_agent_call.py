"""Calling one agent of a plan: a timeout, an exception or an output that does not check
becomes ``(None, reason)`` (or ``(output, reason)`` when the agent reported failure), never an
exception, so a failed node is recorded, not raised."""

from __future__ import annotations

import asyncio
import inspect
import threading
from typing import Any

from sun.policy._types import Agent, AgentCall, NodeOutput


def call_agent(
    agent: Agent, call: AgentCall, timeout_ms: float | None
) -> tuple[NodeOutput | None, str | None]:
    if timeout_ms is None:
        return _invoke(agent, call)
    box: list[tuple[NodeOutput | None, str | None]] = []
    worker = threading.Thread(target=lambda: box.append(_invoke(agent, call)), daemon=True)
    worker.start()
    worker.join(timeout_ms / 1000.0)
    if not box:
        return None, f"timed out after {timeout_ms:g} ms"
    return box[0]


async def acall_agent(
    agent: Agent, call: AgentCall, timeout_ms: float | None
) -> tuple[NodeOutput | None, str | None]:
    async def attempt() -> Any:
        if inspect.iscoroutinefunction(agent):
            return await agent(call)
        return await asyncio.to_thread(agent, call)

    try:
        raw = await asyncio.wait_for(attempt(), None if timeout_ms is None else timeout_ms / 1000)
    except TimeoutError:
        return None, f"timed out after {timeout_ms:g} ms"
    except Exception as error:
        return None, f"{type(error).__name__}: {error}"
    return _checked(raw)


def _invoke(agent: Agent, call: AgentCall) -> tuple[NodeOutput | None, str | None]:
    try:
        raw = agent(call)
    except Exception as error:
        return None, f"{type(error).__name__}: {error}"
    if inspect.isawaitable(raw):
        close = getattr(raw, "close", None)
        if close is not None:
            close()
        return None, "async agent: run the graph built with asynchronous=True"
    return _checked(raw)


def _checked(raw: Any) -> tuple[NodeOutput | None, str | None]:
    try:
        output = raw if isinstance(raw, NodeOutput) else NodeOutput.model_validate(dict(raw))
    except Exception as error:
        return None, f"{type(error).__name__}: {error}"
    if not output.ok:
        return output, f"agent reported failure: {output.data.get('error', 'not ok')}"
    return output, None
