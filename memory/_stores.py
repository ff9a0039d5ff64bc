"""Short-term, episodic and semantic memory stores."""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Mapping
from dataclasses import asdict
from datetime import datetime
from typing import Any

import numpy as np

from memory._chroma import collection, get_all
from memory._embedding import DIM, SITUATION_FEATURES, HashingTextEmbeddings, situation_vector
from memory._records import Lesson, Outcome, Situation, from_epoch, to_epoch


class ShortTermMemory:
    """The most recent observations (moon values per instrument and time), bounded.

    Holds the working set of the current session: what the sun looked at for its latest
    decisions. Oldest entries fall out first (``maxlen``); nothing here is persisted.
    """

    def __init__(self, maxlen: int = 512) -> None:
        self._items: deque[tuple[str, datetime, dict[str, float], np.ndarray | None]] = deque(
            maxlen=maxlen
        )
        self._index: dict[tuple[str, datetime], tuple[dict[str, float], np.ndarray | None]] = {}

    @property
    def maxlen(self) -> int:
        """Capacity."""
        return self._items.maxlen or 0

    def observe(
        self, instrument: str, as_of: datetime, moons: Mapping[str, float]
    ) -> np.ndarray | None:
        """Remember the moon values of ``instrument`` at ``as_of``; returns its situation vector."""
        key = (instrument, as_of)
        if key in self._index:
            return self._index[key][1]
        values = {k: float(v) for k, v in moons.items()}
        vector = situation_vector(values)
        if len(self._items) == self._items.maxlen:
            old = self._items[0]
            self._index.pop((old[0], old[1]), None)
        self._items.append((instrument, as_of, values, vector))
        self._index[key] = (values, vector)
        return vector

    def lookup(
        self, instrument: str, as_of: datetime
    ) -> tuple[dict[str, float], np.ndarray | None] | None:
        """The moon values and vector observed for ``instrument`` at ``as_of``, if still held."""
        return self._index.get((instrument, as_of))

    def recent(self, instrument: str | None = None) -> list[tuple[str, datetime, dict[str, float]]]:
        """Observations, oldest first (optionally of one instrument)."""
        return [(i, t, m) for i, t, m, _ in self._items if instrument in (None, i)]

    def __len__(self) -> int:
        return len(self._items)


_PLACEHOLDER = np.zeros(DIM, dtype=np.float32)
_PLACEHOLDER[SITUATION_FEATURES.index("bias")] = 1.0


class EpisodicMemory:
    """Decisions and outcomes per episode (a backtest run, a live session), in Chroma.

    Each entry is a JSON document with its situation vector as embedding (a fixed unit vector
    while the panel was warming up), so episodes can be replayed in order (:meth:`episode`)
    or searched by market state. Writes are buffered (``flush_every``).
    """

    def __init__(self, client: Any, name: str = "heliarch_episodes", flush_every: int = 256):
        self.collection = collection(client, name)
        self.flush_every = flush_every
        self._buffer: list[tuple[str, list[float], dict[str, Any], str]] = []
        self._seq: dict[str, int] = {}

    def _next(self, episode: str) -> int:
        if episode not in self._seq:
            self._seq[episode] = len(
                self.collection.get(where={"episode": episode}, include=[])["ids"]
            )
        self._seq[episode] += 1
        return self._seq[episode]

    def _put(self, key: str, situation: Situation, kind: str, payload: dict[str, Any]) -> None:
        vector = _PLACEHOLDER if situation.vector is None else np.asarray(situation.vector)
        meta = {
            "episode": situation.episode,
            "instrument": situation.instrument,
            "as_of_ts": to_epoch(situation.as_of),
            "kind": kind,
            "seq": self._next(situation.episode),
        }
        self._buffer.append((key, vector.astype(np.float32).tolist(), meta, json.dumps(payload)))
        if len(self._buffer) >= self.flush_every:
            self.flush()

    def record_decision(self, situation: Situation) -> None:
        """Append a decision to its episode."""
        payload = {
            "as_of": situation.as_of.isoformat(),
            "action": situation.action,
            "target_position": situation.target_position,
            "confidence": situation.confidence,
            "regime": situation.regime,
            "planet_scores": situation.planet_scores,
        }
        self._put(f"{situation.key}|decision", situation, "decision", payload)

    def record_outcome(self, situation: Situation, outcome: Outcome) -> None:
        """Append the realized outcome of a decision to its episode."""
        payload = {k: v for k, v in asdict(outcome).items() if k != "horizon_end"}
        payload["horizon_end"] = outcome.horizon_end.isoformat()
        payload["decision_as_of"] = situation.as_of.isoformat()
        self._put(f"{situation.key}|outcome", situation, "outcome", payload)

    def flush(self) -> None:
        """Write buffered entries to Chroma."""
        if not self._buffer:
            return
        ids, embeddings, metas, documents = (list(x) for x in zip(*self._buffer, strict=True))
        self.collection.upsert(ids=ids, embeddings=embeddings, metadatas=metas, documents=documents)
        self._buffer.clear()

    def episode(self, episode: str) -> list[dict[str, Any]]:
        """Every entry of ``episode`` in the order written: ``{kind, instrument, ...payload}``."""
        self.flush()
        got = get_all(self.collection, where={"episode": episode})
        rows = sorted(
            zip(got["metadatas"], got["documents"], strict=True), key=lambda r: r[0]["seq"]
        )
        return [
            {"kind": m["kind"], "instrument": m["instrument"], **json.loads(d)} for m, d in rows
        ]


