"""Reading bar CSV files in bounded memory: the bytes are checked as UTF-8 block by block and
the rows are parsed in chunks, so a file of millions of rows never sits in memory as text."""

from __future__ import annotations

import codecs
from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd

from bus._errors import DataValidationError

CHUNK_ROWS = 65_536
"""Rows parsed per pandas chunk (bounds the parser's temporary memory)."""
_BLOCK_BYTES = 1 << 20

Fail = Callable[[str, str], DataValidationError]


def check_utf8(path: Path, fail: Fail) -> int:
    """The number of lines of ``path`` (an upper bound on its rows); raises naming line, column
    and byte of the first byte that is not UTF-8 (or an empty or unreadable file). Reads
    ``path`` in 1 MiB blocks."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    lines, last_line, offset, seen_text = 1, b"", 0, False
    try:
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(_BLOCK_BYTES), b""):
                try:
                    text = decoder.decode(block)
                except UnicodeDecodeError as error:
                    _raise_not_utf8(fail, lines, last_line + block[: error.start], offset, error)
                seen_text = seen_text or bool(text.strip())
                lines += block.count(b"\n")
                last_line = (last_line + block).rsplit(b"\n", 1)[-1][-4096:]
                offset += len(block)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError as error:
        _raise_not_utf8(fail, lines, last_line, offset, error)
    except OSError as error:
        raise fail("<file>", f"cannot read: {type(error).__name__}: {error.strerror}") from None
    if not seen_text:
        raise fail("<file>", "the file is empty (expected a header and bar rows)")
    return lines


def _raise_not_utf8(
    fail: Fail, lines: int, line_bytes: bytes, offset: int, error: UnicodeDecodeError
) -> None:
    line = lines + line_bytes.count(b"\n")
    column = line_bytes.rsplit(b"\n", 1)[-1].count(b",")
    value = error.object[error.start : error.end + 8]
    raise fail(
        "<encoding>",
        f"not UTF-8: line {line}, column {column}, byte {offset + error.start}: value {value!r}",
    ) from None


def csv_chunks(
    path: Path, fail: Fail, rows: int = CHUNK_ROWS
) -> Iterator[tuple[int, pd.DataFrame]]:
    """``(first row number, chunk)`` pairs of the CSV, timestamps as the index.

    The file must have passed :func:`check_utf8` (which also bounds its number of rows).
    """
    offset = 0
    try:
        with pd.read_csv(path, index_col=0, chunksize=rows, encoding="utf-8") as reader:
            for chunk in reader:
                yield offset, chunk
                offset += len(chunk)
    except DataValidationError:
        raise
    except Exception as error:  # pandas raises many types for unparsable text
        reason = " ".join(str(error).split()) or type(error).__name__
        raise fail("<file>", f"not a readable CSV: {reason}") from None
