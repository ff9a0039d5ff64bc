"""Message contracts (pydantic v2, immutable) and the message bus of heliarch.

Everything that crosses a boundary between the sun, planets, moons and the outside world is
one of these models; validation happens here, once, at the boundary. Messages travel in an
:class:`Envelope` over a :class:`Bus`: :class:`InProcBus` (asyncio, the embedded default) or
:class:`RedisBus` (Redis Streams with consumer groups), and are recorded by a :class:`Journal`.

Anything read from the wire is decoded by :func:`decode_entry` (a stream entry's fields) or
:func:`decode_envelope` (the wire form): size (:data:`MAX_ENTRY_BYTES`) and JSON nesting
(:data:`MAX_JSON_DEPTH`) are bounded before parsing, and every failure is one
:class:`MalformedMessageError`, which consumers dead-letter at once. Instrument names are
:data:`InstrumentId` values (see :func:`instrument_id`); :func:`instrument_file_stem` makes
a file-name stem of one that stays inside its directory.

The Redis transport loads lazily: ``import bus`` (and every contract) never imports ``redis``;
the first access to :class:`RedisBus`, :class:`RedisKeys` or :class:`RedisStreamJournal`
(``from bus import RedisBus``) imports it.
"""

from typing import TYPE_CHECKING

from bus._api import Bus, BusConfig
from bus._bars import BarSeries, to_datetime
from bus._bounds import MAX_ENTRY_BYTES, MAX_JSON_DEPTH
from bus._chain import (
    JOURNAL_KEY_ENV,
    JournalCheck,
    JournalRecord,
    JournalViolation,
    journal_secret,
)
from bus._csv_bars import iter_csv, load_csv
from bus._decisions import (
    Action,
    Authority,
    EscalationAlert,
    FallbackAttempt,
    GuardCorrection,
    LlmUsage,
    MoonPanel,
    OrderIntent,
    PlanetReport,
    PromptRef,
    ReasonedDecision,
    ReviewRecord,
    SunDecision,
    TraceStep,
    action_for,
    check_direction,
)
from bus._delivery import Delivery, Handler, Subscription, SubscriptionStats, current_delivery
from bus._envelope import (
    BROADCAST,
    SUN,
    Envelope,
    Kind,
    Priority,
    payload_model,
    payload_type_of,
    register_payload,
)
from bus._errors import (
    BackpressureError,
    BusClosedError,
    BusError,
    DataValidationError,
    EnvelopeValidationError,
    JournalCorruptError,
    MalformedMessageError,
    RequestTimeoutError,
)
from bus._inproc import InProcBus
from bus._instrument import (
    INSTRUMENT_MAX_LENGTH,
    InstrumentId,
    instrument_file_stem,
    instrument_id,
)
from bus._journal import Journal, JsonlJournal, decision_envelope
from bus._lazy import lazy_names
from bus._prechecked import decision_rows_ok, prechecked, prechecked_builder, report_rows_ok
from bus._security import RedisSecurity, acl_users, read_password, render_acl
from bus._signals import stop_on_signals
from bus._snapshot import Headline, MarketSnapshot, OrderBookSizes
from bus._wire import DeadLetter, decode_entry, decode_envelope

if TYPE_CHECKING:
    from bus.redis_streams import RedisBus, RedisKeys, RedisStreamJournal

_LAZY = dict.fromkeys(("RedisBus", "RedisKeys", "RedisStreamJournal"), "bus.redis_streams")


__getattr__ = lazy_names("bus", _LAZY)  # the Redis transport loads on first use


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = [
    "Action",
    "Authority",
    "BROADCAST",
    "INSTRUMENT_MAX_LENGTH",
    "JOURNAL_KEY_ENV",
    "MAX_ENTRY_BYTES",
    "MAX_JSON_DEPTH",
    "BackpressureError",
    "BarSeries",
    "Bus",
    "BusClosedError",
    "BusConfig",
    "BusError",
    "DataValidationError",
    "DeadLetter",
    "Delivery",
    "Envelope",
    "EnvelopeValidationError",
    "FallbackAttempt",
    "GuardCorrection",
    "Handler",
    "Headline",
    "InProcBus",
    "InstrumentId",
    "Journal",
    "JournalCheck",
    "JournalCorruptError",
    "JournalRecord",
    "JournalViolation",
    "JsonlJournal",
    "Kind",
    "LlmUsage",
    "MalformedMessageError",
    "MarketSnapshot",
    "MoonPanel",
    "OrderBookSizes",
    "OrderIntent",
    "PlanetReport",
    "Priority",
    "PromptRef",
    "ReasonedDecision",
    "RedisBus",
    "RedisKeys",
    "RedisSecurity",
    "RedisStreamJournal",
    "RequestTimeoutError",
    "SUN",
    "Subscription",
    "SubscriptionStats",
    "SunDecision",
    "TraceStep",
    "ReviewRecord",
    "EscalationAlert",
    "acl_users",
    "action_for",
    "check_direction",
    "current_delivery",
    "decision_envelope",
    "decision_rows_ok",
    "decode_entry",
    "decode_envelope",
    "instrument_file_stem",
    "journal_secret",
    "instrument_id",
    "lazy_names",
    "iter_csv",
    "load_csv",
    "to_datetime",
    "payload_model",
    "payload_type_of",
    "prechecked",
    "prechecked_builder",
    "register_payload",
    "read_password",
    "render_acl",
    "report_rows_ok",
    "stop_on_signals",
]
