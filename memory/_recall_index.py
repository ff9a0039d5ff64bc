"""The in-process mirror of long-term memory: every stored situation's vector and the few
numeric fields recall filters on, as arrays, so recall is one exact matrix-vector product
(float32). Its rows are hydrated from Chroma, which stays the source of truth."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from memory._embedding import DIM
from memory._records import Outcome, Recollection, from_epoch, to_epoch


@dataclass(frozen=True)
class RecallWeights:
    """Weights of the recall score and the recency half-life."""

    similarity: float = 1.0
    recency: float = 0.2
    importance: float = 0.2
    half_life: timedelta = timedelta(days=365)
    min_similarity: float = 0.0


class RecallIndex:
    """Rows of (key, vector, metadata) with exact, look-ahead-free recall over them."""

    def __init__(self) -> None:
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

    def __len__(self) -> int:
        return self._n

    def reserve(self, need: int) -> None:
        """Room for ``need`` rows."""
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

    def put(self, key: str, vector: np.ndarray, meta: dict[str, Any]) -> None:
        """Add or replace the row of ``key``."""
        row = self._rows.get(key)
        if row is None:
            self.reserve(self._n + 1)
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
            recollection(
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
            recollection(self._meta[j], self._keys[j], math.nan, math.nan,
                          float(self._importance[j]), float(self._importance[j]))
            for j in order
        ]  # fmt: skip


def recollection(
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
