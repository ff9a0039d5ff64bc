"""A universe pass builds its reports, intents and decisions without validating each one
again (values checked over arrays, :func:`bus.prechecked`): every object equals the one
validation gives, field for field and type for type, and a bad value is still refused.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import Any

import numpy as np
from pydantic import BaseModel

from bus import BarSeries, OrderIntent, PlanetReport
from planets import (
    PlanetBatch,
    PlanetContext,
    RiskLimits,
    RiskPlanet,
    Verdict,
    VerdictColumns,
    default_planets,
)
from sun import Sun
from sun.universe import NO_DATA
from tests.sun.universe.test_universe import _defective, _untraced, extras, snapshot_at


def _types(value: Any) -> Any:
    """The value's types, recursively (a float that is an np.float64 is not the same)."""
    if isinstance(value, BaseModel):
        return (type(value), {k: _types(v) for k, v in value.__dict__.items()})
    if isinstance(value, dict):
        return (dict, {k: _types(v) for k, v in value.items()})
    if isinstance(value, tuple | list):
        return (type(value), [_types(v) for v in value])
    return type(value)


def assert_as_validated(obj: BaseModel) -> None:
    """``obj`` equals the object validation builds from its values, with the same types."""
    again = type(obj).model_validate(obj.model_dump())
    assert again == obj
    assert _types(again) == _types(obj)
    assert again.model_dump_json() == obj.model_dump_json()


def test_every_object_of_a_tick_equals_the_validated_one(
    universe: tuple[dict[str, BarSeries], BarSeries],
) -> None:
    """Gaps, a missing last bar, a halted bar, a NaN close (refused at the boundary), too
    short histories, headlines, an order book, held positions and biting VaR caps."""
    bars, benchmark = universe
    good, rejected = _defective(bars)
    positions = {name: 0.25 for name in list(good)[4::7]}
    with Sun("quant", checkpoint="none", limits=RiskLimits(max_var95=0.005)) as sun:
        for tick in (-3, -2, -1):  # a warm-up, then streamed ticks
            snapshot = snapshot_at(
                good, benchmark, tick, **extras(bars, benchmark.timestamps[tick])
            )
            decided = sun.decide_universe(snapshot, rejected=rejected, positions=positions)
            for decision in decided.values():
                assert_as_validated(decision)
                for report in decision.planet_reports:
                    assert type(report) is PlanetReport
                    assert_as_validated(report)
                if decision.order_intent is not None:
                    assert type(decision.order_intent) is OrderIntent
                    assert_as_validated(decision.order_intent)
    levels = {d.fallback_level for d in decided.values()}
    assert {"quant", NO_DATA} <= levels
    assert any(not r.has_data for d in decided.values() for r in d.planet_reports)
    assert any(r.veto for d in decided.values() for r in d.planet_reports)
    assert any(c.rule == "var_cap" for d in decided.values() for c in d.corrections)
    assert any(d.order_intent is not None and d.order_intent.caps for d in decided.values())


class _NanRisk(RiskPlanet):
    """The built-in risk planet, except that its score is NaN on the ``broken`` instruments
    (one by one and over arrays alike)."""

    def __init__(self, broken: frozenset[str]) -> None:
        self.broken = broken
        self.inner = RiskPlanet()

    def score(self, context: PlanetContext, evidence: Mapping[str, float]) -> Verdict:
        verdict = self.inner.score(context, evidence)
        if context.instrument in self.broken:
            return dataclasses.replace(verdict, score=math.nan)
        return verdict

    def verdict_columns(self, batch: PlanetBatch, rows: np.ndarray) -> VerdictColumns | None:
        columns = self.inner.verdict_columns(batch, rows)
        assert columns is not None
        score = columns.score.copy()
        score[[batch.instruments[i] in self.broken for i in rows.tolist()]] = math.nan
        return dataclasses.replace(columns, score=score)


def test_a_nan_risk_score_fails_closed_as_in_decide(
    universe: tuple[dict[str, BarSeries], BarSeries],
) -> None:
    bars, benchmark = universe
    snapshot = snapshot_at(bars, benchmark, -1)
    names = [n for n in snapshot.instruments if not n.startswith("BTCUSD")]
    broken = frozenset(names[::5])
    planets = {**default_planets(), "risk": _NanRisk(broken)}
    with Sun("quant", checkpoint="none", planets=planets) as sun:
        decided = sun.decide_universe(snapshot)
        for name, decision in decided.items():
            assert _untraced(decision) == _untraced(sun.decide(snapshot, name)), name
    for name in broken:
        decision = decided[name]
        risk = next(r for r in decision.planet_reports if r.planet == "risk")
        assert not risk.has_data and "cannot clip NaN" in risk.recommendations[0]
        assert decision.target_position == 0.0 and decision.order_intent is None
    assert any(decided[n].target_position != 0.0 for n in names if n not in broken)
