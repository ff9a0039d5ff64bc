"""Fixtures for the moon tests: the bundled real OHLCV data."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from moons import Ohlcv

DATA = Path(__file__).resolve().parents[2] / "examples" / "data"


def load_frame(name: str) -> pd.DataFrame:
    return pd.read_csv(DATA / f"{name}.csv", index_col=0, parse_dates=True)


@pytest.fixture(scope="session")
def goog() -> Ohlcv:
    return Ohlcv.from_frame(load_frame("GOOG"))


@pytest.fixture(scope="session")
def eurusd() -> Ohlcv:
    return Ohlcv.from_frame(load_frame("EURUSD"))


@pytest.fixture(scope="session", params=["GOOG", "EURUSD"])
def market(request: pytest.FixtureRequest) -> Ohlcv:
    """Each real data set in turn."""
    return Ohlcv.from_frame(load_frame(request.param))
