"""Journal every decision with enough input to re-run it, and replay a journal.

from sun.replay import record, replay
recorder = record(sun, "decisions.jsonl")
recorder.decide(snapshot)
report = replay("decisions.jsonl")   # JournalInvalidError if the journal was tampered with
"""

from sun.replay._journal import (
    DEFAULT_JOURNAL_KEY,
    DecisionRequest,
    SeriesRecord,
    SeriesRef,
    SunConfig,
    SyncJournal,
    full_history,
    series_hash,
)
from sun.replay._recorder import Recorder, record
from sun.replay._replayer import Replayer, replay
from sun.replay._report import Divergence, ReplayReport, comparable, compare
from sun.replay._standins import ReplayChatModel, ReplayConfigError, ReplayMissError
from sun.replay._verify import JournalInvalidError, replay_violations

__all__ = [
    "DEFAULT_JOURNAL_KEY",
    "DecisionRequest",
    "Divergence",
    "JournalInvalidError",
    "Recorder",
    "ReplayChatModel",
    "ReplayConfigError",
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
    "replay_violations",
    "series_hash",
]
