"""``heliarch train sentiment``: train the SentimentX student and export it to ONNX."""

from __future__ import annotations

import json
import time
from dataclasses import asdict
from pathlib import Path

import typer
from rich.console import Console

train_app = typer.Typer(help="Train the models that ship with heliarch.")
err_console = Console(stderr=True)
DATA_DIR_HELP = "folder with semeval2017_task5_headlines.json and fiqa_posts.json"


def _check_paths(out: Path, data_dir: Path | None) -> None:
    """Bad paths as one ValueError naming the option (before any work is done)."""
    if out.is_dir():
        raise ValueError(f"--out {out} is a directory; give the model file's path (*.onnx)")
    if out.parent.exists() and not out.parent.is_dir():
        raise ValueError(f"--out {out}: {out.parent} is not a directory")
    if data_dir is not None and not data_dir.is_dir():
        raise ValueError(f"--data-dir {data_dir} is not a directory")


@train_app.command("sentiment")
def sentiment(
    seed: int = typer.Option(0, "--seed", help="seed of the grouped held-out split (default 0)"),
    out: Path | None = typer.Option(
        None, "--out", help="model file to write (default: the shipped planets/models file)"
    ),
    data_dir: Path | None = typer.Option(None, "--data-dir", help=DATA_DIR_HELP),
    as_json: bool = typer.Option(False, "--json", help="print the training report as JSON"),
) -> None:
    """Train the SentimentX student on the bundled labelled sets; same seed, same model file.

    Progress lines go to stderr; the result (held-out Pearson of the student and the lexicon
    per data set) to stdout.
    """
    from planets import DEFAULT_SENTIMENTX_PATH

    if seed < 0:
        raise ValueError(f"--seed {seed} must be >= 0")
    target = out if out is not None else DEFAULT_SENTIMENTX_PATH
    _check_paths(target, data_dir)
    from learning import train_sentimentx

    started = time.monotonic()

    def progress(line: str) -> None:
        err_console.print(f"[{time.monotonic() - started:5.1f}s] {line}", markup=False)

    try:
        report = train_sentimentx(target, seed=seed, data_dir=data_dir, progress=progress)
    except ModuleNotFoundError as error:
        raise ValueError(
            f"training needs the train extra: pip install 'heliarch[train]' ({error})"
        ) from None
    except FileNotFoundError as error:
        raise ValueError(f"--data-dir: {error}") from None
    if as_json:
        print(json.dumps(asdict(report), default=str))
        return
    lines = [f"wrote {report.path} ({report.size_bytes / 1024:.0f} KiB, seed {report.seed})"]
    for name, fig in report.figures.items():
        student = fig["student_all"]["pearson"]
        lexicon = fig["lexicon_all_uncovered_as_0"]["pearson"]
        lines.append(
            f"{name} held-out (n={fig['n']}): Pearson student {student:.3f} vs lexicon "
            f"{lexicon:.3f} ({student - lexicon:+.3f})"
        )
    print("\n".join(lines))
