"""``heliarch review``: decisions waiting for a human, over the sun's durable checkpointer.

    heliarch review list    --checkpoint postgresql://...
    heliarch review show    THREAD_ID --checkpoint ...
    heliarch review approve THREAD_ID --checkpoint ... [--target 0.3] --by alice --note "..."
    heliarch review reject  THREAD_ID --checkpoint ... --by alice --note "..."
    heliarch review modify  THREAD_ID --target 0.3 --checkpoint ...

``approve --target X`` is ``modify``: the new target passes the guard again.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer
from rich.console import Console

from bus import SunDecision
from heliarch.cli._errors import one_line, shown_url

review_app = typer.Typer(help="Human review of HIL_REVIEW decisions: list, show, answer.")
console = Console()
CHECKPOINT_HELP = (
    "checkpointer of the decisions: postgresql://... or a SQLite file "
    "(default: HELIARCH_CHECKPOINT_URL, else checkpoints.sqlite in the data dir)"
)
_CHECKPOINT = typer.Option(None, "--checkpoint", help=CHECKPOINT_HELP)
_JSON = typer.Option(False, "--json", help="print JSON")
_BY = typer.Option("", "--by", help="who answers (recorded on the decision)")
_NOTE = typer.Option("", "--note", help="why (recorded on the decision)")


@contextmanager
def _sun(checkpoint: str | None) -> Iterator[Any]:
    """A quant sun over ``checkpoint`` (the reasoning is done: only the review remains)."""
    from sun import Settings, Sun

    settings = Settings()
    target = checkpoint or settings.checkpoint_url or str(settings.data_dir / "checkpoints.sqlite")
    is_url = target.startswith(("postgres://", "postgresql://"))
    if not is_url and not Path(target).is_file():
        raise ValueError(f"--checkpoint {target!r}: no such checkpoint file")
    try:
        sun = Sun("quant", settings=settings, checkpoint=target)
    except Exception as error:
        shown = shown_url(target) if is_url else target
        raise ValueError(f"--checkpoint {shown!r}: cannot open: {one_line(error)}") from None
    with sun:
        yield sun


@review_app.command("list")
def list_reviews(checkpoint: str | None = _CHECKPOINT, as_json: bool = _JSON) -> None:
    """Every decision waiting for review, newest first."""
    with _sun(checkpoint) as sun:
        pending = sun.pending_reviews()
    if as_json:
        print(_json_list(pending))
        return
    if not pending:
        console.print("no decision is waiting for review", markup=False)
        return
    console.print(f"{len(pending)} decision(s) waiting for review", markup=False)
    for decision in pending:
        thread = decision.review.thread_id if decision.review else None
        console.print(
            f"{thread}  {decision.instrument} @ {decision.as_of:%Y-%m-%d %H:%M}  "
            f"{decision.action} {decision.target_position:+.3f}  {decision.disposition_reason}",
            markup=False, highlight=False, soft_wrap=True,
        )  # fmt: skip


@review_app.command("show")
def show(
    thread_id: str = typer.Argument(..., help="the pending decision's thread id"),
    checkpoint: str | None = _CHECKPOINT,
    as_json: bool = _JSON,
) -> None:
    """The pending decision: proposal, evidence (planet reports) and execution trace."""
    with _sun(checkpoint) as sun:
        decision = sun.pending_review(thread_id)
    _print(decision, as_json)


@review_app.command("approve")
def approve(
    thread_id: str = typer.Argument(..., help="the pending decision's thread id"),
    target: float | None = typer.Option(
        None, "--target", help="approve a different target position (= modify)"
    ),
    by: str = _BY,
    note: str = _NOTE,
    checkpoint: str | None = _CHECKPOINT,
    as_json: bool = _JSON,
) -> None:
    """Approve: the order intent is released (with --target: modified, guarded again)."""
    action = "approve" if target is None else "modify"
    _answer(thread_id, action, target, by, note, checkpoint, as_json)


@review_app.command("modify")
def modify(
    thread_id: str = typer.Argument(..., help="the pending decision's thread id"),
    target: float = typer.Option(..., "--target", help="the new target position in [-1, 1]"),
    by: str = _BY,
    note: str = _NOTE,
    checkpoint: str | None = _CHECKPOINT,
    as_json: bool = _JSON,
) -> None:
    """Approve with a new target position; it passes the guard again (clamped to the limits)."""
    _answer(thread_id, "modify", target, by, note, checkpoint, as_json)


@review_app.command("reject")
def reject(
    thread_id: str = typer.Argument(..., help="the pending decision's thread id"),
    by: str = _BY,
    note: str = _NOTE,
    checkpoint: str | None = _CHECKPOINT,
    as_json: bool = _JSON,
) -> None:
    """Reject: no order (the position is held, as the guard allows)."""
    _answer(thread_id, "reject", None, by, note, checkpoint, as_json)


def _answer(
    thread_id: str,
    action: str,
    target: float | None,
    by: str,
    note: str,
    checkpoint: str | None,
    as_json: bool,
) -> None:
    from sun import review_answer

    review_answer(action, target=target, by=by, note=note)  # bad input fails before connecting
    with _sun(checkpoint) as sun:
        decision = sun.review(thread_id, action, target=target, by=by, note=note)
    _print(decision, as_json)


def _print(decision: SunDecision, as_json: bool) -> None:
    if as_json:
        print(decision.model_dump_json(indent=2))
        return
    from heliarch._render import render_decision

    render_decision(decision, console)
    review = decision.review
    if review is not None:
        who = f" by {review.by}" if review.by else ""
        note = f": {review.note}" if review.note else ""
        console.print(
            f"review {review.thread_id}: {review.status}{who}{note} (proposed "
            f"{review.proposed_target:+.3f})",
            markup=False,
        )


def _json_list(decisions: list[SunDecision]) -> str:
    import json

    return json.dumps([d.model_dump(mode="json") for d in decisions], indent=2)
