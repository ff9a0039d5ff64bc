"""The built-in execution planet's order sizing for many instruments at once.

:func:`order_intents` equals :meth:`ExecutionPlanet.order_intent` per instrument: the same
float operations in the same order over arrays, the same caps and texts. The intents are
checked over arrays (quantity, price and notional finite and positive, target in [-1, 1])
and built without validating each again; a row that fails is built by the validating
constructor, so it raises exactly as ``order_intent`` would.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

import numpy as np

from bus import OrderIntent, prechecked_builder
from planets._execution import ExecutionPlanet
from planets._limits import RiskLimits

_KEYS = frozenset(("instrument", "as_of", "side", "quantity", "reference_price", "notional",
                   "target_position", "caps", "reason"))  # fmt: skip
_BUILD = prechecked_builder(OrderIntent, _KEYS)


def order_intents(
    planet: object,
    instruments: Sequence[str],
    as_of: datetime,
    targets: np.ndarray,
    currents: np.ndarray,
    moons: Mapping[str, np.ndarray],
    limits: RiskLimits,
) -> list[OrderIntent | None] | None:
    """``planet.order_intent`` of every instrument (None per instrument: no order), or None
    when ``planet`` is not the built-in :class:`ExecutionPlanet` (ask it one by one).

    Args:
        planet: The execution planet.
        instruments: Instrument names (row ``i`` of every array).
        as_of: The decision time.
        targets: Target positions.
        currents: Current positions.
        moons: At least the ``close`` and ``realized_vol`` moon columns (NaN: no value).
        limits: Risk limits (capital, volatility target, notional and quantity caps).
    """
    if type(planet) is not ExecutionPlanet or type(as_of) is not datetime:
        return None
    targets = np.asarray(targets, dtype=np.float64)
    delta = targets - np.asarray(currents, dtype=np.float64)
    price = np.asarray(moons["close"], dtype=np.float64)
    vol = np.asarray(moons["realized_vol"], dtype=np.float64)
    ordered = (delta != 0.0) & np.isfinite(price)
    with np.errstate(invalid="ignore", divide="ignore"):
        usable = np.isfinite(vol) & (vol > 0)
        scale = np.where(usable, np.minimum(1.0, limits.target_volatility / vol), 1.0)
        notional = np.abs(delta) * limits.capital * scale
        over_notional = notional > limits.max_notional
        notional = np.where(over_notional, limits.max_notional, notional)
        quantity = notional / price
        over_quantity = quantity > limits.max_quantity
        quantity = np.where(over_quantity, limits.max_quantity, quantity)
        notional = np.where(over_quantity, quantity * price, notional)
        ok = (
            (quantity > 0) & (price > 0) & (notional > 0)
            & np.isfinite(quantity) & np.isfinite(notional)
            & (targets >= -1.0) & (targets <= 1.0)
        )  # fmt: skip
    rows = np.flatnonzero(ordered)  # the rest order nothing
    columns = zip(
        rows.tolist(), ok[rows].tolist(), targets[rows].tolist(), (delta[rows] > 0).tolist(),
        quantity[rows].tolist(), price[rows].tolist(), notional[rows].tolist(),
        (scale[rows] < 1.0).tolist(), over_notional[rows].tolist(), over_quantity[rows].tolist(),
        vol[rows].tolist(), np.asarray(currents, dtype=np.float64)[rows].tolist(), strict=True,
    )  # fmt: skip
    intents: list[OrderIntent | None] = [None] * len(targets)
    # the texts' fixed parts once per call; the reason by one ``%`` call (same text, cheaper)
    vol_cap = f"vol target {limits.target_volatility:.0%} / realized "
    notional_cap = f"max_notional {limits.max_notional:,.0f}"
    quantity_cap = f"max_quantity {limits.max_quantity:,.0f}"
    for i, good, target, buy, qty, px, value, scaled, big, many, v, current in columns:
        name = instruments[i]
        caps: list[str] = []
        if scaled:
            caps.append(f"{vol_cap}{v:.0%}")
        if big:
            caps.append(notional_cap)
        if many:
            caps.append(quantity_cap)
        build = _BUILD if good and type(name) is str else OrderIntent
        intents[i] = build(
            instrument=name, as_of=as_of, side="BUY" if buy else "SELL", quantity=qty,
            reference_price=px, notional=value, target_position=target, caps=tuple(caps),
            reason="move position %+.2f -> %+.2f" % (current, target),  # noqa: UP031
        )  # fmt: skip
    return intents
