"""Long-term memory of situations with their realized outcomes, persisted in ChromaDB.

Only labelled situations are stored here: a situation enters long-term memory when its outcome
is complete (the horizon has ended), never earlier. Recall additionally requires that the
horizon ended at or before the query time, so a memory written by a run over later data can
never leak the future into an earlier decision.

Recall ranks (FinMem-style layered scoring) by

    score = w_sim * similarity + w_rec * recency + w_imp * importance

with ``similarity = (1 + cos) / 2`` of the situation vectors, ``recency = 2 ** (-age /
half_life)`` where ``age = query time - horizon end``, and ``importance`` in [0, 1] fixed when
the outcome is written (how surprising the move was relative to the risk at the time).

ChromaDB is the durable store (and the source of truth on reopen). For speed and exactness the
store keeps an in-process mirror of the vectors and the few numeric fields recall filters on,
hydrated from Chroma when opened; recall is then one exact matrix-vector product (float32).
:meth:`LongTermMemory.recall_chroma` runs the same query through Chroma's HNSW index with a
metadata filter instead (useful against a large shared server collection).
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

import numpy as np

from memory._chroma import collection, get_all
from memory._recall_index import RecallIndex, RecallWeights, recollection
from memory._records import Outcome, Recollection, Situation, to_epoch


def importance_of(outcome: Outcome, var95: float | None) -> float:
    """How surprising the outcome was: ``tanh(|return| / (var95 * sqrt(h)))`` in [0, 1].

    Without a finite positive ``var95`` the absolute return over 5% is used as the scale.
    """
    scale = 0.05
    if var95 is not None and math.isfinite(var95) and var95 > 0.0:
        scale = var95 * math.sqrt(max(1, outcome.horizon_bars))
    return float(math.tanh(abs(outcome.realized_return) / scale))


class LongTermMemory:
    """Situations + outcomes in a Chroma collection, with an exact in-process recall index.

    Args:
        client: A Chroma client (see :func:`memory.open_client`).
        name: Collection name.
        flush_every: Writes are buffered and upserted in batches of this size (and on
            :meth:`flush` / :meth:`close`); recall sees buffered records immediately.
    """

    def __init__(self, client: Any, name: str = "heliarch_situations", flush_every: int = 256):
        self.collection = collection(client, name)
        self.flush_every = flush_every
        self._buffer: list[tuple[str, list[float], dict[str, Any], str]] = []
        self._index = RecallIndex()
        self._hydrate()

    def _hydrate(self) -> None:
        stored = get_all(self.collection)
        count = len(stored["ids"])
        if not count:
            return
        self._index.reserve(count)
        for key, embedding, meta in zip(
            stored["ids"], stored["embeddings"], stored["metadatas"], strict=True
        ):
            self._index.put(key, np.asarray(embedding, dtype=np.float32), dict(meta))

    def add(self, situation: Situation, outcome: Outcome, importance: float) -> None:
        """Store a labelled situation (idempotent per ``situation.key``)."""
        if situation.vector is None:
            return
        meta: dict[str, Any] = {
            "instrument": situation.instrument,
            "as_of_ts": to_epoch(situation.as_of),
            "horizon_end_ts": to_epoch(outcome.horizon_end),
            "horizon_bars": int(outcome.horizon_bars),
            "complete": True,
            "action": situation.action,
            "target_position": float(situation.target_position),
            "confidence": float(situation.confidence),
            "regime": situation.regime,
            "episode": situation.episode,
            "realized_return": float(outcome.realized_return),
            "strategy_return": float(outcome.strategy_return),
            "alpha": float(outcome.alpha),
            "importance": float(importance),
        }
        vector = np.asarray(situation.vector, dtype=np.float32)
        self._index.put(situation.key, vector, meta)
        self._buffer.append((situation.key, vector.tolist(), meta, ""))
        if len(self._buffer) >= self.flush_every:
            self.flush()

    def add_many(self, items: list[tuple[Situation, Outcome, float]]) -> None:
        """Store many labelled situations (one buffered upsert per ``flush_every``)."""
        for situation, outcome, importance in items:
            self.add(situation, outcome, importance)

    def flush(self) -> None:
        """Write buffered records to Chroma."""
        if not self._buffer:
            return
        ids, embeddings, metas, _ = zip(*self._buffer, strict=True)
        documents = [_document(m) for m in metas]
        self.collection.upsert(
            ids=list(ids),
            embeddings=[list(e) for e in embeddings],
            metadatas=list(metas),
            documents=documents,
        )
        self._buffer.clear()

    def __len__(self) -> int:
        return len(self._index)

    # -- recall ----------------------------------------------------------------------------

    def recall(
        self,
        vector: np.ndarray,
        as_of: datetime,
        k: int = 5,
        *,
        instrument: str | None = None,
        weights: RecallWeights | None = None,
    ) -> list[Recollection]:
        """Top-``k`` past situations whose outcome was known at ``as_of``: exact search over
        the in-process mirror (see :meth:`RecallIndex.recall`)."""
        return self._index.recall(vector, as_of, k, instrument=instrument, weights=weights)

    def most_important(
        self, as_of: datetime, k: int = 3, *, instrument: str | None = None
    ) -> list[Recollection]:
        """The ``k`` most important situations known at ``as_of`` (see
        :meth:`RecallIndex.most_important`)."""
        return self._index.most_important(as_of, k, instrument=instrument)

    def recall_chroma(
        self,
        vector: np.ndarray,
        as_of: datetime,
        k: int = 5,
        *,
        instrument: str | None = None,
        weights: RecallWeights | None = None,
        oversample: int = 4,
    ) -> list[Recollection]:
        """The same recall through Chroma's (approximate) HNSW index with a metadata filter.

        Takes the ``k * oversample`` most similar qualifying situations from Chroma and
        re-ranks them with recency and importance.
        """
        self.flush()
        weights = weights or RecallWeights()
        now = to_epoch(as_of)
        clauses: list[dict[str, Any]] = [
            {"complete": True},
            {"horizon_end_ts": {"$lte": now}},
        ]
        if instrument is not None:
            clauses.append({"instrument": instrument})
        result = self.collection.query(
            query_embeddings=[np.asarray(vector, dtype=np.float32).tolist()],
            n_results=max(1, k * oversample),
            where={"$and": clauses},
            include=["metadatas", "distances"],
        )
        ids = result["ids"][0]
        out = []
        for key, meta, distance in zip(
            ids, result["metadatas"][0], result["distances"][0], strict=True
        ):
            similarity = 0.5 * (1.0 + (1.0 - float(distance)))
            recency = 2.0 ** (-(now - meta["horizon_end_ts"]) / weights.half_life.total_seconds())
            importance = float(meta["importance"])
            score = (
                weights.similarity * similarity
                + weights.recency * recency
                + weights.importance * importance
            )
            out.append(recollection(meta, key, similarity, recency, importance, score))
        out.sort(key=lambda r: -r.score)
        return out[:k]


def _document(meta: dict[str, Any]) -> str:
    return (
        f"{meta['instrument']} {meta['regime']} {meta['action']} "
        f"{meta['target_position']:+.2f}: {meta['horizon_bars']}-bar return "
        f"{meta['realized_return']:+.4f}, alpha {meta['alpha']:+.4f}"
    )
