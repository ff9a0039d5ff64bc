"""Typed errors raised at the boundary of the bus contracts."""

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
    """

    def __init__(
        self,
        *,
        instrument: str | None,
        timestamp: datetime | None,
        field: str,
        reason: str,
    ) -> None:
        self.instrument = instrument
        self.timestamp = timestamp
        self.field = field
        self.reason = reason
        where = instrument or "<snapshot>"
        when = timestamp.isoformat() if timestamp is not None else "-"
        super().__init__(f"{where} @ {when}: field '{field}': {reason}")
