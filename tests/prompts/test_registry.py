"""Prompt templates are versioned files; rendering checks the variables."""

from __future__ import annotations

from pathlib import Path

import pytest

from prompts import PromptError, get_prompt, list_prompts

TEMPLATE = """---
name: demo
version: {version}
parent: {parent}
created: 2026-11-22
origin: human
variables: who
---
## system
Be brief.
## user
Hello $who {suffix}
"""


def write(directory: Path, version: int, suffix: str = "", parent: str = "") -> None:
    text = TEMPLATE.format(version=version, parent=parent, suffix=suffix)
    (directory / f"demo.v{version}.md").write_text(text)


def test_bundled_sun_prompt_renders_with_declared_variables() -> None:
    prompt = get_prompt("sun_reason")
    system, user = prompt.render(
        instrument="GOOG",
        as_of="2012-06-01",
        reports="{}",
        recalled="none",
        limits="size at most 1",
    )
    assert "GOOG" in user and "JSON" in system
    with pytest.raises(PromptError, match="missing"):
        prompt.render(instrument="GOOG")
    with pytest.raises(PromptError, match="unknown"):
        prompt.render(instrument="G", as_of="x", reports="", recalled="", limits="", extra="!")


def test_versions_and_latest(tmp_path: Path) -> None:
    write(tmp_path, 1)
    write(tmp_path, 2, suffix="again", parent="1")
    assert [p.version for p in list_prompts(tmp_path)] == ["1", "2"]
    assert get_prompt("demo", directory=tmp_path).version == "2"
    assert get_prompt("demo", "1", directory=tmp_path).render(who="sun")[1].strip() == "Hello sun"
    assert get_prompt("demo", "2", directory=tmp_path).parent == "1"
    with pytest.raises(PromptError, match="no version 7"):
        get_prompt("demo", "7", directory=tmp_path)


def test_undeclared_placeholder_is_rejected(tmp_path: Path) -> None:
    write(tmp_path, 1, suffix="$stranger")
    with pytest.raises(PromptError, match="placeholders"):
        list_prompts(tmp_path)


def test_user_prompt_dir_keeps_its_old_import_path(user_prompts: Path) -> None:
    import prompts
    from prompts import _registry

    assert _registry.user_prompt_dir is prompts.user_prompt_dir
    assert prompts.user_prompt_dir() == user_prompts
    assert prompts.PinBook.for_directory().path == user_prompts / "pins.json"
