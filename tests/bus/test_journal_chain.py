"""The journal chain's decoder and verifier: any bytes become a record or a violation."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from bus import Envelope
from bus._chain import Chain, Link, verify_records
from bus._journal import parse_record, record_line

ENVELOPE = Envelope(sender="sun", recipient="risk", kind="event", payload={"x": 1.5}).to_json()


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_any_bytes_decode_to_a_record_never_an_exception(raw: bytes) -> None:
    record = parse_record(raw, "j.jsonl:1")
    assert (record.problem is None) == (record.envelope is not None)


VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 10**20),
    st.floats(),
    st.text(max_size=70),
    st.binary(max_size=70),
    st.just("a" * 64),
)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from(["seq", "prev", "hash", "mac", "x"]), VALUES))
def test_link_parse_accepts_only_well_formed_links(fields: dict) -> None:
    try:
        link = Link.parse(fields)
    except ValueError as error:
        assert "chain field" in str(error)
        return
    if link is not None:
        assert link.seq >= 1 and len(link.prev) == len(link.hash) == 64


@settings(max_examples=50, deadline=None)
@given(st.lists(st.integers(0, 5), min_size=1, max_size=6), st.binary(min_size=1, max_size=8))
def test_any_edit_of_a_signed_chain_is_caught(order: list[int], secret: bytes) -> None:
    chain = Chain(secret)
    lines = [record_line(chain.next(ENVELOPE), ENVELOPE) for _ in range(6)]
    kept = [lines[i] for i in order]
    records = [parse_record(line.encode(), f"j:{n}") for n, line in enumerate(kept, 1)]
    check = verify_records(records, source="j", secret=secret)
    intact = order == list(range(len(order)))
    assert check.ok == intact, (order, check.violations)


def test_wrong_key_flags_every_record() -> None:
    chain = Chain(b"right")
    lines = [record_line(chain.next(ENVELOPE), ENVELOPE) for _ in range(3)]
    records = [parse_record(line.encode(), f"j:{n}") for n, line in enumerate(lines, 1)]
    check = verify_records(records, source="j", secret=b"wrong")
    assert [str(v) for v in check.violations] == [
        f"j:{n}: HMAC does not match (wrong journal key or forged record)" for n in (1, 2, 3)
    ]
    assert json.loads(lines[0])["seq"] == 1
