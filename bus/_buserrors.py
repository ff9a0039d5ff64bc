"""Typed errors of the message bus."""

from __future__ import annotations


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
