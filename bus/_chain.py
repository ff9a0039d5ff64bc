"""Tamper evidence for journals: a sequence number and a hash chained to the previous record.

Every record a journal writes carries ``seq`` (1, 2, 3, ...), ``prev`` (the previous record's
``hash``; 64 zeros for the first) and ``hash`` = SHA-256 over a domain tag, ``seq``, ``prev``
and the canonical JSON of the envelope (sorted keys, compact), so a record removed, duplicated,
reordered or edited breaks the chain at that record. With a secret (e.g. from
``HELIARCH_JOURNAL_KEY``) each record also carries ``mac`` = HMAC-SHA256(secret, hash): without
the secret nobody can rewrite the journal and recompute a valid chain.

:func:`verify_records` checks a journal's records in order and returns every violation with
the record it was found at (``path:line`` or ``stream entry-id``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from bus._envelope import Envelope

GENESIS = "0" * 64
JOURNAL_KEY_ENV = "HELIARCH_JOURNAL_KEY"
_TAG = b"heliarch.journal/v1\n"


def canonical(data: Any) -> bytes:
    """The canonical JSON of ``data`` (sorted keys, compact): what the chain hashes."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def link_hash(seq: int, prev: str, envelope: Any) -> str:
    """The chained hash of record ``seq`` holding ``envelope`` (its parsed JSON)."""
    digest = hashlib.sha256(_TAG)
    digest.update(f"{seq}\n{prev}\n".encode())
    digest.update(canonical(envelope))
    return digest.hexdigest()


def link_mac(secret: bytes, digest: str) -> str:
    """HMAC-SHA256 of a record's hash (the hash already covers every record before it)."""
    return hmac.new(secret, digest.encode(), hashlib.sha256).hexdigest()


def journal_secret(environ: Mapping[str, str] | None = None) -> bytes | None:
    """The journal HMAC key from ``HELIARCH_JOURNAL_KEY`` (``None`` when unset).

    Raises:
        ValueError: when the variable is set but empty (a key that signs nothing).
    """
    value = (os.environ if environ is None else environ).get(JOURNAL_KEY_ENV)
    if value is None:
        return None
    if not value.strip():
        raise ValueError(f"{JOURNAL_KEY_ENV} is set but empty")
    return value.encode()


@dataclass(frozen=True)
class Link:
    """The chain fields of one record."""

    seq: int
    prev: str
    hash: str
    mac: str | None = None

    def fields(self) -> dict[str, str | int]:
        """The fields as written next to the envelope."""
        out: dict[str, str | int] = {"seq": self.seq, "prev": self.prev, "hash": self.hash}
        if self.mac is not None:
            out["mac"] = self.mac
        return out

    @classmethod
    def parse(cls, fields: Mapping[str, Any]) -> Link | None:
        """The link in ``fields`` (``None`` when the record is not chained).

        Raises:
            ValueError: naming the chain field that is present but malformed.
        """
        if "seq" not in fields and "hash" not in fields:
            return None
        seq, prev, digest, mac = (_text(fields.get(k)) for k in ("seq", "prev", "hash", "mac"))
        if isinstance(seq, str) and seq.isascii() and seq.isdigit():
            seq = int(seq)
        if not isinstance(seq, int) or isinstance(seq, bool) or seq < 1:
            raise ValueError(f"chain field 'seq' is {seq!r}, not a positive integer")
        texts = [prev, digest, mac]
        for name, value in zip(("prev", "hash"), texts[:2], strict=True):
            if not isinstance(value, str) or len(value) != 64:
                raise ValueError(f"chain field {name!r} is not a 64-digit hex digest")
        mac_text = texts[2]
        if mac_text is not None and not isinstance(mac_text, str):
            raise ValueError("chain field 'mac' is not text")
        return cls(seq, str(texts[0]), str(texts[1]), mac_text)


def _text(value: Any) -> Any:
    """Redis returns bytes; JSON returns str and int."""
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return value


