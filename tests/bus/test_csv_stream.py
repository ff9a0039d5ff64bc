"""iter_csv: a file's bars as validated chunks, equal to load_csv, rows numbered across chunks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bus import BarSeries, DataValidationError, iter_csv, load_csv

DATA = Path(__file__).resolve().parents[2] / "examples" / "data"
HEADER = "Date,Open,High,Low,Close,Volume\n"


def _rows(count: int) -> list[str]:
    return [
        f"2020-01-01T00:{i // 60:02d}:{i % 60:02d},10.0,11.0,9.0,10.5,1000\n" for i in range(count)
    ]


def _joined(chunks: list[BarSeries]) -> dict[str, np.ndarray]:
    names = ("timestamps", "open", "high", "low", "close", "volume")
    return {name: np.concatenate([getattr(c, name) for c in chunks]) for name in names}


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.integers(min_value=1, max_value=3000))
def test_chunks_join_to_exactly_the_loaded_series(rows: int) -> None:
    whole = load_csv(DATA / "GOOG.csv", "GOOG")
    chunks = list(iter_csv(DATA / "GOOG.csv", "GOOG", rows=rows))
    assert all(len(c) <= rows for c in chunks)
    joined = _joined(chunks)
    for name, values in joined.items():
        np.testing.assert_array_equal(values, getattr(whole, name))


def test_loaded_arrays_are_read_only_and_own_exactly_their_rows() -> None:
    """No array is a view of a longer buffer (the replay journal reads ``.base`` as history)."""
    whole = load_csv(DATA / "GOOG.csv", "GOOG")
    for name in ("timestamps", "open", "high", "low", "close", "volume"):
        array = getattr(whole, name)
        assert not array.flags.writeable
        assert array.base is None and len(array) == len(whole) == 2148


def test_a_timestamp_going_back_at_a_chunk_border_names_its_row(tmp_path: Path) -> None:
    rows = _rows(10)
    rows[5] = rows[4]  # row 5 repeats row 4's time; with chunks of 5 rows it starts chunk 2
    path = tmp_path / "border.csv"
    path.write_text(HEADER + "".join(rows))
    with pytest.raises(DataValidationError, match=r"not strictly increasing \(row 5 follows"):
        list(iter_csv(path, "TEST", rows=5))
    with pytest.raises(DataValidationError, match=r"not strictly increasing \(row 5 follows"):
        load_csv(path, "TEST")


@pytest.mark.parametrize("rows_per_chunk", [3, 4, 100])
def test_a_bad_bar_in_a_later_chunk_names_the_file_and_its_time(
    tmp_path: Path, rows_per_chunk: int
) -> None:
    rows = _rows(10)
    rows[8] = rows[8].replace(",9.0,", ",12.0,")  # low above the body
    path = tmp_path / "late.csv"
    path.write_text(HEADER + "".join(rows))
    with pytest.raises(DataValidationError) as caught:
        list(iter_csv(path, "TEST", rows=rows_per_chunk))
    assert caught.value.field == "low" and str(path) in str(caught.value)
    assert "00:00:08" in str(caught.value)
