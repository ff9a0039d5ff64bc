"""What a shard pool's tick gives back: its decisions and who made them
(:class:`ShardTickResult`), or why nobody could (:class:`ShardTickFailed`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from bus import SunDecision


class ShardTickFailed(RuntimeError):
    """Every live worker's ``decide`` raised on a tick: nobody is left to decide the rest.

    Attributes:
        tick: The tick id.
        missing: The instruments still undecided.
        errors: Worker -> its error.
    """

    def __init__(self, tick: str, missing: Sequence[str], errors: Mapping[str, str]) -> None:
        self.tick, self.missing, self.errors = tick, tuple(missing), dict(errors)
        said = "; ".join(f"{worker}: {error}" for worker, error in sorted(self.errors.items()))
        super().__init__(
            f"tick {tick}: every live shard worker failed, {len(self.missing)} instrument(s) "
            f"undecided ({', '.join(self.missing[:10])}): {said}"
        )


@dataclass(frozen=True)
class ShardTickResult:
    """One completed tick: a decision per instrument, who made it, and the workers that
    failed on it (their ``decide`` raised; others took their instruments over)."""

    tick: str
    as_of: datetime
    decisions: dict[str, SunDecision]
    workers: dict[str, str]
    elapsed_s: float
    failed: dict[str, str] = field(default_factory=dict)

    def by_worker(self) -> dict[str, list[str]]:
        """Instruments grouped by the worker that decided them."""
        groups: dict[str, list[str]] = {}
        for instrument, worker in self.workers.items():
            groups.setdefault(worker, []).append(instrument)
        return groups
