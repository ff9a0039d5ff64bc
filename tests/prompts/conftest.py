"""Every prompts test writes to its own user prompt directory and SQLite store."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def user_prompts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh user prompt directory (``HELIARCH_PROMPTS_DIR``) per test."""
    directory = tmp_path / "user-prompts"
    monkeypatch.setenv("HELIARCH_PROMPTS_DIR", str(directory))
    monkeypatch.delenv("HELIARCH_PROMPTS_STORE_URL", raising=False)
    return directory
