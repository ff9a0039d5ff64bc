"""The JSON-style decision request (``Sun.decide_request``, Studio), validated at the boundary.

A request names its data (a snapshot, or a CSV with a symbol and an as-of time) and the
current position. Every field is checked here, before the graph runs, so a bad request is one
clear error naming the field, never a decision made from a guessed or defaulted value.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from bus import InstrumentId, MarketSnapshot, load_csv


def check_position(position: object) -> None:
    """A current position is a finite fraction of capital in [-1, 1] (like any target).

    Raises:
        ValueError: for anything else (a bool, a string, NaN, inf, 5.0).
    """
    problem = f"position must be a finite fraction in [-1, 1], got {position!r}"
    if isinstance(position, bool) or not isinstance(position, int | float):
        raise ValueError(problem)
    if not math.isfinite(position) or abs(position) > 1:
        raise ValueError(problem)


class DecisionRequest(BaseModel):
    """``{"snapshot": ...}`` or ``{"csv": path, "symbol": ..., "as_of": ...}``, plus ``position``.

    ``symbol`` defaults to the CSV's file stem (which must itself be a valid instrument
    identifier); ``as_of`` defaults to the last bar and otherwise must lie within the bars.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    snapshot: MarketSnapshot | None = None
    csv: Path | None = None
    symbol: InstrumentId | None = None
    as_of: datetime | None = None
    instrument: InstrumentId | None = None
    position: float = Field(default=0.0, strict=True)

    @field_validator("position")
    @classmethod
    def _position_in_range(cls, value: float) -> float:
        check_position(value)
        return value

    @field_validator("as_of")
    @classmethod
    def _naive_utc(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is not None:
            return value.astimezone(UTC).replace(tzinfo=None)
        return value

    @model_validator(mode="after")
    def _one_source(self) -> DecisionRequest:
        if (self.snapshot is None) == (self.csv is None):
            raise ValueError("give exactly one of 'snapshot' or 'csv' (+ 'symbol', 'as_of')")
        if self.snapshot is not None and (self.symbol is not None or self.as_of is not None):
            raise ValueError("'symbol' and 'as_of' go with 'csv', not with 'snapshot'")
        return self

    def market_snapshot(self) -> MarketSnapshot:
        """The snapshot this request names (loading and cutting the CSV at ``as_of``).

        Raises:
            ValueError: an ``as_of`` outside the CSV's bars (naming both).
            DataValidationError: invalid rows in the CSV.
        """
        if self.snapshot is not None or self.csv is None:
            return _given(self.snapshot)
        symbol = self.symbol or _stem_symbol(self.csv)
        series = load_csv(self.csv, symbol)
        stamp = series.check_within("as_of", self.as_of) if self.as_of else series.last_timestamp
        return MarketSnapshot.at(stamp, {symbol: series})


def _given(snapshot: MarketSnapshot | None) -> MarketSnapshot:
    if snapshot is None:  # unreachable after validation; kept so the type is exact
        raise ValueError("the request names no data ('snapshot' or 'csv')")
    return snapshot


def _stem_symbol(path: Path) -> str:
    """The CSV's file stem as the symbol, validated like any instrument identifier."""
    return DecisionRequest.model_validate({"csv": path, "symbol": path.stem}).symbol or path.stem


def parse_request(request: Any) -> DecisionRequest:
    """A validated request from a mapping (or a ``DecisionRequest`` as is).

    Raises:
        pydantic.ValidationError: naming each bad field.
    """
    if isinstance(request, DecisionRequest):
        return request
    return DecisionRequest.model_validate(request)


def decision_state(
    snapshot: MarketSnapshot, instrument: str | None, position: float
) -> dict[str, Any]:
    """The graph input of one decision (the position checked first)."""
    check_position(position)
    state: dict[str, Any] = {"snapshot": snapshot, "position": position}
    if instrument is not None:
        state["instrument"] = instrument
    return state