class Chain:
    """A writer's chain state: the last sequence number and hash."""

    def __init__(self, secret: bytes | None = None, seq: int = 0, last: str = GENESIS) -> None:
        self.secret = secret
        self.seq = seq
        self.last = last

    def next(self, envelope_json: str) -> Link:
        """The link of the next record, holding the envelope wire form ``envelope_json``."""
        seq, prev = self.seq + 1, self.last
        digest = link_hash(seq, prev, json.loads(envelope_json))
        mac = link_mac(self.secret, digest) if self.secret is not None else None
        self.seq, self.last = seq, digest
        return Link(seq, prev, digest, mac)

    def resume(self, link: Link | None) -> None:
        """Continue after ``link`` (the last record already written; ``None``: start anew)."""
        self.seq, self.last = (link.seq, link.hash) if link is not None else (0, GENESIS)


@dataclass(frozen=True)
class JournalRecord:
    """One record as read: where it is, its link, its envelope (parsed JSON and model)."""

    where: str
    link: Link | None
    data: Any = None
    envelope: Envelope | None = None
    problem: str | None = None
    torn: bool = False


@dataclass(frozen=True)
class JournalViolation:
    """One way a journal is not what was written, at one record."""

    where: str
    problem: str

    def __str__(self) -> str:
        return f"{self.where}: {self.problem}"


@dataclass(frozen=True)
class JournalCheck:
    """A verified read of a journal: the envelopes (with where each is) and the violations."""

    source: str
    entries: tuple[tuple[str, Envelope], ...]
    violations: tuple[JournalViolation, ...]

    @property
    def ok(self) -> bool:
        """No violation."""
        return not self.violations


class _Verifier:
    """Walks records in order, keeping the last good sequence number and hash."""

    def __init__(self, source: str, secret: bytes | None) -> None:
        self.source = source
        self.secret = secret
        self.seq = 0
        self.last = GENESIS
        self.unsigned_warned = False
        self.violations: list[JournalViolation] = []

    def flag(self, where: str, problem: str) -> None:
        self.violations.append(JournalViolation(where, problem))

    def check(self, record: JournalRecord) -> None:
        if record.problem is not None:
            self.flag(record.where, record.problem)
            return
        link = record.link
        if link is None:
            self.flag(record.where, "not chained (no seq/hash): not written by a chained journal")
            return
        if link.seq <= self.seq:
            self.flag(
                record.where,
                f"sequence {link.seq} after {self.seq}: a duplicated or reordered record",
            )
            return
        if link.seq > self.seq + 1:
            missing = link.seq - self.seq - 1
            self.flag(
                record.where,
                f"sequence jumps from {self.seq} to {link.seq}: {missing} record(s) removed",
            )
        elif link.prev != self.last:
            self.flag(record.where, "does not follow the previous record (prev hash differs)")
        if link_hash(link.seq, link.prev, record.data) != link.hash:
            self.flag(record.where, "content does not match its hash (edited)")
        self._check_mac(record.where, link)
        self.seq, self.last = link.seq, link.hash

    def _check_mac(self, where: str, link: Link) -> None:
        if self.secret is None:
            if link.mac is not None and not self.unsigned_warned:
                self.unsigned_warned = True
                self.flag(
                    where, f"journal is signed (mac) but no key to verify ({JOURNAL_KEY_ENV})"
                )
            return
        if link.mac is None:
            self.flag(where, "not signed (no mac) but a journal key is configured")
        elif not hmac.compare_digest(link.mac, link_mac(self.secret, link.hash)):
            self.flag(where, "HMAC does not match (wrong journal key or forged record)")


def verify_records(
    records: Iterable[JournalRecord], *, source: str, secret: bytes | None = None
) -> JournalCheck:
    """Check order, completeness of the sequence, each hash and (with ``secret``) each HMAC."""
    verifier = _Verifier(source, secret)
    entries: list[tuple[str, Envelope]] = []
    count = 0
    for record in records:
        count += 1
        verifier.check(record)
        if record.envelope is not None:
            entries.append((record.where, record.envelope))
    if count == 0:
        verifier.flag(source, "journal is empty (no records)")
    return JournalCheck(source, tuple(entries), tuple(verifier.violations))
