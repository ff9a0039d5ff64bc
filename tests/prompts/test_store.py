"""The trial store on SQLite (default) and the real PostgreSQL."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from prompts import TrialStore


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return str(tmp_path / "evolution.sqlite")
    return request.getfixturevalue("postgres_url")


def test_runs_trials_and_events_round_trip(store_url: str) -> None:
    name = f"demo_{uuid.uuid4().hex[:8]}"
    with TrialStore(store_url) as store:
        run = store.start_run(name, "1", "offline", {"alpha": 0.05})
        store.add_trial(run, 0, "selection", "GOOG@2006-01-03", "2", 0.5, 0.75, 0.25, {"n": 1})
        store.add_trial(run, 1, "holdout", "GOOG@2007-01-03", "2", -0.5, None, None, {})
        store.add_event(name, "adopt", "2", "won", {"e": 21.0}, run)
        store.finish_run(run, "adopted", "2", {"trials": 2})
    with TrialStore(store_url) as store:  # persisted, reopened
        (record,) = store.runs(name)
        assert record.outcome == "adopted" and record.winner == "2"
        assert record.config == {"alpha": 0.05} and record.summary == {"trials": 2}
        trials = store.trials(run)
        assert [t.phase for t in trials] == ["selection", "holdout"]
        assert trials[0].diff == pytest.approx(0.25) and trials[0].evidence == {"n": 1}
        assert trials[1].candidate_score is None
        (event,) = store.events(name)
        assert event.kind == "adopt" and event.evidence == {"e": 21.0} and event.run_id == run
    assert TrialStore(store_url).backend == ("postgres" if "postgres" in store_url else "sqlite")
