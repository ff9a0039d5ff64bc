"""Journal and replay: decisions re-run deterministically from the journal; divergence found."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from uuid import uuid4

import pytest
import redis
from typer.testing import CliRunner

from bus import BarSeries, Envelope, JsonlJournal, MarketSnapshot, OrderBookSizes
from bus._chain import Chain
from bus._journal import record_line
from heliarch.cli import app
from planets import default_planets
from sun import ModelConfig, Sun
from sun.llm import CachingChatModel, LlmResponseCache
from sun.replay import record, replay
from sun.resilience import BreakerConfig, ChainPolicy
from sun.testing import ScriptedChatModel

DATES = [datetime(2009, 3, 2), datetime(2011, 9, 1), datetime(2012, 6, 1)]
runner = CliRunner()


def answer(action: str, size: float) -> str:
    return json.dumps(
        {"action": action, "size": size, "confidence": 0.6, "rationale": "technical trend is up"}
    )


def read(path: Path) -> list[Envelope]:
    return asyncio.run(JsonlJournal(path).read_all())


def rechain(lines: list[str], secret: bytes | None = None) -> str:
    """The lines' envelopes re-chained from scratch: what a forger without the key can do."""
    chain, out = Chain(secret), []
    for line in lines:
        text = json.dumps(json.loads(line)["envelope"])
        out.append(record_line(chain.next(text), text))
    return "\n".join(out) + "\n"


def snapshots(goog: BarSeries) -> list[MarketSnapshot]:
    book = OrderBookSizes(timestamp=DATES[1], bid_sizes=(5.0, 3.0), ask_sizes=(2.0, 1.0))
    out = [MarketSnapshot.at(when, {"GOOG": goog}) for when in DATES]
    out[1] = MarketSnapshot.at(DATES[1], {"GOOG": goog}, order_books={"GOOG": book})
    return out


