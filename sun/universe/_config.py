"""Settings of universe decisions (frozen)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class UniverseConfig:
    """How ``Sun.decide_universe`` treats a universe.

    Attributes:
        llm_concurrency: At most this many LLM reasoning calls in flight at once (only the
            instruments the policy sends to the model are asked).
        gap_window: An instrument missing any of the universe's last ``gap_window`` ticks
            (the union of every instrument's recent timestamps), or without a bar at the
            last tick, has no data this tick. 0 disables the check (mixed calendars).
        check_halts: A last bar with zero volume and no range (high == low) is a halt: no
            data this tick.
        detach_limit: Rebuild the streaming moon state when more than this fraction of the
            instruments left it (gaps, revisions).
    """

    llm_concurrency: int = 4
    gap_window: int = 20
    check_halts: bool = True
    detach_limit: float = 0.1

    def __post_init__(self) -> None:
        if self.llm_concurrency < 1:
            raise ValueError(f"llm_concurrency must be >= 1, got {self.llm_concurrency}")
        if self.gap_window < 0:
            raise ValueError(f"gap_window must be >= 0, got {self.gap_window}")
        if not 0.0 <= self.detach_limit <= 1.0:
            raise ValueError(f"detach_limit must be in [0, 1], got {self.detach_limit}")
