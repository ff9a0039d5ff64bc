"""``heliarch prompts`` commands."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from heliarch.cli import app
from prompts import TrialStore, get_prompt, write_version


def test_list_show_diff_pin_rollback_history(tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    store = str(tmp_path / "store.sqlite")
    monkeypatch.setenv("HELIARCH_PROMPTS_STORE_URL", store)
    base = get_prompt("sun_reason")
    new = write_version(
        "sun_reason", base.system + "Be calm.", base.user, parent="1", origin="evolved"
    ).version  # the package also holds sun_reason v2 (a candidate)
    runner = CliRunner()
    listed = runner.invoke(app, ["prompts", "list"])
    assert listed.exit_code == 0 and "sun_reason" in listed.output and "evolved" in listed.output
    shown = runner.invoke(app, ["prompts", "show", "sun_reason", "--version", new])
    assert "origin: evolved" in shown.output and "Be calm." in shown.output
    diff = runner.invoke(app, ["prompts", "diff", "sun_reason", "1", new])
    assert "+" in diff.output and "Be calm." in diff.output
    assert runner.invoke(app, ["prompts", "pin", "sun_reason", new]).exit_code == 0
    assert get_prompt("sun_reason").version == new
    rolled = runner.invoke(app, ["prompts", "rollback", "sun_reason"])
    assert rolled.exit_code == 0 and get_prompt("sun_reason").version == "1"
    with TrialStore(store) as db:
        run = db.start_run("sun_reason", "1", "offline", {})
        db.add_trial(run, 0, "selection", "GOOG@2006-01-03", new, 0.1, 0.6, 0.5, {"n": 1})
        db.finish_run(run, "no winner", None, {"trials": 1})
    history = runner.invoke(app, ["prompts", "history", "sun_reason", "--json"])
    data = json.loads(history.output)
    assert [e["kind"] for e in data["events"]] == ["pin", "rollback"]
    assert data["runs"][0]["trials"][0]["diff"] == 0.5 and data["active"] == "1"
    text = runner.invoke(app, ["prompts", "history", "sun_reason", "--trials"])
    assert text.exit_code == 0 and "rollback" in text.output and "GOOG@2006-01-03" in text.output
    assert runner.invoke(app, ["prompts", "pin", "sun_reason", "9"]).exit_code == 2
