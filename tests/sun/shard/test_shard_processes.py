"""Two ``heliarch worker --universe`` processes share a universe; one is SIGKILLed mid-run.

Every instrument of every tick is published exactly once (counted on the decision stream,
which an idle audit group keeps untrimmed), the survivor takes the dead worker's instruments
over, and the decisions equal one in-process ``decide_universe``.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from bus import MarketSnapshot, RedisBus, SunDecision, decode_entry, to_datetime
from heliarch.backtest import bundled_universe
from sun import Sun
from sun.shard import HashRing, ShardConfig, ShardCoordinator, ShardKeys

ROOT = Path(__file__).resolve().parents[3]
N, BARS, TICKS = 50, 300, 8
# a loaded machine may stall a process for a second: TTLs well above the heartbeat period
TIMING = ["--heartbeat-s", "0.25", "--member-ttl-s", "2.5", "--claim-ttl-s", "2.5"]
CONFIG = ShardConfig(heartbeat_s=0.25, member_ttl_s=2.5, claim_ttl_s=2.5, tick_timeout_s=60)


def _start(url: str, prefix: str, name: str) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "heliarch", "worker", "--universe", str(N),
               "--universe-bars", str(BARS), "--redis", url, "--prefix", prefix,
               "--pool", "p", "--consumer", name, *TIMING]  # fmt: skip
    return subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True, env=os.environ)


@pytest.fixture
def workers(redis_url: str, prefix: str) -> Iterator[dict[str, subprocess.Popen[str]]]:
    started = {name: _start(redis_url, prefix, name) for name in ("w1", "w2")}
    try:
        for name, process in started.items():
            assert process.stdout is not None
            line = process.stdout.readline()
            assert line.startswith(f"ready {name} universe={N}"), line
        yield started
    finally:
        for process in started.values():
            if process.poll() is None:
                process.kill()
            process.wait(timeout=15)


@pytest.mark.slow
async def test_a_killed_workers_instruments_are_taken_over_exactly_once(
    redis_url: str, prefix: str, workers: dict[str, subprocess.Popen[str]]
) -> None:
    history, benchmark = bundled_universe(N, BARS)
    names = sorted(history)
    stamps = [to_datetime(s) for s in benchmark.timestamps[-TICKS:]]
    keys = ShardKeys(prefix, "p")
    async with RedisBus(redis_url, prefix=prefix) as bus:
        await bus.ensure_group(keys.decisions, "audit")  # never reads: nothing is trimmed
        async with ShardCoordinator(bus, pool="p", config=CONFIG) as coordinator:
            assert await coordinator.wait_for_workers(2, timeout_s=30) == {"w1", "w2"}
            results = [await coordinator.tick(stamp, names) for stamp in stamps[:3]]
            running = asyncio.create_task(coordinator.tick(stamps[3], names))
            workers["w2"].send_signal(signal.SIGKILL)  # mid-run: the tick is out
            results.append(await running)
            results += [await coordinator.tick(stamp, names) for stamp in stamps[4:]]
            assert coordinator.duplicates == 0
            assert await coordinator.live_workers() == {"w1"}
        entries = await bus.client.xrange(keys.decision_stream, "-", "+")
        done = [await bus.client.hlen(keys.done(r.tick)) for r in results]
    published = [decode_entry(fields) for _, fields in entries]
    counts = Counter((e.correlation_id, e.unwrap(SunDecision).instrument) for e in published)
    assert sorted(counts) == sorted((r.tick, i) for r in results for i in names)
    assert set(counts.values()) == {1} and done == [N] * TICKS

    halves = HashRing(["w1", "w2"], CONFIG.vnodes).assign(names)
    for result in results[:3]:  # disjoint halves while both live
        assert {w: sorted(i) for w, i in result.by_worker().items()} == halves
    assert set(results[3].by_worker()) <= {"w1", "w2"}  # w2 may have published before dying
    for result in results[4:]:  # the survivor decides everything
        assert set(result.by_worker()) == {"w1"} and len(result.decisions) == N

    with Sun("quant", checkpoint="none") as sun:
        snapshot = MarketSnapshot.at(stamps[-1], history, benchmark=benchmark)
        whole = sun.decide_universe(snapshot)
    untraced = {"trace": ()}
    for name, decision in results[-1].decisions.items():
        assert decision.model_copy(update=untraced) == whole[name].model_copy(update=untraced)

    workers["w1"].send_signal(signal.SIGTERM)
    out, _ = workers["w1"].communicate(timeout=15)
    assert workers["w1"].returncode == 0 and out.startswith("stopped ticks=")
