"""A live prompt experiment wired through the sun and the learning loop: a share of live
decisions uses the candidate prompt, realized outcomes are the trials, the test decides."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import BaseMessage
from langchain_core.outputs import ChatResult

from bus import BarSeries, MarketSnapshot
from learning import LearningLoop
from prompts import LiveExperiment, TrialStore, get_prompt, write_version
from sun import ModelConfig, Sun, SunHooks
from sun.llm import LlmResponseCache
from sun.replay import record, replay
from sun.testing import ScriptedChatModel

MARKER = "Follow the trend."


class TrendOnCue(ScriptedChatModel):
    """Stands in for a remote model: BUY when the prompt carries the candidate's cue, else
    SELL. On GOOG's 2005-2007 rise the candidate prompt is therefore truly better."""

    def _generate(
        self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kw: Any
    ) -> ChatResult:
        cued = MARKER in str(messages[0].content)
        action = "BUY" if cued else "SELL"
        self.script = [json.dumps({"action": action, "size": 0.5, "confidence": 0.6,
                                   "rationale": "cue: technical up" if cued else "no cue: technical down"})]  # fmt: skip
        return super()._generate(messages, stop, run_manager, **kw)


@pytest.fixture
def prompt_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "prompts"
    monkeypatch.setenv("HELIARCH_PROMPTS_DIR", str(directory))
    return directory


def test_live_decisions_are_the_trials_and_outcomes_decide(
    prompt_dir: Path, tmp_path: Path, goog: BarSeries
) -> None:
    base = get_prompt("sun_reason")
    candidate = write_version(
        "sun_reason", f"{base.system} {MARKER}", base.user, parent=base.version, origin="evolved"
    )
    store = TrialStore(str(tmp_path / "trials.sqlite"))
    experiment = LiveExperiment("sun_reason", candidate, fraction=0.5, store=store, seed=3)
    loop = LearningLoop(horizon=5, prompt_experiment=experiment)
    model = TrendOnCue(script=["unused"], prompts=[])
    stamps = [t.astype("datetime64[us]").item() for t in goog.timestamps]
    start = next(i for i, t in enumerate(stamps) if t.year == 2005)
    decisions = []
    journal, cache = tmp_path / "journal.jsonl", LlmResponseCache()
    with (
        Sun(
            "openai:gpt-test",
            checkpoint="none",
            models=ModelConfig(chat_model=model, prompt_experiment=experiment, llm_cache=cache),
            hooks=SunHooks(sinks=[loop.sink]),
        ) as sun,
        record(sun, journal, llm_cache=cache) as recorder,
    ):
        for i in range(start, start + 600):
            loop.on_bar("GOOG", stamps[i], float(goog.close[i]))
            decisions.append(recorder.decide(MarketSnapshot.at(stamps[i], {"GOOG": goog})))

    reasoned = [d for d in decisions if d.prompt is not None and d.fallback_level == "primary"]
    assert len(reasoned) > 300
    for decision in reasoned:  # the recorded version is the prompt the model actually saw
        assert decision.prompt is not None
        cued = decision.rationale.startswith("cue")
        assert (decision.prompt.version == candidate.version) == cued, decision.rationale
    assert experiment.decision == "adopt"
    run = store.runs("sun_reason")[0]
    trials = store.trials(run.run_id)
    assert {t.variant for t in trials} == {"candidate", "incumbent"}
    assert len(trials) == experiment.seq < len(reasoned)
    assert get_prompt("sun_reason").version == candidate.version  # adopted: pinned
    assert decisions[-1].prompt is not None
    assert decisions[-1].prompt.version == candidate.version  # and used from then on
    replayed = replay(journal)  # each decision re-run with the prompt version it used
    assert replayed.ok and replayed.replayed == 600, replayed.to_dict()


def test_a_live_experiment_needs_an_llm_sun(prompt_dir: Path) -> None:
    base = get_prompt("sun_reason")
    candidate = write_version(
        "sun_reason", f"{base.system} {MARKER}", base.user, parent=base.version, origin="evolved"
    )
    with pytest.raises(ValueError, match="needs an LLM sun model"):
        Sun(
            "quant",
            checkpoint="none",
            models=ModelConfig(prompt_experiment=LiveExperiment("sun_reason", candidate)),
        )
