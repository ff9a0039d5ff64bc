"""The sentiment planet's ``window`` parameter: how far back headlines count."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from bus import BarSeries, Headline, MarketSnapshot, PlanetReport
from planets import SENTIMENT_WINDOWS, PlanetContext, SentimentPlanet

AS_OF = datetime(2011, 3, 1, 12)


def _report(series: BarSeries, days_ago: list[float], params: dict[str, object]) -> PlanetReport:
    news = [Headline(timestamp=AS_OF - timedelta(days=d), text="Acme profit beats expectations",
                     instrument="GOOG", source=f"wire{k}") for k, d in enumerate(days_ago)]  # fmt: skip
    snapshot = MarketSnapshot.at(AS_OF, {"GOOG": series}, headlines=news)
    context = PlanetContext(instrument="GOOG", as_of=AS_OF, moons={}, snapshot=snapshot,
                            params=params)  # fmt: skip
    return SentimentPlanet().report(context)


@pytest.mark.parametrize(("params", "counted", "days"), [({}, 1, 3.0),
                                                         ({"window": "recent"}, 1, 3.0),
                                                         ({"window": "wide"}, 2, 14.0)])  # fmt: skip
def test_the_window_sets_how_far_back_headlines_count(
    goog: BarSeries, params: dict[str, object], counted: int, days: float
) -> None:
    report = _report(goog, [1.0, 10.0, 20.0], params)
    assert report.evidence["headlines"] == counted and report.evidence["lookback_days"] == days
    assert SENTIMENT_WINDOWS["wide"] > SENTIMENT_WINDOWS["recent"]


def test_no_headline_in_the_window_names_it(goog: BarSeries) -> None:
    report = _report(goog, [10.0], {"window": "recent"})
    assert not report.has_data and "headlines from the last 3 days" in report.recommendations[0]


@pytest.mark.parametrize("window", ["weekly", "", 14, None])
def test_an_unknown_window_is_refused_by_name(goog: BarSeries, window: object) -> None:
    with pytest.raises(ValueError, match=r"sentiment window .* is not one of \['recent', 'wide'\]"):
        _report(goog, [1.0], {"window": window})
