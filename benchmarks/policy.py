"""Policy engine on the reconciliation mix, against a sequential executor, in one run.

    python benchmarks/policy.py [--json] [--breaks N] [--latency-ms MS] [--seed S]

Generates ``--breaks`` labelled breaks (examples/reconciliation), then runs, in alternation
so both see the same machine load:

* every break through the reconciliation policy (``policies/reconciliation.yaml``) on the
  LangGraph executor (async graph; agents are coroutines awaiting their simulated I/O);
* every ``--sequential-every``-th break through the sequential baseline: the same executor with
  ``policies/sequential.yaml`` (all seven agents one after another);
* every 10th break through a plain Python loop over the seven agents (no engine, blocking
  sleeps) for reference.

Every agent waits the same ``--latency-ms`` of simulated I/O. Reviews are not interrupted
here (``interrupt_on_review=False``): a HIL_REVIEW disposition is counted as sent to review.

The ``trading_*`` keys walk GOOG forward over ``--trading-decisions`` dates (0 skips them) with
a scripted chat model standing in for the LLM API, and count LLM calls per decision:
``always`` (the routing tree in code, LLM on every decision), the sun driven by the default
policy (``trading_default``: same planets, same reasoner, so the same calls and decisions), and
``trading_guarded`` on the policy executor with the real planets as agents (its ``agree``
checkpoint decides without the LLM when at least two direction votes agree strongly; this walk
has no headlines, so sentiment is skipped and technical votes alone: ``agree`` never fires).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from examples.reconciliation import (  # noqa: E402
    RECON_POLICY,
    BreakClassifier,
    generate_breaks,
    recon_agents,
    run_sequential,
)
from sun.policy import (  # noqa: E402
    NodeOutput,
    PolicyContext,
    arun_policy,
    build_policy_graph,
    load_policy,
    planet_agent,
    run_policy,
    shipped_policy,
    trading_profile,
)

SEQUENTIAL_POLICY = RECON_POLICY.with_name("sequential.yaml")


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


async def measure(n_breaks: int, latency_ms: float, seed: int, every: int) -> dict[str, Any]:
    """Run both executors over the generated breaks and compute the figures."""
    data = generate_breaks(n_breaks, seed=seed)
    policy, sequential = load_policy(RECON_POLICY), load_policy(SEQUENTIAL_POLICY)
    classifier = BreakClassifier()
    graph = build_policy_graph(asynchronous=True)
    agents = recon_agents(latency_ms)
    context = PolicyContext(
        agents=recon_agents(latency_ms, asynchronous=True), interrupt_on_review=False
    )
    started = time.perf_counter()
    fast: list[float] = []
    slow: list[float] = []
    plain: list[float] = []
    invoked: list[int] = []
    rules: Counter[str] = Counter()
    agents_by_rule: dict[str, list[int]] = {}
    dispositions: Counter[str] = Counter()
    auto_resolved = auto_correct = material_auto = 0
    for index, brk in enumerate(data.breaks):
        profile = classifier.classify(brk)
        inputs = brk.as_inputs()
        t0 = time.perf_counter()
        run = await arun_policy(graph, policy.select(profile), inputs, context)
        fast.append((time.perf_counter() - t0) * 1000)
        if index % every == 0:
            t0 = time.perf_counter()
            await arun_policy(graph, sequential.select(profile), inputs, context)
            slow.append((time.perf_counter() - t0) * 1000)
        if index % 10 == 0:
            t0 = time.perf_counter()
            run_sequential(inputs, profile.model_dump(), agents)
            plain.append((time.perf_counter() - t0) * 1000)
        count = sum(1 for e in run.trace if e.status in ("ran", "failed"))
        invoked.append(count)
        rules[run.rule] += 1
        agents_by_rule.setdefault(run.rule, []).append(count)
        dispositions[run.disposition] += 1
        if run.disposition == "AUTO":
            material_auto += brk.truth.material
            if run.decision is not None and run.decision.facts.get("action") == "auto_resolve":
                auto_resolved += 1
                auto_correct += brk.truth.resolution == "auto_resolve"
    n = len(data.breaks)
    return {
        "breaks": n,
        "latency_ms_per_agent": latency_ms,
        "agents_invoked_mean": round(statistics.fmean(invoked), 3),
        "agents_invoked_sequential": 7,
        "agents_invoked_by_rule": {
            r: round(statistics.fmean(v), 2) for r, v in agents_by_rule.items()
        },
        "agents_invoked_max_simple": max(agents_by_rule.get("simple", [0])),
        "rules": dict(rules),
        "latency_ms_p50": round(percentile(fast, 0.5), 2),
        "latency_ms_p95": round(percentile(fast, 0.95), 2),
        "sequential_samples": len(slow),
        "sequential_latency_ms_p50": round(percentile(slow, 0.5), 2),
        "sequential_latency_ms_p95": round(percentile(slow, 0.95), 2),
        "speedup_vs_sequential": round(statistics.fmean(slow) / statistics.fmean(fast), 2),
        "engine": "LangGraph async graph, async agents",
        "speedup_vs_sequential_p50": round(percentile(slow, 0.5) / percentile(fast, 0.5), 2),
        "plain_loop_latency_ms_p50": round(percentile(plain, 0.5), 2),
        "auto_resolved": auto_resolved,
        "auto_resolve_precision": round(auto_correct / auto_resolved, 4) if auto_resolved else None,
        "material_breaks": sum(b.truth.material for b in data.breaks),
        "material_auto_resolved": material_auto,
        "hil_rate": round(dispositions["HIL_REVIEW"] / n, 4),
        "escalate_rate": round(dispositions["ESCALATE"] / n, 4),
        "auto_rate": round(dispositions["AUTO"] / n, 4),
        "wall_s": round(time.perf_counter() - started, 1),
    }


def goog_snapshots(count: int) -> list[Any]:
    """``count`` GOOG decision dates after warm-up, evenly spread (a walk-forward)."""
    from bus import MarketSnapshot, load_csv

    goog = load_csv(ROOT / "examples/data/GOOG.csv", "GOOG")
    stamps = goog.timestamps[300 :: max(1, (len(goog) - 300) // count)][:count]
    return [MarketSnapshot.at(goog.up_to(s).last_timestamp, {"GOOG": goog}) for s in stamps]


def _scripted() -> Any:
    from sun.testing import ScriptedChatModel

    answer = {"action": "BUY", "size": 0.3, "confidence": 0.7, "rationale": "technical trend is up"}
    return ScriptedChatModel(script=[json.dumps(answer)], prompts=[])


def measure_trading(count: int) -> dict[str, Any]:
    """LLM calls per decision: ``always`` against the default and guarded trading policies."""
    from planets import PlanetContext, default_planets
    from sun import ModelConfig, OrchestrationConfig, RoutingTree, Sun, compute_panel
    from sun.replay import compare  # differing fields, without latencies and LLM usage

    snapshots = goog_snapshots(count)
    tree_model, policy_model = _scripted(), _scripted()
    tree_config = OrchestrationConfig(llm_policy="always", router=RoutingTree())
    same = 0
    with (
        Sun("openai:scripted", checkpoint="none", models=ModelConfig(chat_model=tree_model),
            orchestration=tree_config) as by_tree,
        Sun("openai:scripted", checkpoint="none", models=ModelConfig(chat_model=policy_model),
            orchestration=OrchestrationConfig(policy="trading_default")) as by_policy,
    ):  # fmt: skip
        for snapshot in snapshots:
            want, got = by_tree.decide(snapshot), by_policy.decide(snapshot)
            same += set(compare(want, got)) <= {"trace"}  # the trace names the policy
    guarded = load_policy(shipped_policy("trading_guarded"))
    graph, planets = build_policy_graph(), default_planets()
    llm_calls = 0
    dispositions: Counter[str] = Counter()
    rules: Counter[str] = Counter()
    for snapshot in snapshots:
        row = compute_panel(snapshot).for_instrument("GOOG")
        context = PlanetContext(instrument="GOOG", as_of=snapshot.as_of, moons=row,
                                snapshot=snapshot)  # fmt: skip
        agents: dict[str, Any] = {n: planet_agent(p, context) for n, p in planets.items()}
        agents["reasoner"] = lambda call: NodeOutput(score=0.0, llm_calls=1, tokens=120)
        selected = guarded.select(trading_profile(context))
        run = run_policy(graph, selected, {"instrument": "GOOG"},
                         PolicyContext(agents=agents, interrupt_on_review=False))  # fmt: skip
        llm_calls += run.usage.llm_calls
        dispositions[run.disposition] += 1
        rules[run.rule + (" (early exit)" if run.early_exit else "")] += 1
    return {
        "trading_decisions": len(snapshots),
        "trading_llm_calls_per_decision_always": round(tree_model.calls / len(snapshots), 4),
        "trading_llm_calls_per_decision_default_policy": round(
            policy_model.calls / len(snapshots), 4
        ),
        "trading_same_decisions_default_policy_vs_tree": same == len(snapshots),
        "trading_llm_calls_per_decision_guarded_policy": round(llm_calls / len(snapshots), 4),
        "trading_guarded_dispositions": dict(dispositions),
        "trading_guarded_rules": dict(rules),
    }


def main() -> None:
    """Parse arguments, measure, print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--breaks", type=int, default=2000)
    parser.add_argument("--latency-ms", type=float, default=2.0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--sequential-every", type=int, default=4)
    parser.add_argument("--trading-decisions", type=int, default=120, help="0 skips them")
    args = parser.parse_args()
    result = asyncio.run(measure(args.breaks, args.latency_ms, args.seed, args.sequential_every))
    if args.trading_decisions > 0:
        result.update(measure_trading(args.trading_decisions))
    if args.json:
        print(json.dumps(result))
        return
    for key, value in result.items():
        print(f"{key:32s} {value}")


if __name__ == "__main__":
    main()
