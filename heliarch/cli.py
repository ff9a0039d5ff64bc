"""The ``heliarch`` command line."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import typer
from rich.console import Console

from bus import DataValidationError, MarketSnapshot, load_csv

app = typer.Typer(help="heliarch: hierarchical LLM orchestration for trading decisions.")
console = Console()
err_console = Console(stderr=True)

DATA_HELP = "CSV of OHLCV bars: timestamp, Open, High, Low, Close, Volume"


def _snapshot(data: Path, symbol: str | None, as_of: str | None) -> MarketSnapshot:
    symbol = symbol or data.stem
    series = load_csv(data, symbol)
    stamp = datetime.fromisoformat(as_of) if as_of else series.last_timestamp
    return MarketSnapshot.at(stamp, {symbol: series})


@app.command()
def decide(
    data: Path = typer.Option(..., exists=True, dir_okay=False, help=DATA_HELP),
    symbol: str | None = typer.Option(None, help="instrument name (default: file name)"),
    as_of: str | None = typer.Option(None, help="decision time, ISO format (default: last bar)"),
    model: str | None = typer.Option(None, help="sun model spec: local, quant, anthropic:<m>, ..."),
    policy: str = typer.Option("always", help="LLM policy: always | auto"),
    as_json: bool = typer.Option(False, "--json", help="print the decision as JSON"),
) -> None:
    """Make one decision through the whole hierarchy and show how it was reached."""
    from heliarch._render import render_decision
    from sun import OrchestrationConfig, Sun, parse_llm_policy

    try:
        snapshot = _snapshot(data, symbol, as_of)
    except DataValidationError as error:
        err_console.print(f"[red]invalid data:[/red] {error}")
        raise typer.Exit(2) from error
    with Sun(
        model,
        checkpoint="none",
        orchestration=OrchestrationConfig(llm_policy=parse_llm_policy(policy)),
    ) as sun:
        decision = sun.decide(snapshot)
    if as_json:
        print(decision.model_dump_json(indent=2))
    else:
        render_decision(decision, console)


@app.command()
def moons(
    data: Path = typer.Option(..., exists=True, dir_okay=False, help=DATA_HELP),
    symbol: str | None = typer.Option(None, help="instrument name (default: file name)"),
    as_of: str | None = typer.Option(None, help="ISO time (default: last bar)"),
    as_json: bool = typer.Option(False, "--json", help="print the panel as JSON"),
) -> None:
    """Compute the moon panel (every moon, one fused compiled pass) at one time."""
    from heliarch._render import render_panel
    from sun import compute_panel

    try:
        snapshot = _snapshot(data, symbol, as_of)
    except DataValidationError as error:
        err_console.print(f"[red]invalid data:[/red] {error}")
        raise typer.Exit(2) from error
    panel = compute_panel(snapshot)
    if as_json:
        print(json.dumps(panel.model_dump(mode="json"), indent=2, default=str))
    else:
        render_panel(panel, console)


from heliarch._cli_backtest import backtest  # noqa: E402

app.command()(backtest)


from heliarch._cli_bus import replay, worker  # noqa: E402

app.command()(worker)
app.command()(replay)


from heliarch._cli_prompts import prompts_app  # noqa: E402

app.add_typer(prompts_app, name="prompts")

from heliarch._cli_models import models_app  # noqa: E402

app.add_typer(models_app, name="models")


def main() -> None:
    """Entry point of the ``heliarch`` console script."""
    app()
