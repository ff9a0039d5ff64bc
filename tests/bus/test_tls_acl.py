"""TLS and ACLs of the Redis bus against a TLS-only redis-server started by these tests.

The server listens on TLS only (``port 0``), requires client certificates
(``tls-auth-clients yes``) and loads the ACL file rendered by :func:`bus.render_acl`. Test
certificates come from ``scripts/make_test_ca.sh``. Without a TLS-capable ``redis-server``
the server tests skip (fail with ``HELIARCH_REQUIRE_SERVICES=1``).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator
from datetime import datetime

import pytest
import redis
from _acl_helpers import PREFIX, USERS
from _bus_helpers import FAST, eventually, report
from _tls_server import TlsServer, running_tls_server
from redis.exceptions import AuthenticationError, NoPermissionError

from bus import (
    BarSeries,
    Envelope,
    MarketSnapshot,
    PlanetReport,
    RedisBus,
    RedisSecurity,
)
from planets import PlanetContext, default_planets


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TlsServer]:
    """The TLS-only redis-server of these tests (see ``_tls_server``), stopped after them."""
    with running_tls_server(tmp_path_factory.mktemp("tls-redis")) as server:
        yield server


def _request(sender: str = "sun") -> Envelope:
    return Envelope.wrap(report(0.1), sender=sender, recipient="risk", kind="request")


@pytest.mark.slow
async def test_round_trip_with_the_right_roles(
    tls_server: TlsServer, caplog: pytest.LogCaptureFixture
) -> None:
    """A sun requests, a worker answers (after one failed attempt), malformed data is
    dead-lettered and acknowledged lanes are trimmed: every step the roles need works."""
    caplog.set_level(logging.ERROR, logger="bus")
    attempts: list[int] = []

    async def handle(envelope: Envelope) -> Envelope:
        attempts.append(1)
        if len(attempts) == 1:
            raise RuntimeError("first attempt fails")
        return envelope.make_reply("risk", report(0.7))

    worker = RedisBus(
        tls_server.url, prefix=PREFIX, config=FAST, security=tls_server.security("planet-risk")
    )
    sun = RedisBus(
        tls_server.url,
        prefix=PREFIX,
        config=FAST,
        security=tls_server.security("sun-alpha", reply_namespace="alpha"),
    )
    try:
        await worker.subscribe("risk", handle)
        assert sun.reply_address.startswith("_reply.alpha.")
        reply = await sun.request(_request(), timeout_s=5.0)
        answer = reply.unwrap(PlanetReport)
        assert isinstance(answer, PlanetReport) and answer.score == 0.7
        assert len(attempts) == 2
        assert "risk" in await sun.recipients()
        with tls_server.admin() as admin:
            admin.xadd(f"{PREFIX}bus:risk:lane2", {"e": "not json"})
            await eventually(lambda: admin.xlen(f"{PREFIX}bus:dead") == 1)
            await eventually(
                lambda: all(admin.xlen(f"{PREFIX}bus:risk:lane{p}") == 0 for p in range(4))
            )
    finally:
        await sun.close()
        await worker.close()
    assert not [r for r in caplog.records if "failed" in r.getMessage()], caplog.text


@pytest.mark.slow
async def test_client_without_certificate_is_refused(tls_server: TlsServer) -> None:
    full = tls_server.security("sun-alpha")
    no_cert = RedisSecurity(tls_ca=full.tls_ca, username=full.username, password=full.password)
    async with RedisBus(tls_server.url, prefix=PREFIX, security=no_cert) as bus:
        with pytest.raises(redis.exceptions.ConnectionError):
            await bus.client.ping()
    plain = RedisSecurity(username=full.username, password=full.password)
    plain_url = f"redis://127.0.0.1:{tls_server.port}/0"
    async with RedisBus(plain_url, prefix=PREFIX, security=plain) as bus:
        with pytest.raises(redis.exceptions.ConnectionError):
            await bus.client.ping()


@pytest.mark.slow
async def test_certificate_without_acl_login_is_refused(tls_server: TlsServer) -> None:
    full = tls_server.security("sun-alpha")
    anonymous = RedisSecurity(full.tls_cert, full.tls_key, full.tls_ca)
    wrong = RedisSecurity(full.tls_cert, full.tls_key, full.tls_ca, "sun-alpha", "wrong")
    for security in (anonymous, wrong):
        async with RedisBus(tls_server.url, prefix=PREFIX, security=security) as bus:
            with pytest.raises(AuthenticationError):
                await bus.client.ping()


@pytest.mark.slow
async def test_worker_cannot_write_a_sun_inbox(tls_server: TlsServer) -> None:
    security = tls_server.security("planet-risk")
    async with RedisBus(tls_server.url, prefix=PREFIX, config=FAST, security=security) as bus:
        with pytest.raises(NoPermissionError):
            await bus.publish_raw("sun", _request("risk").to_json())
        with pytest.raises(NoPermissionError):
            await bus.client.xadd(f"{PREFIX}bus:sun:lane2", {"e": "x"})
        with pytest.raises(NoPermissionError):
            await bus.client.xread({f"{PREFIX}bus:_reply.alpha.x:inbox": "0-0"})
        with pytest.raises(NoPermissionError):
            await bus.subscribe("technical", _never)
        with pytest.raises(NoPermissionError):
            await bus.client.get(f"{PREFIX}anything")
        assert await bus.client.ping()


@pytest.mark.slow
async def test_sun_cannot_write_another_suns_inbox(tls_server: TlsServer) -> None:
    security = tls_server.security("sun-alpha", reply_namespace="alpha")
    async with RedisBus(tls_server.url, prefix=PREFIX, config=FAST, security=security) as bus:
        own = bus.keys.inbox(bus.reply_address)
        assert await bus.client.xadd(own, {"e": "x"})
        with pytest.raises(NoPermissionError):
            await bus.publish_raw("_reply.beta.0123", _request().to_json())
        with pytest.raises(NoPermissionError):
            await bus.client.xadd(f"{PREFIX}bus:_reply.beta.0123:inbox", {"e": "x"})
        with pytest.raises(NoPermissionError):
            await bus.client.xread({f"{PREFIX}bus:_reply.beta.0123:inbox": "0-0"})
        with pytest.raises(NoPermissionError):
            await bus.subscribe("risk", _never)
        await bus.publish_raw("risk", _request().to_json())
    with tls_server.admin() as admin:
        assert admin.exists(f"{PREFIX}bus:_reply.beta.0123:inbox") == 0
        admin.delete(f"{PREFIX}bus:risk:lane2", own)


async def _never(envelope: Envelope) -> None:
    raise AssertionError(f"unexpected delivery {envelope.id}")


@pytest.mark.slow
def test_acl_file_is_accepted_by_redis(tls_server: TlsServer) -> None:
    with tls_server.admin() as admin:
        users = sorted(str(u) for u in admin.acl_users())
    assert users == sorted(["default", *USERS])


async def _heartbeat(bus: RedisBus, key: str) -> None:
    """A worker heartbeat as ``serve_planets`` writes it."""
    beat = {"planets": ["risk"], "at": time.time(), "ttl_s": 30}
    await bus.client.hset(key, "w1", json.dumps(beat))


@pytest.mark.slow
def test_remote_planet_and_heartbeat_over_tls(tls_server: TlsServer, goog: BarSeries) -> None:
    """The sun's RemotePlanet proxy and a worker's handler, each with its own role."""
    from planets.remote import BusClient, RemotePlanet, serve, workers_key

    def make(user: str, namespace: str | None = None) -> Callable[[], RedisBus]:
        security = tls_server.security(user, namespace)
        return lambda: RedisBus(tls_server.url, prefix=PREFIX, config=FAST, security=security)

    worker = BusClient(factory=make("planet-risk"), prefix=PREFIX)
    sun = BusClient(factory=make("sun-alpha", "alpha"), prefix=PREFIX)
    try:
        risk = default_planets()["risk"]
        worker.run(serve(worker.bus, {"risk": risk}), 5)
        assert isinstance(worker.bus, RedisBus)
        worker.run(_heartbeat(worker.bus, workers_key(PREFIX)), 5)
        sun.wait_for_workers(["risk"], timeout_s=5)
        day = datetime(2012, 6, 1)
        snapshot = MarketSnapshot.at(day, {"GOOG": goog.up_to(day).tail(30)})
        moons = {"var95": 0.02, "cvar95": 0.03, "max_drawdown": 0.1, "realized_vol": 0.25}
        context = PlanetContext(
            instrument="GOOG", as_of=snapshot.as_of, moons=moons, snapshot=snapshot
        )
        remote = RemotePlanet("risk", sun, timeout_s=5).report(context)
        assert remote == risk.report(context) and remote.has_data
    finally:
        sun.close()
        worker.close()


@pytest.mark.slow
async def test_shard_roles_run_a_pool_and_nothing_else(
    tls_server: TlsServer, goog: BarSeries
) -> None:
    """A shard worker and a coordinator logged in as their own roles decide two ticks; the
    worker cannot touch a planet's lane or a sun's inbox."""
    from heliarch.backtest import bundled_universe
    from sun import Sun
    from sun.shard import ShardConfig, ShardCoordinator, ShardWorker

    history, benchmark = bundled_universe(6, 260)
    names = sorted(history)
    config = ShardConfig(member_ttl_s=120.0, poll_s=0.02, tick_timeout_s=20.0)

    def bus(user: str) -> RedisBus:
        return RedisBus(tls_server.url, prefix=PREFIX, config=config.bus_config(),
                        security=tls_server.security(user))  # fmt: skip

    worker_bus, coordinator_bus = bus("shard-worker"), bus("shard-coordinator")
    sun = Sun("quant", checkpoint="none")
    worker = ShardWorker(worker_bus, sun, history, pool="acl", name="w1", config=config,
                         benchmark=benchmark)  # fmt: skip
    try:
        await worker.members.beat("w1")
        await worker_bus.subscribe(worker.keys.ticks, worker.handle, group="w1", consumer="w1")
        async with ShardCoordinator(coordinator_bus, pool="acl", config=config) as coordinator:
            assert await coordinator.wait_for_workers(1, timeout_s=10) == {"w1"}
            for back in (1, 0):
                stamp = datetime.fromisoformat(str(benchmark.timestamps[-1 - back])[:19])
                result = await coordinator.tick(stamp, names)
                assert sorted(result.decisions) == names
            assert coordinator.duplicates == 0
            assert await coordinator.prune() == []
        with pytest.raises(NoPermissionError):
            await worker_bus.client.xadd(f"{PREFIX}bus:risk:lane2", {"e": "x"})
        with pytest.raises(NoPermissionError):
            await worker_bus.client.xadd(f"{PREFIX}bus:_reply.alpha.x:inbox", {"e": "x"})
        with tls_server.admin() as admin:  # the pool ran without one refusal
            refused = {(e["username"], e["object"]) for e in admin.acl_log(100)
                       if str(e["username"]).startswith("shard-")}  # fmt: skip
        assert refused == {("shard-worker", f"{PREFIX}bus:risk:lane2"),
                           ("shard-worker", f"{PREFIX}bus:_reply.alpha.x:inbox")}  # fmt: skip
    finally:
        await worker_bus.close()
        await coordinator_bus.close()
        sun.close()
