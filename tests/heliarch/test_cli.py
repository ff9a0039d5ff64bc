"""The `heliarch` CLI: decide and moons, human and JSON output, clear errors on bad data."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from datetime import datetime
from pathlib import Path

from typer.testing import CliRunner

from bus import MarketSnapshot, load_csv
from heliarch.cli import app
from sun import compute_panel

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


def test_moons_streamed_equals_the_suns_panel_at_an_as_of() -> None:
    result = runner.invoke(
        app, ["moons", "--data", GOOG, "--symbol", "GOOG", "--as-of", "2012-06-01", "--json"]
    )
    assert result.exit_code == 0, result.output
    streamed = json.loads(result.output)
    series = load_csv(GOOG, "GOOG")
    panel = compute_panel(MarketSnapshot.at(datetime(2012, 6, 1), {"GOOG": series}))
    assert streamed["values"]["GOOG"].keys() == panel.values["GOOG"].keys()
    for moon, value in panel.values["GOOG"].items():
        got = streamed["values"]["GOOG"][moon]
        assert got == value or (math.isnan(got) and math.isnan(value)), moon


def test_moons_loads_neither_the_sun_nor_any_model_library() -> None:
    """A light command stays light: 2M rows fit in ~250 MB only without the sun's imports."""
    probe = (
        "import sys; from heliarch.cli import main; "
        f"sys.argv = ['heliarch', 'moons', '--data', {GOOG!r}, '--json']\n"
        "try: main()\n"
        "except SystemExit: pass\n"
        "heavy = ('sun', 'langgraph', 'langchain_core', 'chromadb', 'onnxruntime', 'llama_cpp')\n"
        "print('LOADED', sorted(m for m in heavy if m in sys.modules), file=sys.stderr)"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert "LOADED []" in done.stderr, done.stderr[-2000:]


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


def test_policy_check_names_file_and_line_and_fails(tmp_path: Path) -> None:
    ok = runner.invoke(app, ["policy", "check", "sun/policy/policies/trading_guarded.yaml"])
    assert ok.exit_code == 0 and "ok" in ok.output
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "policy: bad\nprofile: trading\nagents: {t: {kind: planet}}\nrules:\n"
        "  - name: r\n    when: 'regime > 2.0'\n    plan: {nodes: [{name: t}]}\n"
    )
    result = runner.invoke(app, ["policy", "check", str(bad)])
    assert result.exit_code == 1
    assert f"{bad}:6:" in result.output and "1 problem(s)" in result.output


def test_policy_explain_shows_the_rule_and_the_plan() -> None:
    args = ["policy", "explain", "--data", GOOG, "--symbol", "GOOG", "--as-of", "2012-06-01"]
    result = runner.invoke(app, [*args, "--policy", "trading_guarded", "--headlines", "2"])
    assert result.exit_code == 0, result.output
    assert "rule routine: matched" in result.output and "rule large_change: no" in result.output
    assert "sentiment: run" in result.output and "checkpoint agree" in result.output
    plain = runner.invoke(app, [*args, "--json"])
    explanation = json.loads(plain.output)
    assert explanation["resolved"]["rule"] == "routing_tree"
    assert explanation["preview"]["sentiment"].startswith("skip")


def test_decide_shows_the_trace_and_disposition_and_takes_a_policy(tmp_path: Path) -> None:
    result = runner.invoke(app, ["decide", "--data", GOOG, "--model", "quant", "--json"])
    decision = json.loads(result.output)
    assert decision["disposition"] == "AUTO"
    assert [s["node"] for s in decision["trace"]][:3] == ["ingest", "moons", "route"]
    table = runner.invoke(app, ["decide", "--data", GOOG, "--model", "quant"])
    assert "execution trace" in table.output and "disposition: AUTO" in table.output
    missing = runner.invoke(app, ["decide", "--data", GOOG, "--plan", str(tmp_path / "no.yaml")])
    assert missing.exit_code == 2 and "no.yaml" in missing.output
