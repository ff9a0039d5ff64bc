"""LangGraph checkpointers: a SQLite file by default, PostgreSQL when configured."""

from __future__ import annotations

import sqlite3
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer

import bus
import planets
from sun._reasoning import Reasoning

# Only these project types (plus LangGraph's built-in safe types) are revived from checkpoints.
CHECKPOINT_TYPES: tuple[type, ...] = (
    bus.MarketSnapshot,
    bus.BarSeries,
    bus.Headline,
    bus.OrderBookSizes,
    bus.MoonPanel,
    bus.PlanetReport,
    bus.ReasonedDecision,
    bus.SunDecision,
    bus.OrderIntent,
    bus.LlmUsage,
    bus.GuardCorrection,
    bus.FallbackAttempt,
    bus.PromptRef,
    bus.TraceStep,
    bus.ReviewRecord,
    bus.EscalationAlert,
    planets.PlanetContext,
    planets.RiskLimits,
    Reasoning,
)


def serializer() -> JsonPlusSerializer:
    """A serializer that revives exactly the project's state types."""
    return JsonPlusSerializer(allowed_msgpack_modules=CHECKPOINT_TYPES)


def open_checkpointer(target: str, stack: ExitStack) -> Any:
    """Open the checkpointer for ``target``: ``postgresql://...`` or a SQLite file path.

    Connections are registered on ``stack`` so the caller closes them in one place.
    """
    if target.startswith(("postgres://", "postgresql://")):
        try:
            from langgraph.checkpoint.postgres import PostgresSaver
            from psycopg import Connection
            from psycopg.rows import dict_row
        except ImportError as error:
            raise ImportError(
                "PostgreSQL checkpoints need: pip install 'heliarch[postgres]'"
            ) from error
        pg_conn = stack.enter_context(
            Connection.connect(target, autocommit=True, prepare_threshold=0, row_factory=dict_row)
        )
        pg_saver = PostgresSaver(pg_conn, serde=serializer())
        pg_saver.setup()
        return pg_saver
    return _sqlite_saver(Path(target), stack)


def _sqlite_saver(path: Path, stack: ExitStack) -> Any:
    """A SQLite checkpointer on ``path`` (created if missing)."""
    from langgraph.checkpoint.sqlite import SqliteSaver

    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, check_same_thread=False)
    stack.callback(conn.close)
    # WAL + synchronous=NORMAL: survives a crashed process (the case resume is for) without an
    # fsync per step; only an OS crash or power loss can lose the last few checkpoints.
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    saver = SqliteSaver(conn, serde=serializer())
    saver.setup()
    return saver
