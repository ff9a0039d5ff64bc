"""Redis-only reliability: dead consumers, trimming, and a SIGKILL under load (exactly once)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from uuid import uuid4

import pytest
from _load_consumer import LOAD_CONFIG, delete_prefix, pending_of

from bus import BusConfig, RedisBus
from bus._envelope import Envelope

ROOT = Path(__file__).resolve().parents[2]
CONSUMER = Path(__file__).with_name("_load_consumer.py")

FAST = BusConfig(
    max_deliveries=3,
    visibility_timeout_s=0.2,
    reclaim_interval_s=0.05,
    backpressure_wait_s=0.0,
    block_ms=50,
    trim_interval_s=0.05,
)


@pytest.fixture
async def redis_bus(redis_url: str) -> AsyncIterator[RedisBus]:
    prefix = f"heliarch:test:{uuid4().hex}:"
    bus = RedisBus(redis_url, prefix=prefix, config=FAST)
    yield bus
    await bus.close()
    await delete_prefix(redis_url, prefix)


async def test_a_dead_consumers_pending_message_is_reclaimed(redis_bus: RedisBus) -> None:
    await redis_bus.ensure_group("risk", "risk")
    sent = Envelope(sender="sun", recipient="risk", kind="directive")
    await redis_bus.send(sent)
    lane = redis_bus.keys.lane("risk", sent.priority)
    taken = await redis_bus.client.xreadgroup("risk", "dead", {lane: ">"}, count=10)
    assert len(taken[0][1]) == 1
    got: list[Envelope] = []

    async def handler(envelope: Envelope) -> None:
        got.append(envelope)

    await redis_bus.subscribe("risk", handler, consumer="alive")
    deadline = time.monotonic() + 5
    # acknowledged (nothing pending) and nothing new in the stream: it cannot come again
    while not got or (await redis_bus.client.xpending(lane, "risk"))["pending"]:
        assert time.monotonic() < deadline
        await asyncio.sleep(0.02)
    assert got == [sent]


async def test_trim_keeps_every_unacknowledged_entry(redis_bus: RedisBus) -> None:
    await redis_bus.ensure_group("risk", "fast")
    await redis_bus.ensure_group("risk", "slow")
    sent = [Envelope(sender="sun", recipient="risk", kind="directive") for _ in range(50)]
    await redis_bus.send_many(sent)
    lane = redis_bus.keys.lane("risk", 2)
    await redis_bus.client.xreadgroup("slow", "s1", {lane: ">"}, count=10)
    done: list[Envelope] = []

    async def handler(envelope: Envelope) -> None:
        done.append(envelope)

    await redis_bus.subscribe("risk", handler, group="fast")
    deadline = time.monotonic() + 5
    while len(done) < 50:
        assert time.monotonic() < deadline
        await asyncio.sleep(0.02)
    ids = [entry_id for entry_id, _ in await redis_bus.client.xrange(lane)]
    assert len(ids) == 50
    # slow acknowledges its first 5 of 10 delivered; a sentinel makes fast trim again. The
    # trim must then stop exactly at slow's oldest pending entry (6th): entries 1-5 go,
    # pending 6-10 and never delivered 11-50 stay.
    await redis_bus.client.xack(lane, "slow", *ids[:5])
    sentinel = Envelope(sender="sun", recipient="risk", kind="directive")
    await redis_bus.send(sentinel)
    while len(done) < 51 or await redis_bus.client.xlen(lane) > 46:
        assert time.monotonic() < deadline, await redis_bus.client.xlen(lane)
        await asyncio.sleep(0.02)
    kept = [entry_id for entry_id, _ in await redis_bus.client.xrange(lane)]
    assert kept[:-1] == ids[5:] and len(kept) == 46


def start_consumer(
    url: str, prefix: str, name: str, hang_after: int | None = None
) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, str(CONSUMER), "--url", url, "--prefix", prefix, "--name", name]
    if hang_after is not None:
        command += ["--hang-after", str(hang_after)]
    return subprocess.Popen(command, cwd=ROOT, env=env)


async def wait_ready(bus: RedisBus, prefix: str, name: str, timeout_s: float = 15.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not await bus.client.exists(f"{prefix}ready:{name}"):
        assert time.monotonic() < deadline, f"consumer {name} did not start"
        await asyncio.sleep(0.05)
    await bus.client.delete(f"{prefix}ready:{name}")


def malformed(k: int) -> str:
    """The k-th injected malformed message (unique, cycling through three kinds of damage)."""
    if k % 3 == 0:
        return f"{{truncated #{k}"
    if k % 3 == 1:
        return json.dumps(
            {"id": f"bad-kind-{k}", "sender": "sun", "recipient": "load", "kind": "nonsense"}
        )
    return json.dumps(
        {
            "id": f"bad-report-{k}",
            "sender": "sun",
            "recipient": "load",
            "kind": "report",
            "payload_type": "planet_report",
            "payload": {"score": 3},
        }
    )


@pytest.mark.slow
async def test_sigkill_under_load_loses_nothing_and_applies_once(redis_url: str) -> None:
    prefix = f"heliarch:test:{uuid4().hex}:"
    total, batch, deadline = 20_000, 200, time.monotonic() + 25
    bus = RedisBus(redis_url, prefix=prefix, config=LOAD_CONFIG)
    await bus.ensure_group("load", "load")
    # c0 hangs inside its handler after ~1/12 of the load (about a quarter of the way through,
    # as the three consumers share it), so the SIGKILL certainly orphans a delivered message.
    hang_after = {"c0": total // 12}
    workers = {
        f"c{i}": start_consumer(redis_url, prefix, f"c{i}", hang_after.get(f"c{i}"))
        for i in range(3)
    }
    try:
        for name in workers:
            await wait_ready(bus, prefix, name)
        sent, injected, killed_at, orphaned = 0, [], None, 0
        while sent < total and time.monotonic() < deadline:
            envelopes = [
                Envelope(
                    sender="sun",
                    recipient="load",
                    kind="event",
                    priority=(sent + i) % 4,
                    payload={"prefix": prefix, "fail_first": (sent + i) % 997 == 0},
                )
                for i in range(batch)
            ]
            await bus.send_many(envelopes)
            sent += batch
            if sent % 2_000 == 0:
                raw = malformed(len(injected))
                await bus.publish_raw("load", raw, priority=len(injected) % 4)
                injected.append(raw)
            if killed_at is None and await bus.client.exists(f"{prefix}hung:c0"):
                workers["c0"].send_signal(signal.SIGKILL)
                workers["c0"].wait()
                killed_at = await bus.client.hlen(f"{prefix}applied")
                orphaned = await pending_of(bus, "c0")
                workers["c0"] = start_consumer(redis_url, prefix, "c0")
        assert killed_at is not None and killed_at < sent, "the kill must happen mid-run"
        assert orphaned > 0, "the killed consumer should have held unacknowledged messages"
        applied = await wait_drained(bus, prefix, sent, len(injected))
        counts = [int(v) for v in applied.values()]
        assert len(applied) == sent, f"lost {sent - len(applied)}"
        assert sum(c > 1 for c in counts) == 0, "applied twice"
        dead = await bus.dead_letters()
        assert sorted(d.raw for d in dead) == sorted(injected)
        assert all(d.error for d in dead)
        print(f"sent={sent} killed_at={killed_at} orphaned_by_kill={orphaned} dead={len(dead)}")
    finally:
        for process in workers.values():
            process.send_signal(signal.SIGKILL)
            process.wait()
        await bus.close()
        await delete_prefix(redis_url, prefix)


async def wait_drained(
    bus: RedisBus, prefix: str, sent: int, dead: int, timeout_s: float = 15.0
) -> dict[bytes, bytes]:
    """Wait until every message is applied or dead-lettered and nothing is pending."""
    streams = bus.keys.streams_of("load")
    deadline = time.monotonic() + timeout_s
    while True:
        applied = await bus.client.hlen(f"{prefix}applied")
        dead_now = await bus.client.xlen(bus.keys.dead)
        pending = [(await bus.client.xpending(s, "load"))["pending"] for s in streams]
        if applied >= sent and dead_now >= dead and not any(pending):
            return await bus.client.hgetall(f"{prefix}applied")
        if time.monotonic() > deadline:
            return await bus.client.hgetall(f"{prefix}applied")
        await asyncio.sleep(0.05)
