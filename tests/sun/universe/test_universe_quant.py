"""``quant_many`` gives, instrument for instrument, what ``QuantReasoner.reason`` gives: the
same decision and the same rationale text (its cheaper formatter included), on the values
where number formatting can differ: signs, -0.0, rounding ties, the bounds, the hold band."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bus import PlanetReport
from planets import RiskLimits
from sun import QuantReasoner, ReasonInputs
from sun.universe import quant_many

AS_OF = datetime(2024, 1, 2, tzinfo=UTC)
DIRECTIONAL = frozenset(("sentiment", "technical"))


def _report(planet: str, score: float, confidence: float, has_data: bool = True) -> PlanetReport:
    return PlanetReport(
        planet=planet, instrument="X", as_of=AS_OF, score=score, confidence=confidence,
        has_data=has_data,
    )  # fmt: skip


def _inputs(reports: tuple[PlanetReport, ...]) -> ReasonInputs:
    return ReasonInputs(
        instrument="X", as_of=AS_OF.isoformat(), reports=reports, recalled=(),
        limits=RiskLimits(), directional=DIRECTIONAL, risk_planet="risk",
    )  # fmt: skip


CASES = [
    ((0.125, 0.375), (-0.5, 0.5)),
    ((-0.0, 0.0), (0.0, 1.0)),
    ((1.0, 1.0), (1.0, 1.0)),
    ((-1.0, 1.0), (-1.0, 0.005)),
    ((0.005, 0.015), (-0.995, 0.994999)),
    ((0.3333333, 0.6666667), (2e-9, 1e-12)),
    ((0.1, 1.0), None),
    ((-0.0999999, 1.0), None),
]


@pytest.mark.parametrize("hold_band", [0.1, 0.0, 0.25])
@pytest.mark.parametrize("technical,sentiment", CASES)
def test_quant_many_equals_reason_text_included(
    technical: tuple[float, float], sentiment: tuple[float, float] | None, hold_band: float
) -> None:
    reports = [_report("technical", *technical)]
    if sentiment is not None:
        reports.append(_report("sentiment", *sentiment))
    reports.append(_report("risk", 0.0, 0.5))
    reports.sort(key=lambda r: r.planet)
    reasoner = QuantReasoner({"technical": 1.5}, hold_band=hold_band)
    one = _inputs(tuple(reports))
    [many] = quant_many(reasoner, [one])
    alone = reasoner.reason(one)
    assert many.rationale == alone.rationale
    assert many == alone


def test_quant_many_without_voters_holds_and_says_so() -> None:
    reports = (_report("risk", 0.0, 0.5), _report("technical", 0.0, 0.0, has_data=False))
    [many] = quant_many(QuantReasoner(), [_inputs(reports)])
    assert many == QuantReasoner().reason(_inputs(reports)) and many.action == "HOLD"
