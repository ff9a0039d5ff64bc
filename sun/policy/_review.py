"""Human review over a checkpointer: list pending decisions, show, approve, reject, modify.

For a future ``heliarch review`` CLI. Pending reviews live in the checkpointer (PostgreSQL
or SQLite), so they survive a restart of the process that raised them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sun.policy._executor import PolicyContext
from sun.policy._run import RUN_METADATA, resume_policy, run_config
from sun.policy._types import REVIEW_KIND, PolicyRun, ReviewDecision


@dataclass(frozen=True)
class PendingReview:
    """A decision waiting for a human."""

    thread_id: str
    run: PolicyRun


@dataclass(frozen=True)
class ReviewDesk:
    """Review helpers over a compiled policy graph that has a checkpointer."""

    graph: Any
    context: PolicyContext

    def pending(self, limit: int | None = None) -> list[PendingReview]:
        """Every policy thread whose latest state waits at a review interrupt."""
        saver = self.graph.checkpointer
        threads: list[str] = []
        for item in saver.list(None, filter=dict(RUN_METADATA)):
            thread = str(item.config["configurable"]["thread_id"])
            if thread not in threads:
                threads.append(thread)
        out: list[PendingReview] = []
        for thread in threads:
            run = self._waiting(thread)
            if run is not None:
                out.append(PendingReview(thread, run))
                if limit is not None and len(out) >= limit:
                    break
        return out

    def show(self, thread_id: str) -> PolicyRun:
        """The pending run of ``thread_id`` (KeyError if it is not waiting for review)."""
        run = self._waiting(thread_id)
        if run is None:
            raise KeyError(f"thread {thread_id!r} has no pending review")
        return run

    def approve(self, thread_id: str, by: str = "", note: str = "") -> PolicyRun:
        """Approve: the decision may become an order."""
        return self.answer(thread_id, ReviewDecision(action="approve", by=by, note=note))

    def reject(self, thread_id: str, by: str = "", note: str = "") -> PolicyRun:
        """Reject: no order."""
        return self.answer(thread_id, ReviewDecision(action="reject", by=by, note=note))

    def modify(
        self, thread_id: str, changes: dict[str, Any], by: str = "", note: str = ""
    ) -> PolicyRun:
        """Approve with changes (e.g. a smaller quantity) recorded in the review."""
        review = ReviewDecision(action="modify", by=by, note=note, changes=changes)
        return self.answer(thread_id, review)

    def answer(self, thread_id: str, review: ReviewDecision) -> PolicyRun:
        """Resume ``thread_id`` with ``review`` and return the finished run."""
        self.show(thread_id)
        return resume_policy(self.graph, thread_id, review, self.context)

    def _waiting(self, thread_id: str) -> PolicyRun | None:
        snapshot = self.graph.get_state(run_config(thread_id))
        for item in getattr(snapshot, "interrupts", ()):
            value = getattr(item, "value", None)
            if isinstance(value, dict) and value.get("kind") == REVIEW_KIND:
                return PolicyRun.model_validate(value["run"])
        return None
