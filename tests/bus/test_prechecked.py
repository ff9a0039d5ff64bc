"""Array checks refuse exactly what the contract models refuse; prechecked objects equal
validated ones."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from bus import (
    LlmUsage,
    OrderIntent,
    PlanetReport,
    ReasonedDecision,
    SunDecision,
    decision_rows_ok,
    prechecked,
    prechecked_builder,
    report_rows_ok,
)

AS_OF = datetime(2024, 1, 2, tzinfo=UTC)
# every float the checks must sort: NaN, both infinities, both zeros, bounds and beyond
NUMBERS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([-1.0, -0.0, 0.0, 1.0, -1.0000000001, 1.0000000001, 0.5, -0.5]),
)
ACTIONS = st.sampled_from(["BUY", "SELL", "HOLD", "buy", "", "FLAT"])


def _accepts(model: type, **values: Any) -> bool:
    try:
        model(**values)
    except ValidationError:
        return False
    return True


@settings(max_examples=400, deadline=None)
@given(st.lists(st.tuples(NUMBERS, NUMBERS, st.booleans()), min_size=1, max_size=12))
def test_report_rows_ok_refuses_what_planet_report_refuses(
    rows: list[tuple[float, float, bool]],
) -> None:
    score, confidence, has_data = (np.array(c) for c in zip(*rows, strict=True))
    checked = report_rows_ok(score, confidence, has_data).tolist()
    expected = [
        _accepts(
            PlanetReport, planet="p", instrument="X", as_of=AS_OF, score=s, confidence=c, has_data=h
        )  # fmt: skip
        for s, c, h in rows
    ]
    assert checked == expected


@settings(max_examples=400, deadline=None)
@given(st.lists(st.tuples(ACTIONS, NUMBERS, NUMBERS), min_size=1, max_size=12))
def test_decision_rows_ok_refuses_what_both_decision_models_refuse(
    rows: list[tuple[str, float, float]],
) -> None:
    actions = [a for a, _, _ in rows]
    target = np.array([t for _, t, _ in rows])
    confidence = np.array([c for _, _, c in rows])
    checked = decision_rows_ok(actions, target, confidence).tolist()
    reasoned = [
        _accepts(ReasonedDecision, action=a, target_position=t, confidence=c, rationale="r")
        for a, t, c in rows
    ]
    decided = [
        _accepts(
            SunDecision,
            instrument="X",
            as_of=AS_OF,
            action=a,
            target_position=t,
            confidence=c,
            rationale="r",
            reasoner="quant",
            fallback_level="quant",
        )  # fmt: skip
        for a, t, c in rows
    ]
    assert checked == reasoned == decided


REPORT = {"planet": "risk", "instrument": "GOOG", "as_of": AS_OF, "score": -0.25,
          "confidence": 1.0, "evidence": {"var95": 0.02, "position_cap": 0.5},
          "recommendations": ("position cap 0.50",), "veto": False, "veto_reason": None,
          "critical": False, "critical_reason": None}  # fmt: skip
INTENT = {"instrument": "GOOG", "as_of": AS_OF, "side": "BUY", "quantity": 3.5,
          "reference_price": 101.25, "notional": 354.375, "target_position": 0.25,
          "caps": ("max_notional 1,000",), "reason": "move position +0.00 -> +0.25"}  # fmt: skip


@pytest.mark.parametrize(
    "model,values",
    [
        (PlanetReport, REPORT),
        (
            PlanetReport,
            {
                "planet": "technical",
                "instrument": "GOOG",
                "as_of": AS_OF,
                "score": 0.0,
                "confidence": 0.0,
                "has_data": False,
            },
        ),  # fmt: skip
        (
            ReasonedDecision,
            {
                "action": "HOLD",
                "target_position": 0.0,
                "confidence": 0.0,
                "rationale": "[quant] no data",
            },
        ),  # fmt: skip
        (OrderIntent, INTENT),
        (
            SunDecision,
            {
                "instrument": "GOOG",
                "as_of": AS_OF,
                "action": "BUY",
                "target_position": 0.25,
                "confidence": 0.5,
                "rationale": "r",
                "reasoner": "quant",
                "fallback_level": "quant",
                "planet_reports": (PlanetReport(**REPORT),),
                "order_intent": OrderIntent(**INTENT),
                "llm_usage": LlmUsage(),
            },
        ),  # fmt: skip
    ],
    ids=["report", "no-data-report", "reasoned", "intent", "decision"],
)
def test_prechecked_equals_the_validated_object(model: type, values: dict[str, Any]) -> None:
    fast = prechecked(model, values)
    validated = model(**values)
    assert fast == validated
    assert fast.model_fields_set == validated.model_fields_set
    assert list(fast.__dict__) == list(validated.__dict__)
    assert fast.model_dump_json() == validated.model_dump_json()
    assert model.model_validate(fast.model_dump()) == fast


def test_prechecked_fills_default_factories_per_object() -> None:
    values = {"planet": "p", "instrument": "X", "as_of": AS_OF, "score": 0.0, "confidence": 0.0}
    one, two = prechecked(PlanetReport, values), prechecked(PlanetReport, values)
    assert one == PlanetReport(**values) and one.evidence == {}
    assert one.evidence is not two.evidence


@pytest.mark.parametrize(
    "values,message",
    [
        ({**REPORT, "colour": "red"}, "PlanetReport has no field 'colour'"),
        ({k: v for k, v in REPORT.items() if k != "as_of"}, "required field 'as_of'"),
    ],
)
def test_prechecked_refuses_unknown_and_missing_fields(
    values: dict[str, Any], message: str
) -> None:
    with pytest.raises(TypeError, match=message):
        prechecked(PlanetReport, values)


def test_objects_built_with_the_same_keys_share_one_fields_set() -> None:
    keys = frozenset(REPORT)
    one, two = prechecked(PlanetReport, REPORT, keys), prechecked(PlanetReport, dict(REPORT), keys)
    assert one == PlanetReport(**REPORT) and one.model_fields_set == set(REPORT)
    assert one.model_fields_set is two.model_fields_set
    copied = one.model_copy(update={"score": 0.5})  # pydantic copies the set before changing it
    assert "score" in copied.model_fields_set and one.model_fields_set == set(REPORT)
    with pytest.raises(TypeError, match="are not"):
        prechecked(PlanetReport, {**REPORT, "narrative": "n"}, keys)


def test_only_frozen_models_share_a_fields_set() -> None:
    class Loose(BaseModel):
        value: float

    with pytest.raises(TypeError, match="Loose is not frozen"):
        prechecked(Loose, {"value": 1.0}, frozenset({"value"}))


@pytest.mark.parametrize(
    "keys,message",
    [
        (frozenset({*REPORT, "colour"}), "PlanetReport has no field 'colour'"),
        (frozenset(REPORT) - {"as_of"}, "required field 'as_of'"),
    ],
)
def test_shared_keys_are_fields_and_cover_the_required_ones(
    keys: frozenset[str], message: str
) -> None:
    with pytest.raises(TypeError, match=message):
        prechecked(PlanetReport, {k: REPORT.get(k, "red") for k in keys}, keys)


def test_a_builder_equals_prechecked_with_its_keys() -> None:
    keys = frozenset(REPORT)
    build = prechecked_builder(PlanetReport, keys)
    built, plain = build(**REPORT), prechecked(PlanetReport, REPORT, keys)
    assert built == plain == PlanetReport(**REPORT)
    assert list(vars(built)) == list(vars(PlanetReport(**REPORT)))  # declaration order kept
    assert built.model_fields_set is plain.model_fields_set  # one shared set per keys
    assert built.model_dump_json() == PlanetReport(**REPORT).model_dump_json()


@pytest.mark.parametrize(
    "values,message",
    [
        ({**REPORT, "narrative": "n"}, "unexpected keyword argument 'narrative'"),
        ({k: v for k, v in REPORT.items() if k != "veto"}, "missing 1 required keyword-only"),
        ({**REPORT, "colour": "red"}, "unexpected keyword argument 'colour'"),
    ],
    ids=["a-field-not-in-keys", "a-key-missing", "not-a-field"],
)
def test_a_builder_takes_exactly_its_keys(values: dict[str, Any], message: str) -> None:
    build = prechecked_builder(PlanetReport, frozenset(REPORT))
    with pytest.raises(TypeError, match=message):
        build(**values)
    with pytest.raises(TypeError):
        build(*values.values())  # keyword-only: no field is given by position


def test_a_builder_fills_the_factories_of_fields_not_given_per_object() -> None:
    values = {"planet": "p", "instrument": "X", "as_of": AS_OF, "score": 0.0, "confidence": 0.0}
    build = prechecked_builder(PlanetReport, frozenset(values))
    one, two = build(**values), build(**values)
    assert one == PlanetReport(**values) and one.evidence == {}
    assert one.evidence is not two.evidence
    assert list(vars(one)) == list(vars(PlanetReport(**values)))


@pytest.mark.parametrize(
    "keys,message",
    [
        (frozenset({*REPORT, "colour"}), "PlanetReport has no field 'colour'"),
        (frozenset(REPORT) - {"as_of"}, "required field 'as_of'"),
    ],
)
def test_a_builder_checks_its_keys_at_once(keys: frozenset[str], message: str) -> None:
    with pytest.raises(TypeError, match=message):
        prechecked_builder(PlanetReport, keys)
