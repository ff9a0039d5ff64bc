"""Hostile wire input the hardening tests share: envelope-like JSON, raw entry data of every
shape (bombs, deep nesting, bad UTF-8), and the pending count of a consumer group."""

from __future__ import annotations

import json
from uuid import uuid4

from hypothesis import strategies as st

from bus import MAX_JSON_DEPTH, RedisBus


def deep_envelope(depth: int) -> bytes:
    """A valid envelope but for a payload value nested ``depth`` lists deep."""
    head = json.dumps(
        {"id": uuid4().hex, "sender": "sun", "recipient": "risk", "kind": "event", "payload": {}}
    ).encode()
    return head[:-3] + b'{"x": ' + b"[" * depth + b"1" + b"]" * depth + b"}}"


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=30,
)


ENVELOPE_LIKE = st.fixed_dictionaries(
    {
        "sender": st.sampled_from(["sun", "risk", "", "a b", 5]) | JSON,
        "recipient": st.sampled_from(["risk", "*", "_reply.x"]) | JSON,
        "kind": st.sampled_from(["event", "report", "nonsense"]) | JSON,
    },
    optional={
        "id": st.text(max_size=200) | JSON,
        "priority": st.integers(-2, 6) | JSON,
        "payload_type": st.sampled_from(["market_snapshot", "planet_report", "nope"]) | JSON,
        "payload": st.dictionaries(st.text(max_size=8), JSON) | JSON,
        "timestamp": st.sampled_from(["2020-01-01T00:00:00Z", "yesterday"]) | JSON,
    },
)


DATA = st.one_of(
    st.binary(max_size=300),
    st.text(max_size=300),
    JSON.map(lambda v: json.dumps(v).encode()),
    ENVELOPE_LIKE.map(lambda v: json.dumps(v).encode()),
    st.integers(MAX_JSON_DEPTH - 2, 3_000).map(lambda n: b"[" * n + b"]" * n),
    st.integers(MAX_JSON_DEPTH - 2, 3_000).map(lambda n: b'{"a":' * n + b"0" + b"}" * n),
    st.integers(MAX_JSON_DEPTH - 5, 2_000).map(deep_envelope),
    st.integers(1, 100_000).map(lambda n: b"[" * n),
)


async def pending(bus: RedisBus, recipient: str, group: str) -> int:
    counts = [
        (await bus.client.xpending(s, group))["pending"] for s in bus.keys.streams_of(recipient)
    ]
    return sum(counts)
