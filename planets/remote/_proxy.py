"""Planets over the bus: :class:`RemotePlanet` (the sun's proxy) and the planet worker.

The sun consults a remote planet exactly as a local one: ``report(context)`` sends a
``request`` envelope carrying the :class:`PlanetRequest` (the serialized
:class:`~planets.PlanetContext`) to the planet's recipient on a :class:`~bus.RedisBus` and
waits for the correlated reply (a :class:`~bus.PlanetReport`). A worker process
(``heliarch worker --planet risk --redis URL``, i.e. :func:`serve_planets`) consumes those
requests in a consumer group; scaling out is more worker processes in the same group.

The sun's consult node is synchronous (it runs in LangGraph's worker threads), the bus is
async: :class:`BusClient` owns the bus on a background event-loop thread and bridges each
call with :func:`asyncio.run_coroutine_threadsafe`.

Failures never raise into the sun: a timeout, backpressure, a closed bus or an error the
worker reports becomes a "no data" report naming the failure, so a missing risk assessment
fails closed in the guard.

The wire payloads live in :mod:`planets.remote._payloads`, the sync bridge in
:mod:`planets.remote._bridge` and the worker in :mod:`planets.remote._worker`; this module re-exports
them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from typing import Any

from bus import Envelope, OrderIntent, PlanetReport, Priority, RedisSecurity
from planets import Planet, PlanetContext, Role, Verdict, default_planets
from planets.remote._bridge import (
    DEFAULT_PREFIX,
    BusClient,
)
from planets.remote._payloads import (
    OrderIntentReply,
    PlanetFailure,
    PlanetRequest,
)

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT_S = 4.0
"""Below the sun's default per-planet timeout (5 s), so the proxy's own message wins."""

SUN_SENDER = "sun"


# -- the proxy -----------------------------------------------------------------------------


class RemotePlanet(Planet):
    """A planet served by workers over the bus; a drop-in for the local planet of that name.

    ``directional``, ``moons`` and ``roles`` mirror the built-in planet of the same name
    (override ``directional=``). Every failure becomes a "no data" report naming it; nothing raises.

    Args:
        name: The planet (and bus recipient) name, e.g. ``"risk"``.
        client: The bus client (shared by all remote planets of one sun).
        timeout_s: How long to wait for a reply.
        directional: Whether the planet votes on direction (default: as the built-in one).
    """

    def __init__(
        self,
        name: str,
        client: BusClient,
        *,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        directional: bool | None = None,
    ) -> None:
        local = default_planets().get(name)
        self.name = name
        self.moons = local.moons if local is not None else ()
        self.roles = local.roles if local is not None else frozenset()
        if directional is None:
            directional = local.directional if local is not None else True
        self.directional = directional
        self.client = client
        self.timeout_s = timeout_s
        self.requests = 0
        self.failures = 0

    def __repr__(self) -> str:
        return f"RemotePlanet({self.name!r}, prefix={self.client.prefix!r})"

    def score(self, context: PlanetContext, evidence: Mapping[str, float]) -> Verdict:
        raise TypeError("a remote planet is scored by its worker: call report(), not score()")

    def report(self, context: PlanetContext) -> PlanetReport:
        """Ask a worker for this planet's report (a "no data" report on any failure)."""
        reply = self._ask(context, "report")
        if isinstance(reply, str):
            return self.no_data(context, {}, reply)
        try:
            return reply.unwrap(PlanetReport)
        except Exception as error:
            return self._failed(context, f"bad reply: {error}")

    def assess(self, context: PlanetContext, evidence: Mapping[str, float]) -> PlanetReport:
        """Subgraph mode: the worker selects its own evidence, so this is :meth:`report`."""
        return self.report(context)

    def _ask(self, context: PlanetContext, op: str, **fields: Any) -> Envelope | str:
        """The reply envelope, or a failure reason (already counted)."""
        self.requests += 1
        try:
            request = PlanetRequest.from_context(
                self.name, context, op=op, deadline_unix=time.time() + self.timeout_s, **fields
            )
            envelope = Envelope.wrap(
                request,
                sender=SUN_SENDER,
                recipient=self.name,
                kind="request",
                priority=Priority.HIGH,
            )
            reply = self.client.request(envelope, self.timeout_s)
        except TimeoutError:
            return self._reason(f"no reply within {self.timeout_s:g}s (no live worker?)")
        except Exception as error:
            return self._reason(f"{type(error).__name__}: {error}")
        if reply.payload_type == "planet_failure":
            failure = PlanetFailure.model_validate(reply.payload)
            return self._reason(f"worker error: {failure.error}")
        return reply

    def _reason(self, detail: str) -> str:
        self.failures += 1
        return f"remote planet {self.name} unavailable: {detail}"[:300]

    def _failed(self, context: PlanetContext, detail: str) -> PlanetReport:
        return self.no_data(context, {}, self._reason(detail))


class RemoteExecutionPlanet(RemotePlanet):
    """The execution planet over the bus, including :meth:`order_intent` (sizing)."""

    def order_intent(
        self, context: PlanetContext, target_position: float, current_position: float = 0.0
    ) -> OrderIntent | None:
        """The worker's order intent; ``None`` (no order) when the worker cannot be reached."""
        reply = self._ask(
            context,
            "order_intent",
            target_position=target_position,
            current_position=current_position,
        )
        if isinstance(reply, str):
            log.warning("%s", reply)
            return None
        return OrderIntentReply.model_validate(reply.payload).intent


class RemotePlanets(dict[str, Planet]):
    """Remote planets by name plus the bus client they share; closing it closes the client."""

    def __init__(self, planets: Mapping[str, Planet], client: BusClient) -> None:
        super().__init__(planets)
        self.client = client

    def wait_for_workers(self, timeout_s: float = 30.0) -> None:
        """Block until every planet here has a live worker (see :meth:`BusClient.wait_for_workers`)."""
        self.client.wait_for_workers(self.keys(), timeout_s)

    def close(self) -> None:
        """Close the shared bus client."""
        self.client.close()

    def __enter__(self) -> RemotePlanets:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def remote_planets(
    redis_url: str,
    names: Sequence[str],
    *,
    prefix: str = DEFAULT_PREFIX,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    client: BusClient | None = None,
    security: RedisSecurity | None = None,
) -> RemotePlanets:
    """Proxies for ``names``, consulted over Redis; mix them into the sun's planets::

        remote = remote_planets(url, ["risk", "technical"])
        sun = Sun("quant", planets={**default_planets(), **remote})

    Close ``remote`` (or use it as a context manager) when the sun is done.
    """
    client = client or BusClient(redis_url, prefix=prefix, security=security)
    planets: dict[str, Planet] = {}
    for name in names:
        local = default_planets().get(name)
        sizes_orders = local is not None and Role.EXECUTION in local.roles
        kind = RemoteExecutionPlanet if sizes_orders else RemotePlanet
        planets[name] = kind(name, client, timeout_s=timeout_s)
    return RemotePlanets(planets, client)
