"""Reconcile generated breaks with the policy engine and print what happened.

    python examples/reconciliation/run.py [--breaks N] [--seed S] [--out DIR] [--explain N]
                                          [--model SPEC]

Writes internal.csv, broker.csv and truth.csv under --out (default examples/output/recon),
runs every break through policies/reconciliation.yaml and prints dispositions, agents per
plan and the accuracy of automatic resolutions against the ground truth. No LLM is used unless
--model names one (e.g. ``local``): then DECISIONING asks it, and the summary says how often
the model decided, how often it agreed with the rules, and how often the rules stood in.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from examples.reconciliation import (  # noqa: E402
    RECON_POLICY,
    BreakClassifier,
    generate_breaks,
    llm_decisioning,
    recon_agents,
    recon_model,
    write_files,
)
from sun.policy import PolicyContext, build_policy_graph, load_policy, run_policy  # noqa: E402


def main() -> None:
    """Generate, reconcile, summarise."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--breaks", type=int, default=500)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=ROOT / "examples" / "output" / "recon")
    parser.add_argument("--explain", type=int, default=1, help="explain the first N breaks")
    parser.add_argument("--model", help="model spec for DECISIONING (default: rules only)")
    args = parser.parse_args()
    try:
        decider = llm_decisioning(recon_model(args.model)) if args.model else None
    except ValueError as error:
        parser.exit(2, f"error: --model: {error}\n")
    data = generate_breaks(args.breaks, seed=args.seed)
    paths = write_files(data, args.out)
    print("wrote", ", ".join(str(p) for p in paths))
    policy, classifier, graph = load_policy(RECON_POLICY), BreakClassifier(), build_policy_graph()
    context = PolicyContext(agents=recon_agents(decisioning=decider), interrupt_on_review=False,
                            on_escalate=lambda alert: None)  # fmt: skip
    dispositions: Counter[str] = Counter()
    agents: Counter[str] = Counter()
    rules: Counter[str] = Counter()
    auto = right = 0
    deciders: Counter[str] = Counter()
    rules_auto = rules_right = 0
    for index, brk in enumerate(data.breaks):
        profile = classifier.classify(brk)
        if index < args.explain:
            print(f"\n{brk.break_id} ({brk.truth.kind}):")
            print(policy.explain(profile).render())
        run = run_policy(graph, policy.select(profile), brk.as_inputs(), context)
        dispositions[run.disposition] += 1
        if run.decision is not None and "decided_by" in run.decision.facts:
            facts = run.decision.facts
            agreed = facts["action"] == facts["rules_action"]
            deciders[f"{facts['decided_by']} ({'agrees' if agreed else 'differs from'} rules)"] += 1
            if facts["rules_action"] == "auto_resolve":
                rules_auto += 1
                rules_right += brk.truth.resolution == "auto_resolve"
        rules[run.rule] += 1
        agents[run.rule] += run.usage.nodes_run
        if (
            run.disposition == "AUTO"
            and run.decision
            and run.decision.facts.get("action") == "auto_resolve"
        ):
            auto += 1
            right += brk.truth.resolution == "auto_resolve"
    print(f"\n{len(data.breaks)} breaks: {dict(dispositions)}")
    for rule, count in rules.most_common():
        print(f"  {rule:10s} {count:5d} breaks, {agents[rule] / count:.2f} agents each")
    print(f"auto-resolved {auto}, of which correct {right}")
    if deciders:
        print("DECISIONING:", ", ".join(f"{k}: {v}" for k, v in deciders.most_common()))
        print(f"the rules alone would have auto-resolved {rules_auto}, of which correct "
              f"{rules_right} (same breaks, same run)")  # fmt: skip


if __name__ == "__main__":
    main()
