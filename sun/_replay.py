"""Journal every decision with enough input to re-run it, and replay a journal.

Recording (no change to :class:`~sun.Sun` needed)::

    cache = LlmResponseCache()                                   # only for LLM suns
    model = CachingChatModel(inner=chat_model, response_cache=cache, model_label="anthropic:...")
    sun = Sun("anthropic:...", chat_model=model)
    recorder = record(sun, "decisions.jsonl", llm_cache=cache)   # or a RedisStreamJournal
    decision = recorder.decide(snapshot)                         # instead of sun.decide

The journal then holds, as bus envelopes (one JSON line each, or one Redis stream entry):

* ``journal_series`` - each distinct bar history once, by content hash (a backtest's
  snapshots are prefixes of one history: it is stored once and referenced with a row count);
* ``decision_request`` - per decision: series references (hash, rows), ``as_of``,
  headlines, order books, position and the sun's configuration;
* ``llm_answer`` - every raw LLM answer used, keyed by the LLM cache key;
* ``decision`` - every decision (the sink added by :func:`record`), correlated to its
  request by ``correlation_id``. Decisions made with ``sun.decide`` directly are journaled
  too but cannot be replayed (no request).

:func:`replay` rebuilds each snapshot, re-runs the decision with a sun of the recorded
configuration (local planets, recorded memory recall, LLM answers served from the journal
through :class:`CachingChatModel`; an answer that is not in the journal fails the call
instead of reaching a model) and compares it with the recorded one.

Records and :class:`SyncJournal` live in :mod:`sun._replay_journal`, recording in
:mod:`sun._replay_recorder` and the report in :mod:`sun._replay_report`; this module
re-exports them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage
from langchain_core.outputs import ChatResult

from bus import (
    BarSeries,
    Envelope,
    Journal,
    MarketSnapshot,
    PromptRef,
    SunDecision,
)
from sun._llm_cache import (
    CachedAnswer,
    CachingChatModel,
    LlmResponseCache,
    TtlLruBackend,
)
from sun._replay_journal import (
    DEFAULT_JOURNAL_KEY,
    SENDER,
    DecisionRequest,
    SeriesRecord,
    SeriesRef,
    SunConfig,
    SyncJournal,
    _prefix,
    full_history,
    series_hash,
)
from sun._replay_recorder import Recorder, record
from sun._replay_report import Divergence, ReplayReport, _summary, comparable, compare

__all__ = [
    "DEFAULT_JOURNAL_KEY",
    "SENDER",
    "DecisionRequest",
    "Divergence",
    "Recorder",
    "ReplayChatModel",
    "ReplayMissError",
    "ReplayReport",
    "Replayer",
    "SeriesRecord",
    "SeriesRef",
    "SunConfig",
    "SyncJournal",
    "comparable",
    "compare",
    "full_history",
    "record",
    "replay",
    "series_hash",
]


class ReplayMissError(RuntimeError):
    """A replayed decision asked the LLM something the journal has no answer for."""


class ReplayChatModel(BaseChatModel):
    """Stands in for the recorded model: every call not served from the journal fails."""

    label: str = "replay"

    @property
    def _llm_type(self) -> str:
        return "heliarch-replay"

    def _generate(
        self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kw: Any
    ) -> ChatResult:
        raise ReplayMissError(f"no journaled answer of {self.label} for this prompt")


class _Recall:
    """A recaller answering with what the recorded decision recalled."""

    def __init__(self) -> None:
        self.items: tuple[str, ...] = ()

    def __call__(self, instrument: str, panel: Any) -> list[str]:
        return list(self.items)


class Replayer:
    """Re-runs journaled decisions (see :func:`replay`)."""

    def __init__(self, envelopes: Sequence[Envelope], planets: Mapping[str, Any] | None = None):
        self.series: dict[str, BarSeries] = {}
        self.requests: dict[str, DecisionRequest] = {}
        self.answers: dict[str, CachedAnswer] = {}
        self.decisions: list[tuple[str | None, SunDecision]] = []
        for envelope in envelopes:
            kind = envelope.payload_type
            if kind == "journal_series":
                record = envelope.unwrap(SeriesRecord)
                self.series[record.hash] = record.series  # type: ignore[union-attr]
            elif kind == "decision_request":
                request = envelope.unwrap(DecisionRequest)
                self.requests[request.request_id] = request  # type: ignore[union-attr]
            elif kind == "llm_answer":
                answer = envelope.unwrap(CachedAnswer)
                self.answers[answer.key] = answer  # type: ignore[union-attr]
            elif envelope.kind == "decision" and kind == "sun_decision":
                decision = envelope.unwrap(SunDecision)
                self.decisions.append((envelope.correlation_id, decision))  # type: ignore[arg-type]
        self.cache = LlmResponseCache(TtlLruBackend(max(16, 2 * len(self.answers))), ttl_s=None)
        self.cache.preload(list(self.answers.values()))
        self.planets = planets
        self._suns: dict[str, tuple[Any, _Recall, CachingChatModel | None]] = {}

    def snapshot(self, request: DecisionRequest) -> MarketSnapshot:
        """The recorded decision's snapshot, rebuilt from the stored series."""

        def series(ref: SeriesRef) -> BarSeries:
            try:
                return _prefix(self.series[ref.hash], ref.rows)
            except KeyError:
                raise KeyError(f"series {ref.hash} is not in the journal") from None

        return MarketSnapshot(
            as_of=request.as_of,
            bars={name: series(ref) for name, ref in request.bars.items()},
            benchmark=series(request.benchmark) if request.benchmark is not None else None,
            headlines=request.headlines,
            order_books=dict(request.order_books),
        )

    def _prompt_for(self, label: str) -> PromptRef | None:
        for answer in self.answers.values():
            if answer.model == label:
                return answer.prompt
        return None

    def sun_for(self, config: SunConfig) -> tuple[Any, _Recall, CachingChatModel | None]:
        """A sun built like the recorded one (cached per configuration)."""
        from sun._models import parse_model_spec
        from sun._sun import Sun

        key = config.model_dump_json()
        if key in self._suns:
            return self._suns[key]
        recall = _Recall()
        common: dict[str, Any] = {
            "checkpoint": "none",
            "limits": config.limits,
            "llm_policy": config.llm_policy,
            "planet_mode": config.planet_mode,
            "trust_weights": config.trust_weights or None,
            "recaller": recall,
            "backup_models": [],
        }
        if self.planets is not None:
            common["planets"] = dict(self.planets)
        spec = parse_model_spec(config.model)
        model = None
        if spec.is_llm:
            model = CachingChatModel(
                inner=ReplayChatModel(label=spec.label),
                response_cache=self.cache,
                model_label=spec.label,
                prompt=self._prompt_for(spec.label),
            )
            sun = Sun(config.model, chat_model=model, **common)
        else:
            sun = Sun(config.model, **common)
        self._suns[key] = (sun, recall, model)
        return self._suns[key]

    def run(self) -> ReplayReport:
        """Replay every recorded decision in order."""
        report = ReplayReport(decisions=len(self.decisions), llm_answers=len(self.answers))
        try:
            for request_id, recorded in self.decisions:
                request = self.requests.get(request_id or "")
                if request is None:
                    report.skipped.append(
                        f"{recorded.instrument}@{recorded.as_of.isoformat()}: no request recorded"
                    )
                    continue
                sun, recall, _ = self.sun_for(request.sun)
                recall.items = recorded.recalled
                replayed = sun.decide(
                    self.snapshot(request), request.instrument, position=request.position
                )
                report.replayed += 1
                diff = compare(recorded, replayed)
                if diff:
                    report.divergences.append(
                        Divergence(
                            request_id=request.request_id,
                            instrument=recorded.instrument,
                            as_of=recorded.as_of.isoformat(),
                            recorded=_summary(recorded),
                            replayed=_summary(replayed),
                            fields=diff,
                        )
                    )
        finally:
            for sun, _, model in self._suns.values():
                if model is not None:
                    report.llm_served += model.hits
                    report.llm_missing += model.misses
                sun.close()
            self._suns.clear()
        return report


def replay(
    journal: Journal | str | Path | SyncJournal,
    *,
    key: str = DEFAULT_JOURNAL_KEY,
    planets: Mapping[str, Any] | None = None,
) -> ReplayReport:
    """Re-run every replayable decision in ``journal`` and report divergences.

    Args:
        journal: A journal, a JSONL path or a Redis URL (stream at ``key``).
        key: Stream key for a Redis URL.
        planets: Planets to replay with (default: the built-in local planets).
    """
    own = not isinstance(journal, SyncJournal)
    sync = journal if isinstance(journal, SyncJournal) else SyncJournal(journal, key=key)
    try:
        envelopes = sync.read_all()
    finally:
        if own:
            sync.close()
    return Replayer(envelopes, planets).run()
