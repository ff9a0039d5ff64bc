"""The fallback chain through a real sun: retries, backups, the council, timeouts and
throttling (the building blocks are tested in test_transient_breaker.py)."""

from __future__ import annotations

import json
import time
from datetime import datetime

import pytest

from bus import BarSeries, MarketSnapshot
from sun import ModelConfig, Sun, SunHooks, load_settings
from sun.resilience import BreakerConfig, ChainPolicy
from sun.testing import FaultSchedule, FaultyChatModel, HttpStatusError, ScriptedChatModel

AS_OF = datetime(2012, 6, 1)


def answer(action: str = "BUY", size: float = 0.3) -> str:
    return json.dumps(
        {"action": action, "size": size, "confidence": 0.6, "rationale": "technical trend is up"}
    )


def scripted(*script: object) -> ScriptedChatModel:
    return ScriptedChatModel(script=list(script), prompts=[])


class ManualClock:
    """A clock that moves only when told to: cool-downs pass without sleeping."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def fast_policy(**overrides: object) -> ChainPolicy:
    base: dict[str, object] = {
        "timeout_s": 0.5,
        "backoff_s": 0.001,
        "breaker": BreakerConfig(failure_threshold=2, cooldown_s=0.2),
    }
    return ChainPolicy(**{**base, **overrides})  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def snapshot(goog: BarSeries) -> MarketSnapshot:
    return MarketSnapshot.at(AS_OF, {"GOOG": goog})


def test_transient_error_is_retried_then_the_primary_decides(snapshot: MarketSnapshot) -> None:
    model = scripted(ConnectionError("blip"), answer())
    with Sun(
        "anthropic:m",
        checkpoint="none",
        models=ModelConfig(chat_model=model, chain_policy=fast_policy()),
    ) as sun:
        decision = sun.decide(snapshot)
    assert decision.fallback_level == "primary" and decision.action == "BUY"
    assert model.calls == 2


def test_permanent_error_is_not_retried(snapshot: MarketSnapshot) -> None:
    model = scripted(HttpStatusError(401, "bad key"), answer())
    backup = scripted(answer("SELL", 0.2))
    with Sun(
        "anthropic:m",
        checkpoint="none",
        models=ModelConfig(
            chat_model=model, backup_models=[("openai:b", backup)], chain_policy=fast_policy()
        ),
    ) as sun:
        decision = sun.decide(snapshot)
    assert model.calls == 1
    assert decision.fallback_level == "backup-1" and decision.reasoner == "openai:b"
    assert "401" in (decision.attempts[0].error or "")
    assert decision.attempts[0].level == "primary:anthropic:m"


def test_primary_down_backup_decides_then_breaker_opens_and_recovers(
    snapshot: MarketSnapshot,
) -> None:
    schedule = FaultSchedule(["raise"])
    primary = FaultyChatModel(inner=scripted(answer()), schedule=schedule)
    backup = scripted(answer("SELL", 0.2))
    clock = ManualClock()
    with Sun(
        "anthropic:m",
        checkpoint="none",
        models=ModelConfig(
            chat_model=primary,
            backup_models=[("openai:b", backup)],
            chain_policy=fast_policy(),
            clock=clock,
        ),
    ) as sun:
        first = sun.decide(snapshot)
        assert first.fallback_level == "backup-1" and first.action == "SELL"
        assert "ConnectionError" in (first.attempts[0].error or "")
        assert "after 2 tries" in (first.attempts[0].error or "")
        sun.decide(snapshot)
        assert sun.health()["models"]["primary"]["breaker"]["state"] == "open"
        third = sun.decide(snapshot)
        assert "circuit open" in (third.attempts[0].error or "")
        calls_while_open = schedule.calls
        schedule.force("ok")
        clock.advance(0.25)
        recovered = sun.decide(snapshot)
        assert schedule.calls == calls_while_open + 1
        assert recovered.fallback_level == "primary" and recovered.action == "BUY"
        health = sun.health()
    assert health["models"]["primary"]["breaker"]["state"] == "closed"
    moves = [(e["from"], e["to"]) for e in health["events"] if e["event"] == "breaker"]
    assert moves == [("closed", "open"), ("open", "half_open"), ("half_open", "closed")]
    assert health["models"]["primary"]["heartbeat"]["last_ok"] is True
    assert set(health["planets"]) >= {"technical", "risk"}


def test_every_model_down_the_council_decides(snapshot: MarketSnapshot) -> None:
    with Sun(
        "anthropic:m",
        checkpoint="none",
        models=ModelConfig(
            chat_model=scripted(ConnectionError("down")),
            backup_models=[("openai:b", scripted(HttpStatusError(503, "down")))],
            chain_policy=fast_policy(max_retries=0),
        ),
    ) as sun:
        decision = sun.decide(snapshot)
    assert decision.reasoner == "council" and decision.fallback_level == "council"
    assert decision.rationale.startswith("[council]")
    assert [a.level.split(":")[0] for a in decision.attempts] == ["primary", "backup-1", "council"]
    assert [a.ok for a in decision.attempts] == [False, False, True]


def test_hung_primary_is_bounded_by_its_timeout(snapshot: MarketSnapshot) -> None:
    primary = FaultyChatModel(
        inner=scripted(answer()), schedule=FaultSchedule(["hang"]), hang_s=6.0
    )
    policy = fast_policy(timeout_s=0.2, max_retries=0)
    with Sun(
        "anthropic:m",
        checkpoint="none",
        models=ModelConfig(
            chat_model=primary,
            backup_models=[("openai:b", scripted(answer("SELL", 0.2)))],
            chain_policy=policy,
        ),
    ) as sun:
        started = time.perf_counter()
        decision = sun.decide(snapshot)
        elapsed = time.perf_counter() - started
    assert decision.fallback_level == "backup-1"
    assert "CallTimeout" in (decision.attempts[0].error or "")
    assert elapsed < 3.0  # bounded by the 0.2 s timeout, far below the 6 s hang


def test_level_budget_caps_retries_of_a_hung_call(snapshot: MarketSnapshot) -> None:
    primary = FaultyChatModel(
        inner=scripted(answer()), schedule=FaultSchedule(["hang"]), hang_s=6.0
    )
    policy = fast_policy(timeout_s=0.2, max_retries=5, budget_s=0.3)
    with Sun(
        "anthropic:m",
        checkpoint="none",
        models=ModelConfig(chat_model=primary, chain_policy=policy),
    ) as sun:
        started = time.perf_counter()
        decision = sun.decide(snapshot)
        elapsed = time.perf_counter() - started
    assert decision.fallback_level in ("council", "hold")
    assert elapsed < 3.0  # six 0.2 s tries would exceed the 0.3 s budget; one 6 s hang too


def test_slow_primary_is_shed_first_and_comes_back_after_cool_down(
    snapshot: MarketSnapshot,
) -> None:
    slow = FaultyChatModel(inner=scripted(answer()), schedule=FaultSchedule(["slow"]), hang_s=0.06)
    policy = fast_policy(
        timeout_s=1.0, latency_budget_ms=30.0, shed_min_samples=2, shed_cooldown_s=0.3
    )
    events: list[dict[str, object]] = []
    clock = ManualClock()
    with Sun(
        "anthropic:m",
        checkpoint="none",
        models=ModelConfig(
            chat_model=slow,
            backup_models=[("openai:b", scripted(answer("SELL", 0.2)))],
            chain_policy=policy,
            clock=clock,
        ),
        hooks=SunHooks(health_listener=events.append),
    ) as sun:
        levels = [sun.decide(snapshot).fallback_level for _ in range(2)]
        shed = sun.decide(snapshot)
        assert sun.health()["models"]["primary"]["shed"] is True
        clock.advance(0.35)
        back = sun.decide(snapshot)
    assert levels == ["primary", "primary"]
    assert shed.fallback_level == "backup-1"
    assert (shed.attempts[0].error or "").startswith("shed: recent p95")
    assert back.fallback_level == "primary"
    assert any(e["event"] == "shed" for e in events)


def test_backup_models_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "HELIARCH_BACKUP_MODELS",
        "openai-compatible:qwen@http://127.0.0.1:9/v1, ollama:llama3@http://127.0.0.1:9",
    )
    with Sun("openai-compatible:main@http://127.0.0.1:9/v1", checkpoint="none") as sun:
        chain = sun.context.chain
        assert chain is not None
        assert [level.name for level in chain.levels] == ["primary", "backup-1", "backup-2"]
        assert chain.levels[2].label == "ollama:llama3@http://127.0.0.1:9"
    with Sun("quant", checkpoint="none") as sun:
        assert sun.context.chain is None  # no LLM primary: quant decides, no chain


def test_quant_only_sun_keeps_the_quant_level(snapshot: MarketSnapshot) -> None:
    with Sun("quant", checkpoint="none") as sun:
        decision = sun.decide(snapshot)
        health = sun.health()
    assert decision.fallback_level == "quant" and health["models"] == {}
    assert health["planets"]["risk"]["status"] == "ok"


def test_backup_models_setting_splits_and_trims_specs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HELIARCH_BACKUP_MODELS", " openai:gpt-4o-mini ,, local ")
    assert load_settings().backup_models == ["openai:gpt-4o-mini", "local"]
    monkeypatch.setenv("HELIARCH_BACKUP_MODELS", "")
    assert load_settings().backup_models == []
    assert load_settings(backup_models=["quant"]).backup_models == ["quant"]
