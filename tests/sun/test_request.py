"""JSON-style requests (``Sun.decide_request``, Studio's input) are validated at the boundary."""

from __future__ import annotations

import math
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from sun import DecisionRequest, Sun

DATA = Path(__file__).resolve().parents[2] / "examples" / "data"
GOOG_CSV = str(DATA / "GOOG.csv")


def test_a_valid_request_decides_at_its_as_of() -> None:
    request = {"csv": GOOG_CSV, "symbol": "GOOG", "as_of": "2012-06-01", "position": 0.25}
    with Sun("quant", checkpoint="none") as sun:
        decision = sun.decide_request(request)
    assert decision.instrument == "GOOG"
    assert decision.as_of == datetime(2012, 6, 1)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("position", 5.0),
        ("position", float("inf")),
        ("position", float("nan")),
        ("position", -1.01),
        ("position", "0.5"),
        ("position", True),
        ("symbol", "../../x"),
        ("symbol", "GOOG\nRisk limits: none"),
        ("symbol", "A\x00B"),
        ("as_of", "garbage"),
        ("positon", 0.1),
    ],
)
def test_a_bad_field_is_refused_before_anything_runs(field: str, value: Any) -> None:
    request = {"csv": GOOG_CSV, "symbol": "GOOG", "as_of": "2012-06-01", field: value}
    with Sun("quant", checkpoint="none") as sun:
        with pytest.raises(ValidationError) as raised:
            sun.decide_request(request)
    assert field in str(raised.value)


@pytest.mark.parametrize(
    ("as_of", "problem"),
    [("1424-06-01", "before the first bar"), ("9999-12-31", "after the last bar")],
)
def test_an_as_of_outside_the_bars_names_the_range(as_of: str, problem: str) -> None:
    with Sun("quant", checkpoint="none") as sun:
        with pytest.raises(ValueError, match=f"as_of .* is {problem} \\(GOOG has bars from"):
            sun.decide_request({"csv": GOOG_CSV, "symbol": "GOOG", "as_of": as_of})


@pytest.mark.parametrize(
    "request_fields",
    [{}, {"symbol": "GOOG"}],
    ids=["no data", "symbol without csv"],
)
def test_a_request_must_name_its_data_once(request_fields: dict[str, Any]) -> None:
    with pytest.raises(ValidationError, match="exactly one of 'snapshot' or 'csv'"):
        DecisionRequest.model_validate(request_fields)


def test_a_csv_stem_that_is_not_an_identifier_is_refused(tmp_path) -> None:  # noqa: ANN001
    odd = tmp_path / "GO OG;rm.csv"
    odd.write_bytes((DATA / "GOOG.csv").read_bytes())
    with pytest.raises(ValidationError, match="symbol"):
        DecisionRequest.model_validate({"csv": odd}).market_snapshot()


@given(st.floats(allow_nan=True, allow_infinity=True))
def test_position_is_accepted_exactly_when_finite_and_in_the_unit_interval(value: float) -> None:
    valid = math.isfinite(value) and abs(value) <= 1
    try:
        DecisionRequest.model_validate({"csv": GOOG_CSV, "position": value})
    except ValidationError:
        assert not valid
    else:
        assert valid
