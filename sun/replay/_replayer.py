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
configuration (the same planets, council variants and model levels, recorded memory recall,
LLM answers served from the journal through :class:`CachingChatModel`) and compares it with
the recorded one. A model call the journal has no answer for fails instead of reaching a
model: with the recorded error if the recorded decision says that level failed (so a decision
made by a backup replays exactly), otherwise with :class:`ReplayMissError`.

Records and :class:`SyncJournal` live in :mod:`sun.replay._journal`, recording in
:mod:`sun.replay._recorder`, the report in :mod:`sun.replay._report` and the stand-ins for
the model levels and memory in :mod:`sun.replay._standins`; :mod:`sun.replay` is the public
face.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bus import (
    BarSeries,
    Envelope,
    Journal,
    MarketSnapshot,
    PromptRef,
    SunDecision,
)
from prompts import get_prompt
from sun.llm import (
    CachedAnswer,
    CachingChatModel,
    LlmResponseCache,
    TtlLruBackend,
)
from sun.replay._journal import (
    DEFAULT_JOURNAL_KEY,
    DecisionRequest,
    SeriesRecord,
    SeriesRef,
    SunConfig,
    SyncJournal,
    _prefix,
)
from sun.replay._report import Divergence, ReplayReport, _summary, compare
from sun.replay._standins import (
    REPLAY_POLICY,
    RecordedFailures,
    RecordedRecall,
    ReplayChatModel,
    ReplayConfigError,
)
from sun.replay._verify import JournalInvalidError, replay_violations

# Replay reproduces recorded failures one call each: no retries, breakers that never open and
# no latency shedding (the recorded attempts already say which levels were skipped and why).


@dataclass
class _ReplaySun:
    sun: Any
    recall: RecordedRecall
    failures: RecordedFailures
    models: list[CachingChatModel | None]


def _check_same(config: SunConfig, sun: Any) -> None:
    """Raise :class:`ReplayConfigError` if ``sun`` has other planets or council variants."""
    context = sun.context
    if config.planets and set(config.planets) != set(context.planets):
        raise ReplayConfigError(
            f"recorded with planets {sorted(config.planets)}, replay has "
            f"{sorted(context.planets)} (pass the recorded planets to replay(planets=...))"
        )
    if config.council and tuple(config.council) != tuple(context.council.variants):
        raise ReplayConfigError(
            f"recorded with council variants {list(config.council)}, replay has "
            f"{list(context.council.variants)}"
        )


def _use_recorded_prompt(sun: Any, recorded: SunDecision) -> None:
    """Reason with the prompt version the recorded decision used (a live experiment's arm, or
    the version pinned then), not whichever is pinned now."""
    chain = sun.context.chain
    if chain is None or recorded.prompt is None:
        return
    template = get_prompt(recorded.prompt.name, recorded.prompt.version)
    for level in chain.levels:
        if level.reasoner.prompt.name == template.name:
            level.reasoner.prompt = template


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
                self.series[record.hash] = record.series
            elif kind == "decision_request":
                request = envelope.unwrap(DecisionRequest)
                self.requests[request.request_id] = request
            elif kind == "llm_answer":
                answer = envelope.unwrap(CachedAnswer)
                self.answers[answer.key] = answer
            elif envelope.kind == "decision" and kind == "sun_decision":
                decision = envelope.unwrap(SunDecision)
                self.decisions.append((envelope.correlation_id, decision))
        self.cache = LlmResponseCache(TtlLruBackend(max(16, 2 * len(self.answers))), ttl_s=None)
        self.cache.preload(list(self.answers.values()))
        self.planets = planets
        self._suns: dict[str, _ReplaySun] = {}

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

    def _replay_model(self, level: str, label: str, failures: RecordedFailures) -> CachingChatModel:
        return CachingChatModel(
            inner=ReplayChatModel(label=label, level=level, failures=failures),
            response_cache=self.cache,
            model_label=label,
            prompt=self._prompt_for(label),
        )

    def sun_for(self, config: SunConfig) -> _ReplaySun:
        """A sun built like the recorded one (cached per configuration).

        Raises:
            ReplayConfigError: when the replay's planets or council differ from the recorded.
        """
        from sun import ModelConfig, OrchestrationConfig, Sun, SunHooks, parse_llm_policy
        from sun.llm import parse_model_spec

        key = config.model_dump_json()
        if key in self._suns:
            return self._suns[key]
        recall, failures = RecordedRecall(), RecordedFailures()
        backups = [
            (label, self._replay_model(f"backup-{i}", label, failures))
            for i, label in enumerate(config.backups, start=1)
        ]
        orchestration = OrchestrationConfig(
            llm_policy=parse_llm_policy(config.llm_policy),
            planet_mode="subgraph" if config.planet_mode == "subgraph" else "inline",
            trust_weights=config.trust_weights or None,
            council_variants=len(config.council) if config.council else 5,
        )
        spec = parse_model_spec(config.model)
        model = self._replay_model("primary", spec.label, failures) if spec.is_llm else None
        sun = Sun(
            config.model,
            planets=dict(self.planets) if self.planets is not None else None,
            limits=config.limits,
            models=ModelConfig(chat_model=model, backup_models=backups, chain_policy=REPLAY_POLICY),
            orchestration=orchestration,
            hooks=SunHooks(recaller=recall),
            checkpoint="none",
        )
        try:
            _check_same(config, sun)
        except ReplayConfigError:
            sun.close()
            raise
        self._suns[key] = _ReplaySun(sun, recall, failures, [model, *(m for _, m in backups)])
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
                try:
                    replaying = self.sun_for(request.sun)
                except ReplayConfigError as error:
                    report.skipped.append(
                        f"{recorded.instrument}@{recorded.as_of.isoformat()}: {error}"
                    )
                    continue
                sun = replaying.sun
                replaying.recall.items = recorded.recalled
                replaying.failures.load(recorded)
                _use_recorded_prompt(sun, recorded)
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
            for replaying in self._suns.values():
                for model in replaying.models:
                    if model is not None:
                        inner = model.inner
                        reproduced = inner.reproduced if isinstance(inner, ReplayChatModel) else 0
                        report.llm_served += model.hits
                        report.llm_missing += model.misses - reproduced
                        report.llm_failures_reproduced += reproduced
                replaying.sun.close()
            self._suns.clear()
        return report


def replay(
    journal: Journal | str | Path | SyncJournal,
    *,
    key: str = DEFAULT_JOURNAL_KEY,
    planets: Mapping[str, Any] | None = None,
    secret: bytes | None = None,
) -> ReplayReport:
    """Verify ``journal``, then re-run every replayable decision and report divergences.

    Nothing is replayed from a journal that fails verification: the chain (order, no record
    removed, duplicated or edited; the HMAC with ``secret``), stored series hashes and every
    request having its decision (see :func:`replay_violations`).

    Args:
        journal: A journal, a JSONL path or a Redis URL (stream at ``key``).
        key: Stream key for a Redis URL.
        planets: Planets to replay with (default: the built-in local planets).
        secret: The HMAC key the journal was recorded with (a :class:`SyncJournal` brings its
            own).

    Raises:
        JournalInvalidError: listing every violation with the record it was found at.
    """
    own = not isinstance(journal, SyncJournal)
    if isinstance(journal, SyncJournal):
        sync = journal
    else:
        sync = SyncJournal(journal, key=key, secret=secret)
    try:
        check = sync.verify()
    finally:
        if own:
            sync.close()
    violations = [*check.violations, *replay_violations(check.entries)]
    if violations:
        raise JournalInvalidError(check.source, violations)
    return Replayer([envelope for _, envelope in check.entries], planets).run()
