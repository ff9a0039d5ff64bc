"""``heliarch train sentiment``: reproducible training, progress lines, one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from heliarch.cli import app
from planets import SentimentX, default_scorer

runner = CliRunner()


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--seed", "-1"], "error: --seed -1 must be >= 0"),
        (["--out", "examples"], "error: --out examples is a directory"),
        (["--out", "README.md/x.onnx"], "error: --out README.md/x.onnx: README.md is not a dir"),
        (["--data-dir", "no/such/dir"], "error: --data-dir no/such/dir is not a directory"),
        (["--data-dir", "planets"], "error: --data-dir: planets/semeval2017_task5_headlines"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args: list[str], expected: str) -> None:
    result = runner.invoke(app, ["train", "sentiment", *args])
    assert result.exit_code == 2, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(expected), result.stderr
    assert "Traceback" not in result.output


@pytest.mark.slow
def test_same_seed_gives_the_shipped_model_with_progress_lines(tmp_path: Path) -> None:
    pytest.importorskip("sklearn")
    out = tmp_path / "student.onnx"
    result = runner.invoke(app, ["train", "sentiment", "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    progress = result.stderr.splitlines()
    assert any("grouped split (seed 0)" in line for line in progress)
    assert progress[-1].endswith("evaluating on the held-out split")
    report = json.loads(result.stdout)
    shipped = default_scorer()
    assert report["seed"] == 0 and report["figures"] == shipped.record["figures"]
    texts = ["Glencore shares rise after profit beats", "Barclays falls on fraud probe", ""]
    trained = SentimentX(out)
    np.testing.assert_allclose(trained.predict_raw(texts), shipped.predict_raw(texts), atol=1e-4)
