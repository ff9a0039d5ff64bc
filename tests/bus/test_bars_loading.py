"""load_csv on broken files: every problem is one DataValidationError line naming the file,
and for bad values the row, column and value; never a pandas or OS exception."""

from __future__ import annotations

from pathlib import Path

import pytest

from bus import DataValidationError, load_csv

HEADER = "Date,Open,High,Low,Close,Volume\n"
ROW = "2020-01-0{d},10.0,11.0,9.0,10.5,1000\n"


def fails(path: Path) -> DataValidationError:
    with pytest.raises(DataValidationError) as caught:
        load_csv(path, "TEST")
    error = caught.value
    assert str(path) in str(error) and error.source == str(path)
    assert "\n" not in str(error), "one line"
    return error


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_text("")
    assert "empty" in fails(path).reason
    path.write_text("\n\n  \n")
    assert "empty" in fails(path).reason


def test_header_only_has_no_bars(tmp_path: Path) -> None:
    path = tmp_path / "header.csv"
    path.write_text(HEADER)
    assert fails(path).reason == "no bars"


def test_text_cell_names_row_column_and_value(tmp_path: Path) -> None:
    path = tmp_path / "text.csv"
    path.write_text(HEADER + ROW.format(d=1) + "2020-01-02,10.0,11.0,9.0,ten,1000\n")
    error = fails(path)
    assert error.field == "close"
    assert "row 1" in error.reason and "'Close'" in error.reason and "'ten'" in error.reason


def test_non_utf8_bytes_name_line_and_value(tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes((HEADER + ROW.format(d=1)).encode() + b"2020-01-02,10.0,\xff\xfe,9.0,10,1\n")
    error = fails(path)
    assert "not UTF-8" in error.reason and "line 3" in error.reason and "column 2" in error.reason
    assert "\\xff" in error.reason


def test_directory_and_missing_file(tmp_path: Path) -> None:
    assert "IsADirectoryError" in fails(tmp_path).reason
    assert "FileNotFoundError" in fails(tmp_path / "nope.csv").reason


def test_unparsable_csv_and_bad_timestamp(tmp_path: Path) -> None:
    path = tmp_path / "ragged.csv"
    path.write_text(HEADER + ROW.format(d=1) + '2020-01-02,"unterminated,1\n')
    assert "not a readable CSV" in fails(path).reason
    path = tmp_path / "stamp.csv"
    path.write_text(HEADER + ROW.format(d=1) + "not a date,10.0,11.0,9.0,10.5,1000\n")
    error = fails(path)
    assert error.field == "timestamps" and "row 1: value 'not a date'" in error.reason


def test_value_errors_from_a_file_name_the_file(tmp_path: Path) -> None:
    path = tmp_path / "negative.csv"
    path.write_text(HEADER + ROW.format(d=1) + "2020-01-02,10.0,11.0,9.0,-1,1000\n")
    error = fails(path)
    assert error.field == "close" and error.instrument == "TEST"
