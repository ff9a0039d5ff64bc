"""What makes a journal replayable beyond its chain: series hashes, requests and decisions.

The bus checks each record's place in the chain (:meth:`bus.Journal.verify`); here the
records' meaning is checked: every stored bar series hashes to the hash it is stored under,
every request references series stored before it (with no more rows than stored), and every
request has exactly one decision after it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from bus import Envelope, EnvelopeValidationError, JournalViolation
from sun.replay._journal import DecisionRequest, SeriesRecord, series_hash


class JournalInvalidError(ValueError):
    """The journal is not what was recorded: each violation names its record."""

    def __init__(self, source: str, violations: Sequence[JournalViolation]) -> None:
        self.source = source
        self.violations = tuple(violations)
        count = len(self.violations)
        super().__init__(
            f"journal {source} is invalid ({count} violation(s)); first: {violations[0]}"
        )


class _Checker:
    def __init__(self) -> None:
        self.series: dict[str, int] = {}
        self.requests: dict[str, str] = {}
        self.decided: set[str] = set()
        self.violations: list[JournalViolation] = []

    def flag(self, where: str, problem: str) -> None:
        self.violations.append(JournalViolation(where, problem))

    def series_record(self, where: str, envelope: Envelope) -> None:
        record = envelope.unwrap(SeriesRecord)
        actual = series_hash(record.series)
        if actual != record.hash:
            self.flag(
                where,
                f"series {record.series.instrument} is stored under hash {record.hash[:16]} "
                f"but its bars hash to {actual[:16]} (bars edited)",
            )
        self.series[record.hash] = len(record.series)

    def request(self, where: str, envelope: Envelope) -> None:
        request = envelope.unwrap(DecisionRequest)
        if request.request_id in self.requests:
            self.flag(where, f"request {request.request_id} appears twice")
        refs = list(request.bars.values())
        if request.benchmark is not None:
            refs.append(request.benchmark)
        for ref in refs:
            stored = self.series.get(ref.hash)
            if stored is None:
                self.flag(
                    where,
                    f"request {request.request_id}: series {ref.hash[:16]} is not stored before it",
                )
            elif ref.rows > stored:
                self.flag(
                    where, f"request {request.request_id}: {ref.rows} rows of a {stored}-row series"
                )
        self.requests[request.request_id] = where

    def decision(self, where: str, envelope: Envelope) -> None:
        request_id = envelope.correlation_id
        if request_id is None:
            return  # decided with sun.decide directly: journaled, not replayable (skipped)
        if request_id not in self.requests:
            self.flag(where, f"decision for request {request_id}, which is not before it")
        elif request_id in self.decided:
            self.flag(where, f"a second decision for request {request_id}")
        self.decided.add(request_id)

    def finish(self) -> None:
        for request_id, where in self.requests.items():
            if request_id not in self.decided:
                self.flag(where, f"request {request_id} has no decision (removed or interrupted)")


def replay_violations(entries: Iterable[tuple[str, Envelope]]) -> list[JournalViolation]:
    """Violations of the replay records' meaning, each with the record it was found at."""
    checker = _Checker()
    for where, envelope in entries:
        kind = envelope.payload_type
        try:
            if kind == "journal_series":
                checker.series_record(where, envelope)
            elif kind == "decision_request":
                checker.request(where, envelope)
            elif envelope.kind == "decision" and kind == "sun_decision":
                checker.decision(where, envelope)
        except EnvelopeValidationError as error:
            checker.flag(where, str(error))
    checker.finish()
    return checker.violations
