"""Walk-forward backtests on the bundled real data, learning on and off, against baselines.

    python examples/backtest.py [--symbols GOOG EURUSD] [--model quant] [--out examples/output]

Writes ``<out>/backtest_<symbol>.png`` (the README's figure is ``backtest_goog.png``) and
``<out>/backtest_<symbol>.json``, and prints a markdown table per instrument.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bus import load_csv  # noqa: E402
from heliarch.backtest import BacktestConfig, plot_equity, run_backtest  # noqa: E402

COLUMNS = ("total_return", "cagr", "sharpe", "sortino", "max_drawdown", "hit_rate", "trades")


def _cell(key: str, value: float | int | None) -> str:
    if value is None:
        return "n/a"
    if key in ("sharpe", "sortino"):
        return f"{value:.2f}"
    if key == "trades":
        return str(value)
    return f"{value:+.1%}" if key != "max_drawdown" else f"{value:.1%}"


def table(reports: dict[str, dict]) -> str:
    """Markdown rows: the sun with learning on/off, then the baselines (from the first run)."""
    lines = [
        "| strategy | " + " | ".join(COLUMNS) + " | LLM calls |",
        "|---" * (len(COLUMNS) + 2) + "|",
    ]
    first = next(iter(reports.values()))
    for label, report in reports.items():
        m = report["metrics"]["sun"]
        lines.append(f"| sun, learning {label} | " + " | ".join(_cell(k, m[k]) for k in COLUMNS)
                     + f" | {report['llm']['calls']} |")  # fmt: skip
    for name in ("buy_and_hold", "sma_50_200"):
        m = first["metrics"][name]
        lines.append(f"| {name} | " + " | ".join(_cell(k, m[k]) for k in COLUMNS) + " | 0 |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--symbols", nargs="+", default=["GOOG"])
    parser.add_argument("--model", default="quant")
    parser.add_argument("--out", type=Path, default=ROOT / "examples" / "output")
    args = parser.parse_args()
    args.out = args.out.resolve()
    args.out.mkdir(parents=True, exist_ok=True)
    for symbol in args.symbols:
        series = load_csv(ROOT / "examples" / "data" / f"{symbol}.csv", symbol)
        results, reports = [], {}
        for learning in (True, False):
            result = run_backtest(series, BacktestConfig(model=args.model, learning=learning))
            results.append(result)
            reports["on" if learning else "off"] = result.report()
        png = plot_equity(results, args.out / f"backtest_{symbol.lower()}.png")
        (args.out / f"backtest_{symbol.lower()}.json").write_text(json.dumps(reports, indent=2))
        window = reports["on"]["window"]
        print(f"\n{symbol} {window['start'][:10]} .. {window['end'][:10]} "
              f"({window['bars']} bars, {args.model}); figure {_shown(png)}")  # fmt: skip
        print(table(reports))
        print(f"learned weights: {reports['on']['learning']['weights']}; "
              f"{reports['on']['elapsed_s']:.1f} s / {reports['off']['elapsed_s']:.1f} s")  # fmt: skip


def _shown(path: Path) -> Path:
    """``path`` relative to the repository when it is inside it, else as it is."""
    return path.relative_to(ROOT) if path.is_relative_to(ROOT) else path


if __name__ == "__main__":
    main()
