"""Shared fixtures of the sun's tests."""

from __future__ import annotations

import pytest

from bus import BarSeries
from heliarch.backtest import bundled_universe


@pytest.fixture(scope="module")
def universe() -> tuple[dict[str, BarSeries], BarSeries]:
    """50 instruments of 320 bars made from the bundled data (``bundled_universe``); modules
    that need another universe define their own ``universe``."""
    return bundled_universe(50, 320)
