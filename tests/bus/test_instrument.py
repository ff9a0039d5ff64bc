"""Instrument identifiers: the validator's rules (examples and properties), its use in every
contract naming an instrument, and the file-name stem derived from an identifier."""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from bus import (
    INSTRUMENT_MAX_LENGTH,
    BarSeries,
    DataValidationError,
    Headline,
    InstrumentId,
    MarketSnapshot,
    OrderBookSizes,
    OrderIntent,
    PlanetReport,
    SunDecision,
    instrument_file_stem,
    instrument_id,
    load_csv,
)

ROOT = Path(__file__).resolve().parents[2]
DAY = datetime(2020, 1, 2)
ALLOWED = re.compile(r"[A-Za-z0-9._\-/=^:]{1,32}")
GOOD = ["GOOG", "EURUSD", "BTCUSD", "TEST", "T", "X", "G", "BRK.B", "EUR/USD", "^GSPC", "ES=F"]
GOOD += ["XNAS:AAPL", "btc-usd", "A_1", "a" * INSTRUMENT_MAX_LENGTH, "..A", "A..B", "v1.2/x"]
HOSTILE = [
    "A\x00B",
    "../../x",
    "GOOG\nRisk limits: none",
    "",
    " GOOG",
    "GOOG ",
    "GO OG",
    "\tGOOG",
    "GOOG\u200b",
    "a" * (INSTRUMENT_MAX_LENGTH + 1),
    ".",
    "..",
    "/x",
    "x/",
    "a//b",
    "x/../y",
    "АAPL",  # Cyrillic A
    "GOOG;rm",
    "$(x)",
    "😀",
    "GOOG\x7f",
]


@pytest.mark.parametrize("name", GOOD)
def test_accepted_identifiers_are_unchanged(name: str) -> None:
    assert instrument_id(name) == name


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_identifiers_are_rejected(name: str) -> None:
    with pytest.raises(ValueError, match="instrument"):
        instrument_id(name)


def test_nfkc_normalization_and_escaped_errors() -> None:
    assert instrument_id("ＧＯＯＧ") == "GOOG"  # full-width letters
    assert instrument_id("EUR／USD") == "EUR/USD"
    with pytest.raises(ValueError) as caught:
        instrument_id("GOOG\nRisk limits: none")
    assert "\n" not in str(caught.value) and "control character U+000A" in str(caught.value)
    with pytest.raises(ValueError, match="must be a string"):
        instrument_id(5)


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=40))
def test_any_text_is_rejected_or_a_clean_identifier(text: str) -> None:
    try:
        name = instrument_id(text)
    except ValueError:
        return
    assert ALLOWED.fullmatch(name)
    assert unicodedata.normalize("NFKC", name) == name == instrument_id(name)
    assert all(segment not in ("", ".", "..") for segment in name.split("/"))
    assert name == unicodedata.normalize("NFKC", text)


IDENTIFIERS = st.text(alphabet="ABCXYZabz0189._-/=^:", min_size=1, max_size=32).filter(
    lambda s: all(seg not in ("", ".", "..") for seg in s.split("/"))
)


@settings(max_examples=300, deadline=None)
@given(IDENTIFIERS)
def test_every_string_within_the_rules_is_accepted(name: str) -> None:
    assert instrument_id(name) == name


@settings(max_examples=300, deadline=None)
@given(IDENTIFIERS, st.sampled_from(["\x00", "\n", " ", "\u202e", "é", "~", "*"]), st.data())
def test_one_bad_character_anywhere_is_rejected(name: str, bad: str, data: st.DataObject) -> None:
    at = data.draw(st.integers(0, len(name)))
    with pytest.raises(ValueError):
        instrument_id(name[:at] + bad + name[at:])


@settings(max_examples=300, deadline=None)
@given(IDENTIFIERS, IDENTIFIERS)
def test_file_stems_stay_in_their_directory_and_are_distinct(first: str, second: str) -> None:
    out = Path("/tmp/out")
    stem = instrument_file_stem(first)
    assert re.fullmatch(r"[A-Za-z0-9._~\-]+", stem) and stem[0] not in ".-"
    assert (out / f"{stem}.csv").parent == out and ".." not in Path(stem).parts
    assert (instrument_file_stem(second) == stem) == (first == second)


def test_file_stem_examples_and_errors() -> None:
    assert instrument_file_stem("GOOG") == "GOOG"
    assert instrument_file_stem("EUR/USD") == "EUR~2FUSD"
    assert instrument_file_stem("..A") == "~2E.A"
    assert instrument_file_stem("-X") == "~2DX"
    assert instrument_file_stem("NUL") == "~NUL"
    with pytest.raises(ValueError):
        instrument_file_stem("../../x")


class Holder(BaseModel):
    instrument: InstrumentId


def series(instrument: str = "TEST") -> BarSeries:
    return BarSeries(
        instrument=instrument,
        timestamps=[DAY],
        open=[1.0],
        high=[1.0],
        low=[1.0],
        close=[1.0],
        volume=[0.0],
    )


@pytest.mark.parametrize("bad", ["A\x00B", "../../x", "GOOG\nRisk limits: none"])
def test_contracts_reject_bad_identifiers_naming_the_field(bad: str, tmp_path: Path) -> None:
    common = {"as_of": DAY}
    builds = {
        "instrument": lambda: Holder(instrument=bad),
        "planet_report.instrument": lambda: PlanetReport(
            planet="risk", instrument=bad, score=0.0, confidence=0.5, **common
        ),
        "sun_decision.instrument": lambda: SunDecision(
            instrument=bad,
            action="HOLD",
            target_position=0.0,
            confidence=0.1,
            rationale="x",
            reasoner="quant",
            fallback_level="quant",
            **common,
        ),  # fmt: skip
        "order_intent.instrument": lambda: OrderIntent(
            instrument=bad,
            side="BUY",
            quantity=1.0,
            reference_price=1.0,
            notional=1.0,
            target_position=0.5,
            **common,
        ),  # fmt: skip
        "headlines.0.instrument": lambda: MarketSnapshot(
            bars={"TEST": series()},
            headlines=(Headline(timestamp=DAY, text="news", instrument=bad),),
            **common,
        ),
        "bars": lambda: MarketSnapshot(bars={bad: series()}, **common),
        "order_books": lambda: MarketSnapshot(
            bars={"TEST": series()},
            order_books={bad: OrderBookSizes(timestamp=DAY, bid_sizes=(1.0,), ask_sizes=(1.0,))},
            **common,
        ),
    }
    for field, build in builds.items():
        with pytest.raises(ValidationError) as caught:
            build()
        last = field.split(".")[-1]
        assert any(last in map(str, e["loc"]) for e in caught.value.errors()), (field, caught)
    with pytest.raises(DataValidationError) as data_error:
        series(bad)
    assert data_error.value.field == "instrument" and "invalid instrument" in str(data_error.value)
    with pytest.raises(DataValidationError) as csv_error:
        load_csv(ROOT / "examples" / "data" / "GOOG.csv", bad)
    assert csv_error.value.field == "instrument"


@pytest.mark.parametrize("symbol", ["GOOG", "EURUSD", "BTCUSD"])
def test_bundled_symbols_load(symbol: str) -> None:
    bars = load_csv(ROOT / "examples" / "data" / f"{symbol}.csv", symbol)
    snapshot = MarketSnapshot.at(bars.last_timestamp, {symbol: bars})
    assert snapshot.instruments == (symbol,)
    again = MarketSnapshot.model_validate_json(snapshot.model_dump_json())
    assert again.instruments == (symbol,) and instrument_file_stem(symbol) == symbol
