"""What stands in for live dependencies during a replay: the recorded model levels (answers
only from the journal; a recorded failure fails again, verbatim), the recorded memory recall,
and the chain policy that reproduces recorded failures one call each."""

from __future__ import annotations

from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage
from langchain_core.outputs import ChatResult

from bus import SunDecision
from sun.llm import ReplayedFailure
from sun.resilience import BreakerConfig, ChainPolicy


class ReplayMissError(RuntimeError):
    """A replayed decision asked the LLM something the journal has no answer for."""


class RecordedFailures:
    """Per decision: the recorded error of each model level that failed (by level name)."""

    def __init__(self) -> None:
        self.by_level: dict[str, str] = {}

    def load(self, decision: SunDecision) -> None:
        self.by_level = {
            attempt.level.split(":", 1)[0]: attempt.error or "failed"
            for attempt in decision.attempts
            if not attempt.ok
        }


class ReplayChatModel(BaseChatModel):
    """Stands in for a recorded model level: every call not served from the journal fails.

    If the recorded decision says this level failed, the call fails with the recorded error
    (:class:`ReplayedFailure`, verbatim); otherwise with :class:`ReplayMissError`.
    """

    label: str = "replay"
    level: str = "primary"
    failures: Any = None
    reproduced: int = 0

    @property
    def _llm_type(self) -> str:
        return "heliarch-replay"

    def _generate(
        self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kw: Any
    ) -> ChatResult:
        recorded = self.failures.by_level.get(self.level) if self.failures else None
        if recorded is not None:
            self.reproduced += 1
            raise ReplayedFailure(recorded)
        raise ReplayMissError(f"no journaled answer of {self.label} for this prompt")


class ReplayConfigError(ValueError):
    """The replaying sun cannot be built like the recorded one (e.g. other planets)."""


REPLAY_POLICY = ChainPolicy(
    max_retries=0,
    breaker=BreakerConfig(failure_threshold=1_000_000, min_calls=1_000_000),
    latency_budget_ms=None,
)


class RecordedRecall:
    """A recaller answering with what the recorded decision recalled."""

    def __init__(self) -> None:
        self.items: tuple[str, ...] = ()

    def __call__(self, instrument: str, panel: Any) -> list[str]:
        return list(self.items)
