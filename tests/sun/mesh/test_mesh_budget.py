"""Budgets stop spending: zero means no calls, caps per decision / run / day, the daily cap
shared through a real Redis by concurrent workers, and fail-closed when Redis goes away."""

from __future__ import annotations

import multiprocessing
import shutil
import socket
import subprocess
import threading
import time
import uuid
from pathlib import Path

import pytest
import redis
from conftest import answer, scripted

from bus import MarketSnapshot
from sun import ModelConfig, Sun
from sun.llm import ModelRegistry
from sun.mesh import Budget, BudgetConfig, BudgetExhausted, BudgetLimits, Charge, MeshConfig, Tier


def _sun(registry: ModelRegistry, model: object, budget: BudgetConfig) -> Sun:
    mesh = MeshConfig(registry=registry, deep=Tier([("test:deep", model)]), budget=budget)
    return Sun("quant", checkpoint="none", models=ModelConfig(mesh=mesh, backup_models=[]))


def test_zero_budget_means_no_llm_calls(registry: ModelRegistry, snapshot: MarketSnapshot) -> None:
    model = scripted(answer())
    with _sun(registry, model, BudgetConfig(per_decision=BudgetLimits(calls=0))) as sun:
        decision = sun.decide(snapshot)
    assert model.calls == 0
    assert decision.fallback_level == "quant" and decision.llm_usage.calls == 0
    assert decision.rationale.startswith("[budget exhausted: per-decision calls cap 0 reached]")
    assert decision.attempts[0].level == "budget"


def test_run_budget_in_dollars_stops_spending(
    registry: ModelRegistry, snapshot: MarketSnapshot
) -> None:
    model = scripted(answer(), prompt=2000, completion=200)  # $0.009 per call
    with _sun(registry, model, BudgetConfig(per_run=BudgetLimits(usd=0.03))) as sun:
        decisions = [sun.decide(snapshot) for _ in range(6)]
    spent = sum(d.llm_usage.cost_usd for d in decisions)
    assert spent <= 0.03 and model.calls >= 2
    last = decisions[-1]
    assert last.llm_usage.calls == 0
    assert "budget exhausted: per-run usd cap 0.03 reached" in last.rationale


def test_a_repair_within_the_decision_cap(
    registry: ModelRegistry, snapshot: MarketSnapshot
) -> None:
    model = scripted("not json", answer())  # needs a repair call
    with _sun(registry, model, BudgetConfig(per_decision=BudgetLimits(calls=1))) as sun:
        decision = sun.decide(snapshot)
    assert model.calls == 1  # the repair was refused, not made
    assert decision.fallback_level in ("council", "hold")
    assert any("per-decision calls cap 1 reached" in (a.error or "") for a in decision.attempts)


@pytest.mark.parametrize("shared", [True, False])
def test_day_rolls_over_with_the_clock(shared: bool, request: pytest.FixtureRequest) -> None:
    now = [1_700_000_000.0]
    config = BudgetConfig(
        per_day=BudgetLimits(calls=1),
        redis_url=request.getfixturevalue("redis_url") if shared else None,
        key_prefix=f"test:{uuid.uuid4().hex}",
        clock=lambda: now[0],
    )
    budget = Budget(config)
    with budget.decision() as scope:
        scope.reserve(Charge(calls=1))
        with pytest.raises(BudgetExhausted, match="per-day calls cap 1"):
            scope.reserve(Charge(calls=1))
    now[0] += 86_400
    with budget.decision() as scope:
        assert scope.exhausted() is None
        scope.reserve(Charge(calls=1))


def _worker(url: str, prefix: str, cap: float, rounds: int, out: multiprocessing.Queue) -> None:
    budget = Budget(BudgetConfig(per_day=BudgetLimits(usd=cap), redis_url=url, key_prefix=prefix))
    made = 0
    for _ in range(rounds):
        with budget.decision() as scope:
            try:
                reservation = scope.reserve(Charge(calls=1, tokens=1000, usd=0.01))
            except BudgetExhausted:
                continue
            scope.settle(reservation, Charge(calls=1, tokens=700, usd=0.007))
            made += 1
    out.put(made)


def test_four_processes_share_the_daily_budget_without_overrun(redis_url: str) -> None:
    prefix = f"test:{uuid.uuid4().hex}"
    out: multiprocessing.Queue = multiprocessing.Queue()
    workers = [
        multiprocessing.Process(target=_worker, args=(redis_url, prefix, 0.5, 60, out))
        for _ in range(4)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    made = sum(out.get(timeout=5) for _ in workers)
    ledger = Budget(BudgetConfig(redis_url=redis_url, key_prefix=prefix)).day_ledger.spent()
    assert ledger.usd <= 0.5 + 1e-9
    assert ledger.calls == made and ledger.usd == pytest.approx(made * 0.007)
    assert made >= 0.5 // 0.01  # the cap was used, not refused early


def test_concurrent_suns_share_a_daily_call_cap(
    redis_url: str, registry: ModelRegistry, snapshot: MarketSnapshot
) -> None:
    config = BudgetConfig(
        per_day=BudgetLimits(calls=10), redis_url=redis_url, key_prefix=f"test:{uuid.uuid4().hex}"
    )
    models = [scripted(answer()) for _ in range(4)]
    suns = [_sun(registry, model, config) for model in models]
    exhausted: list[bool] = []

    def decide(sun: Sun) -> None:
        for _ in range(5):
            exhausted.append("budget exhausted" in sun.decide(snapshot).rationale)

    threads = [threading.Thread(target=decide, args=(sun,)) for sun in suns]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    for sun in suns:
        sun.close()
    assert sum(model.calls for model in models) == 10
    assert sum(exhausted) == 10


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start_redis(port: int, workdir: Path) -> subprocess.Popen[bytes]:
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("redis-server is needed to stop and restart a real Redis")
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--save", "", "--appendonly", "no", "--dir", str(workdir)],
        stdout=subprocess.DEVNULL,
    )
    client = redis.Redis(port=port)
    for _ in range(200):
        try:
            client.ping()
            return proc
        except redis.ConnectionError:
            time.sleep(0.02)
    proc.kill()
    pytest.fail("redis-server did not start")


def test_redis_gone_mid_run_fails_closed_then_recovers(
    registry: ModelRegistry, snapshot: MarketSnapshot, tmp_path: Path
) -> None:
    port = _free_port()
    server = _start_redis(port, tmp_path)
    model = scripted(answer())
    config = BudgetConfig(per_day=BudgetLimits(usd=10.0), redis_url=f"redis://127.0.0.1:{port}/0")
    try:
        with _sun(registry, model, config) as sun:
            assert sun.decide(snapshot).llm_usage.calls == 1
            server.terminate()
            server.wait(10)
            down = sun.decide(snapshot)
            assert model.calls == 1 and down.llm_usage.calls == 0
            assert "budget exhausted: day ledger unavailable" in down.rationale
            server = _start_redis(port, tmp_path)
            assert sun.decide(snapshot).llm_usage.calls == 1
    finally:
        server.terminate()
        server.wait(10)
