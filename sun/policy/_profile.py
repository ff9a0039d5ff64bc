"""Profiles: the typed facts about one decision that policies match on.

A profile is a frozen pydantic model of scalar fields (bool, int, float, str or a ``Literal``
of strings). Policies name a profile type; their CEL conditions may only read its fields.
Users extend a profile by subclassing it (new fields) and registering the subclass under a
name with :func:`register_profile`.
"""

from __future__ import annotations

import math
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike
from pydantic import BaseModel, ConfigDict, Field

Scalar = bool | int | float | str


class Profile(BaseModel):
    """Base of every profile: frozen, no unknown fields, scalars only."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class TradingProfile(Profile):
    """What a trading decision looks like before any planet runs.

    Built by :class:`TradingClassifier` from one instrument's moon row (and the headline
    count and proposed change). Every field is readable from policy conditions.
    """

    regime: Literal["trend_up", "range", "trend_down"] = Field(
        "range", description="Trend regime from (close - sma) / atr against the trend threshold."
    )
    trend_strength: float = Field(
        -1.0, description="|close - sma| / atr; -1 while any of them is missing (warming up)."
    )
    technical_ready: bool = Field(False, description="close, sma and atr are finite and atr > 0.")
    volatility_tier: Literal["low", "normal", "high"] = Field(
        "normal", description="Realized volatility against the low/high tier bounds."
    )
    realized_vol: float = Field(0.0, description="Realized volatility (0 while warming up).")
    materiality: float = Field(
        0.0, description="|proposed notional change| / notional limit (>= 1 means at the limit)."
    )
    urgency: Literal["low", "elevated", "high"] = Field(
        "low",
        description="Count of volume shock, gap and headline burst: 0 low, 1 elevated, 2+ high.",
    )
    volume_shock: bool = Field(False, description="|volume_z| >= the event threshold.")
    gap: bool = Field(False, description="|ret_z| >= the gap threshold (a one-bar jump).")
    headline_burst: bool = Field(False, description="headline_count >= the burst threshold.")
    abs_volume_z: float = Field(0.0, description="|volume_z|; 0 while warming up.")
    has_headlines: bool = Field(False, description="At least one headline is attached.")
    headline_count: int = Field(0, ge=0, description="Number of attached headlines.")
    data_quality: Literal["ok", "degraded", "failed"] = Field(
        "ok",
        description="failed: no usable close or stale data; degraded: some moons still NaN.",
    )


_REGISTRY: dict[str, type[Profile]] = {"trading": TradingProfile}


def register_profile(name: str, profile_type: type[Profile]) -> None:
    """Make ``profile_type`` available to policies as ``profile: <name>``."""
    if not (isinstance(profile_type, type) and issubclass(profile_type, Profile)):
        raise TypeError(f"{profile_type!r} is not a Profile subclass")
    _REGISTRY[name] = profile_type


def profile_type(name: str) -> type[Profile]:
    """The profile type registered as ``name`` (KeyError names the known ones)."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise KeyError(f"unknown profile {name!r}; known: {sorted(_REGISTRY)}") from None


def profile_names() -> tuple[str, ...]:
    """Names of the registered profile types."""
    return tuple(sorted(_REGISTRY))


def profile_samples(kind: type[Profile]) -> list[dict[str, Scalar]]:
    """Two typed sample value sets ("zero" and "one") used to type-check conditions."""
    zero: dict[str, Scalar] = {}
    one: dict[str, Scalar] = {}
    for name, info in kind.model_fields.items():
        zero[name], one[name] = _samples(info.annotation, name)
    return [zero, one]


def _samples(annotation: Any, name: str) -> tuple[Scalar, Scalar]:
    origin = typing.get_origin(annotation)
    if origin is Literal:
        choices = typing.get_args(annotation)
        return choices[0], choices[-1]
    if origin in (typing.Union, types.UnionType):
        raise TypeError(f"profile field {name!r} must be one scalar type, not {annotation!r}")
    samples: dict[Any, tuple[Scalar, Scalar]] = {
        bool: (False, True),
        int: (0, 1),
        float: (0.0, 1.0),
        str: ("", "x"),
    }
    if annotation not in samples:
        raise TypeError(f"profile field {name!r} has unsupported type {annotation!r}")
    return samples[annotation]


