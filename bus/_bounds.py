"""Cheap bounds checked on wire data BEFORE it is parsed: size and JSON nesting depth.

A hostile entry such as ``'[' * 200_000 + ']' * 200_000`` must not reach a recursive parser.
The checks here are linear scans in C (``bytes.count``, one regular expression, numpy), so
rejecting a bad entry costs about as much as copying it.

Limits (module constants, overridable per call):

- :data:`MAX_ENTRY_BYTES` = 8 MiB of UTF-8 per entry. A market snapshot of several
  instruments with a few thousand bars each is well below 1 MiB.
- :data:`MAX_JSON_DEPTH` = 64 nested arrays/objects. Every bus contract nests less than
  10 deep (envelope > payload > planet_reports > report > evidence is 5).
"""

from __future__ import annotations

import re

import numpy as np

from bus._errors import MalformedMessageError

MAX_ENTRY_BYTES = 8 * 1024 * 1024
MAX_JSON_DEPTH = 64

_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_STEP = np.zeros(256, dtype=np.int8)
_STEP[[ord("["), ord("{")]] = 1
_STEP[[ord("]"), ord("}")]] = -1


def as_bytes(raw: object) -> bytes:
    """``raw`` as bytes (``str`` is encoded as UTF-8).

    Raises:
        MalformedMessageError: ``not_text`` for any other type or an unencodable ``str``.
    """
    if isinstance(raw, bytes):
        return raw
    if isinstance(raw, bytearray | memoryview):
        return bytes(raw)
    if isinstance(raw, str):
        try:
            return raw.encode("utf-8")
        except UnicodeEncodeError as error:
            raise MalformedMessageError("not_text", f"not encodable as UTF-8: {error}") from None
    raise MalformedMessageError("not_text", f"entry data is {type(raw).__name__}, not bytes")


def nesting_depth(data: bytes, limit: int) -> int:
    """Deepest nesting of JSON arrays/objects in ``data``, ignoring brackets inside strings.

    Returns the exact depth when it may exceed ``limit``; below that a cheap upper bound
    (the number of opening brackets).
    """
    opening = data.count(b"[") + data.count(b"{")
    if opening <= limit:
        return opening
    codes = np.frombuffer(_STRING.sub(b'""', data), dtype=np.uint8)
    steps = _STEP[codes]
    steps = steps[steps != 0]
    if not len(steps):
        return 0
    return int(np.cumsum(steps, dtype=np.int64).max())


def check_bounds(
    raw: object, *, max_bytes: int = MAX_ENTRY_BYTES, max_depth: int = MAX_JSON_DEPTH
) -> bytes:
    """``raw`` as bytes once it is within ``max_bytes`` and ``max_depth``.

    Raises:
        MalformedMessageError: ``not_text``, ``too_large`` or ``too_deep``.
    """
    if isinstance(raw, str) and len(raw) > max_bytes:
        raise MalformedMessageError("too_large", f"{len(raw)} characters > {max_bytes} bytes")
    data = as_bytes(raw)
    if len(data) > max_bytes:
        raise MalformedMessageError("too_large", f"{len(data)} bytes > {max_bytes} bytes")
    depth = nesting_depth(data, max_depth)
    if depth > max_depth:
        raise MalformedMessageError("too_deep", f"nesting depth {depth} > {max_depth}")
    return data


def clip(data: bytes, keep: int = 65_536) -> bytes:
    """At most ``keep`` leading bytes of ``data`` (what a dead letter keeps of a huge entry)."""
    return data if len(data) <= keep else data[:keep]
