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
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

import moons
from bus import BarSeries, LlmUsage, MarketSnapshot, SunDecision, to_datetime
from heliarch.backtest._metrics import (
    BUY_AND_HOLD,
    SMA_CROSS,
    STRATEGY,
    compute_metrics,
    equity_from_positions,
    sma_cross_positions,
    years_between,
)
from heliarch.backtest._result import BacktestConfig, BacktestResult
from learning import HedgeTrust, LearningLoop, LlmDistiller, QuantDistiller
from memory import UniversalMemory
from planets import default_planets, style_planets
from sun import (
    ModelConfig,
    OrchestrationConfig,
    RoutingTree,
    StyleRouting,
    Sun,
    SunHooks,
    parse_llm_policy,
)
from sun.mesh import MeshConfig

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
    mesh: MeshConfig | None = None,
    on_step: Callable[[int, int], None] | None = None,
    on_decision: Callable[[SunDecision], None] | None = None,
    capture: list[Any] | None = None,
) -> BacktestResult:
    """Walk the sun forward over ``series`` (see the module docstring).

    Args:
        series: The instrument's full history (only the prefix up to each bar is shown).
        config: Run parameters.
        chat_model: A LangChain chat model to use as the sun's LLM (tests, custom clients).
        mesh: Model mesh (tiers, refinement, budgets; its per-run budget is this backtest's).
        on_step: Progress callback ``(done, total)``.
        on_decision: Called with every decision (e.g. to show the running LLM cost).
        capture: If given, every ``SunDecision`` is appended to it.
    """

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
        orchestration = OrchestrationConfig(
            llm_policy=parse_llm_policy(config.policy),
            trust_weights=loop.weights,
            router=StyleRouting() if config.planets == "styles" else RoutingTree(),
            # a small private moon cache: walk-forward prefixes never repeat within a run
            moon_cache=moons.MoonCache(moons.LruBackend(8)),
        )
        hooks = SunHooks(
            recaller=memory.recaller(k=config.recall_k, char_budget=config.recall_chars),
            sinks=[loop.sink],
        )
        sun = Sun(
            config.model,
            planets=planets,
            checkpoint="none",
            models=ModelConfig(chat_model=chat_model, mesh=mesh),
            orchestration=orchestration,
            hooks=hooks,
        )
        distill_model = chat_model if chat_model is not None else _sun_chat_model(sun)
        if mesh is not None:  # every mesh call is budgeted: lessons stay with the quant distiller
            distill_model = None
        if distill_model is not None:
            loop.distiller = LlmDistiller(
                distill_model, label=sun.model_spec, min_count=config.lesson_min_count
            )
        positions = np.zeros(total)
        held = 0.0
        usage = LlmUsage()
        reasoners: dict[str, int] = {}
        by_model: dict[str, LlmUsage] = {}
        history = {instrument: series}
        with sun:
            for step, i in enumerate(range(i0, i1 + 1)):
                moment = to_datetime(stamps[i])
                loop.on_bar(instrument, moment, float(series.close[i]))
                snapshot = MarketSnapshot.at(moment, history)
                decision = sun.decide(snapshot, position=held)
                if capture is not None:
                    capture.append(decision)
                if on_decision is not None:
                    on_decision(decision)
                usage = usage + decision.llm_usage
                if decision.llm_usage != LlmUsage():
                    by_model[decision.reasoner] = (
                        by_model.get(decision.reasoner, LlmUsage()) + decision.llm_usage
                    )
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
            moon_cache_hits=sun.orchestration.moon_cache.hits,
            moon_cache_misses=sun.orchestration.moon_cache.misses,
            elapsed_s=time.perf_counter() - started,
            periods_per_year=per_year,
            learning=learning_summary,
            reasoners=reasoners,
            memories=len(memory.long_term),
            usage_by_model=by_model,
        )
    finally:
        if temp_dir is not None:
            shutil.rmtree(temp_dir, ignore_errors=True)


def _sun_chat_model(sun: Sun) -> Any:
    """The sun's primary chat model, if it has one (None in quant mode)."""
    chain = sun.context.chain
    if chain is None:
        return None
    layer: Any = chain.primary.reasoner.llm
    for _ in range(6):  # unwrap metering / GuardedLLM / StructuredLLM layers to the chat model
        inner = getattr(layer, "chat_model", None) or getattr(layer, "inner", None)
        if inner is None:
            return layer
        layer = inner
    return None
