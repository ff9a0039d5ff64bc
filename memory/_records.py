"""Records kept in memory: situations, their realized outcomes, recollections and lessons."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

_EPOCH = datetime(1970, 1, 1)


def to_epoch(moment: datetime) -> float:
    """Seconds since 1970-01-01 of a naive (UTC) or aware datetime."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(tz=None).replace(tzinfo=None)
    return (moment - _EPOCH).total_seconds()


def from_epoch(seconds: float) -> datetime:
    """Inverse of :func:`to_epoch` (naive UTC)."""
    return _EPOCH + timedelta(seconds=seconds)


@dataclass(frozen=True)
class Outcome:
    """What happened after a decision, measured only with bars after the decision time.

    Attributes:
        horizon_end: Timestamp of the bar that completed the horizon (the label's time).
        horizon_bars: Number of bars in the horizon.
        realized_return: ``close[t + h] / close[t] - 1`` (the instrument's return).
        strategy_return: ``target_position * realized_return`` (what the decision earned).
        alpha: ``strategy_return - realized_return`` (vs buy-and-hold over the same bars).
        target_position: The position the decision asked for.
    """

    horizon_end: datetime
    horizon_bars: int
    realized_return: float
    strategy_return: float
    alpha: float
    target_position: float = 0.0

    @property
    def hit(self) -> bool | None:
        """True if the decision's direction was right, None for a flat decision."""
        if self.target_position == 0.0:
            return None
        return self.strategy_return > 0.0


@dataclass(frozen=True)
class Situation:
    """A decision and the market state it was made in (the key of episodic/long-term memory).

    Attributes:
        instrument: Instrument name.
        as_of: Decision time.
        vector: The situation vector (see :func:`memory.situation_vector`), or None.
        action / target_position / confidence: What was decided.
        regime: Market regime label at the decision (see ``learning.market_regime``).
        planet_scores: ``{planet: (score, confidence)}`` of the directional planets with data.
        episode: Which run/session made the decision.
    """

    instrument: str
    as_of: datetime
    vector: tuple[float, ...] | None
    action: str
    target_position: float
    confidence: float
    regime: str = ""
    planet_scores: dict[str, tuple[float, float]] = field(default_factory=dict)
    episode: str = "default"

    @property
    def key(self) -> str:
        """Unique id of the decision within its episode."""
        return f"{self.episode}|{self.instrument}|{self.as_of.isoformat()}"


@dataclass(frozen=True)
class Recollection:
    """A recalled past situation with its realized outcome and why it ranked where it did."""

    key: str
    instrument: str
    as_of: datetime
    action: str
    target_position: float
    regime: str
    outcome: Outcome
    similarity: float
    recency: float
    importance: float
    score: float

    def compact(self) -> str:
        """One short line for a prompt: when, what state, what was done, what happened."""
        o = self.outcome
        return (
            f"{self.as_of:%Y-%m-%d} {self.instrument} {self.regime or '-'} sim {self.similarity:.2f}: "
            f"{self.action} {self.target_position:+.2f} -> {o.horizon_bars}-bar return "
            f"{o.realized_return:+.2%}, alpha {o.alpha:+.2%}"
        )

    def example(self) -> str:
        """A one-line few-shot example: the state, what was decided, what was right."""
        o = self.outcome
        move = "rose" if o.realized_return > 0 else "fell"
        right = "BUY" if o.realized_return > 0 else "SELL"
        return (
            f"{self.as_of:%Y-%m-%d} {self.instrument} ({self.regime or 'regime unknown'}): "
            f"decided {self.action} {self.target_position:+.2f}; price {move} "
            f"{abs(o.realized_return):.1%} over {o.horizon_bars} bars, {right} was right"
        )


@dataclass(frozen=True)
class Lesson:
    """A learned pattern in words, valid from ``as_of`` (never recalled before it was learned)."""

    text: str
    as_of: datetime
    instrument: str = ""
    regime: str = ""
    source: str = "quant"
