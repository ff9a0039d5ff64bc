"""Walk-forward backtest of the sun on real bars, with memory, learning and baselines.

At every bar ``t`` of the window, in this order:

1. the learning loop observes bar ``t`` (labels decisions whose horizon ends at ``t``);
2. ``MarketSnapshot.at(t, history)`` cuts the history at ``t`` and the sun decides (its recall
   node asks memory; its sink queues the decision for labelling);
3. the decision's target position is held over bar ``t + 1``: P&L at ``t + 1`` is
   ``position[t] * (close[t+1] / close[t] - 1)``, minus costs on the position change made at
   ``t`` (``|position[t] - position[t-1]| * (cost_bps + slippage_bps) / 1e4``). A target that
   differs from the held position by less than ``rebalance_band`` is not traded (going flat is
   always traded).

Baselines over the same window and with the same costs: buy-and-hold (long 1 from the first
bar) and an SMA 50/200 crossover (long when SMA50 > SMA200 at ``t``, flat otherwise).
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

import moons
from bus import BarSeries, LlmUsage, MarketSnapshot
from bus._bars import to_datetime
from learning import HedgeTrust, LearningLoop, LlmDistiller, QuantDistiller
from memory import UniversalMemory
from planets import default_planets
from sun._backtest_metrics import (
    BUY_AND_HOLD,
    SMA_CROSS,
    STRATEGY,
    Metrics,
    compute_metrics,
    equity_from_positions,
    sma_cross_positions,
    years_between,
)
from sun._backtest_planets import StyleRouting, style_planets
from sun._backtest_plot import plot_equity

__all__ = [
    "BUY_AND_HOLD",
    "SMA_CROSS",
    "STRATEGY",
    "BacktestConfig",
    "BacktestResult",
    "Metrics",
    "compute_metrics",
    "equity_from_positions",
    "plot_equity",
    "run_backtest",
    "sma_cross_positions",
    "years_between",
]


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
        planets: ``styles`` (momentum vs mean-reversion planets, see ``_backtest_planets``) or
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
            },
            "moon_cache": {"hits": self.moon_cache_hits, "misses": self.moon_cache_misses},
            "memories": self.memories,
            "learning": self.learning,
            "elapsed_s": round(self.elapsed_s, 3),
        }


# -- the walk-forward -------------------------------------------------------------------------


def _window(series: BarSeries, start: datetime | None, end: datetime | None) -> tuple[int, int]:
    stamps = series.timestamps
    i0 = 0 if start is None else int(np.searchsorted(stamps, np.datetime64(start), "left"))
    i1 = len(series) - 1
    if end is not None:
        i1 = int(np.searchsorted(stamps, np.datetime64(end), "right")) - 1
    if i1 - i0 < 2:
        raise ValueError(
            f"the window {start} .. {end} holds fewer than 3 bars of {series.instrument}"
        )
    return i0, i1


def run_backtest(
    series: BarSeries,
    config: BacktestConfig | None = None,
    *,
    chat_model: Any = None,
    on_step: Callable[[int, int], None] | None = None,
    capture: list[Any] | None = None,
) -> BacktestResult:
    """Walk the sun forward over ``series`` (see the module docstring).

    Args:
        series: The instrument's full history (only the prefix up to each bar is shown).
        config: Run parameters.
        chat_model: A LangChain chat model to use as the sun's LLM (tests, custom clients).
        on_step: Progress callback ``(done, total)``.
        capture: If given, every ``SunDecision`` is appended to it.
    """
    from sun._sun import Sun

    config = config or BacktestConfig()
    started = time.perf_counter()
    instrument = series.instrument
    i0, i1 = _window(series, config.start, config.end)
    total = i1 - i0 + 1
    stamps = series.timestamps
    years = years_between(stamps[i0], stamps[i1])
    per_year = (i1 - i0) / years if years > 0 else 252.0
    temp_dir = None
    memory_dir = config.memory_dir
    if memory_dir is None:
        temp_dir = tempfile.mkdtemp(prefix="heliarch-backtest-")
        memory_dir = Path(temp_dir)
    else:
        shutil.rmtree(memory_dir, ignore_errors=True)
    try:
        memory = UniversalMemory(memory_dir, episode=f"backtest-{instrument}-seed{config.seed}")
        planets = style_planets() if config.planets == "styles" else default_planets()
        directional = [name for name, p in planets.items() if p.directional]
        loop = LearningLoop(
            memory,
            horizon=config.horizon,
            enabled=config.learning,
            trust=HedgeTrust(directional, eta=config.eta, share=config.share),
            distiller=QuantDistiller(config.lesson_min_count),
            distill_every=config.distill_every,
            periods_per_year=max(1, int(round(per_year))),
            panel_periods_per_year=moons.DEFAULT_PANEL.periods_per_year,
            directional=directional,
        )
        sun = Sun(
            config.model,
            planets=planets,
            llm_policy=config.policy,
            checkpoint="none",
            chat_model=chat_model,
            trust_weights=loop.weights,
            recaller=memory.recaller(k=config.recall_k, char_budget=config.recall_chars),
            sinks=[loop.sink],
            routing=StyleRouting() if config.planets == "styles" else None,
            # a small private moon cache: walk-forward prefixes never repeat within a run
            moon_cache=moons.MoonCache(moons.LruBackend(8)),
        )
        distill_model = chat_model if chat_model is not None else _sun_chat_model(sun)
        if distill_model is not None:
            loop.distiller = LlmDistiller(
                distill_model, label=sun.model_spec, min_count=config.lesson_min_count
            )
        positions = np.zeros(total)
        held = 0.0
        usage = LlmUsage()
        reasoners: dict[str, int] = {}
        history = {instrument: series}
        with sun:
            for step, i in enumerate(range(i0, i1 + 1)):
                moment = to_datetime(stamps[i])
                loop.on_bar(instrument, moment, float(series.close[i]))
                snapshot = MarketSnapshot.at(moment, history)
                decision = sun.decide(snapshot, position=held)
                if capture is not None:
                    capture.append(decision)
                usage = usage + decision.llm_usage
                reasoners[decision.fallback_level] = reasoners.get(decision.fallback_level, 0) + 1
                target = decision.target_position
                if target == 0.0 or abs(target - held) >= config.rebalance_band:
                    held = target
                positions[step] = held
                if on_step is not None:
                    on_step(step + 1, total)
        memory.flush()
        close = np.asarray(series.close[i0 : i1 + 1])
        pos = {
            STRATEGY: positions,
            BUY_AND_HOLD: np.ones(total),
            SMA_CROSS: sma_cross_positions(series.close[: i1 + 1], i0),
        }
        equity, metrics = {}, {}
        for name, p in pos.items():
            net, curve = equity_from_positions(close, p, config.cost_bps, config.slippage_bps)
            equity[name] = curve
            metrics[name] = compute_metrics(net, p, close, years)
        learning_summary = dict(loop.summary())
        learning_summary["lessons"] = [
            {"as_of": lesson.as_of.isoformat(), "text": lesson.text}
            for lesson in memory.semantic.all()[-6:]
        ]
        return BacktestResult(
            instrument=instrument,
            config=config,
            timestamps=np.asarray(stamps[i0 : i1 + 1]),
            equity=equity,
            positions=pos,
            metrics=metrics,
            decisions=total,
            llm_usage=usage,
            moon_cache_hits=sun.runtime.cache.hits,
            moon_cache_misses=sun.runtime.cache.misses,
            elapsed_s=time.perf_counter() - started,
            periods_per_year=per_year,
            learning=learning_summary,
            reasoners=reasoners,
            memories=len(memory.long_term),
        )
    finally:
        if temp_dir is not None:
            shutil.rmtree(temp_dir, ignore_errors=True)


def _sun_chat_model(sun: Any) -> Any:
    """The sun's primary chat model, if it has one (None in quant mode).

    Looked up defensively: the runtime holds it either as ``llm`` or as the first level of a
    fallback ``chain``, wrapped in a structured-output (and possibly guard) layer.
    """
    runtime = sun.runtime
    chain = getattr(runtime, "chain", None)
    if chain is None and hasattr(runtime, "fallback_chain"):
        chain = runtime.fallback_chain()
    levels = getattr(chain, "levels", None) or []
    reasoner = levels[0].reasoner if levels else getattr(runtime, "llm", None)
    layer = getattr(reasoner, "llm", None)
    for _ in range(4):  # unwrap GuardedLLM / StructuredLLM layers down to the chat model
        if (
            layer is None
            or hasattr(layer, "invoke")
            and not hasattr(layer, "chat_model")
            and (not hasattr(layer, "inner"))
        ):
            return layer
        layer = getattr(layer, "chat_model", None) or getattr(layer, "inner", None)
    return None
