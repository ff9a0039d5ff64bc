"""``summary``: the direction aggregates count only the outputs that vote on direction.

A risk planet's score is risk appetite (positive when risk is fine), not a bullish vote: were it
counted, a bearish consensus with healthy risk would read as a conflict and a bullish one as
agreement. Vetoes, failures and usage still count over every output.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sun.policy import NodeOutput, summarize

_unit = st.floats(-1.0, 1.0, allow_nan=False)
_outputs = st.builds(
    NodeOutput,
    score=st.none() | _unit,
    confidence=st.none() | st.floats(0.0, 1.0, allow_nan=False),
    veto=st.booleans(),
    votes=st.booleans(),
    llm_calls=st.integers(0, 5),
    tokens=st.integers(0, 1000),
)
_DIRECTION = ("count", "mean_score", "min_score", "max_score", "spread", "agreement",
              "min_confidence")  # fmt: skip


def test_a_bearish_consensus_with_healthy_risk_agrees() -> None:
    outputs = {
        "technical": NodeOutput(score=-0.8, confidence=0.8),
        "sentiment": NodeOutput(score=-0.5, confidence=0.7),
        "risk": NodeOutput(score=0.4, confidence=1.0, votes=False),
    }
    summary = summarize(outputs)
    assert summary["count"] == 2 and summary["agreement"] == 1.0
    assert summary["spread"] == pytest.approx(0.3) and summary["max_score"] == -0.5
    assert summary["min_confidence"] == 0.7


@given(st.dictionaries(st.text("abcdef", min_size=1, max_size=4), _outputs, max_size=6))
def test_direction_fields_come_from_the_voters_and_the_rest_from_everyone(
    outputs: dict[str, NodeOutput],
) -> None:
    summary = summarize(outputs, failed=2, elapsed_ms=5.0)
    voters = summarize({k: o for k, o in outputs.items() if o.votes})
    assert {k: summary[k] for k in _DIRECTION} == {k: voters[k] for k in _DIRECTION}
    assert summary["any_veto"] == any(o.veto for o in outputs.values())
    assert summary["llm_calls"] == sum(o.llm_calls for o in outputs.values())
    assert summary["tokens"] == sum(o.tokens for o in outputs.values())
    assert (summary["failed"], summary["elapsed_ms"]) == (2, 5.0)
    assert 0.0 <= summary["agreement"] <= 1.0
