"""Authority levels of an LLM reasoner, the answers each level may give, and what makes a
rationale meaningful.

* ``decide`` – the model chooses action, size and confidence (:class:`LlmAnswer`).
* ``adjust`` – the model may move the quant target within ``band`` (:class:`AdjustAnswer`:
  ``adjustment`` in [-1, 1] units of the band, so the schema and the grammar bound the move);
  code then refuses a sign flip no directional planet supports.
* ``explain`` – the model writes the rationale (:class:`ExplainAnswer`); the quant target,
  action and confidence stand.

Every level's answer starts with its rationale, so a model reasons before it picks numbers.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from bus import Authority, PlanetReport, ReasonedDecision, action_for
from prompts import PromptTemplate

AUTHORITIES: tuple[Authority, ...] = ("explain", "adjust", "decide")
"""From least to most say over the decision."""

RATIONALE_CHARS = 200
SUPPORT_SCORE = 0.3
"""A directional planet supports a direction when it scores at least this far that way."""

_WORD = re.compile(r"[A-Za-z]{2,}")
_NUMBER = re.compile(r"[-+]?\d+(?:\.\d+)?")
_RELATION_WORDS = frozenset(
    [
        "above",
        "below",
        "under",
        "over",
        "crossed",
        "oversold",
        "overbought",
        "bullish",
        "bearish",
        "rising",
        "falling",
        "positive",
        "negative",
        "higher",
        "lower",
        "up",
        "down",
    ]
)


def parse_authority(value: str) -> Authority:
    """``value`` as an authority level, or a ValueError naming the choices."""
    for level in AUTHORITIES:
        if value == level:
            return level
    raise ValueError(f"authority must be one of {', '.join(AUTHORITIES)}; got {value!r}")


class LlmAnswer(BaseModel):
    """A ``decide`` answer: rationale first, then direction and size as separate fields.

    ``size`` is the absolute position as a fraction of capital (the risk cap bounds it), the
    same meaning as ``target_position``. Keeping it unsigned makes "BUY with a negative
    position" impossible to express; :meth:`to_decision` derives the signed target.
    """

    model_config = ConfigDict(frozen=True)

    rationale: str = Field(max_length=RATIONALE_CHARS)
    action: Literal["BUY", "SELL", "HOLD"]
    size: float = Field(
        ge=0.0, le=1.0, allow_inf_nan=False, description="absolute position, fraction of capital"
    )
    confidence: float = Field(ge=0.0, le=1.0, allow_inf_nan=False)

    def to_decision(self) -> ReasonedDecision:
        """The signed decision: BUY -> +size, SELL -> -size, HOLD -> 0."""
        sign = {"BUY": 1.0, "SELL": -1.0, "HOLD": 0.0}[self.action]
        target = sign * self.size
        return ReasonedDecision(
            action=self.action if target != 0.0 else "HOLD",
            target_position=target,
            confidence=self.confidence,
            rationale=self.rationale,
        )


class AdjustAnswer(BaseModel):
    """An ``adjust`` answer: target = quant target + adjustment x band."""

    model_config = ConfigDict(frozen=True)

    rationale: str = Field(max_length=RATIONALE_CHARS)
    adjustment: float = Field(
        ge=-1.0, le=1.0, allow_inf_nan=False, description="move of the quant target, x band"
    )
    confidence: float = Field(ge=0.0, le=1.0, allow_inf_nan=False)


class ExplainAnswer(BaseModel):
    """An ``explain`` answer: the rationale of the quant decision."""

    model_config = ConfigDict(frozen=True)

    rationale: str = Field(max_length=RATIONALE_CHARS)


ANSWERS: dict[Authority, type[BaseModel]] = {
    "decide": LlmAnswer,
    "adjust": AdjustAnswer,
    "explain": ExplainAnswer,
}


def supported(
    direction: float, reports: Sequence[PlanetReport], directional: Collection[str]
) -> bool:
    """Whether some directional planet with data scores at least ``SUPPORT_SCORE`` that way."""
    return any(
        r.planet in directional
        and r.has_data
        and r.score * math.copysign(1.0, direction) >= SUPPORT_SCORE
        for r in reports
    )


def apply_authority(
    answer: BaseModel,
    quant: ReasonedDecision,
    reports: Sequence[PlanetReport],
    directional: Collection[str],
    band: float,
) -> ReasonedDecision:
    """The decision an answer may produce at its level (the quant decision is the anchor).

    Raises:
        TypeError: ``answer`` is not one of the three answer schemas.
    """
    if isinstance(answer, LlmAnswer):
        return answer.to_decision()
    if isinstance(answer, ExplainAnswer):
        return quant.model_copy(update={"rationale": answer.rationale})
    if not isinstance(answer, AdjustAnswer):
        raise TypeError(f"not an authority answer: {type(answer).__name__}")
    base = quant.target_position
    target = round(max(-1.0, min(1.0, base + answer.adjustment * band)), 6)
    note = f"[adjust: quant {base:+.3f} -> {target:+.3f}"
    if target != 0.0 and target * base <= 0.0 and not supported(target, reports, directional):
        note += f", no directional planet supports {action_for(target)}: 0.000"
        target = 0.0
    return ReasonedDecision(
        action=action_for(target),
        target_position=target,
        confidence=answer.confidence,
        rationale=f"{answer.rationale} {note}]",
    )


def rationale_problem(
    rationale: str, reports: Sequence[PlanetReport], prompt_text: str
) -> str | None:
    """Why a rationale is not meaningful, or None.

    Meaningful: at least three different words, and it cites a number from the reports (to the
    precision it is written with, e.g. ``35`` cites RSI 35.02) or a relation (an evidence
    name or a planet next to a word such as above / below / bearish).
    """
    words = [w.lower() for w in _WORD.findall(rationale)]
    if len(set(words)) < 3:
        return (
            f"rationale {rationale[:60]!r} must be words (at least 3 different ones), not "
            "symbols, numbers or a repeated label"
        )
    if _cites_number(rationale, reports, prompt_text) or _cites_relation(words, reports):
        return None
    return (
        f"rationale {rationale[:60]!r} cites no number or relation from the reports "
        "(quote a value, e.g. an RSI or a score, or say e.g. 'close below SMA')"
    )


def _cites_number(rationale: str, reports: Sequence[PlanetReport], prompt_text: str) -> bool:
    known = [r.score for r in reports] + [r.confidence for r in reports]
    known += [v for r in reports for v in r.evidence.values() if math.isfinite(v)]
    known += [float(m) for m in _NUMBER.findall(prompt_text)]
    for token in _NUMBER.findall(rationale):
        decimals = len(token.partition(".")[2])
        value = abs(float(token))
        if value == 0.0 and decimals == 0:
            continue  # a bare "0" is not a citation
        if any(abs(round(abs(k), decimals) - value) < 1e-9 for k in known):
            return True
    return False


def _cites_relation(words: list[str], reports: Sequence[PlanetReport]) -> bool:
    names = {r.planet.lower() for r in reports}
    names |= {key.lower().split("_")[0] for r in reports for key in r.evidence}
    return bool(names & set(words)) and bool(_RELATION_WORDS & set(words))


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
