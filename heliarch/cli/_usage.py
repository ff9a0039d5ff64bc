"""``heliarch usage REPORT``: LLM cost per decision, per model, and what the caches saved."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table


def usage(
    path: Path = typer.Argument(
        ..., exists=True, dir_okay=False, help="backtest JSON report or JSONL decision journal"
    ),
    as_json: bool = typer.Option(False, "--json", help="print the report as JSON"),
) -> None:
    """What the LLMs cost: per decision, per model, and what the response caches saved."""
    from heliarch._usage import usage_report

    try:
        report = usage_report(path)
    except ValueError as error:
        Console(stderr=True).print(f"[red]cannot read usage:[/red] {error}")
        raise typer.Exit(2) from error
    if as_json:
        print(json.dumps(report, indent=2))
        return
    console = Console()
    table = Table(title=f"LLM usage of {report['source']} ({report['decisions']} decisions)")
    for column in ("model", "calls", "prompt tok", "completion tok", "cache hits", "cost $"):
        table.add_column(column, justify="left" if column == "model" else "right")
    rows = {**report["by_model"], "total": report["total"]}
    for model, entry in rows.items():
        table.add_row(
            model,
            str(entry["calls"]),
            str(entry["prompt_tokens"]),
            str(entry["completion_tokens"]),
            str(entry["cache_hits"]),
            f"{entry['cost_usd']:.6f}",
        )
    console.print(table)
    console.print(
        f"cost per decision ${report['cost_per_decision_usd']:.6f}  "
        f"LLM calls per decision {report['calls_per_decision']:.3f}  "
        f"caches saved ${report['cache_saved_usd']:.6f}"
    )
