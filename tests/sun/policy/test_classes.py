"""ProfileClasses: which float fields matter only through comparisons, and keys that keep
every expression's value."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sun.policy import ProfileClasses, TradingProfile
from sun.policy._cel import compile_expression, evaluate

X = "trend_strength"


@pytest.mark.parametrize(
    ("source", "cuts"),
    [
        ("trend_strength >= 1.0", ((">=", 1.0),)),
        ("1.0 > trend_strength && has_headlines", (("<", 1.0),)),
        ("(trend_strength == 2) || trend_strength != -0.5", (("==", 2), ("!=", -0.5))),
        ('technical_ready ? (trend_strength >= 1.0 ? "a" : "b") : null', ((">=", 1.0),)),
        ("trend_strength < 1e-3", (("<", 1e-3),)),
        ("trend_strength * 2.0 >= 1.0", None),  # arithmetic: the value matters
        ("-trend_strength < 1.0", None),
        ("trend_strength >= 1.0 + 1.0", None),
        ("trend_strength >= 1.0 == true", None),
        ("trend_strength", None),
        ("trend_strength >= 9007199254740993", None),  # an int a double cannot hold
        ('regime == "trend_strength"', ()),  # a different field: this one is not read
    ],
)
def test_comparisons_of_a_float_field(source: str, cuts: tuple | None) -> None:
    classes = ProfileClasses.of([compile_expression(source)], TradingProfile)
    assert classes.cuts.get(X, ()) == cuts


def test_a_field_read_raw_anywhere_keys_on_its_value() -> None:
    sources = ["trend_strength >= 1.0", "trend_strength * 2.0 > 1.0"]
    classes = ProfileClasses.of([compile_expression(s) for s in sources], TradingProfile)
    assert classes.cuts[X] is None
    assert classes.keys({X: [0.5, 0.6]})[0] != classes.keys({X: [0.5, 0.6]})[1]


SOURCES = [
    "trend_strength >= 1.0 && realized_vol < 0.15",
    "0.4 <= realized_vol || trend_strength == 2.0",
    'technical_ready ? (trend_strength >= 1.0 ? "momentum" : "mean_reversion") : null',
    "abs_volume_z < 3.0 ? trend_strength != 1.5 : has_headlines",
    "abs_volume_z < 3 || has_headlines",  # double < int: a CEL error for every value
]
FLOATS = st.one_of(
    st.sampled_from([0.0, -0.0, 0.15, 0.4, 1.0, 1.5, 2.0, 3.0, float("inf"), float("nan")]),
    st.floats(-5, 5),
)


@settings(max_examples=200, deadline=None)
@given(
    rows=st.lists(
        st.fixed_dictionaries(
            {
                "trend_strength": FLOATS,
                "realized_vol": FLOATS,
                "abs_volume_z": FLOATS,
                "technical_ready": st.booleans(),
                "has_headlines": st.booleans(),
            }
        ),
        min_size=2,
        max_size=8,
    )
)
def test_equal_keys_give_equal_values(rows: list[dict]) -> None:
    compiled = [compile_expression(source) for source in SOURCES]
    classes = ProfileClasses.of(compiled, TradingProfile)
    keys = classes.keys({name: [row[name] for row in rows] for name in classes.fields})
    for i in range(len(rows)):
        for j in range(i):
            if keys[i] == keys[j]:
                assert [outcome(c, rows[i]) for c in compiled] == [
                    outcome(c, rows[j]) for c in compiled
                ]


def outcome(compiled: Any, row: dict) -> Any:
    """The expression's value, or the type of the error it raises."""
    try:
        return evaluate(compiled, row)
    except Exception as error:
        return type(error)
