"""Tamper-evident journals: every way a journal can lie is caught before anything replays.

One real journal (a quant sun deciding three times) is recorded once; each case edits a copy
and `heliarch replay` must exit 3 ("journal invalid") naming the record, never "no divergence".
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from uuid import uuid4

import pytest
import redis
from typer.testing import CliRunner

from bus import BarSeries, JsonlJournal, MarketSnapshot
from bus._chain import Chain
from bus._journal import record_line
from heliarch.cli import app
from sun import Sun
from sun.replay import JournalInvalidError, record, replay

runner = CliRunner()
DATES = [datetime(2009, 3, 2), datetime(2011, 9, 1), datetime(2012, 6, 1)]
KEY = b"journal-key-1"


def rechain(lines: list[str], secret: bytes | None = None) -> list[str]:
    """Re-chain the lines from scratch, as a forger without the HMAC key would."""
    chain, out = Chain(secret), []
    for line in lines:
        text = json.dumps(json.loads(line)["envelope"])
        out.append(record_line(chain.next(text), text))
    return out


def recorded(goog: BarSeries, path: Path, secret: bytes | None) -> list[str]:
    with Sun("quant", checkpoint="none") as sun, record(sun, path, secret=secret) as rec:
        for when in DATES:
            rec.decide(MarketSnapshot.at(when, {"GOOG": goog}))
    return path.read_text().splitlines()


@pytest.fixture(scope="module")
def lines(goog_module: BarSeries, tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    return recorded(goog_module, tmp_path_factory.mktemp("j") / "journal.jsonl", None)


@pytest.fixture(scope="module")
def goog_module() -> BarSeries:
    from bus import load_csv

    return load_csv("examples/data/GOOG.csv", "GOOG")


def kinds(lines: list[str]) -> list[str]:
    return [json.loads(line)["envelope"]["payload_type"] for line in lines]


def first_decision(lines: list[str]) -> int:
    return kinds(lines).index("sun_decision")


def remove_decision(lines: list[str]) -> str:
    i = first_decision(lines)
    return "\n".join(lines[:i] + lines[i + 1 :]) + "\n"


def remove_last_decision(lines: list[str]) -> str:
    return "\n".join(lines[:-1]) + "\n"


def duplicate(lines: list[str]) -> str:
    i = first_decision(lines)
    return "\n".join(lines[: i + 1] + [lines[i]] + lines[i + 1 :]) + "\n"


def reorder(lines: list[str]) -> str:
    i = first_decision(lines)
    swapped = lines[: i - 1] + [lines[i], lines[i - 1]] + lines[i + 1 :]
    return "\n".join(swapped) + "\n"


def torn_end(lines: list[str]) -> str:
    return "\n".join(lines[:-1]) + "\n" + lines[-1][: len(lines[-1]) // 2]


def truncated_first_line(lines: list[str]) -> str:
    return lines[0][:40]


def edited_decision(lines: list[str]) -> str:
    i = first_decision(lines)
    data = json.loads(lines[i])
    payload = data["envelope"]["payload"]
    payload["confidence"] = round(1.0 - payload["confidence"], 6)
    return "\n".join(lines[:i] + [json.dumps(data)] + lines[i + 1 :]) + "\n"


def series_edited(lines: list[str]) -> str:
    data = json.loads(lines[0])
    data["envelope"]["payload"]["series"]["volume"][100] += 100.0
    return "\n".join(rechain([json.dumps(data), *lines[1:]])) + "\n"


def not_json(lines: list[str]) -> str:
    return "this is not a journal\n"


TAMPERS: dict[str, tuple[Callable[[list[str]], str], str]] = {
    "removed": (remove_decision, ":3: sequence jumps from 2 to 4: 1 record(s) removed"),
    "removed-last": (remove_last_decision, ":6: request "),
    "duplicated": (duplicate, ":4: sequence 3 after 3: a duplicated or reordered record"),
    "reordered": (reorder, ":2: sequence jumps from 1 to 3"),
    "torn-end": (torn_end, ":7: torn last record"),
    "truncated-first-line": (truncated_first_line, ":1: torn last record"),
    "empty": (lambda _: "", "journal is empty"),
    "series-hash": (series_edited, ":1: series GOOG is stored under hash"),
    "edited-decision": (edited_decision, ":3: content does not match its hash (edited)"),
    "not-json": (not_json, ":1: invalid_json"),
}


@pytest.mark.parametrize("case", sorted(TAMPERS))
def test_tampered_journal_is_invalid(case: str, lines: list[str], tmp_path: Path) -> None:
    tamper, expected = TAMPERS[case]
    path = tmp_path / "journal.jsonl"
    path.write_text(tamper(lines))
    with pytest.raises(JournalInvalidError) as caught:
        replay(path)
    assert any(expected in str(v) for v in caught.value.violations), caught.value.violations
    result = runner.invoke(app, ["replay", str(path)])
    assert result.exit_code == 3, result.output
    assert expected in result.stderr and "no divergence" not in result.output
    assert "Traceback" not in result.output


def test_intact_journal_replays(lines: list[str], tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    path.write_text("\n".join(lines) + "\n")
    assert kinds(lines).count("sun_decision") == 3 and len(lines) == 7
    result = runner.invoke(app, ["replay", str(path)])
    assert result.exit_code == 0, result.output
    assert "no divergence" in result.output


def test_directory_is_not_a_journal(tmp_path: Path) -> None:
    result = runner.invoke(app, ["replay", str(tmp_path)])
    assert result.exit_code == 3
    assert (
        result.stderr.strip() == f"journal invalid: {tmp_path}: is a directory, not a journal file"
    )


def test_missing_file_is_one_line(tmp_path: Path) -> None:
    result = runner.invoke(app, ["replay", str(tmp_path / "nope.jsonl")])
    assert result.exit_code == 3 and len(result.stderr.strip().splitlines()) == 1
    assert "no such journal file" in result.stderr


def test_hmac_key_signs_and_verifies(
    goog_module: BarSeries, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "journal.jsonl"
    signed = recorded(goog_module, path, KEY)
    assert all("mac" in json.loads(line) for line in signed)
    assert replay(path, secret=KEY).ok
    monkeypatch.setenv("HELIARCH_JOURNAL_KEY", KEY.decode())
    assert runner.invoke(app, ["replay", str(path)]).exit_code == 0
    monkeypatch.setenv("HELIARCH_JOURNAL_KEY", "another-key")
    result = runner.invoke(app, ["replay", str(path)])
    assert result.exit_code == 3
    assert ":1: HMAC does not match (wrong journal key or forged record)" in result.stderr
    # A forger re-chains an edit without the key: the records are no longer signed.
    path.write_text("\n".join(rechain(edited_decision(signed).splitlines())) + "\n")
    monkeypatch.setenv("HELIARCH_JOURNAL_KEY", KEY.decode())
    result = runner.invoke(app, ["replay", str(path)])
    assert result.exit_code == 3 and "not signed (no mac)" in result.stderr
    monkeypatch.delenv("HELIARCH_JOURNAL_KEY")
    assert replay(path).ok is False  # unsigned now, replays, and the edit diverges


def test_appending_continues_the_chain(lines: list[str], tmp_path: Path) -> None:
    import asyncio

    from bus import Envelope

    path = tmp_path / "journal.jsonl"
    path.write_text("\n".join(lines[:3]) + "\n" + lines[3][:20])  # torn tail, cut on append
    journal = JsonlJournal(path)
    asyncio.run(journal.append(Envelope(sender="sun", recipient="risk", kind="event")))
    asyncio.run(journal.close())
    check = asyncio.run(JsonlJournal(path).verify())
    assert check.ok, check.violations
    assert [json.loads(line)["seq"] for line in path.read_text().splitlines()] == [1, 2, 3, 4]


@pytest.fixture
def stream_key(redis_url: str) -> Iterator[str]:
    key = f"heliarch:test:tamper:{uuid4().hex}"
    yield key
    client = redis.Redis.from_url(redis_url)
    client.delete(key)
    client.close()


def test_redis_journal_removed_entry_is_invalid(
    redis_url: str, stream_key: str, goog_module: BarSeries
) -> None:
    with Sun("quant", checkpoint="none") as sun, record(sun, redis_url, key=stream_key) as rec:
        for when in DATES:
            rec.decide(MarketSnapshot.at(when, {"GOOG": goog_module}))
    ok = runner.invoke(app, ["replay", redis_url, "--key", stream_key])
    assert ok.exit_code == 0, ok.output
    client = redis.Redis.from_url(redis_url)
    entries = client.xrange(stream_key)
    assert [int(fields[b"seq"]) for _, fields in entries] == list(range(1, 8))
    client.xdel(stream_key, entries[2][0])
    client.close()
    result = runner.invoke(app, ["replay", redis_url, "--key", stream_key])
    assert result.exit_code == 3
    assert (
        f"{stream_key} entry {entries[3][0].decode()}: sequence jumps from 2 to 4" in result.stderr
    )


def test_unreachable_redis_is_one_line() -> None:
    result = runner.invoke(app, ["replay", "redis://127.0.0.1:1/0"])
    assert result.exit_code == 2 and "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("cannot read journal redis://127.0.0.1:1/0")
