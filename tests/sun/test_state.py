"""The sun state's ``reports`` reducer: one report per planet, a later one replacing it."""

from __future__ import annotations

from datetime import datetime

from hypothesis import given
from hypothesis import strategies as st

from bus import PlanetReport
from sun._state import merge_reports

_AS_OF = datetime(2011, 3, 1)
_reports = st.builds(
    lambda planet, score: PlanetReport(planet=planet, instrument="GOOG", as_of=_AS_OF,
                                       score=score, confidence=0.5),
    st.sampled_from(["technical", "risk", "sentiment", "execution"]),
    st.floats(-1.0, 1.0, allow_nan=False),
)  # fmt: skip


def _unique(reports: list[PlanetReport]) -> list[PlanetReport]:
    return list({r.planet: r for r in reports}.values())


@given(st.lists(_reports, max_size=4).map(_unique), st.lists(_reports, max_size=4).map(_unique))
def test_a_later_report_replaces_its_planets_and_keeps_the_others(
    held: list[PlanetReport], new: list[PlanetReport]
) -> None:
    merged = merge_reports(held, new)
    assert len({r.planet for r in merged}) == len(merged)  # one report per planet
    assert merged[len(merged) - len(new) :] == new  # the new ones, as given, last
    replaced = {r.planet for r in new}
    assert [r for r in merged if r.planet not in replaced] == [
        r for r in held if r.planet not in replaced
    ]
