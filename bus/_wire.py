"""Envelopes off the wire: the one safe decoder of an envelope's JSON and of a Redis stream
entry (bounded before parsing, every failure one typed error), and the dead letter that keeps
what could not be processed."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bus._bounds import MAX_ENTRY_BYTES, MAX_JSON_DEPTH, as_bytes, check_bounds
from bus._envelope import Envelope, _now
from bus._errors import MalformedMessageError

ENTRY_FIELD = b"e"
"""The stream-entry field holding an envelope's wire form."""


def decode_envelope(
    raw: str | bytes, *, max_bytes: int = MAX_ENTRY_BYTES, max_depth: int = MAX_JSON_DEPTH
) -> Envelope:
    """Parse and validate one envelope from its wire form, bounded before parsing.

    Any failure, whatever raised it (a validator, the JSON parser, a too deep or too large
    entry), comes out as one typed error, so a hostile message cannot stop a consumer.

    Raises:
        MalformedMessageError: (an :class:`EnvelopeValidationError`) naming the problem, the
            envelope id (when readable) and every field error.
    """
    data = check_bounds(raw, max_bytes=max_bytes, max_depth=max_depth)
    try:
        return Envelope.model_validate_json(data)
    except ValidationError as error:
        problem = "invalid_json" if _is_json_error(error) else "invalid_envelope"
        detail = _describe(error)
    except Exception as error:  # a payload validator may raise anything; keep it typed
        problem, detail = "invalid_envelope", f"{type(error).__name__}: {error}"
    raise MalformedMessageError(
        problem, detail, envelope_id=_peek(data, "id"), payload_type=_peek(data, "payload_type")
    )


def decode_entry(
    fields: Mapping[Any, Any] | None,
    *,
    max_bytes: int = MAX_ENTRY_BYTES,
    max_depth: int = MAX_JSON_DEPTH,
) -> Envelope:
    """Decode one Redis stream entry's fields (``{b"e": <wire form>}``) into an envelope.

    The one safe decoder for anything read from a stream: it raises nothing but
    :class:`MalformedMessageError`, whose ``problem`` says what is wrong. Size and nesting
    are bounded before parsing (see :mod:`bus._bounds` for the limits).

    Raises:
        MalformedMessageError: for a missing field, data that is not text, an entry over the
            bounds, invalid JSON or an invalid envelope.
    """
    return decode_envelope(entry_data(fields), max_bytes=max_bytes, max_depth=max_depth)


def entry_data(fields: Mapping[Any, Any] | None) -> bytes:
    """The wire form held by a stream entry's fields.

    Raises:
        MalformedMessageError: ``missing_field`` or ``not_text``.
    """
    if not isinstance(fields, Mapping):
        raise MalformedMessageError("missing_field", f"entry fields are {type(fields).__name__}")
    for key in (ENTRY_FIELD, ENTRY_FIELD.decode()):
        if key in fields:
            return as_bytes(fields[key])
    names = ", ".join(sorted(repr(k) for k in fields)[:5]) or "none"
    raise MalformedMessageError("missing_field", f"entry has no 'e' field (fields: {names})")


def raw_of(fields: Mapping[Any, Any] | None) -> bytes:
    """The entry's wire form as far as it can be read (``b""`` if none), for dead letters."""
    try:
        return entry_data(fields)
    except MalformedMessageError:
        return b""


def _is_json_error(error: ValidationError) -> bool:
    return any(item["type"] == "json_invalid" for item in error.errors(include_url=False))


def _describe(error: ValidationError) -> str:
    parts = []
    for item in error.errors(include_url=False):
        where = ".".join(str(p) for p in item["loc"]) or "<envelope>"
        parts.append(f"{where}: {item['msg']}")
    return "; ".join(parts)


def _peek(raw: bytes, field: str) -> str | None:
    try:
        value = json.loads(raw).get(field)
    except Exception:  # only a hint for the error message; never fail because of it
        return None
    return value if isinstance(value, str) and len(value) <= 128 else None


class DeadLetter(BaseModel):
    """A message that could not be processed: the original bytes and why."""

    model_config = ConfigDict(frozen=True)

    raw: str
    error: str
    recipient: str
    group: str
    deliveries: int
    envelope_id: str | None = None
    source_id: str | None = Field(default=None, description="stream entry id, Redis only")
    at: datetime = Field(default_factory=_now)

    def envelope(self) -> Envelope:
        """The original envelope (raises :class:`EnvelopeValidationError` if malformed)."""
        return decode_envelope(self.raw)
