"""Evolve the sun's reasoning prompt on real GOOG bars, end to end.

1. Build past situations with complete outcomes (no look-ahead): few-shot pool -> selection ->
   held-out confirmation, chronological.
2. Generate candidate prompts (few-shot examples, LLM-added instruction, reordered evidence,
   LLM rephrasing) under a call budget; each is a new template file. Few-shot examples come
   from a memory's best episodes known before the evaluated situations (``--memory DIR``,
   e.g. the ``memory`` directory a ``heliarch backtest --out DIR`` run wrote), else from the
   oldest pool of situations.
3. Paired sequential A/B test (Thompson allocation, always-valid betting test), held-out
   confirmation, adoption by pin; every trial persisted.

    python examples/evolve_prompt.py [--model local|quant-free spec] [--calls 40] [--memory DIR]
    python examples/evolve_prompt.py --candidate 2 --no-adopt   # an existing version vs the pin
    heliarch prompts history sun_reason      # the evidence afterwards
    heliarch prompts rollback sun_reason     # undo an adoption

Uses the embedded local model (``local``) by default; any chat model spec works.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bus import load_csv  # noqa: E402
from heliarch import run_evolution  # noqa: E402
from memory import UniversalMemory  # noqa: E402
from prompts import TrialStore  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description="evolve sun_reason on GOOG")
    parser.add_argument("--model", default="local", help="chat model spec (default: local)")
    parser.add_argument("--variants", type=int, default=3)
    parser.add_argument("--selection", type=int, default=20)
    parser.add_argument("--holdout", type=int, default=10)
    parser.add_argument("--calls", type=int, default=40, help="LLM call budget of the run")
    parser.add_argument("--no-adopt", action="store_true", help="record a winner, do not pin it")
    parser.add_argument("--store", default=None, help="SQLite path or postgresql:// URL")
    parser.add_argument("--memory", default=None, help="memory directory for few-shot examples")
    parser.add_argument(
        "--candidate", action="append", default=[], help="test this sun_reason version (repeatable)"
    )
    args = parser.parse_args()
    series = load_csv(ROOT / "examples" / "data" / "GOOG.csv", "GOOG")
    memory = UniversalMemory(args.memory) if args.memory else None
    with TrialStore(args.store) as store:
        report = run_evolution(
            series,
            model=args.model,
            variants=args.variants,
            selection=args.selection,
            holdout=args.holdout,
            max_calls=args.calls,
            auto_adopt=not args.no_adopt,
            store=store,
            memory=memory,
            candidates=args.candidate,
        )
    print(json.dumps(report, indent=2, default=str))


if __name__ == "__main__":
    main()
