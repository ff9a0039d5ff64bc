"""The README's model mesh section: one short example per feature, and they run as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


def _mesh_blocks() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## The model mesh", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, re.S)


@pytest.mark.parametrize(
    "shows",
    ["ModelRegistry", "choose_model(", "BudgetConfig(", "RateLimit(", ".stream(", "Telemetry."],
    ids=["registry", "routing", "budgets", "rate-limits", "streaming", "telemetry"],
)
def test_each_feature_has_an_example(shows: str) -> None:
    assert any(shows in block for block in _mesh_blocks())


def test_the_examples_run_in_order(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Run as a reader would, from the checkout (provider keys: placeholders, no call is made)."""
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-placeholder")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-placeholder")
    namespace: dict[str, object] = {}
    for block in _mesh_blocks():
        exec(compile(block, "README.md", "exec"), namespace)  # noqa: S102 - the README's own code
    printed = capsys.readouterr().out
    assert "openai:gpt-4o-mini openai:gpt-4o\n" in printed  # the cheapest of each tier
    assert "custom {'event': 'reasoned'" in printed  # streamed
    assert type(namespace["telemetry"]).__name__ == "Telemetry"  # built, used and flushed
