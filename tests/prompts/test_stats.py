"""Statistics: type-I error under continuous peeking, power, confidence sequences, the engine."""

from __future__ import annotations

import numpy as np
import pytest

from bus import LlmUsage
from prompts import (
    BettingTest,
    Budget,
    Evolution,
    EvolutionConfig,
    LiveExperiment,
    PairedSequentialTest,
    PromptTemplate,
    TrialScore,
    TrialStore,
    confidence_sequence,
    decision_utility,
    fixed_horizon_trials,
    get_prompt,
    write_version,
)


def _simulate(p_cand: float, reps: int, horizon: int, seed: int) -> tuple[float, float]:
    rng = np.random.default_rng(seed)
    adopted, lengths = 0, []
    for _ in range(reps):
        test = PairedSequentialTest(alpha=0.05, bound=1.0, max_trials=horizon)
        draws = (rng.random((horizon, 2)) < [p_cand, 0.5]).astype(float)
        for cand, inc in draws:
            if test.update(cand - inc) != "continue":  # checked after EVERY trial
                break
        adopted += test.decision == "adopt"
        lengths.append(len(test.diffs))
    return adopted / reps, float(np.mean(lengths))


def test_type_one_error_is_held_under_continuous_peeking() -> None:
    false_rate, _ = _simulate(0.5, reps=300, horizon=200, seed=7)
    # alpha = 0.05; binomial sd at 300 reps is ~0.0126; 0.05 + 2 sd is a fair ceiling
    assert false_rate <= 0.075


def test_naive_peeking_would_inflate_false_wins() -> None:
    """The contrast: a z-test looked at after every trial rejects far more often than 5%."""
    rng = np.random.default_rng(3)
    wins = 0
    for _ in range(300):
        d = (rng.random(300) < 0.5).astype(float) - (rng.random(300) < 0.5).astype(float)
        n = np.arange(1, 301)
        z = np.cumsum(d) / np.sqrt(np.maximum(np.cumsum(d * d), 1.0))
        wins += bool(np.any((z > 1.645) & (n >= 10)))
    assert wins / 300 > 0.15


def test_power_and_fewer_trials_than_fixed_horizon() -> None:
    power, mean_n = _simulate(0.7, reps=150, horizon=400, seed=11)
    assert power >= 0.9
    sd = np.sqrt(0.7 * 0.3 + 0.25)
    assert mean_n < fixed_horizon_trials(0.2, sd, 0.05, min(power, 0.99))


def test_betting_test_rejects_out_of_range_and_confidence_sequence_covers() -> None:
    with pytest.raises(ValueError, match="outside"):
        BettingTest(bound=1.0).update(1.5)
    rng = np.random.default_rng(5)
    misses = 0
    for _ in range(200):
        d = rng.uniform(-1, 1, 200) + 0.1
        for t in (10, 50, 200):
            low, high = confidence_sequence(d[:t], 0.05, bound=1.1)
            misses += not (low <= 0.1 <= high)
    assert misses <= 10


class _Synthetic:
    """A prompt whose utility is +1 with probability ``p[version]``, else -1."""

    def __init__(self, p: dict[str, float], seed: int = 0) -> None:
        self.p = p
        self.rng = np.random.default_rng(seed)
        self.calls = 0

    def evaluate(self, prompt: PromptTemplate, situation: str) -> TrialScore:
        self.calls += 1
        win = self.rng.random() < self.p[prompt.version]
        return TrialScore(
            utility=1.0 if win else -1.0, valid=True, usage=LlmUsage(calls=1, prompt_tokens=50)
        )


def _candidates(n: int) -> list[PromptTemplate]:
    base = get_prompt("sun_reason")
    return [
        write_version("sun_reason", f"{base.system} Variant {i}.", base.user, parent="1",
                      origin="evolved")
        for i in range(n)
    ]  # fmt: skip


def test_evolution_adopts_the_better_variant_and_persists_everything() -> None:
    cands = _candidates(3)
    p = {"1": 0.5, cands[0].version: 0.5, cands[1].version: 0.8, cands[2].version: 0.5}
    store = TrialStore(":memory:")
    ids = [f"s{i}" for i in range(400)]
    result = Evolution(_Synthetic(p), store, EvolutionConfig(seed=1)).run(
        "sun_reason", cands, ids[:300], ids[300:]
    )
    assert result.winner == cands[1].version and result.outcome == "adopted"
    assert get_prompt("sun_reason").version == cands[1].version  # pinned
    events = store.events("sun_reason")
    assert {e.kind for e in events} == {"adopt", "reject"}
    trials = store.trials(result.run_id)
    assert len(trials) == result.trials and {t.phase for t in trials} == {"selection", "holdout"}
    assert store.runs("sun_reason")[0].winner == cands[1].version


def test_evolution_with_equal_variants_rarely_adopts() -> None:
    adopted = 0
    cands = _candidates(2)
    for rep in range(25):
        p = {"1": 0.5, cands[0].version: 0.5, cands[1].version: 0.5}
        config = EvolutionConfig(seed=rep, auto_adopt=False, max_trials=150)
        result = Evolution(_Synthetic(p, seed=rep), None, config).run(
            "sun_reason", cands, [f"s{i}" for i in range(150)], [f"h{i}" for i in range(50)]
        )
        adopted += result.winner is not None
    assert adopted <= 4


def test_budget_caps_the_run() -> None:
    cands = _candidates(1)
    config = EvolutionConfig(budget=Budget(max_calls=11))
    evaluator = _Synthetic({"1": 0.5, cands[0].version: 0.5})
    result = Evolution(evaluator, None, config).run(
        "sun_reason", cands, [f"s{i}" for i in range(100)], []
    )
    assert evaluator.calls <= 11 and "budget" in result.outcome and result.winner is None


def test_live_experiment_adopts_a_clearly_better_candidate() -> None:
    cand = _candidates(1)[0]
    store = TrialStore(":memory:")
    live = LiveExperiment("sun_reason", cand, fraction=0.3, store=store, seed=2)
    rng = np.random.default_rng(2)
    state = "continue"
    for i in range(3000):
        prompt = live.choose(f"d{i}")
        p = 0.85 if prompt.version == cand.version else 0.4
        state = live.record(f"d{i}", 1.0 if rng.random() < p else -1.0)
        if state != "continue":
            break
    assert state == "adopt" and get_prompt("sun_reason").version == cand.version
    assert store.events("sun_reason")[-1].kind == "adopt"


def test_decision_utility() -> None:
    assert decision_utility(None, 0.05, 0.02).utility == -1.0
    good = decision_utility(0.5, 0.04, 0.02)
    assert good.hit == 1.0 and good.utility == pytest.approx(1.0)
    assert decision_utility(0.0, 0.04, 0.02).utility == 0.0
    assert decision_utility(-1.0, 0.01, 0.02).utility == pytest.approx(-0.75)
