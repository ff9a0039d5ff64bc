"""What a prompt-evolution run is set up with (:class:`EvolutionConfig`) and what it returns
(:class:`EvolutionResult`, one :class:`CandidateResult` per candidate); the run itself is
:mod:`prompts._evolution`."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from prompts._variation import Budget


@dataclass
class EvolutionConfig:
    """Settings of one run.

    Attributes:
        alpha: Run-wide false-adoption rate (split over candidates).
        max_trials: Cap on selection trials per candidate.
        auto_adopt: Pin the winner automatically; otherwise record it and leave the pin to a
            person (``heliarch prompts pin``).
        seed: Seed of situation order and Thompson sampling.
        budget: LLM call/token caps of the whole run (shared with the mutator).
    """

    alpha: float = 0.05
    max_trials: int = 200
    auto_adopt: bool = True
    seed: int = 0
    budget: Budget = field(default_factory=Budget)


@dataclass
class CandidateResult:
    """What happened to one candidate."""

    version: str
    outcome: str = "pending"
    selection: dict[str, Any] = field(default_factory=dict)
    holdout: dict[str, Any] = field(default_factory=dict)
    valid_rate: float | None = None
    mean_tokens: float | None = None


@dataclass
class EvolutionResult:
    """The outcome of a run (also persisted)."""

    run_id: str | None
    name: str
    incumbent: str
    winner: str | None
    outcome: str
    trials: int
    candidates: list[CandidateResult]
    usage: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly view."""
        return asdict(self)
