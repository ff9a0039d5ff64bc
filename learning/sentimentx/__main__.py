"""``python -m learning.sentimentx [OUT_PATH] [--seed N]``: train and export the student."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict

from learning.sentimentx import train_sentimentx
from planets import DEFAULT_SENTIMENTX_PATH


def main(argv: list[str] | None = None) -> int:
    """Train with the lexicon as the only (feature) teacher and print the report as JSON."""
    parser = argparse.ArgumentParser(description="Train the SentimentX student model.")
    parser.add_argument("out", nargs="?", default=str(DEFAULT_SENTIMENTX_PATH))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    report = train_sentimentx(args.out, seed=args.seed)
    print(json.dumps(asdict(report), default=str, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
