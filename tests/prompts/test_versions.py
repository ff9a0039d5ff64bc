"""Registry additions: user directory, candidates, pin, rollback, diff, person candidates."""

from __future__ import annotations

from pathlib import Path

import pytest

from prompts import (
    PinBook,
    PromptError,
    active_prompt,
    candidate_from_file,
    diff_prompts,
    get_prompt,
    lineage,
    pin_prompt,
    rollback_prompt,
    unpin_prompt,
    write_version,
)


def _evolve(text: str = "Think twice.") -> str:
    base = get_prompt("sun_reason")
    made = write_version(
        "sun_reason", base.system + text, base.user, parent=base.version, origin="evolved"
    )
    return made.version


def test_new_versions_go_to_the_user_dir_and_stay_inactive(user_prompts: Path) -> None:
    version = _evolve()
    assert version == "3"  # the package holds v1 and the candidate v2
    assert (user_prompts / "sun_reason.v3.md").is_file()
    made = get_prompt("sun_reason", "3")
    assert made.origin == "evolved" and made.parent == "1" and made.is_candidate
    assert made.render(instrument="G", as_of="t", reports="r", recalled="n", limits="l")
    # a candidate is never active unless pinned: the default stays v1
    assert get_prompt("sun_reason").version == "1"
    assert [t.version for t in lineage("sun_reason")] == ["1", "2", "3"]


def test_pin_then_rollback(user_prompts: Path) -> None:
    v2 = _evolve()
    pin_prompt("sun_reason", v2, "test")
    assert get_prompt("sun_reason").version == v2
    assert PinBook.for_directory().pinned("sun_reason") == v2
    change = rollback_prompt("sun_reason")
    assert change.version == "1" and change.previous == v2
    assert active_prompt("sun_reason").version == "1"
    assert [c.kind for c in PinBook.for_directory().log("sun_reason")] == ["pin", "rollback"]
    with pytest.raises(PromptError, match="no parent"):
        rollback_prompt("sun_reason")
    unpin_prompt("sun_reason")
    assert get_prompt("sun_reason").version == "1"
    with pytest.raises(PromptError, match="no version 9"):
        pin_prompt("sun_reason", "9")
    # the bundled template file was never touched
    assert get_prompt("sun_reason", "1").path.parent.name == "templates"


def test_diff_shows_the_change() -> None:
    v2 = _evolve(" Prefer HOLD when planets disagree.")
    text = diff_prompts("sun_reason", "1", v2)
    assert "+" in text and "Prefer HOLD when planets disagree." in text
    assert "sun_reason.v1 ## system" in text


def test_candidate_from_a_person(tmp_path: Path) -> None:
    path = tmp_path / "mine.md"
    base = get_prompt("sun_reason")
    path.write_text(f"## system\n{base.system}Be terse.\n## user\n{base.user}")
    made = candidate_from_file(path, "sun_reason")
    assert made.origin == "human" and made.parent == "1" and made.is_candidate
    bad = tmp_path / "bad.md"
    bad.write_text("## system\nHi $who\n## user\nx\n")
    with pytest.raises(PromptError, match="placeholders"):
        candidate_from_file(bad, "sun_reason")
