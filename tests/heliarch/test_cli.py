"""The `heliarch` CLI: decide and moons, human and JSON output, clear errors on bad data."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from heliarch.cli import app

GOOG = "examples/data/GOOG.csv"
runner = CliRunner()


def test_decide_json_with_quant() -> None:
    result = runner.invoke(
        app,
        [
            "decide",
            "--data",
            GOOG,
            "--symbol",
            "GOOG",
            "--as-of",
            "2012-06-01",
            "--model",
            "quant",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    decision = json.loads(result.output)
    assert decision["instrument"] == "GOOG" and decision["as_of"].startswith("2012-06-01")
    assert decision["reasoner"] == "quant"
    assert decision["llm_usage"]["calls"] == 0


def test_decide_table_shows_reports_and_usage() -> None:
    result = runner.invoke(app, ["decide", "--data", GOOG, "--model", "quant"])
    assert result.exit_code == 0, result.output
    assert "planet reports" in result.output and "LLM usage" in result.output
    assert "[quant]" in result.output


def test_moons_json() -> None:
    result = runner.invoke(app, ["moons", "--data", GOOG, "--symbol", "GOOG", "--json"])
    assert result.exit_code == 0, result.output
    panel = json.loads(result.output)
    assert 0 < panel["values"]["GOOG"]["rsi"] < 100


def test_bad_data_is_a_clear_error(tmp_path: Path) -> None:
    lines = Path(GOOG).read_text().splitlines()
    date, open_, high, low, close, volume = lines[5].split(",")
    lines[5] = ",".join([date, open_, high, low, "-1", volume])
    bad = tmp_path / "bad.csv"
    bad.write_text("\n".join(lines))
    result = runner.invoke(
        app, ["decide", "--data", str(bad), "--symbol", "GOOG", "--model", "quant"]
    )
    assert result.exit_code == 2
    assert "close" in result.output and "GOOG" in result.output
