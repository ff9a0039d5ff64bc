"""Planets served over the bus: the sun's proxy (:class:`RemotePlanet`) and the worker.

    from planets.remote import remote_planets, serve_planets
    sun = Sun(planets=remote_planets(["technical", "risk"], redis_url=url))

A worker process (``heliarch worker --planet risk``, i.e. :func:`serve_planets`) consumes
requests in a Redis consumer group; more workers in the same group scale out.
"""

from planets.remote._bridge import (
    DEFAULT_PREFIX,
    DEFAULT_REDIS_URL,
    BusClient,
    EventLoopThread,
    workers_key,
)
from planets.remote._payloads import OrderIntentReply, PlanetFailure, PlanetRequest, SeriesPayload
from planets.remote._proxy import (
    DEFAULT_TIMEOUT_S,
    SUN_SENDER,
    RemoteExecutionPlanet,
    RemotePlanet,
    RemotePlanets,
    remote_planets,
)
from planets.remote._worker import planet_handler, serve, serve_planets

__all__ = [
    "DEFAULT_PREFIX",
    "DEFAULT_REDIS_URL",
    "DEFAULT_TIMEOUT_S",
    "SUN_SENDER",
    "BusClient",
    "EventLoopThread",
    "OrderIntentReply",
    "PlanetFailure",
    "PlanetRequest",
    "RemoteExecutionPlanet",
    "RemotePlanet",
    "RemotePlanets",
    "SeriesPayload",
    "planet_handler",
    "remote_planets",
    "serve",
    "serve_planets",
    "workers_key",
]
