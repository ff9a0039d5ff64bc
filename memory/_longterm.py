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
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from memory._chroma import collection, get_all
from memory._embedding import DIM
from memory._records import Outcome, Recollection, Situation, from_epoch, to_epoch


@dataclass(frozen=True)
class RecallWeights:
    """Weights of the recall score and the recency half-life."""

    similarity: float = 1.0
    recency: float = 0.2
    importance: float = 0.2
    half_life: timedelta = timedelta(days=365)
    min_similarity: float = 0.0


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
        self._rows: dict[str, int] = {}
        self._instrument_codes: dict[str, int] = {}
        self._capacity = 0
        self._n = 0
        # stored transposed (DIM x capacity): the recall product is then a short-and-wide gemv,
        # ~50x faster than a tall-and-thin one when BLAS threads contend
        self._vectors = np.zeros((DIM, 0), dtype=np.float32)
        self._horizon_end = np.zeros(0)
        self._importance = np.zeros(0, dtype=np.float32)
        self._instrument = np.zeros(0, dtype=np.int32)
        self._meta: list[dict[str, Any]] = []
        self._keys: list[str] = []
        self._hydrate()

    # -- storage ---------------------------------------------------------------------------

    def _grow(self, need: int) -> None:
        if need <= self._capacity:
            return
        capacity = max(need, 2 * self._capacity, 1024)
        vectors = np.zeros((DIM, capacity), dtype=np.float32)
        vectors[:, : self._n] = self._vectors[:, : self._n]
        horizon_end = np.full(capacity, np.inf)
        horizon_end[: self._n] = self._horizon_end[: self._n]
        importance = np.zeros(capacity, dtype=np.float32)
        importance[: self._n] = self._importance[: self._n]
        instrument = np.full(capacity, -1, dtype=np.int32)
        instrument[: self._n] = self._instrument[: self._n]
        self._vectors, self._horizon_end = vectors, horizon_end
        self._importance, self._instrument = importance, instrument
        self._capacity = capacity

    def _code(self, instrument: str) -> int:
        return self._instrument_codes.setdefault(instrument, len(self._instrument_codes))

    def _index(self, key: str, vector: np.ndarray, meta: dict[str, Any]) -> None:
        row = self._rows.get(key)
        if row is None:
            self._grow(self._n + 1)
            row = self._n
            self._n += 1
            self._rows[key] = row
            self._keys.append(key)
            self._meta.append(meta)
        else:
            self._meta[row] = meta
        self._vectors[:, row] = vector
        self._horizon_end[row] = meta["horizon_end_ts"]
        self._importance[row] = meta["importance"]
        self._instrument[row] = self._code(meta["instrument"])

    def _hydrate(self) -> None:
        stored = get_all(self.collection)
        count = len(stored["ids"])
        if not count:
            return
        self._grow(count)
        for key, embedding, meta in zip(
            stored["ids"], stored["embeddings"], stored["metadatas"], strict=True
        ):
            self._index(key, np.asarray(embedding, dtype=np.float32), dict(meta))

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
        self._index(situation.key, vector, meta)
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
        return self._n

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
        """Top-``k`` past situations whose outcome was known at ``as_of`` (exact search).

        Args:
            vector: The query situation vector.
            as_of: Query time: only situations whose horizon ended at or before it qualify.
            k: How many to return.
            instrument: Restrict to one instrument (None: any; the features are scale-free).
            weights: Recall score weights.
        """
        weights = weights or RecallWeights()
        n = self._n
        if n == 0 or k <= 0:
            return []
        now = to_epoch(as_of)
        horizon_end = self._horizon_end[:n]
        mask = horizon_end <= now
        if instrument is not None:
            code = self._instrument_codes.get(instrument)
            if code is None:
                return []
            mask &= self._instrument[:n] == code
        # one pass over every stored row, float32, no gather copy: cheap at 1e5 rows
        query = np.asarray(vector, dtype=np.float32)
        cos = query @ self._vectors[:, :n]
        similarity = np.float32(0.5) * (np.float32(1.0) + cos)
        age = np.maximum(now - horizon_end, 0.0).astype(np.float32)  # future rows: masked below
        recency = np.exp2(age * np.float32(-1.0 / weights.half_life.total_seconds()))
        score = np.float32(weights.similarity) * similarity
        score += np.float32(weights.recency) * recency
        score += np.float32(weights.importance) * self._importance[:n]
        if weights.min_similarity > 0.0:
            mask &= similarity >= weights.min_similarity
        eligible = np.flatnonzero(mask)
        if eligible.size == 0:
            return []
        take = min(k, eligible.size)
        if eligible.size > 4 * take:
            # every eligible row scoring at least the take-th best (ties included)
            sub = score[eligible]
            kth = np.partition(sub, sub.size - take)[sub.size - take]
            candidates = eligible[sub >= kth]
        else:
            candidates = eligible
        # stable order: score descending, then insertion order (deterministic ties)
        order = candidates[np.lexsort((candidates, -score[candidates]))][:take]
        return [
            _recollection(
                self._meta[j],
                self._keys[j],
                float(similarity[j]),
                float(recency[j]),
                float(self._importance[j]),
                float(score[j]),
            )
            for j in order
        ]

    def most_important(
        self, as_of: datetime, k: int = 3, *, instrument: str | None = None
    ) -> list[Recollection]:
        """The ``k`` most important situations whose outcome was known at ``as_of``.

        Importance is the outcome's size relative to the risk known at decision time (see
        ``importance_of``); ties keep insertion order. Nothing whose horizon ended after
        ``as_of`` is returned.
        """
        n = self._n
        if n == 0 or k <= 0:
            return []
        mask = self._horizon_end[:n] <= to_epoch(as_of)
        if instrument is not None:
            code = self._instrument_codes.get(instrument)
            if code is None:
                return []
            mask &= self._instrument[:n] == code
        eligible = np.flatnonzero(mask)
        order = eligible[np.lexsort((eligible, -self._importance[eligible]))][:k]
        return [
            _recollection(self._meta[j], self._keys[j], math.nan, math.nan,
                          float(self._importance[j]), float(self._importance[j]))
            for j in order
        ]  # fmt: skip

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
            out.append(_recollection(meta, key, similarity, recency, importance, score))
        out.sort(key=lambda r: -r.score)
        return out[:k]


def _document(meta: dict[str, Any]) -> str:
    return (
        f"{meta['instrument']} {meta['regime']} {meta['action']} "
        f"{meta['target_position']:+.2f}: {meta['horizon_bars']}-bar return "
        f"{meta['realized_return']:+.4f}, alpha {meta['alpha']:+.4f}"
    )


def _recollection(
    meta: dict[str, Any],
    key: str,
    similarity: float,
    recency: float,
    importance: float,
    score: float,
) -> Recollection:
    return Recollection(
        key=key,
        instrument=meta["instrument"],
        as_of=from_epoch(meta["as_of_ts"]),
        action=meta["action"],
        target_position=float(meta["target_position"]),
        regime=meta.get("regime", ""),
        outcome=Outcome(
            horizon_end=from_epoch(meta["horizon_end_ts"]),
            horizon_bars=int(meta["horizon_bars"]),
            realized_return=float(meta["realized_return"]),
            strategy_return=float(meta["strategy_return"]),
            alpha=float(meta["alpha"]),
            target_position=float(meta["target_position"]),
        ),
        similarity=float(similarity),
        recency=float(recency),
        importance=float(importance),
        score=float(score),
    )
