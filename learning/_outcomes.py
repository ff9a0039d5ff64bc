"""Outcome labelling without look-ahead: a pending-label queue resolved as new bars arrive.

A decision made at bar ``t`` is labelled with ``close[t + h] / close[t] - 1`` only when bar
``t + h`` has been observed; until then it waits in the queue. Nothing about bars after ``t``
is known to anything at decision time, and the label is written exactly when the horizon
completes, never earlier.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from datetime import datetime

from memory import Outcome, Situation


@dataclass(frozen=True)
class PendingLabel:
    """A decision waiting for its horizon to complete."""

    situation: Situation
    entry_close: float
    entry_index: int
    due_index: int
    var95: float | None = None


@dataclass(frozen=True)
class Labelled:
    """A decision with its completed outcome."""

    situation: Situation
    outcome: Outcome
    var95: float | None = None


@dataclass
class _Track:
    index: int = -1
    timestamp: datetime | None = None
    close: float = math.nan


class OutcomeLabeler:
    """Labels decisions ``horizon`` bars later, per instrument.

    Call :meth:`on_bar` for every new closed bar *before* deciding on it, then :meth:`submit`
    the decision made on that bar. :meth:`on_bar` returns the labels whose horizon the bar
    completes.
    """

    def __init__(self, horizon: int = 5) -> None:
        if horizon < 1:
            raise ValueError("horizon must be >= 1 bar")
        self.horizon = horizon
        self._tracks: dict[str, _Track] = {}
        self._pending: dict[str, deque[PendingLabel]] = {}

    def on_bar(self, instrument: str, timestamp: datetime, close: float) -> list[Labelled]:
        """Observe a closed bar; returns the outcomes it completes (oldest decision first).

        Raises:
            ValueError: if ``timestamp`` is not after the previous bar's, or ``close`` is not
                a finite positive price.
        """
        if not (math.isfinite(close) and close > 0.0):
            raise ValueError(f"{instrument} @ {timestamp}: close must be finite and > 0")
        track = self._tracks.setdefault(instrument, _Track())
        if track.timestamp is not None and timestamp <= track.timestamp:
            raise ValueError(
                f"{instrument}: bar {timestamp} is not after the previous bar {track.timestamp}"
            )
        track.index += 1
        track.timestamp = timestamp
        track.close = float(close)
        queue = self._pending.get(instrument)
        done: list[Labelled] = []
        while queue and queue[0].due_index <= track.index:
            pending = queue.popleft()
            realized = track.close / pending.entry_close - 1.0
            target = pending.situation.target_position
            strategy = target * realized
            outcome = Outcome(
                horizon_end=timestamp,
                horizon_bars=track.index - pending.entry_index,
                realized_return=realized,
                strategy_return=strategy,
                alpha=strategy - realized,
                target_position=target,
            )
            done.append(Labelled(pending.situation, outcome, pending.var95))
        return done

    def submit(self, situation: Situation, var95: float | None = None) -> PendingLabel:
        """Queue the decision made on the latest observed bar of ``situation.instrument``.

        Raises:
            ValueError: if no bar of that instrument was observed, or the decision is dated
                before the latest observed bar (it would be labelled from the wrong entry).
        """
        track = self._tracks.get(situation.instrument)
        if track is None or track.timestamp is None:
            raise ValueError(f"{situation.instrument}: observe a bar before submitting decisions")
        if situation.as_of < track.timestamp:
            raise ValueError(
                f"{situation.instrument}: decision at {situation.as_of} is older than the "
                f"latest bar {track.timestamp}"
            )
        pending = PendingLabel(
            situation=situation,
            entry_close=track.close,
            entry_index=track.index,
            due_index=track.index + self.horizon,
            var95=var95,
        )
        self._pending.setdefault(situation.instrument, deque()).append(pending)
        return pending

    def pending(self, instrument: str | None = None) -> list[PendingLabel]:
        """Decisions still waiting for their label."""
        return [
            p for name, queue in self._pending.items() if instrument in (None, name) for p in queue
        ]
