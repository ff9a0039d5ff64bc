"""Headlines for the sun's policy tests: enough agreeing news for a confident sentiment vote.

The shipped ``trading_guarded`` policy decides without the LLM when at least two direction
votes agree with confidence >= 0.6; the sentiment planet reaches that on eight headlines.
"""

from __future__ import annotations

from collections.abc import Sequence

from bus import BarSeries, Headline, MarketSnapshot

BULLISH = (
    "record profit, strong growth", "shares surge after earnings beat",
    "analysts upgrade on strong sales", "revenue jumps, outlook raised",
    "profit soars on record demand", "stock rallies to record high",
    "strong quarter lifts shares", "growth beats forecasts",
)  # fmt: skip
BEARISH = (
    "profit warning, shares plunge on weak demand", "shares slump after earnings miss",
    "analysts downgrade on weak sales", "revenue falls, outlook cut",
    "losses widen on falling demand", "stock tumbles to yearly low",
    "weak quarter hits shares", "growth misses forecasts",
)  # fmt: skip


def at_bar(series: BarSeries, i: int, news: Sequence[str] = ()) -> MarketSnapshot:
    """The snapshot at bar ``i`` of ``series`` with ``news`` tagged to it at that time."""
    stamp = series.up_to(series.timestamps[i]).last_timestamp
    headlines = [Headline(timestamp=stamp, text=t, instrument=series.instrument) for t in news]
    return MarketSnapshot.at(stamp, {series.instrument: series}, headlines=headlines)
