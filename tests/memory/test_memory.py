"""Memory: situation vectors, ChromaDB round trip across a restart, recall without look-ahead."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from bus import MoonPanel
from memory import (
    DIM,
    Lesson,
    Outcome,
    RecallWeights,
    UniversalMemory,
    situation_features,
    situation_vector,
)

ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2010, 1, 4)
BASE = {
    "close": 100.0, "sma": 98.0, "ema": 99.0, "rsi": 60.0, "macd_hist": 0.5, "bb_pctb": 0.7,
    "atr": 2.0, "realized_vol": 0.3, "ret_z": 0.5, "max_drawdown": 0.1, "var95": 0.02,
    "sharpe": 1.0, "volume_z": 0.2,
}  # fmt: skip


def moons_with(**changes: float) -> dict[str, float]:
    return {**BASE, **changes}


def outcome(end: datetime, ret: float, target: float = 0.5, bars: int = 5) -> Outcome:
    return Outcome(end, bars, ret, target * ret, target * ret - ret, target)


def store(memory: UniversalMemory, day: int, moons: dict[str, float], ret: float, bars: int = 5):
    situation = memory.situation(
        "GOOG", T0 + timedelta(days=day), action="BUY", target_position=0.5, confidence=0.6,
        regime="up/calm", moons=moons,
    )  # fmt: skip
    memory.remember_decision(situation)
    memory.remember_outcome(
        situation, outcome(T0 + timedelta(days=day + bars), ret, bars=bars), var95=0.02
    )
    return situation


def test_situation_vector_is_deterministic_normalized_and_scale_free() -> None:
    v = situation_vector(BASE)
    assert v is not None and v.shape == (DIM,) and v.dtype == np.float32
    assert np.linalg.norm(v) == pytest.approx(1.0, abs=1e-6)
    assert situation_vector(dict(BASE)).tobytes() == v.tobytes()
    # prices x10 (close, sma, ema, atr, macd_hist scale together): same market state
    scaled = {**BASE, **{k: BASE[k] * 10 for k in ("close", "sma", "ema", "atr", "macd_hist")}}
    np.testing.assert_allclose(situation_vector(scaled), v, atol=1e-6)
    features = situation_features(BASE)
    assert features is not None and features["rsi"] == pytest.approx(0.2)
    assert situation_vector({**BASE, "var95": float("nan")}) is None  # warming up: no vector


def test_recall_ranks_similar_states_and_never_returns_unfinished_outcomes(tmp_path: Path) -> None:
    memory = UniversalMemory(tmp_path)
    store(memory, 0, moons_with(rsi=62.0), 0.03)  # similar, horizon ends day 5
    store(memory, 1, moons_with(rsi=20.0, bb_pctb=-0.2, ret_z=-2.5), -0.04)  # dissimilar
    store(memory, 10, moons_with(rsi=61.0), 0.01)  # similar, horizon ends day 15
    query_day = T0 + timedelta(days=12)
    recalled = memory.recall("GOOG", BASE, query_day, k=5)
    assert [r.as_of.day for r in recalled] == [4, 5]  # day-10 outcome completes only on day 15
    assert recalled[0].similarity > recalled[1].similarity
    assert recalled[0].outcome.realized_return == pytest.approx(0.03)
    # the horizon end itself is visible (the label was written on that bar)
    at_end = memory.recall("GOOG", BASE, T0 + timedelta(days=15), k=5)
    assert {r.as_of.day for r in at_end} == {4, 5, 14}
    assert memory.recall("GOOG", BASE, T0 + timedelta(days=4), k=5) == []
    assert memory.recall("EURUSD", BASE, query_day, k=5) == []


def test_recency_and_importance_break_ties(tmp_path: Path) -> None:
    memory = UniversalMemory(
        tmp_path, weights=RecallWeights(recency=0.5, importance=0.0, half_life=timedelta(days=10))
    )
    store(memory, 0, BASE, 0.01)
    store(memory, 20, BASE, 0.01)
    recalled = memory.recall("GOOG", BASE, T0 + timedelta(days=40), k=2)
    assert [r.as_of.day for r in recalled] == [24, 4]  # same state: the newer outcome first
    assert recalled[0].recency == pytest.approx(2 ** (-15 / 10))
    memory2 = UniversalMemory(tmp_path / "b", weights=RecallWeights(recency=0.0, importance=1.0))
    store(memory2, 0, BASE, 0.10)
    store(memory2, 20, BASE, 0.001)
    assert memory2.recall("GOOG", BASE, T0 + timedelta(days=40), k=1)[0].as_of.day == 4


def test_recaller_formats_within_the_char_budget(tmp_path: Path) -> None:
    memory = UniversalMemory(tmp_path)
    for day in range(0, 40, 2):
        store(memory, day, moons_with(rsi=55.0 + day / 4), 0.01 * (day % 3 - 1))
    memory.learn(Lesson("GOOG up/calm: momentum was right 60% of the time", T0 + timedelta(days=30),
                        "GOOG", "up/calm"))  # fmt: skip
    memory.learn(Lesson("GOOG future lesson", T0 + timedelta(days=400), "GOOG", "up/calm"))
    panel = MoonPanel(as_of=T0 + timedelta(days=60), values={"GOOG": BASE})
    lines = memory.recaller(k=3, char_budget=1000)("GOOG", panel)
    assert len(lines) == 4 and lines[-1].startswith("lesson (2010-02-03)")
    assert "5-bar return" in lines[0] and "alpha" in lines[0]
    assert all("future" not in line for line in lines)
    tight = memory.recaller(k=3, char_budget=120)("GOOG", panel)
    assert sum(len(line) + 2 for line in tight) <= 120 + 2


@pytest.mark.parametrize("backend", ["embedded", "server"])
def test_round_trip_survives_a_process_restart(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """Written by another process, read back after it exited: from the embedded store, or
    from a real Chroma server (``chroma run``) that is itself restarted in between."""
    server = request.getfixturevalue("chroma_server") if backend == "server" else None
    where = {"url": server.url} if server is not None else {"path": str(tmp_path)}
    writer = f"""
