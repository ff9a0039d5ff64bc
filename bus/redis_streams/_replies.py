"""Typed views of Redis stream replies.

redis-py annotates replies loosely (unions of ``str``, ``int``, ``None``...). The bus's
clients are created with ``decode_responses=False``, so stream names, entry ids and fields
are ``bytes``; these helpers state that shape once instead of at every call site.
"""

from __future__ import annotations

from typing import cast

Entry = tuple[bytes, dict[bytes, bytes]]
"""One stream entry: its id and its fields."""

Arg = str | bytes | int | float
"""One argument of a Redis command or script."""


def entries_of(reply: object) -> list[Entry]:
    """The entries of an ``XRANGE`` reply (``[]`` for none)."""
    return cast(list[Entry], reply or [])


def batches_of(reply: object) -> list[tuple[bytes, list[Entry]]]:
    """The per-stream batches of an ``XREAD``/``XREADGROUP`` reply (``[]`` for none)."""
    return cast(list[tuple[bytes, list[Entry]]], reply or [])
