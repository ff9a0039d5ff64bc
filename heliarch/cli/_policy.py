"""``heliarch policy``: check a policy file; explain which rule and plan a decision gets."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import typer
from rich.console import Console

from bus import DataValidationError, MarketSnapshot, load_csv

policy_app = typer.Typer(help="Decision policies (YAML + CEL): check a file, explain a decision.")
console = Console()
err_console = Console(stderr=True)
POLICY_HELP = "a shipped policy's name (trading_default, trading_guarded) or a YAML path"


@policy_app.command("check")
def check(file: Path = typer.Argument(..., help="the policy YAML file")) -> None:
    """Validate a policy file: every problem as file:line, exit code 1 if there is any."""
    from sun.policy import check_policy

    errors = check_policy(file)
    for error in errors:
        err_console.print(str(error), markup=False, highlight=False)
    if errors:
        err_console.print(f"{len(errors)} problem(s) in {file}", markup=False)
        raise typer.Exit(1)
    console.print(f"{file}: ok", markup=False)


@policy_app.command("explain")
def explain(
    data: Path = typer.Option(..., exists=True, dir_okay=False, help="CSV of OHLCV bars"),
    symbol: str | None = typer.Option(None, help="instrument name (default: file name)"),
    as_of: str | None = typer.Option(None, help="decision time, ISO format (default: last bar)"),
    policy: str = typer.Option("trading_default", help=POLICY_HELP),
    headlines: int = typer.Option(0, min=0, help="number of headlines attached to the decision"),
    as_json: bool = typer.Option(False, "--json", help="print the explanation as JSON"),
) -> None:
    """The decision's profile, each rule's verdict, the matched plan and what would run."""
    from sun import compute_panel, policy_from
    from sun.policy import PolicyLoadError, TradingClassifier

    try:
        loaded = policy_from(policy)
        snapshot = _snapshot(data, symbol, as_of)
    except (PolicyLoadError, FileNotFoundError, DataValidationError) as error:
        err_console.print(str(error), markup=False)
        raise typer.Exit(2) from error
    instrument = snapshot.instruments[0]
    row = compute_panel(snapshot).for_instrument(instrument)
    profile = TradingClassifier().classify(row, headlines)
    explanation = loaded.explain(profile)
    if as_json:
        print(json.dumps(explanation.model_dump(mode="json"), indent=2))
        return
    console.print(f"{instrument} @ {snapshot.as_of:%Y-%m-%d %H:%M}", markup=False)
    console.print("profile: " + ", ".join(f"{k}={v}" for k, v in profile.model_dump().items()),
                  markup=False)  # fmt: skip
    console.print(explanation.render(), markup=False, highlight=False)
    for point in explanation.resolved.plan.checkpoints:
        after = ", ".join(point.after) or "start"
        console.print(f"  checkpoint {point.name}: after [{after}] when [{point.when}] -> "
                      f"{point.then.value} {point.reason}".rstrip(), markup=False, highlight=False)  # fmt: skip


def _snapshot(data: Path, symbol: str | None, as_of: str | None) -> MarketSnapshot:
    symbol = symbol or data.stem
    series = load_csv(data, symbol)
    stamp = datetime.fromisoformat(as_of) if as_of else series.last_timestamp
    return MarketSnapshot.at(stamp, {symbol: series})
