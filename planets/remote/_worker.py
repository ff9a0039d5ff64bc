"""The planet worker: answers :class:`PlanetRequest` envelopes from the bus.

``heliarch worker --planet risk --redis URL`` runs :func:`serve_planets`, which consumes the
requests of the chosen built-in planets in a consumer group (scaling out is more worker
processes in the same group) and publishes a heartbeat per worker.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from pydantic import BaseModel

from bus import Bus, BusConfig, Envelope, RedisBus, RedisSecurity, stop_on_signals
from planets import Planet, default_planets
from planets.remote._bridge import DEFAULT_PREFIX, workers_key
from planets.remote._payloads import OrderIntentReply, PlanetFailure, PlanetRequest

log = logging.getLogger("planets.remote._proxy")  # the name it logged under before the split


def planet_handler(planet: Planet) -> Callable[[Envelope], Awaitable[Envelope | None]]:
    """The bus handler answering :class:`PlanetRequest` envelopes for ``planet``.

    A planet error is answered with a :class:`PlanetFailure` (the sun fails fast instead of
    waiting); a request past its deadline is dropped (its sender has given up).
    """

    async def handle(envelope: Envelope) -> Envelope | None:
        request = envelope.unwrap(PlanetRequest)
        assert isinstance(request, PlanetRequest)
        if request.deadline_unix is not None and time.time() > request.deadline_unix:
            log.info("dropping expired request %s for %s", envelope.id, planet.name)
            return None
        try:
            payload: BaseModel
            if request.op == "order_intent":
                make = getattr(planet, "order_intent", None)
                if make is None:
                    raise TypeError(f"planet {planet.name!r} does not size orders")
                intent = make(request.context(), request.target_position, request.current_position)
                payload = OrderIntentReply(intent=intent)
            else:
                payload = planet.report(request.context())
        except Exception as error:  # reported to the sun, never crashes the worker
            log.exception("planet %s failed on %s", planet.name, envelope.id)
            payload = PlanetFailure(planet=planet.name, error=f"{type(error).__name__}: {error}")
        return envelope.make_reply(planet.name, payload)

    return handle


async def serve(
    bus: Bus,
    planets: Mapping[str, Planet],
    *,
    group: str | None = None,
    consumer: str | None = None,
) -> list[Any]:
    """Subscribe a handler per planet on ``bus`` (group defaults to the planet's name)."""
    subscriptions = []
    for name, planet in planets.items():
        subscriptions.append(
            await bus.subscribe(name, planet_handler(planet), group=group, consumer=consumer)
        )
    return subscriptions


async def serve_planets(
    url: str,
    names: Sequence[str],
    *,
    prefix: str = DEFAULT_PREFIX,
    group: str | None = None,
    consumer: str | None = None,
    config: BusConfig | None = None,
    stop: asyncio.Event | None = None,
    heartbeat_s: float = 1.0,
    on_ready: Callable[[str], None] | None = None,
    security: RedisSecurity | None = None,
) -> None:
    """Run a planet worker until ``stop`` is set (or SIGTERM/SIGINT in the main thread).

    Args:
        url: Redis URL.
        names: Built-in planets to serve (``technical``, ``risk``, ``sentiment``, ``execution``).
        prefix: Key prefix shared with the sun.
        group: Consumer group (default: each planet's name); workers in one group compete.
        consumer: This worker's consumer name (default: host-pid-random).
        config: Bus settings.
        stop: Set it to stop the worker.
        heartbeat_s: Heartbeat period (a worker counts as live for 3 periods).
        on_ready: Called with the consumer name once subscribed.
        security: TLS client certificate and ACL user (see the README's security section).
    """
    available = default_planets()
    unknown = [n for n in names if n not in available]
    if unknown or not names:
        raise ValueError(f"unknown planets {unknown} (available: {sorted(available)})")
    stop = stop or asyncio.Event()
    uninstall = stop_on_signals(stop)
    bus = RedisBus(url, prefix=prefix, config=config, security=security)
    chosen = {n: available[n] for n in names}
    subscriptions = await serve(bus, chosen, group=group, consumer=consumer)
    name = subscriptions[0].consumer
    key = workers_key(prefix)

    async def beat() -> None:
        served = sum(s.stats.applied for s in subscriptions)
        info = {
            "planets": list(names),
            "pid": os.getpid(),
            "group": group,
            "served": served,
            "failed": sum(s.stats.failed for s in subscriptions),
            "at": time.time(),
            "ttl_s": 3 * heartbeat_s,
        }
        await bus.client.hset(key, name, json.dumps(info))

    try:
        await beat()
        if on_ready is not None:
            on_ready(name)
        while not stop.is_set():
            try:
                await asyncio.wait_for(stop.wait(), heartbeat_s)
            except TimeoutError:
                await beat()
    finally:
        uninstall()
        try:
            await bus.client.hdel(key, name)
        finally:
            await bus.close()
