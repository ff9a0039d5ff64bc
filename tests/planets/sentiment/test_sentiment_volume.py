"""Headline volume hardening: copies count once, sources are capped, confidence needs sources."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from bus import BarSeries, Headline, MarketSnapshot, PlanetReport
from planets import PlanetContext, SentimentPlanet, SentimentX

AS_OF = datetime(2011, 3, 1, 12)
INSTRUMENT = "GOOG"


def _report(
    series: BarSeries, headlines: list[Headline], planet: SentimentPlanet | None = None
) -> PlanetReport:
    snapshot = MarketSnapshot.at(AS_OF, {INSTRUMENT: series}, headlines=headlines)
    context = PlanetContext(instrument=INSTRUMENT, as_of=AS_OF, moons={}, snapshot=snapshot)
    return (planet or SentimentPlanet()).report(context)


def _h(text: str, hours: float = 1.0, source: str | None = None) -> Headline:
    return Headline(
        timestamp=AS_OF - timedelta(hours=hours), text=text, instrument=INSTRUMENT, source=source
    )


BAD = "Acme shares plunge after profit warning"
GOOD = [
    ("Acme profit beats expectations", "reuters"),
    ("Acme raises full-year guidance", "bloomberg"),
    ("Acme shares rise on strong demand", "ft"),
    ("Acme wins record contract", "wsj"),
    ("Acme upgraded to buy by analysts", "cnbc"),
]


def test_ten_thousand_copies_weigh_as_one(goog: BarSeries) -> None:
    one = _report(goog, [_h(BAD, source="wire")])
    flood = _report(goog, [_h(BAD, hours=1 + i / 10_000, source="wire") for i in range(10_000)])
    assert one.has_data and flood.has_data
    assert flood.score == one.score and flood.confidence == one.confidence
    assert flood.evidence["headlines"] == 10_000 and flood.evidence["headlines_distinct"] == 1


def test_copies_cannot_flip_the_view(goog: BarSeries) -> None:
    honest = [_h(t, source=s) for t, s in GOOD]
    spam = [_h(BAD.upper() + "!!", hours=2, source="spam") for _ in range(10_000)]
    before, after = _report(goog, honest), _report(goog, honest + spam)
    assert before.score > 0 and after.score > 0
    assert after.confidence >= before.confidence  # one more (capped) source, not 10,000 votes


def test_near_identical_unsourced_copies_count_once(goog: BarSeries) -> None:
    variants = [BAD, BAD.lower(), BAD + "!!!", f"  {BAD.upper()} ", BAD.replace("after", "after ")]
    one = _report(goog, [_h(BAD)])
    many = _report(goog, [_h(v, hours=1 + i) for i, v in enumerate(variants)])
    assert many.evidence["headlines_distinct"] == 1
    assert (many.score, many.confidence) == (one.score, one.confidence)


def test_distinct_sources_raise_confidence(goog: BarSeries) -> None:
    confidences = [
        _report(goog, [_h(t, source=s) for t, s in GOOD[:k]]).confidence for k in (1, 3, 5)
    ]
    assert 0 < confidences[0] < confidences[1] < confidences[2] <= 0.8


def test_one_source_is_capped(goog: BarSeries) -> None:
    one_source = _report(goog, [_h(t, source="same") for t, _ in GOOD])
    many_sources = _report(goog, [_h(t, source=s) for t, s in GOOD])
    single = _report(goog, [_h(GOOD[0][0], source="same")])
    assert one_source.confidence < many_sources.confidence
    assert one_source.evidence["evidence_mass"] <= 1.0 + 1e-9
    assert one_source.confidence >= single.confidence


def test_unreadable_headlines_are_no_data(goog: BarSeries) -> None:
    report = _report(goog, [_h("qwzx blorf vrrk"), _h("股票大涨")])
    assert not report.has_data and report.confidence == 0.0
    assert "no data" in report.recommendations[0]


def test_lexicon_fallback_is_reported(goog: BarSeries, tmp_path: Path) -> None:
    planet = SentimentPlanet(SentimentX(tmp_path / "missing.onnx"))
    report = _report(goog, [_h(GOOD[0][0])], planet)
    assert report.has_data and report.evidence["model_is_student"] == 0.0
    assert "lexicon" in report.recommendations[0]
    student = _report(goog, [_h(GOOD[0][0])])
    assert student.evidence["model_is_student"] == 1.0
    assert "student" in student.recommendations[0]


@settings(max_examples=25, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from([t for t, _ in GOOD] + [BAD]), st.sampled_from(["a", "b", None])),
        min_size=1,
        max_size=6,
    ),
    st.integers(min_value=2, max_value=50),
)
def test_repeating_the_feed_changes_nothing(
    goog: BarSeries, feed: list[tuple[str, str | None]], copies: int
) -> None:
    headlines = [_h(t, hours=1 + i, source=s) for i, (t, s) in enumerate(feed)]
    once = _report(goog, headlines)
    repeated = _report(goog, [h for h in headlines for _ in range(copies)])
    assert (repeated.score, repeated.confidence) == (once.score, once.confidence)
