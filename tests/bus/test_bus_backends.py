"""One behavioural suite for every bus backend (in-process and real Redis): routing, priority
and control lanes, dead letters, redelivery, backpressure and consumer groups."""

from __future__ import annotations

import asyncio
import json

import pytest
from _bus_helpers import FAST, BusFactory, eventually, recorder, report, send_sentinel

from bus import BusConfig, PlanetReport, current_delivery
from bus._envelope import Envelope
from bus._errors import BackpressureError, RequestTimeoutError

# -- routing -----------------------------------------------------------------------------------


async def test_send_to_sun_delivers_the_contract(make_bus: BusFactory) -> None:
    bus, got = make_bus(), []
    await bus.subscribe("sun", recorder(got))
    sent = Envelope.wrap(report(), sender="risk", recipient="sun", kind="report")
    await bus.send_to_sun(sent)
    await eventually(lambda: len(got) == 1)
    assert got[0] == sent and got[0].unwrap(PlanetReport).score == 0.5
    with pytest.raises(ValueError, match="recipient 'sun'"):
        await bus.send_to_sun(Envelope(sender="sun", recipient="risk", kind="directive"))


async def test_broadcast_reaches_every_planet_but_the_sender(make_bus: BusFactory) -> None:
    bus = make_bus()
    got: dict[str, list[Envelope]] = {
        name: [] for name in ("sun", "risk", "technical", "sentiment")
    }
    for name, into in got.items():
        await bus.subscribe(name, recorder(into))
    sent = Envelope(sender="technical", recipient="*", kind="event")
    count = await bus.broadcast(sent)
    assert count == 2
    # a sentinel to everyone, behind the broadcast in each lane: once it is in, anything the
    # broadcast would have delivered is in too
    sentinels = {name: await send_sentinel(bus, name) for name in got}
    await eventually(lambda: all(got[n][-1:] == [sentinels[n]] for n in got))
    assert got["risk"] == [sent, sentinels["risk"]]
    assert got["sentiment"] == [sent, sentinels["sentiment"]]
    assert got["sun"] == [sentinels["sun"]] and got["technical"] == [sentinels["technical"]]


async def test_planet_to_planet_copies_the_sun(make_bus: BusFactory) -> None:
    bus, to_risk, to_sun = make_bus(), [], []
    await bus.subscribe("risk", recorder(to_risk))
    await bus.subscribe("sun", recorder(to_sun))
    sent = Envelope(sender="technical", recipient="risk", kind="event", payload={"x": 1})
    await bus.planet_to_planet(sent)
    risk_sentinel, sun_sentinel = await send_sentinel(bus, "risk"), await send_sentinel(bus, "sun")
    await eventually(lambda: to_risk[-1:] == [risk_sentinel] and to_sun[-1:] == [sun_sentinel])
    assert to_risk == [sent, risk_sentinel] and to_sun == [sent, sun_sentinel]


async def test_request_reply_is_correlated_and_times_out(make_bus: BusFactory) -> None:
    bus = make_bus()

    async def risk(envelope: Envelope) -> Envelope:
        return envelope.make_reply("risk", report(score=envelope.payload["q"]))

    await bus.subscribe("risk", risk)
    asks = [
        Envelope(sender="sun", recipient="risk", kind="request", payload={"q": q})
        for q in (0.1, -0.2, 0.3)
    ]
    replies = await asyncio.gather(*(bus.request(a, timeout_s=5.0) for a in asks))
    for ask, reply in zip(asks, replies, strict=True):
        assert reply.kind == "reply" and reply.correlation_id == ask.id
        assert reply.unwrap(PlanetReport).score == ask.payload["q"]
    silent = Envelope(sender="sun", recipient="nobody", kind="request")
    with pytest.raises(RequestTimeoutError, match="nobody"):
        await bus.request(silent, timeout_s=0.2)


async def test_priority_lanes_are_read_highest_first(make_bus: BusFactory) -> None:
    bus, got = make_bus(), []
    subscription = await bus.subscribe("risk", recorder(got), start=False)
    for index, priority in enumerate([3, 2, 3, 1, 0, 2, 0, 1]):
        await bus.send(
            Envelope(
                sender="sun",
                recipient="risk",
                kind="directive",
                priority=priority,
                payload={"i": index},
            )
        )
    await subscription.start()
    await eventually(lambda: len(got) == 8)
    assert [(e.priority, e.payload["i"]) for e in got] == [
        (0, 4),
        (0, 6),
        (1, 3),
        (1, 7),
        (2, 1),
        (2, 5),
        (3, 0),
        (3, 2),
    ]


async def test_control_plane_preempts_a_data_backlog(make_bus: BusFactory) -> None:
    bus, order = make_bus(), []

    async def slow(envelope: Envelope) -> None:
        if envelope.kind != "control":
            await asyncio.sleep(0.05)
        order.append(envelope.kind)

    await bus.subscribe("risk", slow)
    await bus.send_many(
        [Envelope(sender="sun", recipient="risk", kind="directive", priority=0) for _ in range(20)]
    )
    await eventually(lambda: len(order) >= 1)
    assert await bus.control(Envelope(sender="sun", recipient="risk", kind="control")) == 1
    await eventually(lambda: "control" in order)
    assert order.index("control") <= 3, order
    with pytest.raises(ValueError, match="kind 'control'"):
        await bus.control(Envelope(sender="sun", recipient="risk", kind="directive"))


# -- reliability -------------------------------------------------------------------------------


