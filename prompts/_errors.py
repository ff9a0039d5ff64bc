"""The prompts package's error (its own module so pins and registry share it without a cycle)."""

from __future__ import annotations


class PromptError(ValueError):
    """A prompt template is missing, malformed, or rendered with the wrong variables."""
