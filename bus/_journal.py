"""Append-only journals of every bus message (decisions included, as ``decision`` envelopes).

Two variants with one interface: :class:`JsonlJournal` (one JSON envelope per line in a
file; the embedded default) and ``RedisStreamJournal`` (one stream entry per envelope, for
the Redis backend, in :mod:`bus.redis_streams._journal` so this module needs no Redis client). Both
read back as envelopes in append order.
"""

from __future__ import annotations

import json
import os
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Iterator, Sequence
from pathlib import Path
from typing import IO, Any

from bus._bounds import check_bounds
from bus._chain import Chain, JournalCheck, JournalRecord, JournalViolation, Link, verify_records
from bus._decisions import SunDecision
from bus._envelope import BROADCAST, SUN, Envelope
from bus._errors import EnvelopeValidationError, JournalCorruptError
from bus._wire import decode_envelope


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

    async def records(self) -> AsyncIterator[JournalRecord]:
        """Every record with its chain link (unchained here: subclasses that chain override)."""
        number = 0
        async for envelope in self.read():
            number += 1
            data = json.loads(envelope.to_json())
            yield JournalRecord(f"record {number}", None, data, envelope)

    async def verify(self, secret: bytes | None = None) -> JournalCheck:
        """Read every record and check the chain (order, completeness, hashes, HMACs).

        Args:
            secret: The HMAC key the journal was written with (``None``: no HMAC expected).
        """
        records = [record async for record in self.records()]
        return verify_records(records, source=self.describe(), secret=secret)

    def describe(self) -> str:
        """Where this journal is (for messages)."""
        return type(self).__name__

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


def record_line(link: Link, envelope_json: str) -> str:
    """One JSONL record: the chain fields, then the envelope verbatim (no newline)."""
    head = json.dumps(link.fields(), separators=(",", ":"))
    return f'{head[:-1]},"envelope":{envelope_json}}}'


class JsonlJournal(Journal):
    """A JSONL file journal; each append is flushed (and fsynced when ``fsync=True``).

    Each line is ``{"seq", "prev", "hash"[, "mac"], "envelope"}`` (see :mod:`bus._chain`;
    lines that are bare envelopes, from before journals were chained, still read). A torn
    final line (a crash mid-write) is ignored by :meth:`read` and cut off before the next
    append, but reported by :meth:`verify`; any other unreadable line raises
    :class:`JournalCorruptError` naming the line.

    Args:
        path: The file.
        fsync: ``os.fsync`` after each append.
        secret: HMAC key: every record also carries ``mac`` (see :func:`bus.journal_secret`).
    """

    def __init__(
        self, path: str | Path, *, fsync: bool = False, secret: bytes | None = None
    ) -> None:
        self.path = Path(path)
        self.fsync = fsync
        self.secret = secret
        self._chain = Chain(secret)
        self._file: IO[str] | None = None

    def describe(self) -> str:
        return str(self.path)

    async def append_many(self, envelopes: Sequence[Envelope]) -> None:
        if self._file is None:
            self._file = self._open()
        lines = []
        for envelope in envelopes:
            text = envelope.to_json()
            lines.append(record_line(self._chain.next(text), text) + "\n")
        self._file.write("".join(lines))
        self._file.flush()
        if self.fsync:
            os.fsync(self._file.fileno())

    def _open(self) -> IO[str]:
        """Open for appending; a torn final line (never fully written) is cut off first."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._chain.resume(None)
        if self.path.exists() and self.path.stat().st_size:
            with self.path.open("rb+") as handle:
                handle.truncate(_end_of_last_line(handle))
                self._chain.resume(_link_of(_last_line(handle)))
        return self.path.open("a", encoding="utf-8")

    async def read(self) -> AsyncIterator[Envelope]:
        if not self.path.exists():
            return
        for record in self._records():
            if record.problem is not None:
                if record.torn:
                    return
                raise JournalCorruptError(f"{record.where}: {record.problem}")
            assert record.envelope is not None
            yield record.envelope

    async def records(self) -> AsyncIterator[JournalRecord]:
        for record in self._records():
            yield record

    async def verify(self, secret: bytes | None = None) -> JournalCheck:
        """See :meth:`Journal.verify`; a missing file or a directory is a violation too."""
        source = str(self.path)
        problem = None
        if self.path.is_dir():
            problem = "is a directory, not a journal file"
        elif not self.path.exists():
            problem = "no such journal file"
        if problem is not None:
            return JournalCheck(source, (), (JournalViolation(source, problem),))
        try:
            records = list(self._records())
        except OSError as error:
            return JournalCheck(source, (), (JournalViolation(source, f"unreadable: {error}"),))
        return verify_records(records, source=source, secret=secret)

    def _records(self) -> Iterator[JournalRecord]:
        lines = self.path.read_bytes().split(b"\n")
        for number, line in enumerate(lines, start=1):
            if line.strip():
                yield parse_record(line, f"{self.path}:{number}", torn=number == len(lines))

    async def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


def parse_record(line: bytes, where: str, *, torn: bool = False) -> JournalRecord:
    """One JSONL line as a record; any problem is kept on the record, never raised.

    Args:
        line: The line, without its newline.
        where: ``path:line`` for messages.
        torn: The line is the file's last and has no newline (an interrupted write).
    """
    try:
        data = json.loads(check_bounds(line))
        if isinstance(data, dict) and "envelope" in data:
            link = Link.parse(data)
            body = data["envelope"]
            envelope = decode_envelope(json.dumps(body))
        else:
            link, body, envelope = None, data, decode_envelope(line)
    except (ValueError, EnvelopeValidationError) as error:
        problem = (
            f"invalid_json: {error}" if isinstance(error, json.JSONDecodeError) else str(error)
        )
        if torn:
            problem = f"torn last record (incomplete write, no newline): {problem}"
        return JournalRecord(where, None, problem=problem, torn=torn)
    return JournalRecord(where, link, body, envelope)


def _link_of(line: bytes) -> Link | None:
    """The chain link of a written line (``None`` for an unchained or unreadable one)."""
    try:
        data = json.loads(line)
        return Link.parse(data) if isinstance(data, dict) else None
    except ValueError:
        return None


def _last_line(handle: IO[bytes], block: int = 65_536) -> bytes:
    """The last complete line of ``handle`` (which ends with a newline, or is empty)."""
    position = handle.seek(0, os.SEEK_END) - 1
    chunks: list[bytes] = []
    while position > 0:
        start = max(0, position - block)
        handle.seek(start)
        chunk = handle.read(position - start)
        newline = chunk.rfind(b"\n")
        if newline >= 0:
            chunks.append(chunk[newline + 1 :])
            break
        chunks.append(chunk)
        position = start
    return b"".join(reversed(chunks))


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
