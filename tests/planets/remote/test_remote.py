"""Planets consulted over the Redis bus by real worker processes give the same decisions."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from uuid import uuid4

import pytest

from bus import BarSeries, InProcBus, MarketSnapshot
from planets import Planet, PlanetContext, Verdict, default_planets
from planets.remote import BusClient, RemotePlanet, remote_planets, serve
from sun import Sun

ROOT = Path(__file__).resolve().parents[3]
HELIARCH = Path(sys.executable).parent / "heliarch"
PLANETS = ["technical", "risk", "sentiment", "execution"]
DATES = [datetime(2008, 10, 1), datetime(2010, 6, 1), datetime(2012, 6, 1), datetime(2013, 3, 1)]


def _delete_prefix(url: str, prefix: str) -> None:
    sys.path.insert(0, str(ROOT / "tests" / "bus"))
    from _load_consumer import delete_prefix

    asyncio.run(delete_prefix(url, prefix))


@pytest.fixture
def prefix(redis_url: str) -> Iterator[str]:
    name = f"heliarch:test:remote:{uuid4().hex}:"
    yield name
    _delete_prefix(redis_url, name)


def start_worker(url: str, prefix: str, planets: list[str], name: str) -> subprocess.Popen[str]:
    command = [str(HELIARCH), "worker", "--redis", url, "--prefix", prefix, "--consumer", name]
    for planet in planets:
        command += ["--planet", planet]
    process = subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.PIPE, text=True, env={**os.environ}
    )
    return process


def wait_ready(process: subprocess.Popen[str], name: str) -> None:
    assert process.stdout is not None
    line = process.stdout.readline()
    assert line.startswith(f"ready {name}"), line


def stop_worker(process: subprocess.Popen[str]) -> int:
    process.send_signal(signal.SIGTERM)
    return process.wait(timeout=15)


@pytest.mark.slow
def test_remote_decisions_equal_in_process(redis_url: str, prefix: str, goog: BarSeries) -> None:
    workers = [start_worker(redis_url, prefix, PLANETS, f"w{i}") for i in range(2)]
    try:
        for i, worker in enumerate(workers):
            wait_ready(worker, f"w{i}")
        snapshots = [MarketSnapshot.at(when, {"GOOG": goog}) for when in DATES]
        with (
            remote_planets(redis_url, PLANETS, prefix=prefix) as remote,
            Sun("quant", checkpoint="none", planets={**default_planets(), **remote}) as far,
            Sun("quant", checkpoint="none") as near,
        ):
            remote.wait_for_workers(10)
            for snapshot in snapshots:
                for position in (0.0, 0.5):
                    remote_decision = far.decide(snapshot, position=position)
                    local_decision = near.decide(snapshot, position=position)
                    assert remote_decision == local_decision
                    assert remote_decision.order_intent == local_decision.order_intent
            asked = sum(p.requests for p in remote.values())  # type: ignore[attr-defined]
            assert asked >= len(snapshots) * 2 * 3
            assert all(p.failures == 0 for p in remote.values())  # type: ignore[attr-defined]
            live = remote.client.workers()
            assert set(live) == {"w0", "w1"}
        # Workers stop cleanly on SIGTERM and leave the heartbeat table.
        assert [stop_worker(w) for w in workers] == [0, 0]
        with BusClient(redis_url, prefix=prefix) as client:
            assert client.workers() == {}
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.wait()


def test_missing_worker_fails_closed(redis_url: str, prefix: str, goog: BarSeries) -> None:
    snapshot = MarketSnapshot.at(DATES[2], {"GOOG": goog})
    with (
        remote_planets(redis_url, ["risk"], prefix=prefix, timeout_s=0.3) as remote,
        Sun("quant", checkpoint="none", planets={**default_planets(), **remote}) as sun,
    ):
        decision = sun.decide(snapshot)
    risk = next(r for r in decision.planet_reports if r.planet == "risk")
    assert not risk.has_data and "no reply within 0.3s" in risk.recommendations[0]
    assert decision.target_position == 0.0 and decision.action == "HOLD"
    assert decision.corrections == () or decision.corrections[0].rule == "risk_fails_closed"


class Exploding(Planet):
    name = "risk"
    moons = ("var95",)

    def score(self, context: PlanetContext, evidence: object) -> Verdict:
        raise RuntimeError("boom")


def test_worker_reports_planet_errors_and_roundtrips_nan(goog: BarSeries) -> None:
    """In-process bus: the worker handler answers a planet error instead of timing out."""
    client = BusClient(factory=InProcBus)
    try:
        good = default_planets()["technical"]
        client.run(serve(client.bus, {"risk": Exploding(), "technical": good}), 5)
        snapshot = MarketSnapshot.at(DATES[2], {"GOOG": goog.up_to(DATES[2]).tail(30)})
        context = PlanetContext(
            instrument="GOOG",
            as_of=snapshot.as_of,
            moons={"var95": 0.02, "close": 600.0, "sma": float("nan")},
            snapshot=snapshot,
        )
        failed = RemotePlanet("risk", client, timeout_s=5).report(context)
        assert (
            not failed.has_data and "worker error: RuntimeError: boom" in failed.recommendations[0]
        )
        remote = RemotePlanet("technical", client, timeout_s=5).report(context)
        assert remote == good.report(context)  # NaN moons stay "missing", not zero
        assert not remote.has_data and "sma" in remote.recommendations[0]
    finally:
        client.close()
