"""Persistence of evolution runs: every trial, its evidence, and every adopt/reject decision.

SQLite (a file under the data dir) by default; PostgreSQL when given a ``postgresql://`` URL
(or ``HELIARCH_PROMPTS_STORE_URL``). Both backends use the same three tables:

* ``prompt_runs`` – one evolution or live experiment (prompt name, incumbent, config, outcome).
* ``prompt_trials`` – one paired (or live) trial: situation, variant, scores, evidence.
* ``prompt_events`` – adopt / reject / pin / rollback decisions with their evidence.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from prompts._paths import user_prompt_dir

STORE_URL_ENV = "HELIARCH_PROMPTS_STORE_URL"

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS prompt_runs (
        run_id TEXT PRIMARY KEY, name TEXT NOT NULL, incumbent TEXT NOT NULL, mode TEXT NOT NULL,
        config TEXT NOT NULL, started TEXT NOT NULL, finished TEXT, outcome TEXT, winner TEXT,
        summary TEXT)""",
    """CREATE TABLE IF NOT EXISTS prompt_trials (
        run_id TEXT NOT NULL, seq INTEGER NOT NULL, phase TEXT NOT NULL, situation TEXT NOT NULL,
        variant TEXT NOT NULL, incumbent_score DOUBLE PRECISION,
        candidate_score DOUBLE PRECISION, diff DOUBLE PRECISION, evidence TEXT NOT NULL,
        created TEXT NOT NULL, PRIMARY KEY (run_id, seq))""",
    """CREATE TABLE IF NOT EXISTS prompt_events (
        event_id TEXT PRIMARY KEY, run_id TEXT, name TEXT NOT NULL, kind TEXT NOT NULL,
        version TEXT, reason TEXT NOT NULL, evidence TEXT NOT NULL, created TEXT NOT NULL)""",
)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


@dataclass(frozen=True)
class TrialRecord:
    """One persisted trial."""

    run_id: str
    seq: int
    phase: str
    situation: str
    variant: str
    incumbent_score: float | None
    candidate_score: float | None
    diff: float | None
    evidence: dict[str, Any]
    created: str


@dataclass(frozen=True)
class EventRecord:
    """One persisted decision (adopt, reject, pin, rollback, ...)."""

    event_id: str
    run_id: str | None
    name: str
    kind: str
    version: str | None
    reason: str
    evidence: dict[str, Any]
    created: str


@dataclass(frozen=True)
class RunRecord:
    """One persisted run."""

    run_id: str
    name: str
    incumbent: str
    mode: str
    config: dict[str, Any]
    started: str
    finished: str | None
    outcome: str | None
    winner: str | None
    summary: dict[str, Any]


