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


def test_list_skips_a_malformed_user_file_with_a_warning(user_prompts: Path) -> None:
    user_prompts.mkdir(parents=True, exist_ok=True)
    bad = user_prompts / "sun_reason.v7.md"
    bad.write_text("---\nname: sun_reason\n---\n## system\nx\n")
    result = CliRunner().invoke(app, ["prompts", "list"])
    assert result.exit_code == 0, result.output
    assert "sun_reason" in result.stdout and "planet_spec" in result.stdout
    assert result.stderr == f"warning: skipped prompt file {bad}: front matter lacks 'version'\n"


def test_pin_refuses_a_version_missing_a_declared_variable(user_prompts: Path) -> None:
    base = get_prompt("sun_reason")
    user_prompts.mkdir(parents=True, exist_ok=True)
    text = base.path.read_text().replace("version: 1", "version: 9")
    text = text.replace("$limits", "limits")  # declares limits, never uses it
    (user_prompts / "sun_reason.v9.md").write_text(text)
    result = CliRunner().invoke(app, ["prompts", "pin", "sun_reason", "9"])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert len(result.stderr.splitlines()) == 1
    assert "sun_reason.v9.md: placeholders" in result.stderr and "'limits'" in result.stderr
    assert get_prompt("sun_reason").version == "1"


def test_corrupt_pins_file_is_one_line(user_prompts: Path) -> None:
    user_prompts.mkdir(parents=True, exist_ok=True)
    (user_prompts / "pins.json").write_text("{oops")
    for command in (["prompts", "list"], ["prompts", "pin", "sun_reason", "1"]):
        result = CliRunner().invoke(app, command)
        assert result.exit_code == 2 and "Traceback" not in result.output
        assert result.stderr.startswith(f"error: {user_prompts / 'pins.json'}: corrupt pin book")
        assert len(result.stderr.splitlines()) == 1
