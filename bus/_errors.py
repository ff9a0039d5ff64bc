"""Typed errors of the bus: contract validation at the boundary and the message bus."""

from __future__ import annotations

from datetime import datetime


class DataValidationError(Exception):
    """Market data failed validation at the boundary.

    Deliberately not a ``ValueError``: pydantic converts ``ValueError`` raised inside
    validators into its own generic error, and we want callers to receive this typed
    error with the instrument, timestamp and field that failed.

    Attributes:
        instrument: The instrument whose data is invalid (``None`` if not instrument-specific).
        timestamp: The timestamp of the offending row (``None`` if not row-specific).
        field: The name of the offending field, e.g. ``"high"`` or ``"headlines[2].timestamp"``.
        reason: A human-readable explanation.
        source: The file the data came from, when it came from one.
    """

    def __init__(
        self,
        *,
        instrument: str | None,
        timestamp: datetime | None,
        field: str,
        reason: str,
        source: str | None = None,
    ) -> None:
        self.instrument = instrument
        self.timestamp = timestamp
        self.field = field
        self.reason = reason
        self.source = source
        where = instrument or "<snapshot>"
        when = timestamp.isoformat() if timestamp is not None else "-"
        prefix = f"{source}: " if source else ""
        super().__init__(f"{prefix}{where} @ {when}: field '{field}': {reason}")

    def with_source(self, source: str) -> DataValidationError:
        """The same error, naming the file the data came from."""
        return DataValidationError(
            instrument=self.instrument,
            timestamp=self.timestamp,
            field=self.field,
            reason=self.reason,
            source=source,
        )


class BusError(Exception):
    """Base class of every error the bus raises."""


class EnvelopeValidationError(BusError):
    """An envelope or its payload failed validation.

    Attributes:
        envelope_id: The id of the offending envelope when it could be read, else ``None``.
        payload_type: The declared payload type when known, else ``None``.
        detail: The validation error text (pydantic's error list, verbatim).
    """

    def __init__(
        self, detail: str, *, envelope_id: str | None = None, payload_type: str | None = None
    ) -> None:
        self.envelope_id = envelope_id
        self.payload_type = payload_type
        self.detail = detail
        where = f"envelope {envelope_id}" if envelope_id else "envelope"
        what = f" payload {payload_type!r}" if payload_type else ""
        super().__init__(f"{where}{what} is invalid: {detail}")


class BackpressureError(BusError):
    """A destination stream is full; the producer must slow down or retry later.

    Attributes:
        stream: The stream (or in-process queue) that is full.
        backlog: Its backlog when the send was refused.
        limit: The configured bound.
        rejected: Envelope ids that were not sent (for batched sends).
    """

    def __init__(
        self, stream: str, backlog: int, limit: int, rejected: tuple[str, ...] = ()
    ) -> None:
        self.stream = stream
        self.backlog = backlog
        self.limit = limit
        self.rejected = rejected
        super().__init__(
            f"backpressure: {stream} holds {backlog} unprocessed messages (limit {limit}); "
            f"{len(rejected) or 1} message(s) not sent"
        )


class RequestTimeoutError(BusError, TimeoutError):
    """No reply arrived for a request within its timeout."""


class BusClosedError(BusError):
    """The bus was used after :meth:`Bus.close`."""


class JournalCorruptError(BusError):
    """A journal line (other than a torn final line) could not be read back."""


class MalformedMessageError(EnvelopeValidationError):
    """A wire entry that cannot become an envelope; it is dead-lettered, never redelivered.

    Raised by :func:`bus.decode_entry` and :func:`bus.decode_envelope` for every failure of
    a malformed entry (a missing field, bytes that are not UTF-8, an entry over the size or
    nesting bound, invalid JSON, an invalid envelope or payload), never any other type.

    Attributes:
        problem: One word for what is wrong: ``"missing_field"``, ``"not_text"``,
            ``"too_large"``, ``"too_deep"``, ``"invalid_json"`` or ``"invalid_envelope"``.
    """

    def __init__(
        self,
        problem: str,
        detail: str,
        *,
        envelope_id: str | None = None,
        payload_type: str | None = None,
    ) -> None:
        self.problem = problem
        super().__init__(f"{problem}: {detail}", envelope_id=envelope_id, payload_type=payload_type)
