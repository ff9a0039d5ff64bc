"""``UniversalMemory``: short-term, long-term, episodic and semantic memory behind one object."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from bus import MoonPanel
from memory._chroma import open_client, url_from_env
from memory._longterm import LongTermMemory, importance_of
from memory._recall_index import RecallWeights
from memory._records import Lesson, Outcome, Recollection, Situation
from memory._stores import EpisodicMemory, SemanticMemory, ShortTermMemory


class UniversalMemory:
    """The sun's collective memory.

    * ``short_term`` – bounded recent observations (moon values the sun just looked at);
    * ``long_term`` – situations with their realized outcomes (ChromaDB), recalled by similarity
      of the market state combined with recency and importance;
    * ``episodic`` – every decision and outcome of each episode, in order (ChromaDB);
    * ``semantic`` – learned lessons in words (ChromaDB, any LangChain ``Embeddings``).

    Storage: an embedded ChromaDB ``PersistentClient`` under ``path`` by default, a Chroma
    server when ``url`` is given (or ``HELIARCH_CHROMA_URL`` is set and ``path`` is None), or
    an explicit ``client``.

    Args:
        path: Directory of the embedded store (e.g. ``Settings().data_dir / "memory"``).
        url: ``http(s)://host:port`` of a Chroma server.
        client: An already-open Chroma client (overrides ``path``/``url``).
        episode: Name of the current episode (backtest run, live session).
        short_term_size: Capacity of short-term memory.
        text_embeddings: LangChain ``Embeddings`` for lessons (offline hashing by default).
        weights: Recall score weights (similarity, recency, importance, half-life).
        flush_every: Batch size of buffered Chroma writes.
    """

    def __init__(
        self,
        path: str | Path | None = None,
        *,
        url: str | None = None,
        client: Any = None,
        episode: str = "default",
        short_term_size: int = 512,
        text_embeddings: Any = None,
        weights: RecallWeights | None = None,
        flush_every: int = 256,
    ) -> None:
        if client is None:
            client = open_client(path, url or (url_from_env() if path is None else None))
        self.client = client
        self.episode = episode
        self.weights = weights or RecallWeights()
        self.short_term = ShortTermMemory(short_term_size)
        self.long_term = LongTermMemory(client, flush_every=flush_every)
        self.episodic = EpisodicMemory(client, flush_every=flush_every)
        self.semantic = SemanticMemory(client, text_embeddings)

    # -- writing ---------------------------------------------------------------------------

    def observe(
        self, instrument: str, as_of: datetime, moons: Mapping[str, float]
    ) -> np.ndarray | None:
        """Put an observation into short-term memory; returns its situation vector."""
        return self.short_term.observe(instrument, as_of, moons)

    def situation(
        self,
        instrument: str,
        as_of: datetime,
        *,
        action: str,
        target_position: float,
        confidence: float,
        regime: str = "",
        planet_scores: Mapping[str, tuple[float, float]] | None = None,
        moons: Mapping[str, float] | None = None,
    ) -> Situation:
        """A :class:`Situation` for a decision, its vector from ``moons`` or short-term memory."""
        vector = self.observe(instrument, as_of, moons) if moons is not None else None
        if moons is None:
            held = self.short_term.lookup(instrument, as_of)
            vector = held[1] if held is not None else None
        return Situation(
            instrument=instrument,
            as_of=as_of,
            vector=None if vector is None else tuple(float(x) for x in vector),
            action=action,
            target_position=float(target_position),
            confidence=float(confidence),
            regime=regime,
            planet_scores=dict(planet_scores or {}),
            episode=self.episode,
        )

    def remember_decision(self, situation: Situation) -> None:
        """Record a decision in the episode (its outcome is not known yet)."""
        self.episodic.record_decision(situation)

    def remember_outcome(
        self, situation: Situation, outcome: Outcome, *, var95: float | None = None
    ) -> None:
        """Write a completed outcome: long-term memory (recallable from ``horizon_end`` on) and
        the episode. Call this only when the horizon has completed."""
        self.long_term.add(situation, outcome, importance_of(outcome, var95))
        self.episodic.record_outcome(situation, outcome)

    def learn(self, lesson: Lesson) -> None:
        """Store a learned lesson in semantic memory."""
        self.semantic.add(lesson)

    # -- reading ---------------------------------------------------------------------------

    def recall(
        self,
        instrument: str,
        moons: Mapping[str, float],
        as_of: datetime,
        k: int = 5,
        *,
        same_instrument: bool = True,
    ) -> list[Recollection]:
        """Past situations most like this one, with their outcomes, known at ``as_of``."""
        vector = self.observe(instrument, as_of, moons)
        if vector is None:
            return []
        return self.long_term.recall(
            vector,
            as_of,
            k,
            instrument=instrument if same_instrument else None,
            weights=self.weights,
        )

    def best_episodes(
        self, as_of: datetime, k: int = 3, *, instrument: str | None = None
    ) -> list[Recollection]:
        """The most instructive past decisions (largest risk-relative outcomes) whose outcome
        was known at ``as_of``: few-shot material for prompts (see ``Recollection.example``)."""
        return self.long_term.most_important(as_of, k, instrument=instrument)

    def lessons(
        self, query: str, as_of: datetime, k: int = 1, *, instrument: str | None = None,
        regime: str | None = None,
    ) -> list[Lesson]:  # fmt: skip
        """Lessons learned at or before ``as_of`` that match ``query``."""
        return self.semantic.recall(query, as_of, k, instrument=instrument, regime=regime)

    def recaller(
        self,
        k: int = 3,
        char_budget: int = 600,
        *,
        lessons: int = 1,
        same_instrument: bool = True,
    ) -> MemoryRecaller:
        """An adapter for ``Sun(recaller=...)``."""
        return MemoryRecaller(self, k, char_budget, lessons, same_instrument)

    # -- lifecycle -------------------------------------------------------------------------

    def flush(self) -> None:
        """Write every buffered record to Chroma."""
        self.long_term.flush()
        self.episodic.flush()

    def close(self) -> None:
        """Flush (the Chroma client itself needs no closing)."""
        self.flush()

    def __enter__(self) -> UniversalMemory:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _regime_hint(moons: Mapping[str, float]) -> str:
    close, sma, atr = moons.get("close"), moons.get("sma"), moons.get("atr")
    if close is None or sma is None or not atr:
        return ""
    gap = (close - sma) / atr
    return "uptrend" if gap > 1.0 else "downtrend" if gap < -1.0 else "range"


class MemoryRecaller:
    """``recaller(instrument, panel) -> list[str]`` for the sun's recall node.

    Returns up to ``k`` past situations (with realized outcomes) and up to ``lessons`` learned
    lessons, each one compact line, keeping the total within ``char_budget`` characters (about
    ``char_budget / 4`` tokens) so the reasoning prompt stays bounded. The query time is the
    panel's ``as_of``: nothing whose outcome completed later is ever returned.
    """

    def __init__(
        self,
        memory: UniversalMemory,
        k: int = 3,
        char_budget: int = 600,
        lessons: int = 1,
        same_instrument: bool = True,
    ) -> None:
        self.memory = memory
        self.k = k
        self.char_budget = char_budget
        self.lessons = lessons
        self.same_instrument = same_instrument
        self.last: list[Recollection] = []

    def __call__(self, instrument: str, panel: MoonPanel) -> list[str]:
        moons = panel.for_instrument(instrument)
        recalled = self.memory.recall(
            instrument, moons, panel.as_of, self.k, same_instrument=self.same_instrument
        )
        self.last = recalled
        lines = [r.compact() for r in recalled]
        if self.lessons and len(self.memory.semantic):
            hint = _regime_hint(moons)
            for lesson in self.memory.lessons(
                f"{instrument} {hint}", panel.as_of, self.lessons, instrument=instrument
            ):
                lines.append(f"lesson ({lesson.as_of:%Y-%m-%d}): {lesson.text}")
        out, used = [], 0
        for line in lines:
            cost = len(line) + 2  # the prompt joins lines with "; "
            if used + cost > self.char_budget:
                line = line[: max(0, self.char_budget - used - 3)] + "..."
                if len(line) > 20:
                    out.append(line)
                break
            out.append(line)
            used += cost
        return out
