"""Quickstart: one decision on bundled GOOG data, reasoned by the embedded local model.

Run: ``make demo`` (or ``python examples/quickstart.py [--model SPEC]``). No API key needed:
the default model is ``local`` (SmolLM2-135M via llama.cpp) when installed, else ``quant``.
"""

from __future__ import annotations

import argparse
from datetime import datetime
from pathlib import Path

from bus import MarketSnapshot, load_csv
from heliarch import authority_line, render_decision
from sun import OrchestrationConfig, Sun

DATA = Path(__file__).resolve().parent / "data"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--model", default=None, help="sun model spec (default: local if installed)"
    )
    parser.add_argument("--as-of", default="2012-06-01", help="decision date (ISO)")
    args = parser.parse_args()

    goog = load_csv(DATA / "GOOG.csv", "GOOG")
    snapshot = MarketSnapshot.at(datetime.fromisoformat(args.as_of), {"GOOG": goog})
    with Sun(
        args.model, checkpoint="none", orchestration=OrchestrationConfig(llm_policy="always")
    ) as sun:
        print(f"sun model: {sun.model_spec}")
        print(authority_line(sun.authority.get("primary")))
        decision = sun.decide(snapshot)
    render_decision(decision)


if __name__ == "__main__":
    main()
