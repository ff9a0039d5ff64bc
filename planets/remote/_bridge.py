"""The sync bus bridge: a bus owned by a background event loop, usable from threads.

The sun's consult node is synchronous (it runs in LangGraph's worker threads), the bus is
async: :class:`BusClient` owns the bus on an :class:`EventLoopThread` and bridges each call
with :func:`asyncio.run_coroutine_threadsafe`. Planet workers publish heartbeats under
:func:`workers_key`; :meth:`BusClient.workers` reads the live ones.
"""

from __future__ import annotations

import asyncio
import atexit
import json
import logging
import threading
import time
from collections.abc import Callable, Coroutine, Iterable
from typing import Any, TypeVar

from bus import Bus, BusConfig, Envelope, RedisBus, RedisSecurity

log = logging.getLogger("planets.remote._proxy")  # the name it logged under before the split

T = TypeVar("T")

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
DEFAULT_PREFIX = "heliarch:"


class EventLoopThread:
    """An asyncio event loop on a daemon thread; :meth:`run` executes a coroutine on it."""

    def __init__(self, name: str = "heliarch-bus") -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._main, name=name, daemon=True)
        self._thread.start()

    def _main(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()
        self.loop.close()

    @property
    def alive(self) -> bool:
        """Whether the loop thread still runs."""
        return self._thread.is_alive() and not self.loop.is_closed()

    def run(self, coroutine: Coroutine[Any, Any, T], timeout_s: float | None = None) -> T:
        """Run ``coroutine`` on the loop and wait for its result (``TimeoutError`` after
        ``timeout_s``; the coroutine is then cancelled)."""
        if threading.current_thread() is self._thread:
            raise RuntimeError("EventLoopThread.run called from its own loop (would deadlock)")
        future = asyncio.run_coroutine_threadsafe(coroutine, self.loop)
        try:
            return future.result(timeout_s)
        except TimeoutError:
            future.cancel()
            raise

    def stop(self, timeout_s: float = 5.0) -> None:
        """Stop the loop and join the thread."""
        if self._thread.is_alive():
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(timeout_s)


class BusClient:
    """A bus owned by a background event loop, usable from synchronous code and threads.

    Args:
        url: Redis URL (ignored when ``factory`` is given).
        prefix: Key prefix of the deployment (workers must use the same one).
        config: Bus settings.
        factory: Builds the bus inside the loop thread instead of a :class:`RedisBus`
            (e.g. ``InProcBus`` for tests and embedded use).
    """

    def __init__(
        self,
        url: str | None = None,
        *,
        prefix: str = DEFAULT_PREFIX,
        config: BusConfig | None = None,
        factory: Callable[[], Bus] | None = None,
        security: RedisSecurity | None = None,
    ) -> None:
        if url is None and factory is None:
            raise ValueError("BusClient needs a Redis url or a bus factory")
        self.url = url
        self.prefix = prefix
        self._thread = EventLoopThread()
        make = factory or (
            lambda: RedisBus(url or "", prefix=prefix, config=config, security=security)
        )
        self.bus: Bus = self._thread.run(_build(make), 30.0)
        self._closed = False
        self._lock = threading.Lock()
        atexit.register(self.close)

    def run(self, coroutine: Coroutine[Any, Any, T], timeout_s: float | None = None) -> T:
        """Run ``coroutine`` on the bus's loop (e.g. ``client.run(client.bus.send(...))``)."""
        return self._thread.run(coroutine, timeout_s)

    def request(self, envelope: Envelope, timeout_s: float) -> Envelope:
        """Send a request and wait for the reply (``RequestTimeoutError`` after ``timeout_s``)."""
        return self._thread.run(self.bus.request(envelope, timeout_s), timeout_s + 5.0)

    def workers(self) -> dict[str, dict[str, Any]]:
        """Live planet workers by consumer name (from their heartbeats; Redis only)."""
        if not isinstance(self.bus, RedisBus):
            return {}
        return self.run(_read_workers(self.bus), 10.0)

    def wait_for_workers(self, planets: Iterable[str], timeout_s: float = 30.0) -> None:
        """Block until every planet in ``planets`` has at least one live worker.

        Raises:
            TimeoutError: naming the planets still without a worker.
        """
        wanted = set(planets)
        deadline = time.monotonic() + timeout_s
        while True:
            served = {p for w in self.workers().values() for p in w.get("planets", [])}
            missing = wanted - served
            if not missing:
                return
            if time.monotonic() >= deadline:
                raise TimeoutError(f"no live worker for {sorted(missing)} after {timeout_s:g}s")
            time.sleep(0.05)

    def close(self) -> None:
        """Close the bus and stop the loop thread (idempotent)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        try:
            if self._thread.alive:
                self._thread.run(self.bus.close(), 15.0)
        except Exception as error:  # closing must not raise at interpreter exit
            log.warning("closing the bus client failed: %s", error)
        finally:
            self._thread.stop()
            atexit.unregister(self.close)

    def __enter__(self) -> BusClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


async def _build(make: Callable[[], Bus]) -> Bus:
    return make()


def workers_key(prefix: str) -> str:
    """Hash of worker heartbeats (consumer -> JSON) under ``prefix``."""
    return f"{prefix}workers"


async def _read_workers(bus: RedisBus) -> dict[str, dict[str, Any]]:
    raw = await bus.client.hgetall(workers_key(bus.keys.prefix))
    now = time.time()
    live: dict[str, dict[str, Any]] = {}
    for name, value in raw.items():
        info = json.loads(value)
        if now - float(info.get("at", 0)) <= float(info.get("ttl_s", 5)):
            live[name.decode() if isinstance(name, bytes) else name] = info
    return live