class SemanticMemory:
    """Learned lessons (text), embedded with any LangChain ``Embeddings``, persisted in Chroma.

    A lesson learned at data time ``as_of`` is never recalled for an earlier query time.
    """

    def __init__(
        self,
        client: Any,
        embeddings: Any = None,
        name: str = "heliarch_lessons",
    ) -> None:
        self.embeddings = embeddings or HashingTextEmbeddings()
        self.collection = collection(client, name)
        self._lessons: list[Lesson] = []
        self._vectors: list[np.ndarray] = []
        got = get_all(self.collection)
        rows = sorted(
            zip(got["ids"], got["embeddings"], got["metadatas"], got["documents"], strict=True),
            key=lambda r: (r[2]["as_of_ts"], r[0]),
        )
        for _, embedding, meta, document in rows:
            self._lessons.append(
                Lesson(
                    text=document,
                    as_of=from_epoch(meta["as_of_ts"]),
                    instrument=meta.get("instrument", ""),
                    regime=meta.get("regime", ""),
                    source=meta.get("source", ""),
                )
            )
            self._vectors.append(np.asarray(embedding, dtype=np.float64))

    def add(self, lesson: Lesson) -> None:
        """Store a lesson (written through to Chroma immediately: lessons are rare)."""
        vector = np.asarray(self.embeddings.embed_documents([lesson.text])[0], dtype=np.float64)
        key = f"{lesson.instrument}|{lesson.regime}|{lesson.as_of.isoformat()}|{len(self._lessons)}"
        self.collection.upsert(
            ids=[key],
            embeddings=[vector.tolist()],
            metadatas=[
                {
                    "as_of_ts": to_epoch(lesson.as_of),
                    "instrument": lesson.instrument,
                    "regime": lesson.regime,
                    "source": lesson.source,
                }
            ],
            documents=[lesson.text],
        )
        self._lessons.append(lesson)
        self._vectors.append(vector)

    def recall(
        self,
        query: str,
        as_of: datetime,
        k: int = 1,
        *,
        instrument: str | None = None,
        regime: str | None = None,
    ) -> list[Lesson]:
        """Lessons known at ``as_of`` most similar to ``query`` (same regime ranked first)."""
        candidates = [
            (i, lesson)
            for i, lesson in enumerate(self._lessons)
            if lesson.as_of <= as_of and instrument in (None, lesson.instrument, "")
        ]
        if not candidates or k <= 0:
            return []
        q = np.asarray(self.embeddings.embed_query(query), dtype=np.float64)
        scored = []
        for i, lesson in candidates:
            v = self._vectors[i]
            denom = float(np.linalg.norm(v) * np.linalg.norm(q)) or 1.0
            bonus = 1.0 if regime is not None and lesson.regime == regime else 0.0
            # newest first among equals: later lessons summarize more outcomes
            scored.append((bonus + float(v @ q) / denom, lesson.as_of, i, lesson))
        scored.sort(key=lambda s: (-s[0], -to_epoch(s[1]), -s[2]))
        return [s[3] for s in scored[:k]]

    def __len__(self) -> int:
        return len(self._lessons)

    def all(self) -> list[Lesson]:
        """Every lesson, oldest first."""
        return list(self._lessons)
