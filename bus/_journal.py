"""Append-only journals of every bus message (decisions included, as ``decision`` envelopes).

Two variants with one interface: :class:`JsonlJournal` (one JSON envelope per line in a
file; the embedded default) and ``RedisStreamJournal`` (one stream entry per envelope, for
the Redis backend, in :mod:`bus._redis_journal` so this module needs no Redis client). Both
read back as envelopes in append order.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import IO, Any

from bus._decisions import SunDecision
from bus._envelope import BROADCAST, SUN, Envelope, decode_envelope
from bus._errors import EnvelopeValidationError, JournalCorruptError


class Journal(ABC):
    """An append-only record of envelopes."""

    async def append(self, envelope: Envelope) -> None:
        """Append one envelope."""
        await self.append_many([envelope])

    @abstractmethod
    async def append_many(self, envelopes: Sequence[Envelope]) -> None:
        """Append envelopes in order."""

    @abstractmethod
    def read(self) -> AsyncIterator[Envelope]:
        """Every envelope, in append order."""

    async def read_all(self) -> list[Envelope]:
        """Every envelope as a list, in append order."""
        return [envelope async for envelope in self.read()]

    async def decisions(self) -> list[SunDecision]:
        """The journaled decisions, in order."""
        return [
            e.unwrap(SunDecision)
            async for e in self.read()
            if e.kind == "decision" and e.payload_type == "sun_decision"
        ]

    async def close(self) -> None:  # noqa: B027 - optional hook, nothing to release by default
        """Release resources."""


def decision_envelope(
    decision: SunDecision, *, sender: str = SUN, trace_id: str | None = None, **fields: Any
) -> Envelope:
    """A ``decision`` envelope carrying ``decision`` (broadcast by default)."""
    fields.setdefault("recipient", BROADCAST)
    if trace_id is not None:
        fields["trace_id"] = trace_id
    return Envelope.wrap(decision, sender=sender, kind="decision", **fields)


class JsonlJournal(Journal):
    """A JSONL file journal; each append is flushed (and fsynced when ``fsync=True``).

    A torn final line (a crash mid-write) is ignored on read and cut off before the next
    append; any other unreadable line
    raises :class:`JournalCorruptError` naming the line.
    """

    def __init__(self, path: str | Path, *, fsync: bool = False) -> None:
        self.path = Path(path)
        self.fsync = fsync
        self._file: IO[str] | None = None

    async def append_many(self, envelopes: Sequence[Envelope]) -> None:
        if self._file is None:
            self._file = self._open()
        self._file.write("".join(f"{e.to_json()}\n" for e in envelopes))
        self._file.flush()
        if self.fsync:
            os.fsync(self._file.fileno())

    def _open(self) -> IO[str]:
        """Open for appending; a torn final line (never fully written) is cut off first."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.path.exists() and self.path.stat().st_size:
            with self.path.open("rb+") as handle:
                handle.truncate(_end_of_last_line(handle))
        return self.path.open("a", encoding="utf-8")

    async def read(self) -> AsyncIterator[Envelope]:
        if not self.path.exists():
            return
        with self.path.open(encoding="utf-8") as handle:
            lines = handle.read().split("\n")
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                yield decode_envelope(line)
            except EnvelopeValidationError as error:
                if number == len(lines):
                    return
                raise JournalCorruptError(f"{self.path}:{number}: {error}") from error

    async def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


def _end_of_last_line(handle: IO[bytes], block: int = 65_536) -> int:
    """Offset just past the last newline of ``handle`` (0 if it has none)."""
    end = handle.seek(0, os.SEEK_END)
    position = end
    while position > 0:
        start = max(0, position - block)
        handle.seek(start)
        chunk = handle.read(position - start)
        if start + len(chunk) == end and chunk.endswith(b"\n"):
            return end
        newline = chunk.rfind(b"\n")
        if newline >= 0:
            return start + newline + 1
        position = start
    return 0
