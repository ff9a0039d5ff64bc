"""Model capability and price metadata: :class:`ModelInfo` and the :class:`ModelRegistry`.

Defaults for well-known models ship in ``sun/llm/models.toml`` (dated by its ``as_of``); a
registry can override them or declare models it does not know.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from bus import LlmUsage

Capability = Literal["structured_output", "json_mode", "tool_calling"]
CAPABILITIES: tuple[Capability, ...] = ("structured_output", "json_mode", "tool_calling")
_DATA_FILE = "models.toml"


class UnknownModelError(KeyError):
    """A model the registry has no metadata for (declare it with ``ModelRegistry.with_models``)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "unknown model"


@dataclass(frozen=True)
class ModelInfo:
    """What a model can do and what it costs.

    Attributes:
        context_window: Largest prompt + completion, in tokens.
        structured_output: Native schema-constrained output (tool calling / JSON schema).
        json_mode: A JSON-object mode.
        tool_calling: Tool (function) calling.
        input_usd_per_mtok: Dollars per million prompt tokens.
        output_usd_per_mtok: Dollars per million completion tokens.
        latency_ms: Prior for a typical structured call's latency (used by routing).
    """

    context_window: int
    structured_output: bool = True
    json_mode: bool = False
    tool_calling: bool = False
    input_usd_per_mtok: float = 0.0
    output_usd_per_mtok: float = 0.0
    latency_ms: float = 1000.0

    def __post_init__(self) -> None:
        if not isinstance(self.context_window, int) or self.context_window <= 0:
            raise ValueError(f"context_window must be a positive int, got {self.context_window!r}")
        for name in ("input_usd_per_mtok", "output_usd_per_mtok", "latency_ms"):
            value = getattr(self, name)
            if not isinstance(value, int | float) or not value >= 0.0 or value == float("inf"):
                raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")

    def has(self, capability: Capability) -> bool:
        """Whether the model offers ``capability``."""
        if capability not in CAPABILITIES:
            raise ValueError(f"unknown capability {capability!r}; known: {CAPABILITIES}")
        return bool(getattr(self, capability))

    def cost_usd(self, prompt_tokens: int, completion_tokens: int) -> float:
        """Dollars for one call of that many tokens."""
        return (
            prompt_tokens * self.input_usd_per_mtok + completion_tokens * self.output_usd_per_mtok
        ) / 1e6

    def priced(self, usage: LlmUsage) -> LlmUsage:
        """``usage`` with ``cost_usd`` set from its tokens."""
        cost = self.cost_usd(usage.prompt_tokens, usage.completion_tokens)
        return usage.model_copy(update={"cost_usd": cost})

    @classmethod
    def from_mapping(cls, label: str, data: Mapping[str, Any]) -> ModelInfo:
        """Build from a TOML/dict entry; unknown keys are an error naming the model."""
        known = {f.name for f in fields(cls)}
        extra = sorted(set(data) - known)
        if extra:
            raise ValueError(
                f"model {label!r}: unknown metadata keys {extra}; known: {sorted(known)}"
            )
        try:
            return cls(**dict(data))
        except (TypeError, ValueError) as exc:
            raise ValueError(f"model {label!r}: {exc}") from None


@dataclass(frozen=True)
class ModelRegistry:
    """Model metadata by spec label (``anthropic:claude-sonnet-4-5``, ``local``, ...).

    Attributes:
        models: Metadata by label.
        as_of: Date of the defaults' prices (from the data file), or ``""``.
    """

    models: Mapping[str, ModelInfo] = field(default_factory=dict)
    as_of: str = ""

    @classmethod
    def default(cls) -> ModelRegistry:
        """The shipped defaults (``sun/llm/models.toml``)."""
        text = resources.files("sun.llm").joinpath(_DATA_FILE).read_text(encoding="utf-8")
        return cls.from_toml(text, source=_DATA_FILE)

    @classmethod
    def load(cls, path: str | Path) -> ModelRegistry:
        """A registry from a TOML file shaped like ``models.toml``."""
        return cls.from_toml(Path(path).read_text(encoding="utf-8"), source=str(path))

    @classmethod
    def from_toml(cls, text: str, *, source: str = "<toml>") -> ModelRegistry:
        """Parse ``[models."<label>"]`` tables and an optional ``as_of`` date."""
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ValueError(f"{source}: invalid TOML: {exc}") from None
        models = data.get("models", {})
        if not isinstance(models, dict):
            raise ValueError(f"{source}: 'models' must be a table of model tables")
        parsed = {label: ModelInfo.from_mapping(label, entry) for label, entry in models.items()}
        return cls(models=parsed, as_of=str(data.get("as_of", "")))

    def with_models(self, models: Mapping[str, ModelInfo | Mapping[str, Any]]) -> ModelRegistry:
        """A copy with ``models`` added or overriding (dicts are merged over the known entry)."""
        merged = dict(self.models)
        for label, info in models.items():
            if isinstance(info, Mapping):
                base = merged.get(label)
                info = (
                    replace(base, **dict(info))
                    if base is not None and set(info) <= {f.name for f in fields(ModelInfo)}
                    else ModelInfo.from_mapping(label, info)
                )
            if not isinstance(info, ModelInfo):
                raise TypeError(f"model {label!r}: metadata must be a ModelInfo or a mapping")
            merged[label] = info
        return replace(self, models=merged)

    def info(self, label: str) -> ModelInfo:
        """Metadata of ``label``; ``local:<path>`` falls back to ``local``.

        Raises:
            UnknownModelError: No metadata for that model (the message says how to declare it).
        """
        found = self.models.get(label)
        if found is None and label.startswith("local:"):
            found = self.models.get("local")
        if found is None:
            raise UnknownModelError(
                f"no metadata for model {label!r}: declare it, e.g. "
                f"ModelRegistry.default().with_models({{{label!r}: ModelInfo(context_window=..., "
                "input_usd_per_mtok=..., output_usd_per_mtok=...)}})"
            )
        return found

    def __contains__(self, label: object) -> bool:
        return isinstance(label, str) and label in self.models

    def labels(self) -> Iterable[str]:
        """Every label with metadata."""
        return iter(self.models)