async def test_malformed_messages_are_dead_lettered_and_the_worker_survives(
    make_bus: BusFactory,
) -> None:
    bus, got = make_bus(), []
    await bus.subscribe("risk", recorder(got))
    bad_payload = json.dumps(
        {
            "id": "bad-payload",
            "sender": "sun",
            "recipient": "risk",
            "kind": "report",
            "payload_type": "planet_report",
            "payload": {"planet": "risk", "score": 9},
        }
    )
    for raw in ("{not json", '{"sender": "sun"}', bad_payload):
        await bus.publish_raw("risk", raw)
    good = Envelope(sender="sun", recipient="risk", kind="directive")
    await bus.send(good)
    await eventually(lambda: len(got) == 1)
    dead: list = []

    async def collect() -> bool:
        dead[:] = await bus.dead_letters()
        return len(dead) == 3

    deadline = asyncio.get_running_loop().time() + 5
    while not await collect():
        assert asyncio.get_running_loop().time() < deadline, dead
        await asyncio.sleep(0.02)
    assert got == [good]
    by_raw = {d.raw: d for d in dead}
    assert "Invalid JSON" in by_raw["{not json"].error
    assert "kind: Field required" in by_raw['{"sender": "sun"}'].error
    assert "score" in by_raw[bad_payload].error and by_raw[bad_payload].envelope_id == "bad-payload"
    assert all(d.recipient == "risk" and d.group == "risk" for d in dead)


async def test_failed_handler_is_redelivered_and_applied_once(make_bus: BusFactory) -> None:
    bus = make_bus()
    attempts: dict[str, list[int]] = {}
    applied: dict[str, int] = {}

    async def flaky(envelope: Envelope) -> None:
        attempt = current_delivery().attempt
        attempts.setdefault(envelope.id, []).append(attempt)
        if envelope.payload.get("fail_first") and attempt == 1:
            raise RuntimeError("transient")
        applied[envelope.idempotency_key] = applied.get(envelope.idempotency_key, 0) + 1

    subscription = await bus.subscribe("risk", flaky)
    first = Envelope(sender="sun", recipient="risk", kind="directive", payload={"fail_first": True})
    again = Envelope(
        sender="sun", recipient="risk", kind="directive", idempotency_key=first.idempotency_key
    )
    await bus.send(first)
    await eventually(lambda: applied.get(first.idempotency_key) == 1)
    await bus.send(again)
    await bus.send(first)
    marker = Envelope(sender="sun", recipient="risk", kind="directive")
    await bus.send(marker)
    # every delivery is acknowledged once these counts are reached (applied: first and the
    # marker; duplicates: again and first re-sent), so nothing is left to redeliver
    stats = subscription.stats
    await eventually(lambda: (stats.applied, stats.duplicates, stats.failed) == (2, 2, 1))
    assert marker.id in applied
    assert attempts[first.id] == [1, 2]
    assert applied[first.idempotency_key] == 1
    assert again.id not in attempts
    assert await bus.dead_letters() == []


async def test_handler_failing_every_time_is_dead_lettered_with_its_error(
    make_bus: BusFactory,
) -> None:
    bus = make_bus()

    async def broken(envelope: Envelope) -> None:
        raise ValueError(f"cannot apply {envelope.payload['n']}")

    await bus.subscribe("risk", broken)
    sent = Envelope(sender="sun", recipient="risk", kind="directive", payload={"n": 7})
    await bus.send(sent)
    dead: list = []
    deadline = asyncio.get_running_loop().time() + 5
    while not dead:
        assert asyncio.get_running_loop().time() < deadline
        await asyncio.sleep(0.05)
        dead = await bus.dead_letters()
    assert len(dead) == 1
    assert dead[0].error == "ValueError: cannot apply 7"
    assert dead[0].envelope() == sent
    assert dead[0].deliveries >= FAST.max_deliveries


async def test_backpressure_refuses_producers_and_never_drops(make_bus: BusFactory) -> None:
    config = BusConfig(**{**FAST.__dict__, "max_backlog": 5})
    bus, got = make_bus(config), []
    subscription = await bus.subscribe("risk", recorder(got), start=False)
    sent = [Envelope(sender="sun", recipient="risk", kind="directive") for _ in range(5)]
    await bus.send_many(sent)
    extra = Envelope(sender="sun", recipient="risk", kind="directive")
    with pytest.raises(BackpressureError, match="limit 5") as refused:
        await bus.send(extra)
    assert refused.value.rejected == (extra.id,)
    await subscription.start()
    await eventually(lambda: len(got) == 5)
    patient = BusConfig(**{**config.__dict__, "backpressure_wait_s": 5.0})
    bus.config = patient
    await bus.send(extra)
    await eventually(lambda: len(got) == 6)
    assert [e.id for e in got] == [e.id for e in sent] + [extra.id]


async def test_groups_compete_within_and_fan_out_across(make_bus: BusFactory) -> None:
    bus = make_bus()
    first, second, audit = [], [], []
    w1 = await bus.subscribe("risk", recorder(first), group="workers", consumer="w1")
    w2 = await bus.subscribe("risk", recorder(second), group="workers", consumer="w2")
    auditor = await bus.subscribe("risk", recorder(audit), group="audit")
    sent = [Envelope(sender="sun", recipient="risk", kind="directive") for _ in range(60)]
    await bus.send_many(sent)
    # all 60 acknowledged in both groups: nothing is pending, so nothing can arrive again
    await eventually(
        lambda: w1.stats.applied + w2.stats.applied == 60 and auditor.stats.applied == 60
    )
    assert sorted(e.id for e in first + second) == sorted(e.id for e in sent)
    assert [e.id for e in audit] == [e.id for e in sent]