def test_quant_journal_replays_without_divergence(tmp_path: Path, goog: BarSeries) -> None:
    path = tmp_path / "journal.jsonl"
    with Sun("quant", checkpoint="none") as sun, record(sun, path) as recorder:
        made = [recorder.decide(s, position=0.25) for s in snapshots(goog)]
    kinds = [e.payload_type for e in read(path)]
    assert kinds.count("journal_series") == 1  # prefixes of one history: stored once
    assert kinds.count("decision_request") == 3 and kinds.count("sun_decision") == 3
    report = replay(path)
    assert report.ok and report.replayed == 3 and report.divergences == []
    result = runner.invoke(app, ["replay", str(path), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["diverged"] == 0
    assert made[1].order_intent is not None


def test_tampered_decision_is_reported(tmp_path: Path, goog: BarSeries) -> None:
    path = tmp_path / "journal.jsonl"
    with Sun("quant", checkpoint="none") as sun, record(sun, path) as recorder:
        for snapshot in snapshots(goog)[:2]:
            recorder.decide(snapshot)
    lines = path.read_text().splitlines()
    index = max(i for i, line in enumerate(lines) if '"payload_type":"sun_decision"' in line)
    data = json.loads(lines[index])
    payload = data["envelope"]["payload"]
    payload["confidence"] = round(1.0 - payload["confidence"], 6)
    lines[index] = json.dumps(data)
    path.write_text("\n".join(lines) + "\n")
    # Edited in place: the chain says so, and nothing is replayed (exit 3).
    result = runner.invoke(app, ["replay", str(path)])
    assert result.exit_code == 3
    assert f"journal.jsonl:{index + 1}: content does not match its hash" in result.output
    # Re-chained (no HMAC key to stop it): the replay itself finds the divergence (exit 1).
    path.write_text(rechain(lines))
    report = replay(path)
    assert len(report.divergences) == 1 and list(report.divergences[0].fields) == ["confidence"]
    result = runner.invoke(app, ["replay", str(path)])
    assert result.exit_code == 1 and "confidence" in result.output


def test_llm_answers_are_served_from_the_journal(tmp_path: Path, goog: BarSeries) -> None:
    path = tmp_path / "journal.jsonl"
    # First answer invalid -> repair; the journal must hold both raw answers.
    inner = ScriptedChatModel(
        script=["no json", answer("BUY", 0.3), answer("SELL", 0.2), answer("HOLD", 0.0)],
        prompts=[],
    )
    cache = LlmResponseCache()
    model = CachingChatModel(inner=inner, response_cache=cache, model_label="openai:gpt-test")
    with (
        Sun("openai:gpt-test", checkpoint="none", models=ModelConfig(chat_model=model)) as sun,
        record(sun, path, llm_cache=cache) as recorder,
    ):
        made = [recorder.decide(s) for s in snapshots(goog)]
    assert inner.calls == 4 and [d.fallback_level for d in made] == ["primary"] * 3
    assert [e.payload_type for e in read(path)].count("llm_answer") == 4
    report = replay(path)
    assert report.ok, report.to_dict()
    assert (report.llm_served, report.llm_missing) == (4, 0)

    # Without the journaled answers the replay cannot ask a model: it diverges and says so.
    kept = [line for line in path.read_text().splitlines() if '"llm_answer"' not in line]
    path.write_text(rechain(kept))
    broken = replay(path)
    assert broken.llm_missing > 0 and len(broken.divergences) == 3
    assert "fallback_level" in broken.divergences[0].fields


@pytest.fixture
def stream_key(redis_url: str) -> Iterator[str]:
    key = f"heliarch:test:journal:{uuid4().hex}"
    yield key
    client = redis.Redis.from_url(redis_url)
    client.delete(key)
    client.close()


def test_redis_stream_journal_round_trip(redis_url: str, stream_key: str, goog: BarSeries) -> None:
    with Sun("quant", checkpoint="none") as sun, record(sun, redis_url, key=stream_key) as rec:
        for snapshot in snapshots(goog):
            rec.decide(snapshot)
        sun.decide(snapshots(goog)[0])  # journaled by the sink, but no request: not replayable
    result = runner.invoke(app, ["replay", redis_url, "--key", stream_key, "--json"])
    report = json.loads(result.output)
    assert report["replayed"] == 3 and report["diverged"] == 0
    assert len(report["skipped"]) == 1 and result.exit_code == 1


def test_backup_level_and_recorded_failures_replay_exactly(tmp_path: Path, goog: BarSeries) -> None:
    """Primary down (then its breaker open), backup deciding: replay rebuilds the same chain."""
    path = tmp_path / "journal.jsonl"
    primary = ScriptedChatModel(script=[ConnectionError("primary down")], prompts=[])
    backup = ScriptedChatModel(
        script=[answer("BUY", 0.3), answer("SELL", 0.2), answer("HOLD", 0.0)], prompts=[]
    )
    policy = ChainPolicy(max_retries=0, breaker=BreakerConfig(failure_threshold=2))
    with (
        Sun(
            "openai:gpt-test",
            checkpoint="none",
            models=ModelConfig(
                chat_model=primary,
                backup_models=[("anthropic:claude-test", backup)],
                chain_policy=policy,
                llm_cache=(cache := LlmResponseCache()),
            ),
        ) as sun,
        record(sun, path, llm_cache=cache) as recorder,
    ):
        made = [recorder.decide(s) for s in snapshots(goog)]
    assert [d.fallback_level for d in made] == ["backup-1"] * 3
    assert "circuit open" in (made[2].attempts[0].error or "")
    report = replay(path)
    assert report.ok, report.to_dict()
    assert (report.llm_served, report.llm_missing) == (3, 0)
    assert report.llm_failures_reproduced == 3


def test_custom_planets_are_recorded_and_required_on_replay(
    tmp_path: Path, goog: BarSeries
) -> None:
    path = tmp_path / "journal.jsonl"
    chosen = {k: v for k, v in default_planets().items() if k != "sentiment"}
    with Sun("quant", planets=chosen, checkpoint="none") as sun, record(sun, path) as recorder:
        recorder.decide(snapshots(goog)[0])
    default = replay(path)
    assert not default.ok and default.replayed == 0
    assert "recorded with planets" in default.skipped[0]
    assert "sentiment" in default.skipped[0]
    assert replay(path, planets=chosen).ok
    result = runner.invoke(app, ["replay", str(path)])
    assert result.exit_code == 1 and "recorded with planets" in result.output
