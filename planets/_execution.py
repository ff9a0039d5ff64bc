"""Execution planet: liquidity view, and decision -> OrderIntent sized by volatility targeting."""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from bus import OrderBookSizes, OrderIntent
from moons import order_book_imbalance
from planets._base import Planet, PlanetContext, Role, Verdict
from planets._batch import PlanetBatch
from planets._verdicts import VerdictColumns


class ExecutionPlanet(Planet):
    """Sizes orders; never calls a broker.

    Size = target position x capital x min(1, target vol / realized vol) / price, then capped
    by ``max_notional`` and ``max_quantity`` (each cap that bit is recorded on the intent).
    """

    name = "execution"
    roles = frozenset({Role.EXECUTION})
    directional = False
    in_process = True
    moons = ("close", "realized_vol", "volume_z")

    def score(self, context: PlanetContext, evidence: Mapping[str, float]) -> Verdict:
        book = context.snapshot.order_books.get(context.instrument)
        return _verdict(book, evidence["volume_z"])

    def score_many(self, batch: PlanetBatch, rows: np.ndarray) -> list[Verdict] | None:
        """Verdicts of the batch's instruments ``rows`` (the book lookups are per instrument)."""
        columns = self.verdict_columns(batch, rows)
        return None if columns is None else columns.verdicts()

    def verdict_columns(self, batch: PlanetBatch, rows: np.ndarray) -> VerdictColumns | None:
        """:meth:`score_many` as columns (what :func:`planets.report_many` packages)."""
        if type(self).score is not ExecutionPlanet.score:
            return None  # a subclass changed the formula: the loop asks it one by one
        books = batch.snapshot.order_books
        volume_z = batch.column("volume_z")[rows].tolist()
        names = [batch.instruments[i] for i in rows.tolist()]
        parts = [_parts(books.get(name), z) for name, z in zip(names, volume_z, strict=True)]
        return VerdictColumns(
            score=np.array([score for score, _, _, _ in parts], dtype=np.float64),
            confidence=np.array([confidence for _, confidence, _, _ in parts], dtype=np.float64),
            recommendations=[notes for _, _, notes, _ in parts],
            extra_evidence=[extra for _, _, _, extra in parts],
        )

    def order_intent(
        self, context: PlanetContext, target_position: float, current_position: float = 0.0
    ) -> OrderIntent | None:
        """The order that moves ``current_position`` to ``target_position`` (None if no change)."""
        delta = target_position - current_position
        evidence = self.select(context)
        price = evidence.get("close")
        if delta == 0.0 or price is None:
            return None
        limits = context.limits
        vol = evidence.get("realized_vol", math.nan)
        scale = (
            1.0 if not math.isfinite(vol) or vol <= 0 else min(1.0, limits.target_volatility / vol)
        )
        notional = abs(delta) * limits.capital * scale
        caps: list[str] = []
        if scale < 1.0:
            caps.append(f"vol target {limits.target_volatility:.0%} / realized {vol:.0%}")
        if notional > limits.max_notional:
            notional = limits.max_notional
            caps.append(f"max_notional {limits.max_notional:,.0f}")
        quantity = notional / price
        if quantity > limits.max_quantity:
            quantity = limits.max_quantity
            notional = quantity * price
            caps.append(f"max_quantity {limits.max_quantity:,.0f}")
        return OrderIntent(
            instrument=context.instrument,
            as_of=context.as_of,
            side="BUY" if delta > 0 else "SELL",
            quantity=quantity,
            reference_price=price,
            notional=notional,
            target_position=target_position,
            caps=tuple(caps),
            reason=f"move position {current_position:+.2f} -> {target_position:+.2f}",
        )


def _parts(
    book: OrderBookSizes | None, volume_z: float
) -> tuple[float, float, tuple[str, ...], dict[str, float]]:
    """(score, confidence, notes, extra evidence) of one verdict."""
    extra: dict[str, float] = {}
    score = 0.0
    notes = [f"volume z {volume_z:+.2f}"]
    if book is not None:
        imbalance = order_book_imbalance(book.bid_sizes, book.ask_sizes)
        extra["ob_imbalance"] = imbalance
        score = imbalance
        notes.append(f"order-book imbalance {imbalance:+.2f}")
    confidence = 0.5 if book is not None else 0.2
    return score, confidence, tuple(notes), extra


def _verdict(book: OrderBookSizes | None, volume_z: float) -> Verdict:
    score, confidence, notes, extra = _parts(book, volume_z)
    return Verdict(score, confidence, notes, extra_evidence=extra)
