"""``heliarch models check SPEC``: input sensitivity, invalid answers, latency, authority."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console

from bus import DataValidationError, load_csv

models_app = typer.Typer(help="Model checks: how much a model's answers follow its input.")
DATA = Path(__file__).resolve().parents[2] / "examples" / "data"


@models_app.command("check")
def check(
    spec: str = typer.Argument(..., help="model spec, e.g. local, anthropic:<model>"),
    dates: int = typer.Option(20, "--dates", min=1, help="evenly spaced dates per data file"),
    data: list[Path] = typer.Option(  # noqa: B008
        None, "--data", help="CSV files (default: the bundled GOOG and EURUSD)"
    ),
    save: bool = typer.Option(True, "--save/--no-save", help="store the result for Sun"),
    as_json: bool = typer.Option(False, "--json", help="print one JSON object"),
) -> None:
    """Decide each date on real and mirrored bars; report the authority the model earns."""
    from sun.checks import check_model, store_check

    files = data or [DATA / "GOOG.csv", DATA / "EURUSD.csv"]
    try:
        histories = [load_csv(path, path.stem.upper()) for path in files]
        result = check_model(spec, histories, dates)
    except (DataValidationError, ValueError, ImportError, OSError) as error:
        Console(stderr=True).print(f"[red]error:[/red] {error}")
        raise typer.Exit(2) from None
    stored = str(store_check(result).path) if save else None
    if as_json:
        print(json.dumps({**result.record(), "stored": stored}))
        return
    low, high = result.sensitivity_ci
    Console().print(
        f"{result.spec} ({result.prompt}): sensitivity {result.sensitivity:+.2f} "
        f"[{low:+.2f}, {high:+.2f}] over {result.pairs} mirrored pairs, invalid "
        f"{result.invalid_share:.0%}, latency p50 {result.latency_p50_ms:.0f} ms / p95 "
        f"{result.latency_p95_ms:.0f} ms -> authority [bold]{result.authority}[/bold]"
        + (f" (stored in {stored})" if stored else "")
    )
