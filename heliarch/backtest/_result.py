"""What a backtest is asked to do (:class:`BacktestConfig`) and what it produced."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from bus import LlmUsage, to_datetime
from heliarch.backtest._metrics import Metrics


@dataclass(frozen=True)
class BacktestConfig:
    """Parameters of one walk-forward run (all recorded in the report).

    Attributes:
        model: Sun model spec (``quant``, ``local``, ``anthropic:<model>``, ...).
        learning: Update trust weights and distill lessons from outcomes (else frozen weights).
        horizon: Bars until a decision is labelled with its outcome.
        cost_bps / slippage_bps: Charged on every position change, per unit of turnover.
        start / end: Decision window (inclusive); the history before ``start`` warms up moons.
        seed: Recorded and used for every seeded component (quant runs are deterministic).
        policy: LLM policy (``auto`` skips the LLM when planets agree strongly).
        planets: ``styles`` (momentum vs mean-reversion planets, see ``planets.style_planets``) or
            ``default`` (the built-in planets).
        rebalance_band: Smallest position change that is traded.
        recall_k / recall_chars: Recalled situations per decision and their character budget.
        eta / share: Hedge learning rate and fixed-share rate.
        memory_dir: Directory of the run's memory (a fresh temporary one when None); it is
            wiped at the start so a run never recalls a previous run's outcomes.
        distill_every: Distill lessons after this many labelled outcomes.
        lesson_min_count: Labelled outcomes a regime needs before a lesson is written on it.
    """

    model: str = "quant"
    learning: bool = True
    horizon: int = 5
    cost_bps: float = 1.0
    slippage_bps: float = 1.0
    start: datetime | None = None
    end: datetime | None = None
    seed: int = 0
    policy: str = "auto"
    planets: str = "styles"
    rebalance_band: float = 0.05
    recall_k: int = 3
    recall_chars: int = 600
    eta: float = 0.05
    share: float = 0.01
    memory_dir: Path | None = None
    distill_every: int = 250
    lesson_min_count: int = 30


@dataclass
class BacktestResult:
    """Everything a run produced."""

    instrument: str
    config: BacktestConfig
    timestamps: np.ndarray
    equity: dict[str, np.ndarray]
    positions: dict[str, np.ndarray]
    metrics: dict[str, Metrics]
    decisions: int
    llm_usage: LlmUsage
    moon_cache_hits: int
    moon_cache_misses: int
    elapsed_s: float
    periods_per_year: float
    learning: dict[str, Any] = field(default_factory=dict)
    reasoners: dict[str, int] = field(default_factory=dict)
    memories: int = 0
    usage_by_model: dict[str, LlmUsage] = field(default_factory=dict)

    def report(self) -> dict[str, Any]:
        """The JSON report."""
        config = {
            k: (v.isoformat() if isinstance(v, datetime) else str(v) if isinstance(v, Path) else v)
            for k, v in asdict(self.config).items()
        }
        return {
            "instrument": self.instrument,
            "config": config,
            "window": {
                "start": str(to_datetime(self.timestamps[0])),
                "end": str(to_datetime(self.timestamps[-1])),
                "bars": len(self.timestamps),
                "periods_per_year": round(self.periods_per_year, 3),
            },
            "metrics": {name: m.as_dict() for name, m in self.metrics.items()},
            "decisions": self.decisions,
            "reasoners": self.reasoners,
            "llm": {
                "calls": self.llm_usage.calls,
                "cache_hits": self.llm_usage.cache_hits,
                "prompt_tokens": self.llm_usage.prompt_tokens,
                "completion_tokens": self.llm_usage.completion_tokens,
                "calls_per_decision": round(self.llm_usage.calls / max(1, self.decisions), 4),
                "cost_usd": round(self.llm_usage.cost_usd, 6),
                "cost_per_decision_usd": round(self.llm_usage.cost_usd / max(1, self.decisions), 8),
                "cache_saved_usd": round(self.llm_usage.cache_saved_usd, 6),
            },
            "llm_by_model": {
                model: usage_summary(usage) for model, usage in sorted(self.usage_by_model.items())
            },
            "moon_cache": {"hits": self.moon_cache_hits, "misses": self.moon_cache_misses},
            "memories": self.memories,
            "learning": self.learning,
            "elapsed_s": round(self.elapsed_s, 3),
        }


def usage_summary(usage: LlmUsage) -> dict[str, Any]:
    """LLM calls, tokens, cache hits and dollars of ``usage``, rounded for a report."""
    return {
        "calls": usage.calls,
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "cache_hits": usage.cache_hits,
        "cost_usd": round(usage.cost_usd, 6),
        "cache_saved_usd": round(usage.cache_saved_usd, 6),
    }
