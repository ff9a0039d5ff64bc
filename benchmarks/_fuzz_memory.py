"""Parts of benchmarks/robustness.py: a seeded fuzz of the real Redis consumer, and the peak
memory of ``heliarch moons`` on a 2,000,000-row CSV."""

from __future__ import annotations

import asyncio
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from uuid import uuid4

import numpy as np

from bus import BusConfig, Envelope, MalformedMessageError, RedisBus, decode_entry

FAST = BusConfig(max_deliveries=3, visibility_timeout_s=0.2, reclaim_interval_s=0.05,
                 max_backlog=10_000, backpressure_wait_s=0.0, block_ms=50)  # fmt: skip


def _entry(rng: random.Random) -> dict[bytes, Any]:
    """One hostile stream entry: random bytes, wrong types, huge or deeply nested JSON."""
    kind = rng.randrange(6)
    if kind == 0:
        return {b"e": rng.randbytes(rng.randrange(1, 200))}
    if kind == 1:
        depth = rng.choice([10, 100, 1_000, 100_000])
        return {b"e": b"[" * depth + b"]" * depth}
    if kind == 2:
        return {b"e": json.dumps({"id": rng.random(), "kind": [1, 2]}).encode()}
    if kind == 3:
        return {b"x": b"no envelope field", b"raw": str(rng.random()).encode()}
    if kind == 4:
        return {b"e": b'{"x": "' + b"a" * rng.choice([10, 9 << 20]) + b'"}'}
    return {b"e": str(rng.randrange(1 << 40)).encode()}


def _expected_dead(fields: dict[bytes, Any]) -> bool:
    try:
        decode_entry({k: v for k, v in fields.items() if k == b"e"} or {b"x": b""})
    except MalformedMessageError:
        return True
    return False


async def _fuzz(url: str, entries: list[dict[bytes, Any]]) -> dict[str, int]:
    prefix = f"heliarch:bench:fuzz:{uuid4().hex}:"
    bus = RedisBus(url, prefix=prefix, config=FAST)
    try:
        await bus.ensure_group("fuzz", "fuzz")
        lane = bus.keys.lane("fuzz", 2)
        for fields in entries:
            await bus.client.xadd(lane, fields)
        await bus.send(Envelope(sender="sun", recipient="fuzz", kind="event", id="sentinel"))
        got: list[str] = []

        async def handler(envelope: Envelope) -> None:
            got.append(envelope.id)

        await bus.subscribe("fuzz", handler)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            groups = await bus.client.xpending(lane, "fuzz")
            if "sentinel" in got and groups["pending"] == 0:
                break
            await asyncio.sleep(0.05)
        groups = await bus.client.xpending(lane, "fuzz")
        return {
            "tried": len(entries),
            "dead_lettered": len(await bus.dead_letters()),
            "expected_dead": sum(_expected_dead(f) for f in entries),
            "delivered": len(got) - 1,
            "stuck": int(groups["pending"]),
        }
    finally:
        await bus.close()
        await _delete_prefix(url, prefix)


async def _delete_prefix(url: str, prefix: str) -> None:
    import redis.asyncio as aioredis

    client = aioredis.from_url(url)
    try:
        keys = [k async for k in client.scan_iter(match=prefix + "*")]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()


def run_fuzz(url: str | None, count: int = 200, seed: int = 0) -> dict[str, Any]:
    """Entries tried / dead-lettered / delivered / stuck (target: 0 stuck)."""
    if not url:
        return {"skipped": "REDIS_URL is not set"}
    rng = random.Random(seed)
    return asyncio.run(_fuzz(url, [_entry(rng) for _ in range(count)]))


# VmHWM, not getrusage's ru_maxrss: Linux copies a parent's maxrss into the child at fork,
# so a child of a large benchmark process would report the parent's peak as its own.
_MEASURED = """
import atexit, sys
def _peak_kb():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
atexit.register(lambda: print("RSS", _peak_kb(), file=sys.stderr))
sys.argv = {argv!r}
from heliarch.cli import main
main()
"""


def write_big_csv(path: Path, source: Path, rows: int) -> None:
    """``rows`` bars: the source's bars repeated on a one-minute clock (valid OHLC)."""
    import pandas as pd

    bars = pd.read_csv(source)
    reps = rows // len(bars) + 1
    big = pd.concat([bars.iloc[:, 1:]] * reps, ignore_index=True).iloc[:rows]
    stamps = pd.date_range("1990-01-01", periods=rows, freq="min")
    big.insert(0, "timestamp", np.asarray(stamps.strftime("%Y-%m-%d %H:%M:%S")))
    big.to_csv(path, index=False)


def peak_memory_moons(tmp: Path, source: Path, rows: int = 2_000_000) -> dict[str, Any]:
    """Peak RSS of ``heliarch moons`` on a ``rows``-bar CSV, and of the same on the source."""
    big = tmp / "BIG.csv"
    write_big_csv(big, source, rows)

    def peak(data: Path, symbol: str) -> tuple[float, float]:
        started = time.perf_counter()
        argv = ["heliarch", "moons", "--data", str(data), "--symbol", symbol, "--json"]
        command = [sys.executable, "-c", _MEASURED.format(argv=argv)]
        done = subprocess.run(command, capture_output=True, text=True, env=dict(os.environ))
        rss_kb = [line.split()[1] for line in done.stderr.splitlines() if line.startswith("RSS ")]
        if done.returncode != 0 or not rss_kb:
            raise RuntimeError(f"heliarch moons failed: {done.stderr[-500:]}")
        return int(rss_kb[0]) / 1024, time.perf_counter() - started

    small_mb, _ = peak(source, "GOOG")
    big_mb, big_s = peak(big, "BIG")
    return {
        "rows": rows,
        "peak_rss_mb_2m_rows": round(big_mb, 1),
        "peak_rss_mb_bundled_goog": round(small_mb, 1),
        "seconds_2m_rows": round(big_s, 1),
    }
