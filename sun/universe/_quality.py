"""Data quality of a universe at one tick: gaps and halted bars make an instrument "no data".

Bad values (NaN, non-positive prices) never reach a snapshot: :class:`bus.BarSeries` rejects
them at the boundary, and :func:`load_universe` turns each rejection into a named reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from bus import BarSeries, DataValidationError, MarketSnapshot
from sun.universe._config import UniverseConfig
from sun.universe._moons import _LastBars


def quality_reasons(
    snapshot: MarketSnapshot, names: tuple[str, ...], bars: _LastBars, config: UniverseConfig
) -> dict[str, str]:
    """Why each instrument that cannot be decided this tick has no data (others absent)."""
    reasons: dict[str, str] = {}
    if config.gap_window > 0 and names:
        reasons.update(_gaps(snapshot, names, bars, config.gap_window))
    if config.check_halts:
        halted = (bars.volume == 0.0) & (bars.high == bars.low)
        for i in np.flatnonzero(halted).tolist():
            if names[i] not in reasons:
                stamp = np.datetime_as_string(bars.stamp[i], unit="s")
                reasons[names[i]] = f"halted: the last bar ({stamp}) has no volume and no range"
    return reasons


def _gaps(
    snapshot: MarketSnapshot, names: tuple[str, ...], bars: _LastBars, window: int
) -> dict[str, str]:
    """Instruments missing a bar of the universe's clock (the union of the recent stamps)."""
    tails = [snapshot.bars[name].timestamps[-window:] for name in names]
    clock = np.unique(np.concatenate(tails))[-window:]
    latest = clock[-1]
    full = np.array([len(t) == len(clock) for t in tails])
    ok = np.zeros(len(names), dtype=np.bool_)
    if full.any():
        stacked = np.stack([t for t, f in zip(tails, full, strict=True) if f])
        ok[full] = (stacked == clock).all(axis=1)
    reasons = {}
    for i in np.flatnonzero(~ok).tolist():
        tail = tails[i]
        if bars.stamp[i] != latest:
            last = np.datetime_as_string(bars.stamp[i], unit="s")
            reasons[names[i]] = (
                f"gap: no bar at the universe's last tick "
                f"{np.datetime_as_string(latest, unit='s')} (last bar {last})"
            )
            continue
        expected = clock[clock >= tail[0]]
        if len(expected) != len(tail) or not np.array_equal(expected, tail):
            missing = np.setdiff1d(expected, tail)
            first = np.datetime_as_string(missing[0], unit="s") if len(missing) else "?"
            reasons[names[i]] = (
                f"gap: {len(missing)} bar(s) of the last {window} ticks missing (first {first})"
            )
    return reasons


def load_universe(
    frames: Mapping[str, Any],
) -> tuple[dict[str, BarSeries], dict[str, str]]:
    """Validate many instruments' bars; a bad one is set aside with its reason, not fatal.

    Args:
        frames: instrument -> a :class:`BarSeries`, or a DataFrame indexed by timestamp with
            open/high/low/close/volume columns.

    Returns:
        ``(bars, rejected)``: the valid series, and for each rejected instrument the
        :class:`DataValidationError` message (naming instrument, timestamp and field). Pass
        ``rejected`` to ``Sun.decide_universe`` to get their flat "no data" decisions.
    """
    bars: dict[str, BarSeries] = {}
    rejected: dict[str, str] = {}
    for name, frame in frames.items():
        try:
            bars[name] = (
                frame if isinstance(frame, BarSeries) else BarSeries.from_dataframe(frame, name)
            )
        except DataValidationError as error:
            rejected[name] = f"no data: {error}"
    return bars, rejected