import sys; sys.path.insert(0, {str(ROOT)!r})
from datetime import datetime, timedelta
from memory import UniversalMemory, Outcome, Lesson
m = UniversalMemory(**{where!r}, episode="run-1")
base = {BASE!r}
for day in range(30):
    moons = dict(base, rsi=40.0 + day)
    s = m.situation("GOOG", datetime(2010, 1, 4) + timedelta(days=day), action="BUY",
                    target_position=0.5, confidence=0.6, regime="up/calm", moons=moons)
    m.remember_decision(s)
    end = datetime(2010, 1, 4) + timedelta(days=day + 5)
    m.remember_outcome(s, Outcome(end, 5, 0.001 * day, 0.0005 * day, -0.0005 * day, 0.5))
m.learn(Lesson("GOOG lesson", datetime(2010, 2, 1), "GOOG", "up/calm"))
m.close()
"""
    subprocess.run([sys.executable, "-c", writer], check=True, timeout=120)
    if server is not None:
        server.restart()
    similarity_only = RecallWeights(recency=0.0, importance=0.0)
    memory = UniversalMemory(**where, episode="run-1", weights=similarity_only)
    assert len(memory.long_term) == 30 and len(memory.semantic) == 1
    recalled = memory.recall("GOOG", {**BASE, "rsi": 50.0}, datetime(2010, 6, 1), k=1)
    assert recalled[0].as_of == datetime(2010, 1, 14)
    assert recalled[0].outcome.realized_return == pytest.approx(0.01)
    episode = memory.episodic.episode("run-1")
    assert [e["kind"] for e in episode[:2]] == ["decision", "outcome"] and len(episode) == 60
    # the ChromaDB index answers the same query (approximate search + metadata filter)
    vector = situation_vector({**BASE, "rsi": 50.0})
    via_chroma = memory.long_term.recall_chroma(
        vector, datetime(2010, 6, 1), k=1, weights=similarity_only
    )
    assert via_chroma[0].key == recalled[0].key
    assert json.loads(json.dumps(episode[0]))["action"] == "BUY"


def test_best_episodes_rank_by_importance_and_never_show_unfinished_outcomes(
    tmp_path: Path,
) -> None:
    memory = UniversalMemory(tmp_path)
    for day, ret in enumerate([0.001, 0.05, -0.08, 0.002]):
        store(memory, day, moons_with(rsi=50.0 + day), ret)
    store(memory, 40, moons_with(rsi=45.0), 0.30)  # the largest move, labelled later
    as_of = T0 + timedelta(days=20)
    best = memory.best_episodes(as_of, k=2, instrument="GOOG")
    assert [round(b.outcome.realized_return, 3) for b in best] == [-0.08, 0.05]
    assert all(b.outcome.horizon_end <= as_of for b in best)
    assert "fell 8.0% over 5 bars, SELL was right" in best[0].example()
    later = memory.best_episodes(T0 + timedelta(days=60), k=1)
    assert later[0].outcome.realized_return == pytest.approx(0.30)
    assert memory.best_episodes(as_of, k=2, instrument="EURUSD") == []
