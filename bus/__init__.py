"""Message contracts (pydantic v2, immutable) and the message bus of heliarch.

Everything that crosses a boundary between the sun, planets, moons and the outside world is
one of these models; validation happens here, once, at the boundary. Messages travel in an
:class:`Envelope` over a :class:`Bus`: :class:`InProcBus` (asyncio, the embedded default) or
:class:`RedisBus` (Redis Streams with consumer groups), and are recorded by a :class:`Journal`.
"""

from bus._api import (
    Bus,
    BusConfig,
    Delivery,
    Handler,
    Subscription,
    SubscriptionStats,
    current_delivery,
)
from bus._bars import BarSeries, load_csv, to_datetime
from bus._buserrors import (
    BackpressureError,
    BusClosedError,
    BusError,
    EnvelopeValidationError,
    JournalCorruptError,
    RequestTimeoutError,
)
from bus._decisions import (
    Action,
    FallbackAttempt,
    GuardCorrection,
    LlmUsage,
    MoonPanel,
    OrderIntent,
    PlanetReport,
    PromptRef,
    ReasonedDecision,
    SunDecision,
    action_for,
    check_direction,
)
from bus._envelope import (
    BROADCAST,
    SUN,
    DeadLetter,
    Envelope,
    Kind,
    Priority,
    decode_envelope,
    payload_model,
    payload_type_of,
    register_payload,
)
from bus._errors import DataValidationError
from bus._inproc import InProcBus
from bus._journal import Journal, JsonlJournal, RedisStreamJournal, decision_envelope
from bus._redis import RedisBus, RedisKeys
from bus._security import RedisSecurity, acl_users, read_password, render_acl
from bus._snapshot import Headline, MarketSnapshot, OrderBookSizes

__all__ = [
    "Action",
    "BROADCAST",
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
    "Journal",
    "JournalCorruptError",
    "JsonlJournal",
    "Kind",
    "LlmUsage",
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
    "acl_users",
    "action_for",
    "check_direction",
    "current_delivery",
    "decision_envelope",
    "decode_envelope",
    "load_csv",
    "to_datetime",
    "payload_model",
    "payload_type_of",
    "register_payload",
    "read_password",
    "render_acl",
]
