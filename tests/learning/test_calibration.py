"""Isotonic confidence calibration from labelled outcomes."""

from __future__ import annotations

import numpy as np
import pytest

from learning import ConfidenceCalibrator, pool_adjacent_violators


def test_pav_pools_violators_into_a_non_decreasing_fit() -> None:
    bounds, values = pool_adjacent_violators([(0.1, 1.0), (0.2, 0.0), (0.3, 1.0), (0.4, 1.0)])
    assert values == sorted(values) and values[0] == pytest.approx(0.5)
    assert bounds[-1] == 0.4


def test_no_calibrated_value_before_enough_outcomes() -> None:
    calibrator = ConfidenceCalibrator(min_samples=3)
    calibrator.add(0.9, True)
    assert calibrator.calibrated(0.9) is None


@pytest.mark.parametrize(("stated", "expected"), [(0.2, 0.3), (0.9, 0.6)])
def test_an_overconfident_model_is_mapped_to_its_hit_rates(stated: float, expected: float) -> None:
    rng = np.random.default_rng(0)
    calibrator = ConfidenceCalibrator(min_samples=50)
    for _ in range(4000):
        confidence = float(rng.choice([0.2, 0.9]))
        calibrator.add(confidence, bool(rng.random() < (0.3 if confidence < 0.5 else 0.6)))
    assert calibrator.calibrated(stated) == pytest.approx(expected, abs=0.04)


def test_out_of_range_confidence_is_one_clear_error() -> None:
    with pytest.raises(ValueError, match="confidence must be in"):
        ConfidenceCalibrator().add(1.5, True)
