"""Contract validation at the boundary: bad bars raise a typed error naming the field."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bus import (
    BarSeries,
    DataValidationError,
    Headline,
    MarketSnapshot,
    OrderBookSizes,
    PlanetReport,
    ReasonedDecision,
    SunDecision,
)

START = datetime(2020, 1, 1)


def bars(n: int = 5, **overrides: object) -> dict:
    close = np.linspace(100.0, 104.0, n)
    fields = {
        "instrument": "TEST",
        "timestamps": [START + timedelta(days=i) for i in range(n)],
        "open": close - 0.5,
        "high": close + 1.0,
        "low": close - 1.0,
        "close": close,
        "volume": np.full(n, 1000.0),
    }
    fields.update(overrides)
    return fields


def test_valid_series_is_read_only(goog: BarSeries) -> None:
    assert len(goog) == 2148
    with pytest.raises(ValueError):
        goog.close[0] = 1.0
    with pytest.raises(Exception):  # noqa: B017 - pydantic frozen error
        goog.instrument = "X"  # type: ignore[misc]  # assigning to a frozen model is the test


BAD_VALUES = st.sampled_from([np.nan, np.inf, -np.inf, -1.0, 0.0])


@settings(max_examples=60, deadline=None)
@given(
    field=st.sampled_from(["open", "high", "low", "close"]),
    row=st.integers(0, 4),
    bad=BAD_VALUES,
)
def test_bad_price_names_instrument_timestamp_and_field(field: str, row: int, bad: float) -> None:
    data = bars()
    values = np.array(data[field], dtype=float)
    values[row] = bad
    data[field] = values
    with pytest.raises(DataValidationError) as caught:
        BarSeries(**data)
    error = caught.value
    assert error.instrument == "TEST"
    assert error.timestamp == START + timedelta(days=row)
    # a bad high/low may first break the body rule on the same row; either way the row is named
    assert error.field in {field, "high", "low"}
    assert "TEST" in str(error) and error.field in str(error)


@settings(max_examples=30, deadline=None)
@given(row=st.integers(0, 4), bad=st.sampled_from([np.nan, np.inf, -5.0]))
def test_bad_volume(row: int, bad: float) -> None:
    volume = np.full(5, 10.0)
    volume[row] = bad
    with pytest.raises(DataValidationError) as caught:
        BarSeries(**bars(volume=volume))
    assert caught.value.field == "volume"
    assert caught.value.timestamp == START + timedelta(days=row)


@settings(max_examples=30, deadline=None)
@given(row=st.integers(1, 4), back=st.integers(0, 3))
def test_unordered_timestamps(row: int, back: int) -> None:
    stamps = [START + timedelta(days=i) for i in range(5)]
    stamps[row] = stamps[row - 1] - timedelta(days=back)
    with pytest.raises(DataValidationError) as caught:
        BarSeries(**bars(timestamps=stamps))
    assert caught.value.field == "timestamps"
    assert caught.value.timestamp == stamps[row]


def test_high_below_body_and_low_above_body() -> None:
    data = bars()
    data["high"] = np.array(data["close"]) - 0.1
    with pytest.raises(DataValidationError, match="high"):
        BarSeries(**data)
    data = bars()
    data["low"] = np.array(data["open"]) + 0.1
    with pytest.raises(DataValidationError, match="low"):
        BarSeries(**data)


@settings(max_examples=30, deadline=None)
@given(cut=st.integers(0, 3))
def test_future_rows_are_rejected_not_dropped(cut: int) -> None:
    series = BarSeries(**bars())
    as_of = START + timedelta(days=cut)
    with pytest.raises(DataValidationError) as caught:
        MarketSnapshot(as_of=as_of, bars={"TEST": series})
    assert caught.value.field == "bars['TEST'].timestamps"
    assert caught.value.timestamp == START + timedelta(days=cut + 1)
    explicit = MarketSnapshot.at(as_of, {"TEST": series})
    assert len(explicit.bars["TEST"]) == cut + 1


def test_future_headline_and_bad_order_book() -> None:
    series = BarSeries(**bars())
    as_of = START + timedelta(days=4)
    late = Headline(timestamp=as_of + timedelta(hours=1), text="later news")
    with pytest.raises(DataValidationError, match=r"headlines\[0\].timestamp"):
        MarketSnapshot(as_of=as_of, bars={"TEST": series}, headlines=(late,))
    book = OrderBookSizes(timestamp=as_of, bid_sizes=(1.0, float("nan")), ask_sizes=(2.0,))
    with pytest.raises(DataValidationError, match=r"bid_sizes\[1\]"):
        MarketSnapshot(as_of=as_of, bars={"TEST": series}, order_books={"TEST": book})


def test_loaders_csv_and_dataframe(goog: BarSeries, tmp_path) -> None:
    frame = pd.read_csv("examples/data/GOOG.csv", index_col=0)
    from_frame = BarSeries.from_dataframe(frame, "GOOG")
    assert np.array_equal(from_frame.close, goog.close)
    broken = frame.copy()
    broken.iloc[10, 3] = -1.0  # Close
    with pytest.raises(DataValidationError) as caught:
        BarSeries.from_dataframe(broken, "GOOG")
    assert caught.value.field == "close"
    assert caught.value.timestamp == pd.Timestamp(frame.index[10]).to_pydatetime()
    missing = frame.drop(columns=["Volume"])
    with pytest.raises(DataValidationError, match="volume"):
        BarSeries.from_dataframe(missing, "GOOG")


def test_snapshot_json_round_trip(goog: BarSeries) -> None:
    snapshot = MarketSnapshot.at(datetime(2008, 1, 2), {"GOOG": goog})
    again = MarketSnapshot.model_validate_json(snapshot.model_dump_json())
    assert np.array_equal(again.bars["GOOG"].close, snapshot.bars["GOOG"].close)
    assert again.as_of == snapshot.as_of


def test_report_and_decision_consistency() -> None:
    common = {"planet": "x", "instrument": "T", "as_of": START}
    with pytest.raises(ValueError):
        PlanetReport(**common, score=0.0, confidence=0.5, has_data=False)
    with pytest.raises(ValueError):
        PlanetReport(**common, score=1.5, confidence=0.5)
    with pytest.raises(ValueError):
        PlanetReport(**common, score=0.1, confidence=0.5, veto=True)
    with pytest.raises(ValueError):
        ReasonedDecision(action="BUY", target_position=-0.2, confidence=0.5, rationale="x")
    with pytest.raises(ValueError):
        SunDecision(
            instrument="T", as_of=START, action="HOLD", target_position=0.3, confidence=0.1,
            rationale="x", reasoner="quant", fallback_level="quant",
        )  # fmt: skip
