"""Gathering each instrument's planet reports, sorted by planet, from the planets' batches."""

from __future__ import annotations

from datetime import datetime

import pytest

from bus import PlanetReport
from sun.universe import _consulting as consulting

AS_OF = datetime(2012, 6, 1)


def _report(planet: str, instrument: str) -> PlanetReport:
    return PlanetReport(planet=planet, instrument=instrument, as_of=AS_OF, score=0.0,
                        confidence=0.5)  # fmt: skip


def _batch(name: str, ks: list[int], planet: str | None = None) -> tuple[str, list[int], list]:
    return name, ks, [_report(planet or name, f"I{k}") for k in ks]


@pytest.mark.parametrize(
    "collected",
    [
        [_batch("risk", [0, 1, 2]), _batch("technical", [0, 1, 2])],  # full coverage
        [_batch("risk", [0, 1, 2]), _batch("sentiment", [1]), _batch("technical", [0, 2])],
        [_batch("alpha", [0, 2], planet="zeta"), _batch("risk", [0, 1, 2])],  # misnamed
        [_batch("risk", [0, 1, 2], planet="a"), _batch("technical", [0, 1, 2])],  # misnamed
    ],
    ids=["full", "partial", "misnamed-partial", "misnamed-full"],
)
def test_reports_per_instrument_are_sorted_by_planet(collected: list) -> None:
    reports = consulting._per_instrument(collected, 3)
    for k, row in enumerate(reports):
        expected = sorted(
            (r for _, ks, got in collected for j, r in zip(ks, got, strict=True) if j == k),
            key=lambda r: r.planet,
        )
        assert list(row) == expected and type(row) is tuple
