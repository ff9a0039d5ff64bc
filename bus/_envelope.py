"""The bus envelope: routing metadata around a JSON payload, plus the payload-type registry."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import IntEnum
from typing import Any, Literal, TypeVar, overload
from uuid import uuid4

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from bus._decisions import (
    EscalationAlert,
    MoonPanel,
    OrderIntent,
    PlanetReport,
    ReasonedDecision,
    SunDecision,
)
from bus._errors import EnvelopeValidationError
from bus._snapshot import MarketSnapshot

Kind = Literal["request", "reply", "report", "decision", "directive", "control", "event"]
SUN = "sun"
BROADCAST = "*"
REPLY_PREFIX = "_reply."
_NAME_PATTERN = r"^(\*|[A-Za-z0-9_.:\-]+)$"

M = TypeVar("M", bound=BaseModel)


class Priority(IntEnum):
    """Delivery priority; each value is one lane, lower values are read first."""

    CRITICAL = 0
    HIGH = 1
    NORMAL = 2
    LOW = 3


PRIORITIES: tuple[Priority, ...] = tuple(Priority)

_REGISTRY: dict[str, type[BaseModel]] = {}
_NAMES: dict[type[BaseModel], str] = {}


def register_payload(name: str, model: type[BaseModel]) -> None:
    """Register ``model`` as the payload class for ``payload_type == name``.

    Raises:
        ValueError: if ``name`` is already registered to a different class.
    """
    existing = _REGISTRY.get(name)
    if existing is not None and existing is not model:
        raise ValueError(f"payload type {name!r} is already registered to {existing.__name__}")
    _REGISTRY[name] = model
    _NAMES[model] = name


def payload_model(name: str) -> type[BaseModel]:
    """The model class registered for ``name``; ``KeyError`` naming it when unknown."""
    try:
        return _REGISTRY[name]
    except KeyError:
        known = ", ".join(sorted(_REGISTRY))
        raise KeyError(f"unknown payload type {name!r} (known: {known})") from None


def payload_type_of(model: type[BaseModel]) -> str:
    """The registered payload-type name of ``model``."""
    try:
        return _NAMES[model]
    except KeyError:
        raise KeyError(f"{model.__name__} is not a registered payload type") from None


for _name, _model in (
    ("market_snapshot", MarketSnapshot),
    ("moon_panel", MoonPanel),
    ("planet_report", PlanetReport),
    ("reasoned_decision", ReasonedDecision),
    ("sun_decision", SunDecision),
    ("order_intent", OrderIntent),
    ("escalation_alert", EscalationAlert),
):
    register_payload(_name, _model)


def _new_id() -> str:
    return uuid4().hex


def _now() -> datetime:
    return datetime.now(UTC)


class Envelope(BaseModel):
    """One message on the bus.

    ``payload`` is a JSON-able dict. When ``payload_type`` names a registered contract the
    payload is validated against it on construction, so a malformed payload never travels
    (and a malformed one arriving from the wire fails decoding with the contract's errors).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(default_factory=_new_id, min_length=1, max_length=128)
    sender: str = Field(min_length=1, max_length=128, pattern=_NAME_PATTERN)
    recipient: str = Field(min_length=1, max_length=128, pattern=_NAME_PATTERN)
    kind: Kind
    priority: Priority = Priority.NORMAL
    timestamp: datetime = Field(default_factory=_now)
    trace_id: str = Field(default_factory=_new_id, min_length=1, max_length=128)
    reply_to: str | None = Field(default=None, max_length=160)
    correlation_id: str | None = Field(default=None, max_length=128)
    idempotency_key: str = Field(default="", max_length=256)
    payload_type: str | None = None
    payload: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _default_keys(cls, data: Any) -> Any:
        if isinstance(data, dict) and not data.get("idempotency_key"):
            data = dict(data)
            data.setdefault("id", _new_id())
            data["idempotency_key"] = data["id"]
        return data

    @model_validator(mode="after")
    def _payload_matches_type(self) -> Envelope:
        if self.payload_type is not None:
            self._validated_payload()
        return self

    def _validated_payload(self) -> BaseModel:
        assert self.payload_type is not None
        try:
            model = payload_model(self.payload_type)
        except KeyError as error:
            raise ValueError(str(error.args[0])) from None
        return model.model_validate(self.payload)

    @classmethod
    def wrap(cls, contract: BaseModel, **fields: Any) -> Envelope:
        """An envelope carrying ``contract`` (a registered model) as its payload."""
        name = payload_type_of(type(contract))
        return cls(payload_type=name, payload=contract.model_dump(mode="json"), **fields)

    @overload
    def unwrap(self, expected: type[M]) -> M: ...

    @overload
    def unwrap(self, expected: None = None) -> BaseModel: ...

    def unwrap(self, expected: type[M] | None = None) -> M | BaseModel:
        """The payload as its registered contract model.

        Raises:
            EnvelopeValidationError: if there is no payload type, it does not match
                ``expected``, or the payload does not validate.
        """
        if self.payload_type is None:
            raise EnvelopeValidationError(
                "envelope has no payload_type to unwrap", envelope_id=self.id
            )
        try:
            model = payload_model(self.payload_type)
            if expected is None:
                return model.model_validate(self.payload)
            if model is not expected:
                raise ValueError(f"expected {expected.__name__}, got {model.__name__}")
            return expected.model_validate(self.payload)
        except (KeyError, ValueError, ValidationError) as error:
            raise EnvelopeValidationError(
                str(error), envelope_id=self.id, payload_type=self.payload_type
            ) from error

    def make_reply(self, sender: str, payload: BaseModel | dict[str, Any]) -> Envelope:
        """A ``reply`` to this request, addressed to its ``reply_to`` (or its sender)."""
        fields: dict[str, Any] = {
            "sender": sender,
            "recipient": self.reply_to or self.sender,
            "kind": "reply",
            "priority": self.priority,
            "trace_id": self.trace_id,
            "correlation_id": self.id,
        }
        if isinstance(payload, BaseModel):
            return Envelope.wrap(payload, **fields)
        return Envelope(payload=payload, **fields)

    def to_json(self) -> str:
        """The wire form (compact JSON)."""
        return self.model_dump_json()
