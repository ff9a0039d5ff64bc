"""Planet specs: the pydantic models of a declarative planet and their validation.

A :class:`PlanetSpec` names the planet, the moon-panel columns it reads (each tied to a moon of
``moons.MOONS`` with that moon's numeric parameters), one scoring rule from a FIXED vocabulary
(``threshold``, ``zscore``, ``crossover``, ``weighted_sum``) with numeric parameters, and an
optional prompt template name. Names are strict identifiers, parameters are numbers, and free
text (``description``) is checked for code-like content.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import asdict
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from moons import DEFAULT_PANEL, MOONS

IDENTIFIER = re.compile(r"\A[a-z][a-z0-9_]{0,39}\Z")
"""A name: matched against the whole NFKC-normalized text (``fullmatch``)."""
_CODE_LIKE = re.compile(
    r"(__|\blambda\b|\bimport\b|\beval\b|\bexec\b|\bcompile\b|\bopen\s*\(|\bos\.|\bsys\.|"
    r"\bsubprocess\b|\bgetattr\b|\bglobals\b|\blocals\b|[{}`;\\]|\$\(|\bf['\"]|=>|\w\()",
    re.IGNORECASE,
)
COLUMNS: dict[str, str] = {col: d.name for d in MOONS.values() for col in d.columns}
COLUMNS["close"] = "close"
_PARAM_FIELDS = {f: type(v) for f, v in asdict(DEFAULT_PANEL).items()}


class SpecError(ValueError):
    """A planet spec is invalid, unapproved or conflicts with the registry."""


def reject_code(value: str) -> str:
    """Reject text that looks like code (it would never run, but it has no business here)."""
    if _CODE_LIKE.search(value):
        raise ValueError(f"code-like content is not allowed: {value[:60]!r}")
    return value


def _identifier(value: str) -> str:
    """``value`` NFKC-normalized if all of it is a lowercase identifier, else ``ValueError``.

    Full-match semantics: ``"risk\\n"`` is not ``"risk"``; NFKC folds look-alikes
    (fullwidth ``"ｒｉｓｋ"``) into the name they display as, so they meet the same checks.
    """
    normal = unicodedata.normalize("NFKC", value)
    if not IDENTIFIER.fullmatch(normal):
        raise ValueError(f"{value[:60]!r} is not a lowercase identifier ([a-z][a-z0-9_]*)")
    return normal


Ident = Annotated[str, Field(max_length=40), AfterValidator(_identifier)]


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=False)


class MoonInput(_Strict):
    """One panel column a planet reads, with the parameters of the moon that produces it.

    ``params`` are fields of ``moons.PanelSpec`` that the column's moon reads (e.g.
    ``{"rsi_period": 14}``); they must match the panel the sun computes (checked by
    :meth:`PlanetFactory.panel_spec`).
    """

    column: Ident
    params: dict[Ident, float] = Field(default_factory=dict, max_length=4)

    @field_validator("column")
    @classmethod
    def _known_column(cls, value: str) -> str:
        _identifier(value)
        if value not in COLUMNS:
            raise ValueError(f"unknown moon column {value!r}; known: {sorted(COLUMNS)}")
        return value

    @model_validator(mode="after")
    def _known_params(self) -> MoonInput:
        moon = COLUMNS[self.column]
        allowed = MOONS[moon].params if moon in MOONS else ()
        for key, number in self.params.items():
            _identifier(key)
            if key not in allowed:
                raise ValueError(f"moon {moon!r} has no parameter {key!r} (has {allowed})")
            if not math.isfinite(number) or number <= 0 or number > 10_000:
                raise ValueError(f"{key}={number} must be a finite number in (0, 10000]")
            if _PARAM_FIELDS[key] is int and number != int(number):
                raise ValueError(f"{key} must be a whole number, got {number}")
        return self


Number = Annotated[float, Field(allow_inf_nan=False, ge=-1e6, le=1e6)]


class ThresholdRule(_Strict):
    """+1 (``direction``) when ``column > above``, -1 when ``column < below``, else 0."""

    kind: Literal["threshold"]
    column: Ident
    above: Number
    below: Number
    direction: Literal[1, -1] = 1

    @model_validator(mode="after")
    def _ordered(self) -> ThresholdRule:
        if self.below > self.above:
            raise ValueError("threshold: below must be <= above")
        return self


class ZScoreRule(_Strict):
    """``direction * tanh((column - mean) / std / scale)``."""

    kind: Literal["zscore"]
    column: Ident
    mean: Number = 0.0
    std: Annotated[float, Field(gt=0, le=1e6, allow_inf_nan=False)] = 1.0
    scale: Annotated[float, Field(gt=0, le=1e3, allow_inf_nan=False)] = 2.0
    direction: Literal[1, -1] = 1


class CrossoverRule(_Strict):
    """``tanh((fast - slow) / normalizer / scale)``: above the slow line is bullish."""

    kind: Literal["crossover"]
    fast: Ident
    slow: Ident
    normalizer: Ident | None = None
    scale: Annotated[float, Field(gt=0, le=1e3, allow_inf_nan=False)] = 1.0


class WeightedSumRule(_Strict):
    """``tanh((sum_i w_i * column_i + bias) / scale)``."""

    kind: Literal["weighted_sum"]
    weights: dict[Ident, Number] = Field(min_length=1, max_length=12)
    bias: Number = 0.0
    scale: Annotated[float, Field(gt=0, le=1e6, allow_inf_nan=False)] = 1.0


Rule = Annotated[
    ThresholdRule | ZScoreRule | CrossoverRule | WeightedSumRule, Field(discriminator="kind")
]
RULE_KINDS = ("threshold", "zscore", "crossover", "weighted_sum")


class PlanetSpec(_Strict):
    """A declarative planet: everything is data (identifiers, numbers, one rule kind)."""

    name: Ident
    moons: tuple[MoonInput, ...] = Field(min_length=1, max_length=12)
    rule: Rule
    prompt: Ident | None = None
    confidence: Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)] = 0.5
    directional: bool = True
    description: str = Field(default="", max_length=200)

    @field_validator("name", "prompt")
    @classmethod
    def _ident(cls, value: str | None) -> str | None:
        return None if value is None else _identifier(value)

    @field_validator("description")
    @classmethod
    def _no_code(cls, value: str) -> str:
        return reject_code(value)

    @model_validator(mode="after")
    def _rule_reads_declared_moons(self) -> PlanetSpec:
        declared = {m.column for m in self.moons}
        rule = self.rule
        if isinstance(rule, ThresholdRule | ZScoreRule):
            used = {rule.column}
        elif isinstance(rule, CrossoverRule):
            used = {rule.fast, rule.slow} | ({rule.normalizer} if rule.normalizer else set())
        else:
            used = set(rule.weights)
        for column in used:
            _identifier(column)
        if not used <= declared:
            raise ValueError(f"rule reads {sorted(used - declared)} not declared in moons")
        if self.name in RESERVED:
            raise ValueError(f"{self.name!r} is a built-in planet name")
        return self


RESERVED = frozenset({"technical", "risk", "sentiment", "execution", "council", "sun"})
