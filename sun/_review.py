"""Human review of the sun's HIL_REVIEW decisions over its checkpointer, and ESCALATE alerts
on the bus.

A decision the policy sends to review waits in the sun graph's ``review`` node (a LangGraph
``interrupt``) in the checkpointer (PostgreSQL or SQLite), so it survives the process that
made it: any process with the same checkpointer lists, shows and answers it
(:meth:`sun.Sun.pending_reviews`, :meth:`sun.Sun.review`, ``heliarch review``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from langgraph.types import Command

from bus import SUN, Envelope, EscalationAlert, Priority, SunDecision
from sun._config import AlertSink
from sun._context import SunContext
from sun._gate import REVIEW_KIND, ReviewAnswer, review_answer

if TYPE_CHECKING:
    from planets.remote import BusClient

SUN_RUN = {"heliarch_kind": "sun"}
"""Metadata of the sun's checkpointed runs (how pending reviews are found)."""
_INTERRUPT_CHANNEL = "__interrupt__"  # LangGraph's pending-write channel of an interrupt
ALERTS = "alerts"


class SunReviews:
    """The review methods of :class:`sun.Sun` (over its ``graph`` and ``context``)."""

    graph: Any
    context: SunContext

    def pending_reviews(self) -> list[SunDecision]:
        """Decisions waiting for a human (disposition HIL_REVIEW, ``review.status`` pending),
        newest first, from the checkpointer (those of other processes too)."""
        return pending_reviews(self.graph)

    def pending_review(self, thread_id: str) -> SunDecision:
        """The decision waiting for review on ``thread_id`` (KeyError naming it if none)."""
        return pending_review(self.graph, thread_id)

    def review(
        self,
        thread_id: str,
        action: str,
        *,
        target: float | None = None,
        by: str = "",
        note: str = "",
    ) -> SunDecision:
        """Answer a pending review and finish its decision.

        Args:
            thread_id: The pending decision's ``review.thread_id``.
            action: ``approve`` (the order is released), ``reject`` (no order: the position is
                held, as the guard allows) or ``modify`` (with ``target``).
            target: The reviewer's target position (``modify`` only); it passes the guard
                again, so a target beyond the risk limits is clamped (the correction recorded).
            by: Who answers; note: why (both recorded in ``decision.review``).

        Raises:
            KeyError: when nothing waits for review on ``thread_id``.
            ValueError: naming the field, for an unknown action or a bad target.
        """
        answer = review_answer(action, target=target, by=by, note=note)
        return answer_review(self.graph, self.context, thread_id, answer)


def run_config(thread_id: str) -> dict[str, Any]:
    """The LangGraph config of one sun run on ``thread_id``."""
    return {"configurable": {"thread_id": thread_id}, "metadata": dict(SUN_RUN)}


def decision_of(result: Mapping[str, Any]) -> SunDecision:
    """The decision of an ``invoke`` result: final, or pending when interrupted for review."""
    for item in result.get("__interrupt__", ()):
        value = getattr(item, "value", None)
        if isinstance(value, dict) and value.get("kind") == REVIEW_KIND:
            return SunDecision.model_validate(value["decision"])
    decision: SunDecision = result["decision"]
    return decision


def pending_reviews(graph: Any) -> list[SunDecision]:
    """Every sun decision waiting for a review in ``graph``'s checkpointer, newest first."""
    saver = _saver(graph)
    seen: set[str] = set()
    waiting: list[str] = []
    for item in saver.list(None, filter=dict(SUN_RUN)):
        thread = str(item.config["configurable"]["thread_id"])
        if thread in seen:
            continue
        seen.add(thread)  # the first checkpoint listed is the thread's latest
        if any(write[1] == _INTERRUPT_CHANNEL for write in item.pending_writes or ()):
            waiting.append(thread)
    # read each state once the listing is done (SQLite's saver locks while it lists)
    found = (_waiting(graph, thread) for thread in waiting)
    return [decision for decision in found if decision is not None]


def pending_review(graph: Any, thread_id: str) -> SunDecision:
    """The decision waiting for review on ``thread_id``.

    Raises:
        KeyError: naming the thread when nothing waits for review there.
    """
    decision = _waiting(graph, thread_id)
    if decision is None:
        raise KeyError(f"thread_id {thread_id!r}: no decision is waiting for review there")
    return decision


def answer_review(
    graph: Any, context: SunContext, thread_id: str, answer: ReviewAnswer
) -> SunDecision:
    """Resume ``thread_id`` with ``answer`` (``Command(resume=...)``); the finished decision."""
    pending_review(graph, thread_id)
    result = graph.invoke(
        Command(resume=answer.model_dump(mode="json")), run_config(thread_id), context=context
    )
    return decision_of(result)


def _saver(graph: Any) -> Any:
    saver = graph.checkpointer
    if saver is None:
        raise RuntimeError("reviews need a checkpointer (this sun has checkpoint='none')")
    return saver


def _waiting(graph: Any, thread_id: str) -> SunDecision | None:
    _saver(graph)
    snapshot = graph.get_state({"configurable": {"thread_id": thread_id}})
    for item in getattr(snapshot, "interrupts", ()):
        value = getattr(item, "value", None)
        if isinstance(value, dict) and value.get("kind") == REVIEW_KIND:
            return SunDecision.model_validate(value["decision"])
    return None


def bus_alert_sink(client: BusClient, recipient: str = ALERTS, timeout_s: float = 5.0) -> AlertSink:
    """An alert sink (``SunHooks(alert_sink=...)``) that sends each ESCALATE alert on the bus:
    an ``event`` envelope from the sun to ``recipient`` on the CRITICAL lane (read first)."""

    def send(alert: EscalationAlert) -> None:
        envelope = Envelope.wrap(
            alert, sender=SUN, recipient=recipient, kind="event", priority=Priority.CRITICAL
        )
        client.run(client.bus.send(envelope), timeout_s)

    return send
