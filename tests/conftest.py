"""Shared fixtures: real services by URL, bundled data.

A test that needs Redis or PostgreSQL asks for ``redis_url`` / ``postgres_url``. When the
URL is unset (or the service does not answer) the test skips with the reason, unless
``HELIARCH_REQUIRE_SERVICES=1`` (CI), in which case it fails.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path
from urllib.parse import urlparse

import pytest

from bus import BarSeries, load_csv

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "examples" / "data"


def _services_required() -> bool:
    return os.environ.get("HELIARCH_REQUIRE_SERVICES") == "1"


def _answers(url: str) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or 0), 2.0):
            return True
    except OSError:
        return False


def service_url(variable: str) -> str:
    """The URL in ``variable`` if the service answers; otherwise skip (or fail in CI)."""
    url = os.environ.get(variable)
    problem = None
    if not url:
        problem = f"{variable} is not set"
    elif not _answers(url):
        problem = f"{variable}={url} does not answer"
    if problem is None:
        return url
    if _services_required():
        pytest.fail(f"{problem} and HELIARCH_REQUIRE_SERVICES=1")
    pytest.skip(f"{problem}; set it to run this test")


@pytest.fixture
def redis_url() -> str:
    """A reachable Redis URL (``REDIS_URL``)."""
    return service_url("REDIS_URL")


@pytest.fixture
def postgres_url() -> str:
    """A reachable PostgreSQL URL (``POSTGRES_URL``)."""
    return service_url("POSTGRES_URL")


@pytest.fixture(scope="session")
def goog() -> BarSeries:
    """Real GOOG daily bars 2004-2013 (2,148 rows)."""
    return load_csv(DATA / "GOOG.csv", "GOOG")


@pytest.fixture(scope="session")
def eurusd() -> BarSeries:
    """Real EURUSD hourly bars 2017-2018 (5,000 rows)."""
    return load_csv(DATA / "EURUSD.csv", "EURUSD")
