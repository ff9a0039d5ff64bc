"""Envelope and journal contracts: defaults, the wire round trip, validation errors, and the
JSONL / Redis-stream journals (also as written by every bus backend)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from uuid import uuid4

import pytest
from _bus_helpers import FAST, BusFactory, eventually, recorder, report
from pydantic import ValidationError

from bus import PlanetReport, RedisStreamJournal, SunDecision
from bus._envelope import Envelope, Priority
from bus._errors import EnvelopeValidationError
from bus._journal import JsonlJournal, decision_envelope
from bus._wire import decode_envelope

# -- envelope ----------------------------------------------------------------------------------


def test_envelope_defaults_and_immutability() -> None:
    envelope = Envelope(sender="risk", recipient="sun", kind="report")
    assert len(envelope.id) == 32 and envelope.idempotency_key == envelope.id
    assert envelope.priority is Priority.NORMAL and envelope.timestamp.tzinfo is not None
    with pytest.raises(ValidationError):
        envelope.sender = "other"  # type: ignore[misc]  # frozen: the assignment must fail
    with pytest.raises(ValidationError, match="priority"):
        Envelope(sender="risk", recipient="sun", kind="report", priority=7)
    with pytest.raises(ValidationError, match="kind"):
        Envelope(sender="risk", recipient="sun", kind="gossip")  # type: ignore[arg-type]  # bad kind on purpose


def test_wrap_unwrap_round_trip_through_the_wire() -> None:
    envelope = Envelope.wrap(report(), sender="risk", recipient="sun", kind="report")
    assert envelope.payload_type == "planet_report"
    decoded = decode_envelope(envelope.to_json())
    assert decoded == envelope
    assert decoded.unwrap(PlanetReport) == report()


def test_malformed_payload_fails_with_a_clear_error() -> None:
    bad = report().model_dump(mode="json") | {"score": 5.0}
    with pytest.raises(ValidationError, match="score"):
        Envelope(
            sender="risk", recipient="sun", kind="report", payload_type="planet_report", payload=bad
        )
    with pytest.raises(ValidationError, match="unknown payload type 'nope'"):
        Envelope(sender="risk", recipient="sun", kind="report", payload_type="nope")
    raw = json.dumps(
        {
            "id": "abc",
            "sender": "risk",
            "recipient": "sun",
            "kind": "report",
            "payload_type": "planet_report",
            "payload": bad,
        }
    )
    with pytest.raises(EnvelopeValidationError, match="envelope abc payload 'planet_report'"):
        decode_envelope(raw)
    envelope = Envelope.wrap(report(), sender="risk", recipient="sun", kind="report")
    with pytest.raises(EnvelopeValidationError, match="expected SunDecision"):
        envelope.unwrap(SunDecision)


# -- journal -----------------------------------------------------------------------------------


def decision() -> SunDecision:
    return SunDecision(
        instrument="GOOG",
        as_of=datetime(2013, 1, 2),
        action="BUY",
        target_position=0.5,
        confidence=0.7,
        rationale="momentum",
        reasoner="quant",
        fallback_level="primary",
    )


async def test_jsonl_journal_round_trip_and_torn_tail(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    journal = JsonlJournal(path)
    messages = [
        Envelope(sender="sun", recipient="risk", kind="directive", payload={"i": i})
        for i in range(3)
    ]
    await journal.append_many(messages)
    await journal.append(decision_envelope(decision()))
    await journal.close()
    with path.open("a") as handle:
        handle.write('{"id": "torn", "sen')
    back = await JsonlJournal(path).read_all()
    assert back[:3] == messages and back[3].kind == "decision"
    assert await JsonlJournal(path).decisions() == [decision()]
    reopened = JsonlJournal(path)
    await reopened.append(messages[0])
    await reopened.close()
    assert (await JsonlJournal(path).read_all())[-1] == messages[0]


async def test_bus_journals_every_delivered_message(make_bus: BusFactory, tmp_path: Path) -> None:
    journal = JsonlJournal(tmp_path / "bus.jsonl")
    bus, got = make_bus(FAST, journal), []
    await bus.subscribe("sun", recorder(got))
    await bus.subscribe("risk", recorder(got))
    sent = [
        Envelope(sender="risk", recipient="sun", kind="report"),
        Envelope(sender="technical", recipient="risk", kind="event"),
        decision_envelope(decision()),
    ]
    await bus.send_to_sun(sent[0])
    await bus.planet_to_planet(sent[1])
    await bus.broadcast(sent[2])
    await eventually(lambda: len(got) == 4)
    assert await journal.read_all() == sent


async def test_redis_stream_journal_reads_back_in_order(redis_url: str) -> None:
    key = f"heliarch:test:{uuid4().hex}:journal"
    journal = RedisStreamJournal.from_url(redis_url, key)
    try:
        messages = [
            Envelope(sender="sun", recipient="*", kind="event", payload={"i": i})
            for i in range(2_500)
        ]
        await journal.append_many(messages)
        await journal.append(decision_envelope(decision()))
        back = await journal.read_all()
        assert back[:-1] == messages and await journal.decisions() == [decision()]
    finally:
        await journal.client.delete(key)
        await journal.close()
