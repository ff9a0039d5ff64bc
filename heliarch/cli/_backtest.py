"""``heliarch backtest``: walk-forward over real bars with baselines, JSON report and PNG."""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Callable
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from bus import SunDecision, instrument_file_stem, load_csv
from heliarch.cli._errors import check_window, model_option, option, parse_time

DATA_HELP = "CSV of OHLCV bars: timestamp, Open, High, Low, Close, Volume"


def _fmt(value: float | int | None, kind: str = "pct") -> str:
    if value is None:
        return "n/a"
    if kind == "pct":
        return f"{value:+.1%}"
    if kind == "int":
        return f"{int(value)}"
    return f"{value:.2f}"


def render_report(report: dict, console: Console) -> None:
    """The metrics table of one backtest report."""
    table = Table(title=f"{report['instrument']} walk-forward {report['window']['start'][:10]} .. "
                  f"{report['window']['end'][:10]} ({report['window']['bars']} bars)")  # fmt: skip
    columns = [
        ("total return", "total_return", "pct"),
        ("CAGR", "cagr", "pct"),
        ("Sharpe", "sharpe", "num"),
        ("Sortino", "sortino", "num"),
        ("max DD", "max_drawdown", "pct"),
        ("hit rate", "hit_rate", "pct"),
        ("trades", "trades", "int"),
    ]
    table.add_column("strategy")
    for title, _, _ in columns:
        table.add_column(title, justify="right")
    for name, metrics in report["metrics"].items():
        table.add_row(name, *(_fmt(metrics[key], kind) for _, key, kind in columns))
    console.print(table)
    llm = report["llm"]
    learning = report["learning"]
    console.print(
        f"decisions {report['decisions']}  LLM calls {llm['calls']} "
        f"({llm['calls_per_decision']:.2f}/decision), cache hits {llm['cache_hits']}  "
        f"learning {'on' if learning['enabled'] else 'off'}: weights {learning['weights']}, "
        f"lessons {learning['lessons_written']}  memories {report['memories']}  "
        f"{report['elapsed_s']:.1f} s"
    )


class PlainProgress:
    """Progress as a plain line every 10% (and at the end) when stderr is not a terminal, where
    a live bar would show nothing until the run ends."""

    def __init__(self, console: Console, label: str, clock: Callable[[], float] = time.monotonic):
        self.console, self.label, self.clock = console, label, clock
        self.started = clock()
        self.shown = -1

    def show(self, done: int, total: int, note: str = "") -> None:
        """Print ``done/total`` with the elapsed time and an ETA, once per 10% step."""
        if self.console.is_terminal or total <= 0:
            return
        tenth = done * 10 // total
        if tenth == self.shown and done != total:
            return
        self.shown = tenth
        elapsed = self.clock() - self.started
        eta = elapsed / done * (total - done) if done else 0.0
        self.console.print(
            f"{self.label}: {done}/{total} ({done * 100 // total}%) "
            f"elapsed {elapsed:.0f}s eta {eta:.0f}s {note}".rstrip(),
            highlight=False,
        )


def output_stem(instrument: str, model: str, learning: str) -> str:
    """The report's file-name stem: derived from validated names, never a path."""
    model_part = re.sub(r"[^A-Za-z0-9._-]", "_", model)[:60].lstrip(".-") or "model"
    return f"{instrument_file_stem(instrument)}-{model_part}-learning-{learning}"


def backtest(
    data: Path | None = typer.Option(None, exists=True, dir_okay=False, help=DATA_HELP),
    universe: int | None = typer.Option(
        None,
        help="instead of --data: N instruments derived from the bundled data, decided "
        "together (decide_universe + portfolio guardian) against equal-weight buy-and-hold",
    ),
    universe_bars: int = typer.Option(600, help="ticks of the --universe clock"),
    symbol: str | None = typer.Option(None, help="instrument name (default: file name)"),
    start: str | None = typer.Option(None, help="first decision time, ISO (default: first bar)"),
    end: str | None = typer.Option(None, help="last decision time, ISO (default: last bar)"),
    model: str = typer.Option("quant", help="sun model spec: quant, local, anthropic:<m>, ..."),
    learning: str = typer.Option("on", help="learn trust weights and lessons: on | off"),
    cost_bps: float = typer.Option(1.0, help="cost per unit of turnover, basis points"),
    slippage_bps: float = typer.Option(1.0, help="slippage per unit of turnover, basis points"),
    horizon: int = typer.Option(5, help="bars until a decision is labelled with its outcome"),
    seed: int = typer.Option(0, help="seed (quant runs are deterministic)"),
    policy: str = typer.Option("auto", help="LLM policy: auto | always"),
    planets: str = typer.Option("styles", help="planet set: styles | default"),
    out: Path = typer.Option(Path("out/backtest"), help="directory for the JSON report + PNG"),
    as_json: bool = typer.Option(False, "--json", help="print the JSON report"),
) -> None:
    """Walk the sun forward over real bars; compare with buy-and-hold and SMA 50/200."""
    from heliarch.backtest import BacktestConfig, plot_equity, run_backtest

    err = Console(stderr=True)
    if universe is not None:
        from heliarch.cli._universe import universe_backtest

        universe_backtest(universe, universe_bars, model, cost_bps, slippage_bps, out, as_json)
        return
    if data is None:
        err.print("[red]give --data <csv> (one instrument) or --universe N[/red]")
        raise typer.Exit(2)
    if learning not in ("on", "off"):
        err.print("[red]--learning must be on or off[/red]")
        raise typer.Exit(2)
    if planets not in ("styles", "default"):
        err.print("[red]--planets must be styles or default[/red]")
        raise typer.Exit(2)
    from sun import parse_llm_policy

    model_option(model)
    for name, bps in (("--cost-bps", cost_bps), ("--slippage-bps", slippage_bps)):
        if not math.isfinite(bps) or bps < 0:
            raise ValueError(f"{name} {bps}: must be a finite number of basis points >= 0")
    option("--policy", policy, parse_llm_policy)
    first = parse_time("--start", start) if start else None
    last = parse_time("--end", end) if end else None
    series = load_csv(data, symbol or data.stem)
    check_window(first, last, series)
    config = BacktestConfig(
        model=model,
        learning=learning == "on",
        horizon=horizon,
        cost_bps=cost_bps,
        slippage_bps=slippage_bps,
        start=first,
        end=last,
        seed=seed,
        policy=policy,
        planets=planets,
        memory_dir=out / "memory",
    )
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=True,
    ) as progress:
        task = progress.add_task(f"{series.instrument} walk-forward", total=None)

        spent = [0.0]

        lines = PlainProgress(err, f"{series.instrument} walk-forward")

        def step(done: int, total: int) -> None:
            if done % 10 == 0 or done == total:
                label = f"{series.instrument} walk-forward  LLM ${spent[0]:.4f}"
                progress.update(task, completed=done, total=total, description=label)
                lines.show(done, total, f"LLM ${spent[0]:.4f}")

        def count(decision: SunDecision) -> None:
            spent[0] += decision.llm_usage.cost_usd

        result = run_backtest(series, config, on_step=step, on_decision=count)
    out.mkdir(parents=True, exist_ok=True)
    report = result.report()
    stem = output_stem(series.instrument, model, learning)
    png = plot_equity([result], out / f"{stem}.png")
    report["files"] = {"report": str(out / f"{stem}.json"), "equity_png": str(png)}
    (out / f"{stem}.json").write_text(json.dumps(report, indent=2))
    if as_json:
        print(json.dumps(report, indent=2))
    else:
        render_report(report, Console())
        Console().print(f"report: {report['files']['report']}  figure: {png}")
