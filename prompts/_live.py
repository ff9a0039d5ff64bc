"""Live prompt experiments: the evolution statistics on live decisions."""

from __future__ import annotations

import random
from pathlib import Path

from prompts._registry import PromptTemplate, get_prompt
from prompts._stats import PairedSequentialTest
from prompts._store import TrialStore
from prompts._versions import pin_prompt


class LiveExperiment:
    """The same statistics on live decisions: a fraction uses the candidate, outcomes decide.

    Each live decision is randomly assigned (probability ``fraction`` to the candidate). When its
    outcome is labelled, the inverse-probability-weighted difference ``z = u / f`` (candidate)
    or ``z = -u / (1 - f)`` (incumbent) has mean ``E[u_cand] - E[u_inc]`` and is bounded by
    ``1 / min(f, 1 - f)``, so the same always-valid betting test applies.

    Args:
        name: Prompt name.
        candidate: Candidate version under test.
        fraction: Share of live decisions that use the candidate.
        alpha: False-adoption rate.
        max_trials: Labelled outcomes after which the experiment stops without a winner.
        store: Persistence (``None``: nothing stored).
        auto_adopt: Pin the candidate when it wins.
        seed: Seed of the assignment.
        directory: Template directory.
    """

    def __init__(
        self,
        name: str,
        candidate: PromptTemplate,
        *,
        fraction: float = 0.1,
        alpha: float = 0.05,
        max_trials: int = 2000,
        store: TrialStore | None = None,
        auto_adopt: bool = True,
        seed: int = 0,
        directory: Path | None = None,
    ) -> None:
        if not 0.0 < fraction < 1.0:
            raise ValueError(f"fraction must be in (0, 1), got {fraction}")
        self.name = name
        self.incumbent = get_prompt(name, directory=directory)
        self.candidate = candidate
        self.fraction = fraction
        self.auto_adopt = auto_adopt
        self.directory = directory
        self.store = store
        self.rng = random.Random(seed)
        self.test = PairedSequentialTest(
            alpha=alpha, bound=1.0 / min(fraction, 1.0 - fraction), max_trials=max_trials
        )
        self.assigned: dict[str, str] = {}
        self.seq = 0
        self.run_id = (
            store.start_run(
                name,
                self.incumbent.version,
                "live",
                {"candidate": candidate.version, "fraction": fraction, "alpha": alpha},
            )
            if store is not None
            else None
        )

    @property
    def decision(self) -> str:
        """``adopt`` / ``reject`` / ``continue``."""
        return self.test.decision

    @staticmethod
    def key(instrument: str, as_of: str) -> str:
        """The id of one live decision (``instrument@as_of`` in ISO format)."""
        return f"{instrument}@{as_of}"

    def choose(self, decision_id: str) -> PromptTemplate:
        """The prompt for one live decision (the incumbent once the experiment has ended).

        Asking again for the same decision (e.g. a backup model level after the primary
        failed) returns the same arm, so one decision is one trial.
        """
        if self.decision != "continue":
            return get_prompt(self.name, directory=self.directory)
        arm = self.assigned.get(decision_id)
        if arm is None:
            arm = "candidate" if self.rng.random() < self.fraction else "incumbent"
            self.assigned[decision_id] = arm
        return self.candidate if arm == "candidate" else self.incumbent

    def discard(self, decision_id: str) -> None:
        """Forget an assigned decision that will never be labelled."""
        self.assigned.pop(decision_id, None)

    def record(self, decision_id: str, utility: float) -> str:
        """The labelled outcome (utility in [-1, 1]) of an assigned decision; returns the state."""
        arm = self.assigned.pop(decision_id)
        if self.decision != "continue":
            return self.decision
        u = max(-1.0, min(1.0, utility))
        z = u / self.fraction if arm == "candidate" else -u / (1.0 - self.fraction)
        decision = self.test.update(z)
        if self.store is not None and self.run_id is not None:
            self.store.add_trial(
                self.run_id,
                self.seq,
                "live",
                decision_id,
                arm,
                u if arm == "incumbent" else None,
                u if arm == "candidate" else None,
                z,
                self.test.evidence(),
            )
        self.seq += 1
        if decision != "continue":
            self._close(decision)
        return decision

    def _close(self, decision: str) -> None:
        winner = self.candidate.version if decision == "adopt" else None
        if winner is not None and self.auto_adopt:
            pin_prompt(self.name, winner, f"adopted by live run {self.run_id}", self.directory)
        if self.store is not None and self.run_id is not None:
            kind = "adopt" if winner and self.auto_adopt else ("winner" if winner else "reject")
            self.store.add_event(
                self.name, kind, self.candidate.version, f"live: {decision}",
                self.test.evidence(), self.run_id,
            )  # fmt: skip
            self.store.finish_run(
                self.run_id, "adopted" if winner else "no winner", winner, self.test.evidence()
            )