@dataclass(frozen=True)
class TradingClassifier:
    """Thresholds that turn a moon row into a :class:`TradingProfile`.

    Attributes:
        trend_threshold: |close - sma| / atr at or above which the regime is a trend (the
            routing tree's momentum threshold).
        event_threshold: |volume_z| at or above which volume is a shock.
        gap_threshold: |ret_z| at or above which the last bar is a gap.
        burst_headlines: headline count that makes a burst.
        vol_low: realized volatility below this is the "low" tier.
        vol_high: realized volatility at or above this is the "high" tier.
        profile_type: the profile class built (a subclass adds fields).
        extra: extra field name -> function of the moon row giving its value.
    """

    trend_threshold: float = 1.0
    event_threshold: float = 3.0
    gap_threshold: float = 3.0
    burst_headlines: int = 5
    vol_low: float = 0.15
    vol_high: float = 0.40
    profile_type: type[TradingProfile] = TradingProfile
    extra: Mapping[str, Callable[[Mapping[str, float]], Scalar]] = field(default_factory=dict)

    def classify(
        self,
        row: Mapping[str, float],
        headline_count: int = 0,
        *,
        proposed_notional: float = 0.0,
        notional_limit: float = 1.0,
        stale: bool = False,
    ) -> TradingProfile:
        """Build the profile of one decision from its moon row and context."""
        close, sma, atr = (_finite_or(row.get(k), math.nan) for k in ("close", "sma", "atr"))
        ready = _finite(close, sma, atr) and atr > 0
        strength = abs(close - sma) / atr if ready else -1.0
        signed = close - sma if ready else 0.0
        regime = "range"
        if ready and strength >= self.trend_threshold:
            regime = "trend_up" if signed > 0 else "trend_down"
        vol = _finite_or(row.get("realized_vol"), 0.0)
        volume_z = abs(_finite_or(row.get("volume_z"), 0.0))
        shock = volume_z >= self.event_threshold
        gap = abs(_finite_or(row.get("ret_z"), 0.0)) >= self.gap_threshold
        burst = headline_count >= self.burst_headlines
        flags = int(shock) + int(gap) + int(burst)
        values: dict[str, Any] = {
            "regime": regime,
            "trend_strength": strength,
            "technical_ready": ready,
            "volatility_tier": self._tier(vol),
            "realized_vol": vol,
            "materiality": abs(proposed_notional) / notional_limit if notional_limit > 0 else 0.0,
            "urgency": ("low", "elevated", "high")[min(flags, 2)],
            "volume_shock": shock,
            "gap": gap,
            "headline_burst": burst,
            "abs_volume_z": volume_z,
            "has_headlines": headline_count > 0,
            "headline_count": headline_count,
            "data_quality": self._quality(row, ready, stale),
        }
        values.update({name: fn(row) for name, fn in self.extra.items()})
        return self.profile_type(**values)

    def classify_many(
        self, columns: Mapping[str, ArrayLike], headline_counts: Sequence[int]
    ) -> list[dict[str, Any]]:
        """``classify(row_i, headline_counts[i]).model_dump()`` for every instrument ``i``,
        where ``row_i`` holds element ``i`` of each moon column; the thresholds run over
        arrays (a subclass, a custom profile type or extra fields: one by one)."""
        table = self.classify_columns(columns, headline_counts)
        names = list(table)
        return [dict(zip(names, row, strict=True)) for row in zip(*table.values(), strict=True)]

    def classify_columns(
        self, columns: Mapping[str, ArrayLike], headline_counts: Sequence[int]
    ) -> dict[str, list[Any]]:
        """:meth:`classify_many` as columns: profile field (in the profile's order) -> one
        value per instrument, without one dict per instrument."""
        counts = [int(count) for count in headline_counts]
        n = len(counts)
        names = list(columns)
        if (
            type(self) is not TradingClassifier
            or self.extra
            or self.profile_type is not TradingProfile
        ):
            rows = zip(*(np.asarray(columns[k]).tolist() for k in names), strict=True)
            profiles = [
                self.classify(dict(zip(names, row, strict=True)), count).model_dump()
                for row, count in zip(rows if names else [()] * n, counts, strict=True)
            ]
            fields = list(profiles[0]) if profiles else list(self.profile_type.model_fields)
            return {name: [p[name] for p in profiles] for name in fields}
        raw = {k: np.asarray(columns[k], dtype=np.float64) for k in names}
        nan = np.full(n, np.nan)
        close, sma, atr = (raw.get(k, nan) for k in ("close", "sma", "atr"))
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            ready = np.isfinite(close) & np.isfinite(sma) & np.isfinite(atr) & (atr > 0)
            strength = np.where(ready, np.abs(close - sma) / atr, -1.0)
            trend = ready & (strength >= self.trend_threshold)
            regime = np.where(trend, np.where(close - sma > 0, 0, 2), 1)
        vol = _finite_or_array(raw.get("realized_vol", nan), 0.0)
        volume_z = np.abs(_finite_or_array(raw.get("volume_z", nan), 0.0))
        shock = volume_z >= self.event_threshold
        gap = np.abs(_finite_or_array(raw.get("ret_z", nan), 0.0)) >= self.gap_threshold
        burst = np.array(counts, dtype=np.int64) >= self.burst_headlines
        urgency = np.minimum(shock.astype(np.int64) + gap + burst, 2)
        tier = np.where(vol >= self.vol_high, 2, np.where(vol < self.vol_low, 0, 1))
        every = np.all(np.isfinite(np.stack(list(raw.values()))), axis=0) if raw else True
        failed = ~np.isfinite(close) | ~(close > 0) if "close" in raw else np.ones(n, np.bool_)
        quality = np.where(failed, 2, np.where(ready & every, 0, 1))
        return {
            "regime": [_REGIMES[r] for r in regime.tolist()],
            "trend_strength": strength.tolist(),
            "technical_ready": ready.tolist(),
            "volatility_tier": [_TIERS[t] for t in tier.tolist()],
            "realized_vol": vol.tolist(),
            "materiality": [0.0] * n,
            "urgency": [_URGENCY[u] for u in urgency.tolist()],
            "volume_shock": shock.tolist(),
            "gap": gap.tolist(),
            "headline_burst": burst.tolist(),
            "abs_volume_z": volume_z.tolist(),
            "has_headlines": [c > 0 for c in counts],
            "headline_count": counts,
            "data_quality": [_QUALITY[q] for q in quality.tolist()],
        }

    def _tier(self, vol: float) -> str:
        if vol >= self.vol_high:
            return "high"
        return "low" if vol < self.vol_low else "normal"

    @staticmethod
    def _quality(row: Mapping[str, float], ready: bool, stale: bool) -> str:
        close = row.get("close")
        if stale or not _finite(close) or float(close or 0.0) <= 0:
            return "failed"
        return "ok" if ready and all(_finite(v) for v in row.values()) else "degraded"


_REGIMES = ("trend_up", "range", "trend_down")
_TIERS = ("low", "normal", "high")
_URGENCY = ("low", "elevated", "high")
_QUALITY = ("ok", "degraded", "failed")


def _finite_or_array(values: np.ndarray, default: float) -> np.ndarray:
    return np.where(np.isfinite(values), values, default)


def _finite(*values: float | None) -> bool:
    return all(v is not None and math.isfinite(v) for v in values)


def _finite_or(value: float | None, default: float) -> float:
    return float(value) if value is not None and math.isfinite(value) else default
