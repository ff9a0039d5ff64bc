"""Planets on real data: evidence is the exact moon values, "no data" is never neutral."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime, timedelta

import numpy as np
import pytest

from bus import BarSeries, Headline, MarketSnapshot, OrderBookSizes
from planets import (
    ExecutionPlanet,
    Planet,
    PlanetContext,
    RiskLimits,
    RiskPlanet,
    SentimentPlanet,
    TechnicalPlanet,
    Verdict,
    default_planets,
)
from sun import compute_panel


def context_at(series: BarSeries, as_of: datetime, **kwargs: object) -> PlanetContext:
    snapshot = MarketSnapshot.at(as_of, {series.instrument: series}, **kwargs)  # type: ignore[arg-type]
    panel = compute_panel(snapshot)
    return PlanetContext(
        instrument=series.instrument,
        as_of=snapshot.as_of,
        moons=panel.for_instrument(series.instrument),
        snapshot=snapshot,
    )


def test_evidence_is_exactly_the_moon_values(goog: BarSeries) -> None:
    context = context_at(goog, datetime(2011, 3, 1))
    for planet in (TechnicalPlanet(), RiskPlanet(), ExecutionPlanet()):
        report = planet.report(context)
        assert report.has_data
        for moon in planet.moons:
            assert report.evidence[moon] == context.moons[moon]
        assert -1.0 <= report.score <= 1.0 and 0.0 <= report.confidence <= 1.0


def test_warm_up_is_no_data_not_neutral(goog: BarSeries) -> None:
    context = context_at(goog, goog.last_timestamp.replace(year=2004, month=8, day=25))
    report = TechnicalPlanet().report(context)
    assert not report.has_data and report.confidence == 0.0
    assert "no data" in report.recommendations[0]
    risk = RiskPlanet().report(context)
    assert not risk.has_data


def test_sentiment_without_headlines_is_no_data(goog: BarSeries) -> None:
    report = SentimentPlanet().report(context_at(goog, datetime(2011, 3, 1)))
    assert not report.has_data and report.confidence == 0.0


def test_sentiment_scores_recent_headlines_only(goog: BarSeries) -> None:
    as_of = datetime(2011, 3, 1)
    headlines = [
        Headline(timestamp=as_of - timedelta(hours=2), text="Google profit beats expectations"),
        Headline(timestamp=as_of - timedelta(days=10), text="Google shares plunge on fraud probe"),
    ]
    report = SentimentPlanet().report(context_at(goog, as_of, headlines=headlines))
    assert report.has_data and report.score > 0
    assert report.evidence["headlines"] == 1.0


def test_risk_breaker_vetoes_and_raises_critical(goog: BarSeries) -> None:
    context = context_at(goog, datetime(2008, 11, 20))  # deep in the 2008 drawdown
    tight = PlanetContext(**{**context.__dict__, "limits": RiskLimits(max_drawdown=0.2)})
    report = RiskPlanet().report(tight)
    assert report.veto and report.critical
    assert report.evidence["position_cap"] == 0.0


def test_risk_caps_position_when_var_exceeds_limit(goog: BarSeries) -> None:
    context = context_at(goog, datetime(2008, 11, 20))
    limits = RiskLimits(max_var95=0.01, max_drawdown=0.99)
    report = RiskPlanet().report(PlanetContext(**{**context.__dict__, "limits": limits}))
    var95 = context.moons["var95"]
    assert var95 > 0.01
    assert report.evidence["position_cap"] == pytest.approx(0.01 / var95)
    assert report.score < 0


def test_execution_sizes_by_volatility_and_caps(goog: BarSeries) -> None:
    context = context_at(goog, datetime(2011, 3, 1))
    limits = RiskLimits(capital=1e7, max_notional=1e5, target_volatility=0.1)
    order = ExecutionPlanet().order_intent(
        PlanetContext(**{**context.__dict__, "limits": limits}), 0.5
    )
    assert order is not None and order.side == "BUY"
    assert order.notional <= 1e5 + 1e-6
    assert any("max_notional" in cap for cap in order.caps)
    assert order.quantity == pytest.approx(order.notional / context.moons["close"])
    assert ExecutionPlanet().order_intent(context, 0.0) is None


def test_order_book_imbalance_in_execution_report(goog: BarSeries) -> None:
    as_of = datetime(2011, 3, 1)
    book = OrderBookSizes(timestamp=as_of, bid_sizes=(300.0, 100.0), ask_sizes=(100.0,))
    context = context_at(goog, as_of, order_books={"GOOG": book})
    report = ExecutionPlanet().report(context)
    assert report.evidence["ob_imbalance"] == pytest.approx(0.6)


@pytest.mark.parametrize("name", ["technical", "risk", "sentiment", "execution"])
def test_subgraph_equals_fast_path(goog: BarSeries, name: str) -> None:
    as_of = datetime(2011, 3, 1)
    headline = Headline(timestamp=as_of, text="Google wins record contract")
    context = context_at(goog, as_of, headlines=[headline])
    planet = default_planets()[name]
    via_graph = planet.graph().invoke({"context": context})["report"]
    assert via_graph == planet.report(context)


def test_new_planet_in_a_few_lines(goog: BarSeries) -> None:
    class VolatilityPlanet(Planet):
        name = "volatility"
        moons = ("realized_vol",)

        def score(self, context: PlanetContext, evidence: Mapping[str, float]) -> Verdict:
            calm = 0.25 - evidence["realized_vol"]
            return Verdict(score=math.tanh(calm * 4), confidence=0.5)

    report = VolatilityPlanet().report(context_at(goog, datetime(2011, 3, 1)))
    assert report.planet == "volatility" and report.has_data
    assert report.evidence == {"realized_vol": pytest.approx(report.evidence["realized_vol"])}


# -- the risk planet's cap text, formatted once per batch ------------------------------------

from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from planets import _risk as risk_module  # noqa: E402

_ANY_FLOAT = st.floats(allow_nan=True, allow_infinity=True)


@given(cap=_ANY_FLOAT, var95=_ANY_FLOAT, limit=st.floats(1e-6, 1.0))
def test_risk_cap_template_gives_the_formatted_text(cap: float, var95: float, limit: float) -> None:
    limits = RiskLimits(max_var95=limit)
    expected = f"position cap {cap:.2f} (VaR95 {var95:.2%} vs {limits.max_var95:.2%})"
    assert risk_module._cap_template(limits) % (cap, var95 * 100.0) == expected


# -- a batch's evidence: the finite moon values, as ``Planet.select`` takes them ---------------

from planets import PlanetBatch  # noqa: E402
from planets import _batch as batch_module  # noqa: E402

_MOON_VALUE = st.floats(allow_nan=True, allow_infinity=True)


@given(rows=st.lists(st.lists(_MOON_VALUE, min_size=3, max_size=3), max_size=8))
def test_batch_evidence_is_each_rows_finite_values(rows: list[list[float]]) -> None:
    planet = RiskPlanet()
    names = planet.moons  # four moons: the last one is absent from the panel
    columns = {name: [row[k] for row in rows] for k, name in enumerate(names[:3])}
    snapshot: MarketSnapshot = None  # type: ignore[assignment]  # select_many reads no snapshot
    batch = PlanetBatch(
        instruments=tuple(f"I{i}" for i in range(len(rows))),
        as_of=datetime(2012, 6, 1),
        moons={name: np.array(values, dtype=np.float64) for name, values in columns.items()},
        snapshot=snapshot,
        view=lambda name: snapshot,
    )
    expected = [
        {name: columns[name][i] for name in names[:-1] if math.isfinite(columns[name][i])}
        for i in range(len(rows))
    ]
    got = batch_module.select_many(planet, batch)
    assert got == expected and [list(d) for d in got] == [list(d) for d in expected]
