"""``heliarch prompts``: list | show | diff | pin | rollback | history."""

from __future__ import annotations

import json
import warnings

import typer
from rich.console import Console
from rich.table import Table

from prompts import (
    PinBook,
    PromptError,
    PromptFileWarning,
    TrialStore,
    active_prompt,
    diff_prompts,
    get_prompt,
    lineage,
    list_prompts,
    pin_prompt,
    rollback_prompt,
)

prompts_app = typer.Typer(help="Versioned prompts: list, show, diff, pin, rollback, history.")
console = Console()
STORE_HELP = "trial store: SQLite path or postgresql:// URL (default: HELIARCH_PROMPTS_STORE_URL)"


def _fail(error: Exception) -> typer.Exit:
    typer.echo(f"error: {error}", err=True)
    return typer.Exit(2)


def _active_versions(names: set[str]) -> dict[str, str]:
    """The active version of each name; a name whose pin is unusable is reported, not fatal."""
    active = {}
    for name in sorted(names):
        try:
            active[name] = active_prompt(name).version
        except PromptError as error:
            typer.echo(f"warning: {error}", err=True)
    return active


@prompts_app.command("list")
def list_cmd() -> None:
    """Every prompt version with origin, parent, status; '*' marks the active one.

    A malformed prompt file is skipped with a warning line naming it and why.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", PromptFileWarning)
        templates = list_prompts()
    for warning in caught:
        typer.echo(f"warning: {warning.message}", err=True)
    try:
        PinBook.for_directory(None).all()  # a corrupt pin book is one error, not one per name
        active = _active_versions({t.name for t in templates})
    except PromptError as error:
        raise _fail(error) from error
    table = Table("name", "version", "active", "origin", "parent", "status", "created")
    for t in templates:
        mark = "*" if active.get(t.name) == t.version else ""
        table.add_row(t.name, t.version, mark, t.origin, t.parent or "", t.status, t.created)
    console.print(table)


@prompts_app.command()
def show(name: str, version: str | None = typer.Option(None, help="default: active")) -> None:
    """Print one version (front matter and sections)."""
    try:
        t = get_prompt(name, version)
    except PromptError as error:
        raise _fail(error) from error
    print(t.path.read_text(encoding="utf-8"), end="")


@prompts_app.command()
def diff(name: str, a: str, b: str) -> None:
    """Unified diff between two versions."""
    try:
        print(diff_prompts(name, a, b) or "(identical)")
    except PromptError as error:
        raise _fail(error) from error


@prompts_app.command()
def pin(
    name: str,
    version: str,
    reason: str = typer.Option("pinned by hand", help="why"),
    store: str | None = typer.Option(None, help=STORE_HELP),
) -> None:
    """Make VERSION the active version of NAME."""
    try:
        change = pin_prompt(name, version, reason)
    except PromptError as error:
        raise _fail(error) from error
    with TrialStore(store) as db:
        db.add_event(name, "pin", version, reason, {"previous": change.previous})
    console.print(f"{name}: active v{version} (was {change.previous or 'unpinned'})")


@prompts_app.command()
def rollback(
    name: str,
    to: str | None = typer.Option(None, help="version (default: the active one's parent)"),
    store: str | None = typer.Option(None, help=STORE_HELP),
) -> None:
    """Pin an earlier version (the active version's parent by default)."""
    try:
        before = active_prompt(name).version
        change = rollback_prompt(name, to)
    except PromptError as error:
        raise _fail(error) from error
    with TrialStore(store) as db:
        db.add_event(name, "rollback", change.version, change.reason, {"from": before})
    console.print(f"{name}: rolled back v{before} -> v{change.version}")


@prompts_app.command()
def history(
    name: str,
    store: str | None = typer.Option(None, help=STORE_HELP),
    trials: bool = typer.Option(False, "--trials", help="also list every trial"),
    as_json: bool = typer.Option(False, "--json", help="print JSON"),
) -> None:
    """Lineage, pins, evolution runs with their trials, and adopt/reject decisions."""
    try:
        versions = lineage(name)
        pins = PinBook.for_directory(None).log(name)
        active = active_prompt(name).version
    except PromptError as error:
        raise _fail(error) from error
    with TrialStore(store) as db:
        runs = db.runs(name)
        events = db.events(name)
        run_trials = {r.run_id: db.trials(r.run_id) for r in runs} if (trials or as_json) else {}
    if as_json:
        print(json.dumps({
            "versions": [{"version": v.version, "parent": v.parent, "origin": v.origin,
                          "status": v.status, "created": v.created} for v in versions],
            "active": active,
            "pins": [p.__dict__ for p in pins],
            "runs": [r.__dict__ | {"trials": [t.__dict__ for t in run_trials.get(r.run_id, [])]}
                     for r in runs],
            "events": [e.__dict__ for e in events],
        }, indent=2, default=str))  # fmt: skip
        return
    console.print(f"[bold]{name}[/bold] active v{active}")
    table = Table("version", "parent", "origin", "status", "created", title="versions")
    for v in versions:
        table.add_row(v.version, v.parent or "", v.origin, v.status, v.created)
    console.print(table)
    table = Table("run", "mode", "incumbent", "started", "outcome", "winner", "trials",
                  title="evolution runs")  # fmt: skip
    for r in runs:
        table.add_row(r.run_id, r.mode, r.incumbent, r.started, r.outcome or "running",
                      r.winner or "", str(r.summary.get("trials", "")))  # fmt: skip
    console.print(table)
    table = Table("when", "kind", "version", "reason", "evidence", title="decisions")
    for e in events:
        sel = e.evidence.get("selection") or e.evidence
        brief = ", ".join(
            f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}"
            for k, v in sel.items()
            if k in ("n", "mean_diff", "e_better", "cs_low", "cs_high", "previous", "from")
        )
        table.add_row(e.created, e.kind, e.version or "", e.reason, brief)
    console.print(table)
    for run_id, rows in run_trials.items():
        table = Table("seq", "phase", "situation", "variant", "inc", "cand", "diff",
                      title=f"trials of {run_id}")  # fmt: skip
        for t in rows:
            table.add_row(str(t.seq), t.phase, t.situation, t.variant, _f(t.incumbent_score),
                          _f(t.candidate_score), _f(t.diff))  # fmt: skip
        console.print(table)


def _f(value: float | None) -> str:
    return "" if value is None else f"{value:+.3f}"
