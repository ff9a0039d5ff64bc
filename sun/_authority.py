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

import math
import re
from collections.abc import Collection, Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from bus import Authority, PlanetReport, ReasonedDecision, action_for

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
