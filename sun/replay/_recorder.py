"""Recording: journal each decision's input (and every LLM answer used) with the decision."""

from __future__ import annotations

import contextvars
from pathlib import Path
from typing import Any
from uuid import uuid4

import numpy as np

from bus import (
    BarSeries,
    Envelope,
    Journal,
    MarketSnapshot,
    SunDecision,
    decision_envelope,
)
from sun.llm import LlmAnswerEvent, LlmResponseCache
from sun.replay._journal import (
    DEFAULT_JOURNAL_KEY,
    SENDER,
    DecisionRequest,
    SeriesRecord,
    SeriesRef,
    SunConfig,
    SyncJournal,
    full_history,
    series_hash,
)

_REQUEST: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "heliarch_decision_request", default=None
)


class Recorder:
    """Journals each decision's input, then asks the sun; a sink journals every decision.

    Args:
        sun: The sun (a :class:`~sun.Sun`).
        journal: Where to write (see :class:`SyncJournal`).
        llm_cache: The :class:`LlmResponseCache` behind the sun's :class:`CachingChatModel`
            (LLM suns): every answer used is journaled under its cache key.
        key: Stream key when ``journal`` is a Redis URL.
        secret: HMAC key signing every record (see :func:`bus.journal_secret`).
    """

    def __init__(
        self,
        sun: Any,
        journal: Journal | str | Path | SyncJournal,
        *,
        llm_cache: LlmResponseCache | None = None,
        key: str = DEFAULT_JOURNAL_KEY,
        secret: bytes | None = None,
    ) -> None:
        self.sun = sun
        self.journal = (
            journal
            if isinstance(journal, SyncJournal)
            else SyncJournal(journal, key=key, secret=secret)
        )
        self._series: set[str] = set()
        self._hash_of: dict[int, tuple[np.ndarray, str]] = {}
        self._answers: set[str] = set()
        self.decisions = 0
        sun.add_sink(self._on_decision)
        if llm_cache is not None:
            llm_cache.subscribe(self._on_answer)

    def decide(
        self,
        snapshot: MarketSnapshot,
        instrument: str | None = None,
        *,
        position: float = 0.0,
        thread_id: str | None = None,
    ) -> SunDecision:
        """Journal the request, then ``sun.decide`` (same arguments)."""
        request = self.request_for(snapshot, instrument, position)
        self.journal.append(
            Envelope.wrap(
                request, sender=SENDER, recipient="sun", kind="event", id=request.request_id
            )
        )
        token = _REQUEST.set(request.request_id)
        try:
            return self.sun.decide(snapshot, instrument, position=position, thread_id=thread_id)
        finally:
            _REQUEST.reset(token)

    def request_for(
        self, snapshot: MarketSnapshot, instrument: str | None, position: float
    ) -> DecisionRequest:
        """The request record of one decision (new series are journaled on the way)."""
        context = self.sun.context
        levels = context.chain.levels[1:] if context.chain is not None else ()
        config = SunConfig(
            model=self.sun.model_spec,
            llm_policy=context.orchestration.llm_policy,
            planet_mode=context.orchestration.planet_mode,
            limits=context.limits,
            trust_weights=dict(context.quant.weights),
            backups=tuple(level.label for level in levels),
            planets=tuple(context.planets),
            council=tuple(context.council.variants),
        )
        benchmark = snapshot.benchmark
        return DecisionRequest(
            request_id=uuid4().hex,
            as_of=snapshot.as_of,
            instrument=instrument,
            position=position,
            bars={name: self._ref(series) for name, series in snapshot.bars.items()},
            benchmark=self._ref(benchmark) if benchmark is not None else None,
            headlines=snapshot.headlines,
            order_books=dict(snapshot.order_books),
            sun=config,
        )

    def _ref(self, series: BarSeries) -> SeriesRef:
        full = full_history(series)
        anchor = full.timestamps
        known = self._hash_of.get(id(anchor))
        if known is not None and known[0] is anchor:
            digest = known[1]
        else:
            digest = series_hash(full)
            self._hash_of[id(anchor)] = (anchor, digest)
        if digest not in self._series:
            record = SeriesRecord(hash=digest, series=full)
            self.journal.append(Envelope.wrap(record, sender=SENDER, recipient="sun", kind="event"))
            self._series.add(digest)
        return SeriesRef(hash=digest, rows=len(series))

    def _on_decision(self, decision: SunDecision) -> None:
        request_id = _REQUEST.get()
        self.decisions += 1
        self.journal.append(decision_envelope(decision, sender="sun", correlation_id=request_id))

    def _on_answer(self, event: LlmAnswerEvent) -> None:
        if event.answer.key in self._answers:
            return
        self._answers.add(event.answer.key)
        self.journal.append(
            Envelope.wrap(
                event.answer,
                sender=SENDER,
                recipient="sun",
                kind="event",
                correlation_id=_REQUEST.get(),
            )
        )

    def close(self) -> None:
        """Close the journal (the sun stays open)."""
        self.journal.close()

    def __enter__(self) -> Recorder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def record(
    sun: Any,
    journal: Journal | str | Path | SyncJournal,
    *,
    llm_cache: LlmResponseCache | None = None,
    key: str = DEFAULT_JOURNAL_KEY,
    secret: bytes | None = None,
) -> Recorder:
    """Journal ``sun``'s decisions; call ``.decide`` on the result to make them replayable."""
    return Recorder(sun, journal, llm_cache=llm_cache, key=key, secret=secret)
