"""Hostile wire input: every decode path dead-letters a malformed entry at once and goes on.

Covers the safe decoder (:func:`bus.decode_entry`), the Redis consumer (first read and
reclaim), the reply listener, the journals' readers, and a hypothesis fuzz of the real Redis
consumer in test_fuzz_consumer.py.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from _bus_helpers import FAST, BusFactory, eventually, recorder, report
from _load_consumer import delete_prefix
from _wire import DATA, deep_envelope, pending
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bus import (
    MAX_ENTRY_BYTES,
    MAX_JSON_DEPTH,
    EnvelopeValidationError,
    JournalCorruptError,
    JsonlJournal,
    MalformedMessageError,
    RedisBus,
    RedisStreamJournal,
    decode_entry,
    decode_envelope,
)
from bus._envelope import Envelope

BOMB = b"[" * 200_000 + b"]" * 200_000
HUGE = b'{"x": "' + b"a" * MAX_ENTRY_BYTES + b'"}'


def future_snapshot() -> bytes:
    """A market_snapshot whose bars lie after as_of: its validator raises DataValidationError."""
    day = datetime(2020, 1, 1)
    bars = {
        "instrument": "TEST",
        "timestamps": [(day + timedelta(days=i)).isoformat() for i in range(3)],
        **{k: [1.0, 1.0, 1.0] for k in ("open", "high", "low", "close", "volume")},
    }
    payload = {"as_of": day.isoformat(), "bars": {"TEST": bars}}
    return json.dumps(
        {
            "sender": "sun",
            "recipient": "risk",
            "kind": "event",
            "payload_type": "market_snapshot",
            "payload": payload,
        }
    ).encode()


# -- the safe decoder --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({b"e": BOMB}, "too_deep"),
        ({b"e": b'{"a":' * 100 + b"1" + b"}" * 100}, "too_deep"),
        ({b"e": deep_envelope(MAX_JSON_DEPTH + 5)}, "too_deep"),
        ({b"e": HUGE}, "too_large"),
        ({b"e": HUGE.decode()}, "too_large"),
        ({b"x": b"{}"}, "missing_field"),
        ({}, "missing_field"),
        (None, "missing_field"),
        ([b"e", b"{}"], "missing_field"),
        ({b"e": 5}, "not_text"),
        ({b"e": None}, "not_text"),
        ({b"e": "\ud800"}, "not_text"),
        ({b"e": b"\xff\xfe{}"}, "invalid_json"),
        ({b"e": b"{not json"}, "invalid_json"),
        ({b"e": b""}, "invalid_json"),
        ({b"e": b'{"sender": "sun"}'}, "invalid_envelope"),
        ({b"e": b"[]"}, "invalid_envelope"),
        ({b"e": future_snapshot()}, "invalid_envelope"),
    ],
    ids=lambda v: repr(v)[:40] if not isinstance(v, str) else v,
)
def test_decode_entry_raises_one_typed_error(fields: Any, problem: str) -> None:
    started = time.perf_counter()
    with pytest.raises(MalformedMessageError) as caught:
        decode_entry(fields)
    assert caught.value.problem == problem
    assert problem in str(caught.value)
    assert isinstance(caught.value, EnvelopeValidationError)
    assert time.perf_counter() - started < 2.0


def test_decode_entry_accepts_good_entries_and_brackets_inside_strings() -> None:
    sent = Envelope(sender="sun", recipient="risk", kind="event", payload={"t": "[{" * 5000})
    assert decode_entry({b"e": sent.to_json().encode()}) == sent
    assert decode_entry({"e": sent.to_json()}) == sent
    deep_enough = decode_envelope(deep_envelope(MAX_JSON_DEPTH - 3))
    assert decode_envelope(deep_enough.to_json()) == deep_enough
    with pytest.raises(MalformedMessageError, match="too_deep"):
        decode_envelope(deep_enough.to_json(), max_depth=10)


def test_invalid_payload_names_the_envelope() -> None:
    raw = json.dumps(
        {
            "id": "abc",
            "sender": "sun",
            "recipient": "risk",
            "kind": "report",
            "payload_type": "planet_report",
            "payload": {"score": 3},
        }
    )
    with pytest.raises(MalformedMessageError) as caught:
        decode_entry({b"e": raw})
    assert caught.value.envelope_id == "abc" and caught.value.payload_type == "planet_report"


FIELDS = st.one_of(
    DATA.map(lambda data: {b"e": data}),
    st.dictionaries(
        st.sampled_from([b"e", b"E", b"x", b"raw", "e"]),
        DATA | st.integers() | st.floats() | st.none(),
        max_size=3,
    ),
    st.none() | st.integers() | st.lists(st.binary(max_size=4), max_size=3),
)


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fields=FIELDS)
def test_decode_entry_never_raises_anything_else(fields: Any) -> None:
    try:
        envelope = decode_entry(fields)
    except MalformedMessageError as error:
        assert error.problem in {
            "missing_field",
            "not_text",
            "too_large",
            "too_deep",
            "invalid_json",
            "invalid_envelope",
        }
    else:
        assert isinstance(envelope, Envelope)


# -- the buses ---------------------------------------------------------------------------------


@pytest.fixture
async def redis_bus(redis_url: str) -> AsyncIterator[RedisBus]:
    prefix = f"heliarch:test:{uuid4().hex}:"
    bus = RedisBus(redis_url, prefix=prefix, config=FAST)
    yield bus
    await bus.close()
    await delete_prefix(redis_url, prefix)


async def test_poison_entries_are_dead_lettered_on_first_read_and_the_batch_goes_on(
    redis_bus: RedisBus,
) -> None:
    await redis_bus.ensure_group("risk", "risk")
    lane = redis_bus.keys.lane("risk", 2)
    good = [Envelope(sender="sun", recipient="risk", kind="event") for _ in range(2)]
    poison = [{b"e": BOMB}, {b"e": HUGE}, {b"x": b"no e"}, {b"e": future_snapshot()}]
    await redis_bus.client.xadd(lane, {b"e": good[0].to_json()})
    for fields in poison:
        await redis_bus.client.xadd(lane, fields)
    await redis_bus.client.xadd(lane, {b"e": good[1].to_json()})
    got: list[Envelope] = []
    subscription = await redis_bus.subscribe("risk", recorder(got))
    await eventually(lambda: subscription.stats.dead_lettered == 4 and len(got) == 2)
    assert got == good
    assert await pending(redis_bus, "risk", "risk") == 0
    dead = await redis_bus.dead_letters()
    assert [d.deliveries for d in dead] == [1, 1, 1, 1]
    errors = [d.error for d in dead]
    assert "too_deep" in errors[0] and "too_large" in errors[1]
    assert "missing_field" in errors[2] and "DataValidationError" in errors[3]
    assert len(dead[1].raw) <= 65_536, "a huge entry is not copied whole into the dead letters"


async def test_poison_held_by_a_dead_consumer_is_dead_lettered_at_the_first_reclaim(
    redis_bus: RedisBus,
) -> None:
    await redis_bus.ensure_group("risk", "risk")
    lane = redis_bus.keys.lane("risk", 2)
    good = Envelope(sender="sun", recipient="risk", kind="event")
    await redis_bus.client.xadd(lane, {b"e": BOMB})
    await redis_bus.client.xadd(lane, {b"e": good.to_json()})
    taken = await redis_bus.client.xreadgroup("risk", "dead", {lane: ">"}, count=10)
    assert len(taken[0][1]) == 2
    got: list[Envelope] = []
    subscription = await redis_bus.subscribe("risk", recorder(got), consumer="alive")
    await eventually(lambda: subscription.stats.dead_lettered == 1 and got == [good])
    assert await pending(redis_bus, "risk", "risk") == 0
    (dead,) = await redis_bus.dead_letters()
    assert dead.deliveries == 2 and "too_deep" in dead.error  # the dead one's read + 1 reclaim


async def test_a_malformed_reply_neither_stops_the_reply_listener_nor_loses_the_reply(
    redis_bus: RedisBus,
) -> None:
    async def risk(envelope: Envelope) -> Envelope:
        return envelope.make_reply("risk", report())

    await redis_bus.subscribe("risk", risk)
    inbox = redis_bus.keys.inbox(redis_bus.reply_address)
    await redis_bus.client.xadd(inbox, {b"e": BOMB})
    await redis_bus.client.xadd(inbox, {b"e": b'{"kind": 1}'})
    ask = Envelope(sender="sun", recipient="risk", kind="request")
    reply = await redis_bus.request(ask, timeout_s=5.0)
    assert reply.correlation_id == ask.id
    dead = await redis_bus.dead_letters()
    assert sorted(d.error.split(": ")[1] for d in dead) == ["invalid_envelope", "too_deep"]
    assert {d.recipient for d in dead} == {redis_bus.reply_address}


async def test_inproc_bus_dead_letters_poison_and_goes_on(make_bus: BusFactory) -> None:
    bus, got = make_bus(), []
    await bus.subscribe("risk", recorder(got))
    for raw in (BOMB, HUGE, future_snapshot(), b"\xff"):
        await bus.publish_raw("risk", raw)
    good = Envelope(sender="sun", recipient="risk", kind="event")
    await bus.send(good)
    await eventually(lambda: got == [good])
    dead: list = []
    deadline = asyncio.get_running_loop().time() + 5
    while len(dead) < 4:
        assert asyncio.get_running_loop().time() < deadline, dead
        await asyncio.sleep(0.02)
        dead = await bus.dead_letters()
    assert [d.deliveries for d in dead] == [1, 1, 1, 1]


async def test_journal_readers_report_poison_as_corruption(redis_url: str, tmp_path: Path) -> None:
    good = Envelope(sender="sun", recipient="risk", kind="event")
    path = tmp_path / "journal.jsonl"
    path.write_bytes(BOMB + b"\n" + good.to_json().encode() + b"\n")
    with pytest.raises(JournalCorruptError, match="journal.jsonl:1: .*too_deep"):
        await JsonlJournal(path).read_all()
    key = f"heliarch:test:{uuid4().hex}:journal"
    journal = RedisStreamJournal.from_url(redis_url, key)
    try:
        await journal.append(good)
        await journal.client.xadd(key, {b"e": BOMB})
        await journal.client.xadd(key, {b"other": b"1"})
        with pytest.raises(JournalCorruptError, match="too_deep"):
            await journal.read_all()
        await journal.client.xdel(key, (await journal.client.xrange(key))[1][0])
        with pytest.raises(JournalCorruptError, match="missing_field"):
            await journal.read_all()
    finally:
        await journal.client.delete(key)
        await journal.close()
