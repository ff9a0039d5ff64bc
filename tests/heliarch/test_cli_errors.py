"""The CLI's error boundary: every bad input is one stderr line naming it, exit 2, no traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from heliarch.cli import app

GOOG = "examples/data/GOOG.csv"
SPAN = "GOOG has bars from 2004-08-19T00:00:00 to 2013-03-01T00:00:00"
runner = CliRunner()

CASES = {
    "as-of-garbage": (
        ["decide", "--data", GOOG, "--model", "quant", "--as-of", "garbage"],
        "error: --as-of 'garbage' is not an ISO date or time",
    ),
    "as-of-1424": (
        ["decide", "--data", GOOG, "--model", "quant", "--as-of", "1424-06-01"],
        f"error: --as-of 1424-06-01T00:00:00 is before the first bar ({SPAN})",
    ),
    "as-of-9999": (
        ["moons", "--data", GOOG, "--as-of", "9999-12-31"],
        f"error: --as-of 9999-12-31T00:00:00 is after the last bar ({SPAN})",
    ),
    "model-nonsense": (
        ["decide", "--data", GOOG, "--model", "nonsense"],
        "error: --model 'nonsense': invalid model spec 'nonsense'",
    ),
    "policy-bogus": (
        ["decide", "--data", GOOG, "--model", "quant", "--policy", "bogus"],
        "error: --policy 'bogus': llm_policy must be 'always' or 'auto', got 'bogus'",
    ),
    "start-garbage": (
        ["backtest", "--data", GOOG, "--start", "garbage"],
        "error: --start 'garbage' is not an ISO date or time",
    ),
    "backtest-window-before-data": (
        ["backtest", "--data", GOOG, "--start", "1424-01-01", "--end", "1425-01-01"],
        f"error: --end 1425-01-01T00:00:00 is before the first bar ({SPAN})",
    ),
    "backtest-cost-nan": (
        ["backtest", "--data", GOOG, "--cost-bps", "nan"],
        "error: --cost-bps nan: must be a finite number of basis points >= 0",
    ),
    "backtest-model-nonsense": (
        ["backtest", "--data", GOOG, "--model", "nonsense"],
        "error: --model 'nonsense': invalid model spec",
    ),
    "worker-unreachable-redis": (
        ["worker", "--planet", "risk", "--redis", "redis://user:s3cret@127.0.0.1:1/0"],
        "error: --redis redis://user:***@127.0.0.1:1/0: cannot reach Redis: ",
    ),
    "worker-neither-mode": (
        ["worker"],
        "error: --planet / --universe: give exactly one (planet or universe worker)",
    ),
    "worker-universe-zero": (
        ["worker", "--universe", "0"],
        "error: --universe 0 --universe-bars 600: need n >= 1",
    ),
    "worker-ttl-below-heartbeat": (
        ["worker", "--universe", "4", "--heartbeat-s", "2", "--member-ttl-s", "1"],
        "error: --member-ttl-s 1.0: must exceed --heartbeat-s",
    ),
    "worker-claim-ttl-inf": (
        ["worker", "--universe", "4", "--claim-ttl-s", "inf"],
        "error: --claim-ttl-s inf: must be a positive number of seconds",
    ),
    "worker-universe-unreachable-redis": (
        ["worker", "--universe", "4", "--universe-bars", "60", "--redis", "redis://127.0.0.1:1/0"],
        "error: --redis redis://127.0.0.1:1/0: cannot reach Redis: ",
    ),
    "universe-tick-no-ticks": (
        ["universe-tick", "--universe", "4", "--ticks", "0"],
        "error: --ticks 0: must be at least 1",
    ),
    "universe-tick-too-many-ticks": (
        ["universe-tick", "--universe", "4", "--universe-bars", "60", "--ticks", "61"],
        "error: --ticks 61: the clock has 60 stamps",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_is_one_line_and_exit_2(case: str) -> None:
    args, expected = CASES[case]
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(expected), result.stderr
    assert "Traceback" not in result.output and "s3cret" not in result.output


def test_directory_as_data_is_a_usage_error() -> None:
    result = runner.invoke(app, ["decide", "--data", "examples/data", "--model", "quant"])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "Invalid value for '--data'" in result.stderr and "is a directory" in result.stderr


def test_debug_shows_the_traceback() -> None:
    result = runner.invoke(app, ["--debug", "decide", "--data", GOOG, "--model", "nonsense"])
    assert result.exit_code == 1
    assert isinstance(result.exception, ValueError)
    assert "invalid model spec" in str(result.exception)


def test_console_script_prints_no_traceback() -> None:
    command = [sys.executable, "-m", "heliarch", "decide", "--data", GOOG, "--as-of", "x"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert (
        done.stderr
        == "error: --as-of 'x' is not an ISO date or time (e.g. 2012-06-01 or 2012-06-01T16:00)\n"
    )


def test_valid_as_of_still_decides(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["decide", "--data", GOOG, "--model", "quant", "--as-of", "2012-06-01", "--json"]
    )
    assert result.exit_code == 0, result.output
