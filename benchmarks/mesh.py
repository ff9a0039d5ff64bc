"""The model mesh on a GOOG walk-forward: cost with routing + refinement vs always-deep,
budgets shared by concurrent workers, and the overhead of telemetry.

    python benchmarks/mesh.py [--json] [--decisions N] [--workers 4] [--redis URL]

The two chat models stand in for remote APIs (no network here): a cheap quick model priced
like ``openai:gpt-4o-mini`` and an expensive deep one priced like
``anthropic:claude-sonnet-4-5``, both reporting realistic token counts (the real prompt's
size, ~150-200 completion tokens). Each answers in the direction the planets' scores in its
prompt point to; the quick model is unsure (confidence 0.45) on a seeded ~15% (``--unsure``) of the
decisions and writes invalid JSON on ~5%, which is what refinement escalates.

Figures: ``cost_per_decision_usd`` (routed) and ``always_deep_cost_per_decision_usd`` over
the same decisions, ``cost_ratio`` (target <= 0.3), ``llm_calls_per_decision``,
``deep_calls_per_decision``; ``budget_overrun_usd`` of ``--workers`` processes sharing one
daily dollar budget in Redis (must be 0); ``decision_ms_p50`` with telemetry off and on and
``telemetry_overhead`` (target <= 0.10).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import re
import statistics
import sys
import time
import uuid
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from langchain_core.messages import AIMessage, BaseMessage  # noqa: E402
from langchain_core.outputs import ChatGeneration, ChatResult  # noqa: E402

from bus import BarSeries, MarketSnapshot, load_csv, to_datetime  # noqa: E402
from sun import ModelConfig, Sun, SunHooks, Telemetry  # noqa: E402
from sun.llm import ModelRegistry  # noqa: E402
from sun.mesh import Budget, BudgetConfig, BudgetLimits, MeshConfig, Tier  # noqa: E402
from sun.testing import ScriptedChatModel  # noqa: E402

QUICK_LABEL = "openai:gpt-4o-mini"
DEEP_LABEL = "anthropic:claude-sonnet-4-5"
_DIRECTION = {"BUY": "up", "SELL": "down", "HOLD": "below the hold band"}  # cites a relation
_SCORE = re.compile(r"score=([+-]?\d+\.\d+) conf=(\d+\.\d+)")


class PlanetEchoModel(ScriptedChatModel):
    """Stands in for a remote chat API: follows the planets' scores in its prompt.

    ``unsure`` / ``invalid`` are the seeded shares of low-confidence and invalid answers.
    """

    unsure: float = 0.0
    invalid: float = 0.0
    seed: int = 0
    completion_tokens: int = 180

    def _generate(
        self, messages: Sequence[BaseMessage], stop: Any = None, run_manager: Any = None, **kw: Any
    ) -> ChatResult:
        prompt = "\n".join(str(m.content) for m in messages)
        rng = random.Random(f"{self.seed}:{prompt}")  # same prompt, same answer
        self.calls += 1
        signal = sum(float(s) * float(c) for s, c in _SCORE.findall(prompt))
        action = "BUY" if signal > 0.05 else "SELL" if signal < -0.05 else "HOLD"
        size = 0.0 if action == "HOLD" else round(min(0.5, abs(signal)), 3)
        roll = rng.random()
        if roll < self.invalid:
            text = '{"action": "BUY", "size": 0.3, "confid'
        else:
            confidence = 0.45 if roll < self.invalid + self.unsure else 0.8
            text = json.dumps(
                {
                    "action": action,
                    "size": size,
                    "confidence": confidence,
                    "rationale": f"technical trend {_DIRECTION[action]}, as the planet scores say",
                }  # fmt: skip
            )
        usage = {
            "input_tokens": len(prompt) // 4,
            "output_tokens": self.completion_tokens,
            "total_tokens": len(prompt) // 4 + self.completion_tokens,
        }
        message = AIMessage(content=text, usage_metadata=usage)  # type: ignore[arg-type]
        return ChatResult(generations=[ChatGeneration(message=message)])


UNSURE = 0.15
INVALID = 0.05


def _models(unsure: float = UNSURE) -> tuple[PlanetEchoModel, PlanetEchoModel]:
    quick = PlanetEchoModel(
        script=[""], unsure=unsure, invalid=INVALID, seed=1, completion_tokens=150
    )
    deep = PlanetEchoModel(script=[""], seed=2, completion_tokens=200)
    return quick, deep


def _sun(quick: Any, deep: Any, budget: BudgetConfig | None = None, **extra: Any) -> Sun:
    mesh = MeshConfig(
        quick=Tier([(QUICK_LABEL, quick)]) if quick is not None else None,
        deep=Tier([(DEEP_LABEL, deep)]),
        budget=budget,
        registry=ModelRegistry.default(),
    )
    config = ModelConfig(mesh=mesh, backup_models=[])
    return Sun("quant", checkpoint="none", models=config, **extra)


def snapshots(series: BarSeries, decisions: int) -> list[MarketSnapshot]:
    """``decisions`` walk-forward snapshots, every 5th bar from 2010-06-01."""
    stamps = [to_datetime(s) for s in series.timestamps]
    stamps = [s for s in stamps if s >= datetime(2010, 6, 1)][::5]
    return [MarketSnapshot.at(stamp, {"GOOG": series}) for stamp in stamps[:decisions]]


def cost_run(moments: list[MarketSnapshot], unsure: float) -> dict[str, Any]:
    """Routed + refined vs always-deep over the same decisions."""
    quick, deep = _models(unsure)
    with _sun(quick, deep) as sun:
        routed = [sun.decide(s) for s in moments]
    _, deep_only = _models()
    with _sun(None, deep_only) as sun:
        always = [sun.decide(s) for s in moments]
    n = len(moments)
    routed_cost = sum(d.llm_usage.cost_usd for d in routed) / n
    deep_cost = sum(d.llm_usage.cost_usd for d in always) / n
    levels: dict[str, int] = {}
    for decision in routed:
        levels[decision.fallback_level] = levels.get(decision.fallback_level, 0) + 1
    return {
        "decisions": n,
        "cost_per_decision_usd": round(routed_cost, 6),
        "always_deep_cost_per_decision_usd": round(deep_cost, 6),
        "cost_ratio": round(routed_cost / deep_cost, 4) if deep_cost else None,
        "llm_calls_per_decision": round(sum(d.llm_usage.calls for d in routed) / n, 3),
        "deep_calls_per_decision": round(deep.calls / n, 3),
        "quick_calls_per_decision": round(quick.calls / n, 3),
        "quick_unsure_share": unsure,
        "quick_invalid_share": INVALID,
        "levels": levels,
    }


def _budget_worker(url: str, prefix: str, cap: float, n: int, out: Any) -> None:
    series = load_csv(ROOT / "examples" / "data" / "GOOG.csv", "GOOG")
    quick, deep = _models()
    config = BudgetConfig(per_day=BudgetLimits(usd=cap), redis_url=url, key_prefix=prefix)
    spent, refused = 0.0, 0
    with _sun(quick, deep, config) as sun:
        for snapshot in snapshots(series, n):
            decision = sun.decide(snapshot)
            spent += decision.llm_usage.cost_usd
            notes = [decision.rationale, *(a.error or "" for a in decision.attempts)]
            refused += any("budget exhausted" in note for note in notes)
    out.put({"spent": spent, "refused": refused})


def budget_run(url: str, workers: int, per_worker: int, per_decision: float) -> dict[str, Any]:
    """``workers`` processes share a daily dollar cap sized for about a quarter of their
    decisions' cost: the cap must stop them, and their total must not pass it."""
    cap = 0.25 * per_decision * workers * per_worker
    prefix = f"heliarch:bench:{uuid.uuid4().hex}"
    out: Any = multiprocessing.Queue()
    procs = [
        multiprocessing.Process(target=_budget_worker, args=(url, prefix, cap, per_worker, out))
        for _ in range(workers)
    ]
    for proc in procs:
        proc.start()
    rows = [out.get(timeout=600) for _ in procs]
    for proc in procs:
        proc.join(60)
    ledger = Budget(BudgetConfig(redis_url=url, key_prefix=prefix)).day_ledger.spent()
    spent = sum(row["spent"] for row in rows)
    return {
        "workers": workers,
        "daily_cap_usd": round(cap, 6),
        "spent_usd": round(spent, 6),
        "ledger_usd": round(ledger.usd, 6),
        "budget_overrun_usd": round(max(0.0, spent - cap, ledger.usd - cap), 9),
        "decisions": workers * per_worker,
        "decisions_stopped_by_budget": sum(row["refused"] for row in rows),
    }


