"""Instrument identifiers: one validated, normalized text type for every instrument name.

An instrument name travels into prompts, file names, Redis keys and logs, so it is checked
once at the boundary. The rules (:func:`instrument_id`):

- Unicode NFKC normalization first (full-width ``ＧＯＯＧ`` becomes ``GOOG``), then
- 1 to 32 characters, only ASCII letters and digits and ``. _ - / = ^ :`` (enough for
  ``GOOG``, ``BRK.B``, ``EUR/USD``, ``^GSPC``, ``ES=F``, ``XNAS:AAPL``). Non-ASCII letters
  are refused on purpose: look-alike letters (Cyrillic ``А`` for Latin ``A``) would name
  different instruments that read the same, and file names stay portable;
- hence no control characters, no whitespace anywhere (so none leading or trailing);
- no path segment (split on ``/``) that is empty, ``.`` or ``..``, so ``../../x`` and ``/x``
  are refused.

:func:`instrument_file_stem` turns a valid identifier into a file-name stem that stays in its
directory (no ``/``, never ``.``/``..``, never a leading ``.`` or ``-``) and is injective.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from typing import Annotated

from pydantic import AfterValidator

INSTRUMENT_MAX_LENGTH = 32
INSTRUMENT_PUNCTUATION = "._-/=^:"
_ALLOWED = re.compile(r"[A-Za-z0-9._\-/=^:]+")
_STEM_SAFE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-")
_WINDOWS_RESERVED = frozenset(
    [
        "CON",
        "PRN",
        "AUX",
        "NUL",
        *(f"COM{i}" for i in range(1, 10)),
        *(f"LPT{i}" for i in range(1, 10)),
    ]
)


def instrument_id(value: object) -> str:
    """``value`` as a valid, NFKC-normalized instrument identifier.

    Raises:
        ValueError: saying which rule is broken (the offending text is shown escaped).
    """
    if not isinstance(value, str):
        raise ValueError(f"instrument must be a string, got {type(value).__name__}")
    text = unicodedata.normalize("NFKC", value)
    problem = _problem(text)
    if problem is not None:
        raise ValueError(f"invalid instrument {_shown(value)}: {problem}")
    return text


@functools.lru_cache(maxsize=8192)  # pure; decisions over a universe repeat every name
def _problem(text: str) -> str | None:
    if not text:
        return "must not be empty"
    if len(text) > INSTRUMENT_MAX_LENGTH:
        return f"longer than {INSTRUMENT_MAX_LENGTH} characters ({len(text)})"
    for position, char in enumerate(text):
        if unicodedata.category(char).startswith("C"):
            return f"control character U+{ord(char):04X} at position {position}"
    if text != text.strip() or any(char.isspace() for char in text):
        return "contains whitespace"
    if not _ALLOWED.fullmatch(text):
        bad = next(char for char in text if not _ALLOWED.fullmatch(char))
        return (
            f"character {bad!r} (U+{ord(bad):04X}) is not allowed "
            f"(ASCII letters, digits and {INSTRUMENT_PUNCTUATION})"
        )
    if any(segment in ("", ".", "..") for segment in text.split("/")):
        return "empty, '.' or '..' path segment"
    return None


def _shown(value: str, limit: int = 40) -> str:
    shown = repr(value[:limit])
    return shown + ("..." if len(value) > limit else "")


InstrumentId = Annotated[str, AfterValidator(instrument_id)]
"""A ``str`` field holding a valid instrument identifier (see :func:`instrument_id`)."""


def instrument_file_stem(instrument: str) -> str:
    """A file-name stem for ``instrument`` that cannot leave its directory.

    The identifier is validated first; then every character outside ``[A-Za-z0-9._-]``, and
    a leading ``.`` or ``-``, is written ``~XX`` (its hex code). ``~`` never occurs in an
    identifier, so distinct identifiers give distinct stems (``EUR/USD`` -> ``EUR~2FUSD``).
    Windows device names (``CON``, ``NUL``...) get a ``~`` prefix. File systems that ignore
    case still see ``goog`` and ``GOOG`` as one file.

    Raises:
        ValueError: if ``instrument`` is not a valid identifier.
    """
    text = instrument_id(instrument)
    stem = "".join(
        char if char in _STEM_SAFE and not (index == 0 and char in ".-") else f"~{ord(char):02X}"
        for index, char in enumerate(text)
    )
    if stem.split(".")[0].upper() in _WINDOWS_RESERVED:
        stem = "~" + stem
    return stem