class TrialStore:
    """SQLite or PostgreSQL store of runs, trials and events.

    Args:
        url: ``postgresql://...`` for PostgreSQL, otherwise a SQLite file path (``:memory:``
            works). Default: ``HELIARCH_PROMPTS_STORE_URL``, else
            ``<data dir>/prompts/evolution.sqlite``.
    """

    def __init__(self, url: str | Path | None = None) -> None:
        url = str(url) if url is not None else os.environ.get(STORE_URL_ENV) or str(_default_path())
        self.url = url
        self.backend = "postgres" if url.startswith(("postgresql://", "postgres://")) else "sqlite"
        self._lock = threading.Lock()
        if self.backend == "postgres":
            import psycopg

            self._conn: Any = psycopg.connect(url, autocommit=True)
            self._mark = "%s"
        else:
            if url != ":memory:":
                Path(url).parent.mkdir(parents=True, exist_ok=True)
            self._conn = sqlite3.connect(url, check_same_thread=False, isolation_level=None)
            self._mark = "?"
        for statement in _SCHEMA:
            self._execute(statement)

    def _sql(self, text: str) -> str:
        return text.replace("?", self._mark)

    def _execute(self, text: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            cursor = self._conn.execute(self._sql(text), params)
            try:
                return list(cursor.fetchall()) if cursor.description else []
            finally:
                cursor.close()

    def close(self) -> None:
        """Close the connection."""
        self._conn.close()

    def __enter__(self) -> TrialStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writing ---------------------------------------------------------------------------
    def start_run(self, name: str, incumbent: str, mode: str, config: dict[str, Any]) -> str:
        """Open a run; returns its id."""
        run_id = uuid.uuid4().hex[:16]
        self._execute(
            "INSERT INTO prompt_runs (run_id, name, incumbent, mode, config, started, summary) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (run_id, name, incumbent, mode, json.dumps(config, default=str), _now(), "{}"),
        )
        return run_id

    def add_trial(
        self,
        run_id: str,
        seq: int,
        phase: str,
        situation: str,
        variant: str,
        incumbent_score: float | None,
        candidate_score: float | None,
        diff: float | None,
        evidence: dict[str, Any],
    ) -> None:
        """Persist one trial."""
        self._execute(
            "INSERT INTO prompt_trials (run_id, seq, phase, situation, variant, incumbent_score, "
            "candidate_score, diff, evidence, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                run_id,
                seq,
                phase,
                situation,
                variant,
                incumbent_score,
                candidate_score,
                diff,
                json.dumps(evidence, default=str),
                _now(),
            ),
        )

    def finish_run(
        self, run_id: str, outcome: str, winner: str | None, summary: dict[str, Any]
    ) -> None:
        """Close a run with its outcome (``adopted`` / ``no winner`` / ...)."""
        self._execute(
            "UPDATE prompt_runs SET finished = ?, outcome = ?, winner = ?, summary = ? "
            "WHERE run_id = ?",
            (_now(), outcome, winner, json.dumps(summary, default=str), run_id),
        )

    def add_event(
        self,
        name: str,
        kind: str,
        version: str | None,
        reason: str,
        evidence: dict[str, Any] | None = None,
        run_id: str | None = None,
    ) -> str:
        """Persist a decision about prompt ``name``; returns the event id."""
        event_id = uuid.uuid4().hex[:16]
        self._execute(
            "INSERT INTO prompt_events (event_id, run_id, name, kind, version, reason, evidence, "
            "created) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                event_id,
                run_id,
                name,
                kind,
                version,
                reason,
                json.dumps(evidence or {}, default=str),
                _now(),
            ),
        )
        return event_id

    # -- reading ---------------------------------------------------------------------------
    def runs(self, name: str | None = None) -> list[RunRecord]:
        """Runs (of prompt ``name``), oldest first."""
        rows = self._execute(
            "SELECT run_id, name, incumbent, mode, config, started, finished, outcome, winner, "
            "summary FROM prompt_runs" + (" WHERE name = ?" if name else "") + " ORDER BY started",
            (name,) if name else (),
        )
        return [
            RunRecord(r[0], r[1], r[2], r[3], json.loads(r[4]), r[5], r[6], r[7], r[8],
                      json.loads(r[9] or "{}"))
            for r in rows
        ]  # fmt: skip

    def trials(self, run_id: str) -> list[TrialRecord]:
        """Trials of one run in order."""
        rows = self._execute(
            "SELECT run_id, seq, phase, situation, variant, incumbent_score, candidate_score, "
            "diff, evidence, created FROM prompt_trials WHERE run_id = ? ORDER BY seq",
            (run_id,),
        )
        return [
            TrialRecord(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], json.loads(r[8]), r[9])
            for r in rows
        ]

    def events(self, name: str | None = None) -> list[EventRecord]:
        """Decisions (about prompt ``name``), oldest first."""
        rows = self._execute(
            "SELECT event_id, run_id, name, kind, version, reason, evidence, created "
            "FROM prompt_events" + (" WHERE name = ?" if name else "") + " ORDER BY created",
            (name,) if name else (),
        )
        return [
            EventRecord(r[0], r[1], r[2], r[3], r[4], r[5], json.loads(r[6]), r[7]) for r in rows
        ]


def _default_path() -> Path:
    return user_prompt_dir() / "evolution.sqlite"