def latency_run(moments: list[MarketSnapshot], telemetry: Any) -> dict[str, float]:
    """p50 decision latency (ms) of the routed sun with telemetry off and on, interleaved
    decision by decision, alternating which goes first (the machine's load drifts; both see
    the same drift)."""
    suns = {}
    for name, hooks in (("off", SunHooks(telemetry_from_env=False)), ("on", telemetry)):
        quick, deep = _models()
        suns[name] = _sun(quick, deep, hooks=hooks)
        suns[name].decide(moments[0])
    times: dict[str, list[float]] = {"off": [], "on": []}
    exporter = telemetry.telemetry.span_exporter
    for round_, snapshot in enumerate(moments * 3):
        order = list(suns.items()) if round_ % 2 == 0 else list(suns.items())[::-1]
        for name, sun in order:  # alternate who goes first: no position bias
            started = time.perf_counter()
            sun.decide(snapshot)
            times[name].append((time.perf_counter() - started) * 1e3)
        telemetry.telemetry.finished_spans()
        exporter.clear()  # an exporter ships spans away; keeping thousands would tax the GC
    for sun in suns.values():
        sun.close()
    return {name: statistics.median(values) for name, values in times.items()}


def telemetry_hooks() -> Any:
    """Sun hooks with OpenTelemetry on (in-memory exporters behind the batch span processor,
    as a production exporter runs), or None without the SDK."""
    try:
        return SunHooks(telemetry=Telemetry.in_memory(batch=True))
    except ImportError:
        return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--decisions", type=int, default=80)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--unsure", type=float, default=UNSURE, help="quick model's unsure share")
    parser.add_argument("--redis", default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
    args = parser.parse_args()
    started = time.perf_counter()
    series = load_csv(ROOT / "examples" / "data" / "GOOG.csv", "GOOG")
    moments = snapshots(series, args.decisions)
    result: dict[str, Any] = {"benchmark": "mesh", "quick": QUICK_LABEL, "deep": DEEP_LABEL}
    result["prices_as_of"] = ModelRegistry.default().as_of
    result.update(cost_run(moments, args.unsure))
    result["budget"] = budget_run(
        args.redis, args.workers, max(8, args.decisions // 4), result["cost_per_decision_usd"]
    )
    result["budget_overrun"] = result["budget"]["budget_overrun_usd"]
    hooks = telemetry_hooks()
    if hooks is not None:
        p50 = latency_run(moments, hooks)
        result["decision_ms_p50_telemetry_off"] = round(p50["off"], 3)
        result["decision_ms_p50_telemetry_on"] = round(p50["on"], 3)
        result["telemetry_overhead"] = round(p50["on"] / p50["off"] - 1.0, 4)
    result["wall_s"] = round(time.perf_counter() - started, 1)
    if args.json:
        print(json.dumps(result))
        return
    for key, value in result.items():
        print(f"{key:40s} {value}")


if __name__ == "__main__":
    main()
