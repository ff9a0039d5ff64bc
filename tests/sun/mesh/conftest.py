"""Priced scripted models (standing in for remote APIs) and a GOOG snapshot for mesh tests."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from bus import BarSeries, MarketSnapshot
from sun.llm import ModelInfo, ModelRegistry
from sun.testing import ScriptedChatModel

QUICK = ModelInfo(
    context_window=128_000, input_usd_per_mtok=0.15, output_usd_per_mtok=0.6, latency_ms=600.0
)
DEEP = ModelInfo(
    context_window=200_000, input_usd_per_mtok=3.0, output_usd_per_mtok=15.0, latency_ms=2500.0
)


def answer(action: str = "BUY", size: float = 0.1, confidence: float = 0.8) -> str:
    """A valid LlmAnswer as the model would write it."""
    return json.dumps(
        {
            "action": action,
            "size": size,
            "confidence": confidence,
            "rationale": "technical trend is up",
        }
    )


def scripted(*answers: object, prompt: int = 1500, completion: int = 150) -> ScriptedChatModel:
    """A scripted chat model reporting ``prompt``/``completion`` tokens per call."""
    return ScriptedChatModel(
        script=list(answers) or [answer()], input_tokens=prompt, output_tokens=completion
    )


@pytest.fixture
def registry() -> ModelRegistry:
    """The defaults plus the two test models."""
    return ModelRegistry.default().with_models({"test:quick": QUICK, "test:deep": DEEP})


@pytest.fixture
def snapshot(goog: BarSeries) -> MarketSnapshot:
    """GOOG as of 2012-06-01."""
    return MarketSnapshot.at(datetime(2012, 6, 1), {"GOOG": goog})
