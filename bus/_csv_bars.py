"""Bar series from CSV files in bounded memory.

``iter_csv`` yields a file's bars as validated chunks (rows numbered across the file, timestamps
checked across chunk borders), so a caller that needs one pass (the moon panel of a
multi-million-row file) never holds the whole history. ``load_csv`` fills arrays sized once
from the file's line count, so loading costs the history plus one chunk, not twice the history.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

from bus._bars import PRICE_FIELDS, BarSeries, checked_instrument, frame_arrays
from bus._csv import CHUNK_ROWS, Fail, check_utf8, csv_chunks
from bus._errors import DataValidationError

_COLUMNS = ("timestamps", *PRICE_FIELDS, "volume")


def iter_csv(path: str | Path, instrument: str, rows: int = CHUNK_ROWS) -> Iterator[BarSeries]:
    """The CSV's bars as consecutive validated :class:`BarSeries` of up to ``rows`` bars.

    Every rule of :class:`BarSeries` holds across the whole file (timestamps strictly
    increase across chunks too); errors name the file, the row (counted from the file's first
    data row) and the value, as :func:`load_csv` does.

    Raises:
        DataValidationError: for an unreadable, empty, non-UTF-8 or invalid file.
    """
    instrument = checked_instrument(instrument)
    _checked_lines(path, instrument)
    return _chunks(path, instrument, rows)


def _chunks(path: str | Path, instrument: str, rows: int) -> Iterator[BarSeries]:
    """The validated chunks of a file that passed :func:`_checked_lines`."""
    fail = _failure(instrument)
    last, seen = None, False
    try:
        for first, frame in csv_chunks(Path(path), fail, rows):
            chunk = BarSeries.model_validate(
                {"instrument": instrument, **frame_arrays(frame, instrument, first)},
                context={"first_row": first},
            )
            _check_border(last, chunk, first)
            last, seen = chunk.timestamps[-1], True
            yield chunk
        if not seen:
            raise fail("<file>", "no bar rows (only a header)")
    except DataValidationError as error:
        raise error.with_source(str(path)) from error.__cause__


def _checked_lines(path: str | Path, instrument: str) -> int:
    """The file's line count, once it is known to be readable, non-empty UTF-8."""
    try:
        return check_utf8(Path(path), _failure(instrument))
    except DataValidationError as error:
        raise error.with_source(str(path)) from error.__cause__


def load_csv(path: str | Path, instrument: str) -> BarSeries:
    """Load one instrument's bars from a CSV file: the first column is the timestamp, then
    Open, High, Low, Close, Volume (names matched case-insensitively).

    Raises:
        DataValidationError: naming the file for every problem: unreadable (missing, a
            directory), not UTF-8, empty or unparsable, or invalid values (with the row,
            column and value).
    """
    instrument = checked_instrument(instrument)
    bound = _checked_lines(path, instrument)
    arrays = {name: np.empty(bound, dtype=_dtype(name)) for name in _COLUMNS}
    filled = 0
    for chunk in _chunks(path, instrument, CHUNK_ROWS):
        for name in _COLUMNS:
            arrays[name][filled : filled + len(chunk)] = getattr(chunk, name)
        filled += len(chunk)
    for array in arrays.values():
        # Trimmed in place (realloc, no copy) so each array owns exactly its rows: a view of
        # a longer buffer would make the rows after it look like more history.
        array.resize(filled, refcheck=False)
        array.setflags(write=False)
    # Every chunk and every border between chunks was validated above.
    return BarSeries.model_construct(
        instrument=instrument,
        timestamps=arrays["timestamps"],
        open=arrays["open"],
        high=arrays["high"],
        low=arrays["low"],
        close=arrays["close"],
        volume=arrays["volume"],
    )


def _dtype(column: str) -> str:
    return "datetime64[ns]" if column == "timestamps" else "float64"


def _failure(instrument: str) -> Fail:
    def fail(field: str, reason: str) -> DataValidationError:
        return DataValidationError(
            instrument=instrument, timestamp=None, field=field, reason=reason
        )

    return fail


def _check_border(previous: np.datetime64 | None, chunk: BarSeries, first: int) -> None:
    """The first bar of ``chunk`` must follow the last bar of the chunk before it."""
    if previous is not None and chunk.timestamps[0] <= previous:
        raise DataValidationError(
            instrument=chunk.instrument,
            timestamp=chunk.first_timestamp,
            field="timestamps",
            reason=(
                f"not strictly increasing (row {first} follows "
                f"{np.datetime_as_string(previous, unit='s')})"
            ),
        )
