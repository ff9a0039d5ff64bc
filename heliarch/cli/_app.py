"""The ``heliarch`` command line."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console

from bus import MarketSnapshot, load_csv
from heliarch.cli._errors import (
    boundary,
    check_within,
    model_option,
    one_line,
    option,
    parse_time,
    set_debug,
    shown_url,
)

app = typer.Typer(help="heliarch: hierarchical LLM orchestration for trading decisions.")
console = Console()
err_console = Console(stderr=True)

DATA_HELP = "CSV of OHLCV bars: timestamp, Open, High, Low, Close, Volume"


@app.callback()
def _options(
    debug: bool = typer.Option(False, "--debug", help="show tracebacks instead of one line"),
) -> None:
    """heliarch: hierarchical LLM orchestration for trading decisions.

    Errors are one line on stderr: exit 2 for bad input, 1 for an internal error
    (`heliarch replay` adds 1 divergence and 3 journal invalid).
    """
    set_debug(debug)


def _snapshot(data: Path, symbol: str | None, as_of: str | None) -> MarketSnapshot:
    symbol = symbol or data.stem
    series = load_csv(data, symbol)
    if as_of is None:
        return MarketSnapshot.at(series.last_timestamp, {symbol: series})
    stamp = check_within("--as-of", parse_time("--as-of", as_of), series)
    return MarketSnapshot.at(stamp, {symbol: series})


@app.command()
def decide(
    data: Path = typer.Option(..., exists=True, dir_okay=False, help=DATA_HELP),
    symbol: str | None = typer.Option(None, help="instrument name (default: file name)"),
    as_of: str | None = typer.Option(None, help="decision time, ISO format (default: last bar)"),
    model: str | None = typer.Option(None, help="sun model spec: local, quant, anthropic:<m>, ..."),
    policy: str = typer.Option("always", help="LLM policy: always | auto"),
    plan: str = typer.Option(
        "trading_default", help="decision policy: a shipped policy's name or a YAML path"
    ),
    as_json: bool = typer.Option(False, "--json", help="print the decision as JSON"),
    stream: bool = typer.Option(False, "--stream", help="show each step live as it happens"),
    checkpoint: str = typer.Option(
        "none",
        help="checkpointer: none, postgresql://... or a SQLite file (a HIL_REVIEW decision "
        "then waits there for `heliarch review`)",
    ),
) -> None:
    """Make one decision through the whole hierarchy and show how it was reached."""
    from heliarch._render import render_decision
    from sun import OrchestrationConfig, Sun, parse_llm_policy
    from sun.policy import PolicyLoadError

    snapshot = _snapshot(data, symbol, as_of)
    llm_policy = option("--policy", policy, parse_llm_policy)
    try:
        orchestration = OrchestrationConfig(llm_policy=llm_policy, policy=plan)
    except (PolicyLoadError, FileNotFoundError, ValueError) as error:
        err_console.print(f"error: --plan {plan}: {error}", markup=False)
        raise typer.Exit(2) from error
    spec = model_option(model)
    try:
        sun = Sun(spec, checkpoint=checkpoint, orchestration=orchestration)
    except Exception as error:
        if checkpoint == "none" or isinstance(error, ValueError):
            raise
        shown = shown_url(checkpoint)
        raise ValueError(f"--checkpoint {shown!r}: cannot open: {one_line(error)}") from None
    with sun:
        if stream:
            from heliarch.cli._stream import stream_decision

            decision = stream_decision(sun, snapshot, err_console if as_json else console)
        else:
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
    """Compute the moon panel (every moon, one compiled pass over the file, streamed) at one time."""
    from heliarch._render import render_panel
    from heliarch.cli._moons import file_panel

    stamp = None if as_of is None else parse_time("--as-of", as_of)
    panel = file_panel(data, symbol or data.stem, stamp)
    if as_json:
        print(json.dumps(panel.model_dump(mode="json"), indent=2, default=str))
    else:
        render_panel(panel, console)


from heliarch.cli._backtest import backtest  # noqa: E402

app.command()(backtest)


from heliarch.cli._bus import replay, worker  # noqa: E402
from heliarch.cli._shard import universe_tick  # noqa: E402

app.command()(worker)
app.command()(replay)
app.command("universe-tick")(universe_tick)


from heliarch.cli._prompts import prompts_app  # noqa: E402
from heliarch.cli._usage import usage  # noqa: E402

app.command()(usage)

app.add_typer(prompts_app, name="prompts")

from heliarch.cli._models import models_app  # noqa: E402

app.add_typer(models_app, name="models")


from heliarch.cli._policy import policy_app  # noqa: E402

app.add_typer(policy_app, name="policy")

from heliarch.cli._review import review_app  # noqa: E402

app.add_typer(review_app, name="review")

from heliarch.cli._train import train_app  # noqa: E402

app.add_typer(train_app, name="train")

for _group in (app, prompts_app, policy_app, review_app, train_app):
    for _info in _group.registered_commands:
        if _info.callback is not None:
            _info.callback = boundary(_info.callback)


def main() -> None:
    """Entry point of the ``heliarch`` console script."""
    app()
