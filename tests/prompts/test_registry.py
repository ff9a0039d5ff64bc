"""Prompt templates are versioned files; rendering checks the variables."""

from __future__ import annotations

from pathlib import Path

import pytest

from prompts import (
    PromptError,
    PromptFileWarning,
    get_prompt,
    list_prompts,
    pin_prompt,
    skipped_prompts,
)

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
    with pytest.warns(PromptFileWarning, match=r"demo\.v1\.md: placeholders"):
        assert list_prompts(tmp_path) == []
    with pytest.raises(PromptError, match=r"demo\.v1\.md: placeholders"):
        get_prompt("demo", "1", directory=tmp_path)


def test_user_prompt_dir_keeps_its_old_import_path(user_prompts: Path) -> None:
    import prompts
    from prompts import _registry

    assert _registry.user_prompt_dir is prompts.user_prompt_dir
    assert prompts.user_prompt_dir() == user_prompts
    assert prompts.PinBook.for_directory().path == user_prompts / "pins.json"


def test_a_version_may_declare_other_variables_than_its_parent(tmp_path: Path) -> None:
    """Each version is rendered with the values it declares (callers filter what they pass),
    so v2 may declare fewer or other variables than v1; its own placeholders must match."""
    write(tmp_path, 1)
    (tmp_path / "demo.v2.md").write_text(
        TEMPLATE.format(version=2, parent=1, suffix="")
        .replace("$who", "you")
        .replace("variables: who", "variables:")
    )
    assert [t.version for t in list_prompts(tmp_path)] == ["1", "2"]
    pin_prompt("demo", "2", directory=tmp_path)
    assert (
        get_prompt("demo", directory=tmp_path).render()
        == get_prompt("demo", "2", directory=tmp_path).render()
    )


def test_one_malformed_file_is_skipped_with_its_reason(tmp_path: Path) -> None:
    write(tmp_path, 1)
    (tmp_path / "other.v1.md").write_text("no front matter here")
    (tmp_path / "third.v1.md").write_bytes(b"\xff\xfe not text")
    skipped = {p.path.name: p.reason for p in skipped_prompts(tmp_path)}
    assert skipped["other.v1.md"] == "expected a '---' front-matter block at the top"
    assert "utf-8" in skipped["third.v1.md"]
    with pytest.warns(PromptFileWarning):
        assert [t.name for t in list_prompts(tmp_path)] == ["demo"]


@pytest.mark.parametrize(
    ("content", "why"),
    [
        ("{not json", "corrupt pin book: Expecting property name"),
        ("[1, 2]", "corrupt pin book: not a JSON object"),
        ('{"pins": {"demo": 2}}', "corrupt pin book: 'pins' is not name -> version"),
        ('{"pins": {}, "log": [{"x": 1}]}', "corrupt pin book: 'log' entries are malformed"),
    ],
)
def test_corrupt_pin_book_is_one_error_naming_the_file(
    tmp_path: Path, content: str, why: str
) -> None:
    write(tmp_path, 1)
    (tmp_path / "pins.json").write_text(content)
    with pytest.raises(PromptError, match=f"pins.json: {why}"):
        get_prompt("demo", directory=tmp_path)
