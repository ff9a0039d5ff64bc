"""What a model has earned: its stored model checks (per model spec and prompt version) and
the authority level they allow (see :mod:`sun._authority` for what each level may do)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bus import Authority
from prompts import PromptTemplate
from sun._authority import parse_authority


@dataclass(frozen=True)
class AuthorityThresholds:
    """What a model check must show for each level (see :func:`allowed_authority`).

    Attributes:
        decide_sensitivity: Lower 95% bound of input sensitivity for ``decide``.
        adjust_sensitivity: Lower 95% bound of input sensitivity for ``adjust``.
        max_invalid: Highest share of invalid first answers for ``decide`` / ``adjust``.
    """

    decide_sensitivity: float = 0.5
    adjust_sensitivity: float = 0.05
    max_invalid: float = 0.25


def allowed_authority(
    sensitivity_low: float, invalid_share: float, thresholds: AuthorityThresholds
) -> Authority:
    """The highest level a measured model earns.

    ``decide`` needs answers that follow mirrored evidence on net on at least half of the
    dates (lower 95% bound), ``adjust`` a lower bound above ``adjust_sensitivity`` (the model
    reacts to its input at all); more than ``max_invalid`` invalid answers means ``explain``.
    """
    if invalid_share > thresholds.max_invalid:
        return "explain"
    if sensitivity_low >= thresholds.decide_sensitivity:
        return "decide"
    if sensitivity_low >= thresholds.adjust_sensitivity:
        return "adjust"
    return "explain"


BUNDLED_CHECKS = Path(__file__).with_name("model_checks.json")
"""Measurements shipped with the package (the embedded ``local`` model as shipped)."""


class ModelCheckStore:
    """Model check results per model spec and prompt version, in one JSON file.

    Keys are ``"<spec>|<prompt name> v<version>"``; values are the check's figures with the
    ``authority`` they allow. Reads fall back to the measurements shipped with the package.
    """

    def __init__(self, path: Path, bundled: Path | None = BUNDLED_CHECKS) -> None:
        self.path = Path(path)
        self.bundled = bundled

    @staticmethod
    def key(spec: str, prompt: str) -> str:
        """The key of ``spec`` measured with ``prompt`` (``"sun_reason v1"``)."""
        return f"{spec}|{prompt}"

    def _read(self, path: Path | None) -> dict[str, dict[str, Any]]:
        if path is None or not path.is_file():
            return {}
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ValueError(f"model check store {path} is unreadable: {exc}") from exc
        if not isinstance(data, dict):
            raise ValueError(f"model check store {path} must hold a JSON object")
        return data

    def get(self, spec: str, prompt: str) -> dict[str, Any] | None:
        """The stored check of ``spec`` with ``prompt`` (the user's first, then the shipped)."""
        key = self.key(spec, prompt)
        for path in (self.path, self.bundled):
            record = self._read(path).get(key)
            if record is not None:
                return {**record, "source": str(path)}
        return None

    def put(self, spec: str, prompt: str, record: dict[str, Any]) -> None:
        """Store a check result (atomic replace of the file)."""
        data = self._read(self.path)
        data[self.key(spec, prompt)] = record
        self.path.parent.mkdir(parents=True, exist_ok=True)
        partial = self.path.with_suffix(".part")
        partial.write_text(json.dumps(data, indent=1, sort_keys=True), encoding="utf-8")
        partial.replace(self.path)


MODEL_CHECKS_FILE = "model_checks.json"
"""The user's model check store, under the data directory."""


def grant_for(
    label: str,
    prompt: PromptTemplate,
    configured: Authority | None,
    store: ModelCheckStore,
    *,
    measured: bool,
) -> dict[str, Any]:
    """The authority of one model level and why: configured, measured, or full by default.

    Args:
        label: The level's model spec label.
        prompt: The ``decide`` prompt the measurement must have used.
        configured: ``ModelConfig.authority`` (wins when set).
        store: Where checks are stored.
        measured: Whether the model was built from its spec (an injected chat model is not
            the measured model, so no stored check applies to it).
    """
    prompt_ref = f"{prompt.name} v{prompt.version}"
    if configured is not None:
        return {"authority": configured, "source": "configured (ModelConfig.authority)"}
    record = store.get(label, prompt_ref) if measured else None
    if record is None:
        why = "not measured" if measured else "injected chat model"
        return {"authority": "decide", "source": f"{why}: full authority ({prompt_ref})"}
    return {**record, "authority": parse_authority(record["authority"])}
