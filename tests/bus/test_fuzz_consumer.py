"""A hypothesis fuzz of the real Redis consumer: entries of every shape are written to a lane
and the consumer must dead-letter the malformed ones at once, deliver the rest, and leave none
stuck; the totals are printed (tried / dead-lettered / delivered / stuck)."""

from __future__ import annotations

import asyncio
import time
from typing import Any
from uuid import uuid4

from _bus_helpers import FAST, recorder
from _load_consumer import delete_prefix
from _wire import DATA, pending
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bus import MalformedMessageError, RedisBus, decode_entry
from bus._envelope import Envelope

REDIS_FIELDS = st.one_of(
    DATA.map(lambda data: {b"e": data}),
    st.dictionaries(
        st.sampled_from([b"e", b"E", b"x", b"raw"]),
        DATA | st.integers() | st.floats(allow_nan=False),
        min_size=1,
        max_size=3,
    ),
)


TALLY = {"tried": 0, "dead_lettered": 0, "delivered": 0, "stuck": 0}


def expected_outcome(fields: dict[bytes, Any]) -> str:
    """What the consumer must do with one entry, as stored by Redis (values become bytes)."""
    stored = {k: v if isinstance(v, bytes) else str(v).encode() for k, v in fields.items()}
    try:
        decode_entry({k: v for k, v in stored.items() if k == b"e"} or {b"x": b""})
    except MalformedMessageError:
        return "dead"
    return "delivered"


async def fuzz_once(url: str, entries: list[dict[bytes, Any]]) -> dict[str, int]:
    prefix = f"heliarch:test:{uuid4().hex}:"
    bus = RedisBus(url, prefix=prefix, config=FAST)
    try:
        await bus.ensure_group("fuzz", "fuzz")
        lane = bus.keys.lane("fuzz", 2)
        async with bus.client.pipeline(transaction=False) as pipe:
            for fields in entries:
                pipe.xadd(lane, fields)
            await pipe.execute()
        sentinel = Envelope(sender="sun", recipient="fuzz", kind="event", id="sentinel")
        await bus.send(sentinel)
        got: list[Envelope] = []
        subscription = await bus.subscribe("fuzz", recorder(got))
        outcomes = [expected_outcome(f) for f in entries]
        dead_wanted = outcomes.count("dead")
        deadline = time.monotonic() + 10
        while True:
            stuck = await pending(bus, "fuzz", "fuzz")
            settled = any(e.id == "sentinel" for e in got) and stuck == 0
            if settled and await bus.client.xlen(bus.keys.dead) >= dead_wanted:
                break
            if time.monotonic() > deadline:
                break
            await asyncio.sleep(0.02)
        dead = await bus.dead_letters()
        stats = subscription.stats
        assert len(dead) == dead_wanted and all(d.deliveries == 1 for d in dead)
        assert stats.applied + stats.duplicates == outcomes.count("delivered") + 1
        return {
            "tried": len(entries),
            "dead_lettered": len(dead),
            "delivered": len(got) - 1,
            "stuck": stuck,
        }
    finally:
        await bus.close()
        await delete_prefix(url, prefix)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(entries=st.lists(REDIS_FIELDS, min_size=5, max_size=25))
def test_fuzzed_entries_against_real_redis_none_stuck(
    redis_url: str, entries: list[dict[bytes, Any]]
) -> None:
    counts = asyncio.run(fuzz_once(redis_url, entries))
    for key, value in counts.items():
        TALLY[key] += value
    assert counts["stuck"] == 0, counts


def test_fuzz_tally_is_reported() -> None:
    """Print the totals of the fuzz run above (it runs first in file order)."""
    print(
        f"fuzz: tried={TALLY['tried']} dead_lettered={TALLY['dead_lettered']} "
        f"delivered={TALLY['delivered']} stuck={TALLY['stuck']}"
    )
    assert TALLY["stuck"] == 0
