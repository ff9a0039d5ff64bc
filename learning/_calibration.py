"""Confidence calibration: a stated confidence mapped to the hit rate it has achieved.

Isotonic regression by pool-adjacent-violators over the labelled outcomes of active
decisions (confidence, hit). Until ``min_samples`` outcomes are in, there is no calibrated
value (``None``): uncalibrated confidence must not size a position.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable


def pool_adjacent_violators(
    points: Iterable[tuple[float, float]],
) -> tuple[list[float], list[float]]:
    """Isotonic (non-decreasing) fit of y on x; returns block upper x-bounds and values."""
    grouped: dict[float, list[float]] = {}
    for x, y in points:
        sums = grouped.setdefault(x, [0.0, 0.0])
        sums[0] += y
        sums[1] += 1.0
    blocks: list[list[float]] = []  # [x_max, sum_y, count]
    for x in sorted(grouped):
        blocks.append([x, *grouped[x]])
        while len(blocks) > 1 and blocks[-2][1] / blocks[-2][2] > blocks[-1][1] / blocks[-1][2]:
            x_max, total, count = blocks.pop()
            blocks[-1] = [x_max, blocks[-1][1] + total, blocks[-1][2] + count]
    return [b[0] for b in blocks], [b[1] / b[2] for b in blocks]


class ConfidenceCalibrator:
    """Observed hit rate as a non-decreasing function of stated confidence.

    Args:
        min_samples: Outcomes needed before :meth:`calibrated` answers.
    """

    def __init__(self, min_samples: int = 50) -> None:
        if min_samples < 1:
            raise ValueError(f"min_samples must be >= 1; got {min_samples}")
        self.min_samples = min_samples
        self._points: list[tuple[float, float]] = []
        self._fit: tuple[list[float], list[float]] | None = None

    def __len__(self) -> int:
        return len(self._points)

    def add(self, confidence: float, hit: bool) -> None:
        """Record one labelled active decision."""
        if not 0.0 <= confidence <= 1.0:
            raise ValueError(f"confidence must be in [0, 1]; got {confidence}")
        self._points.append((confidence, 1.0 if hit else 0.0))
        self._fit = None

    def calibrated(self, confidence: float) -> float | None:
        """The hit rate decisions at this confidence achieved, or None before ``min_samples``."""
        if len(self._points) < self.min_samples:
            return None
        if self._fit is None:
            self._fit = pool_adjacent_violators(self._points)
        bounds, values = self._fit
        return values[min(bisect.bisect_left(bounds, confidence), len(values) - 1)]
