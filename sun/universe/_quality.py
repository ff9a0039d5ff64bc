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
from sun.universe._moons import MoonRows, UniverseMoons, _LastBars


def quality_reasons(
    snapshot: MarketSnapshot,
    names: tuple[str, ...],
    bars: _LastBars,
    config: UniverseConfig,
    gaps: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Why each instrument that cannot be decided this tick has no data (others absent).

    ``gaps``: the gap check's verdict when the caller already has it (see :class:`GapMemo`).
    """
    reasons: dict[str, str] = {}
    if config.gap_window > 0 and names:
        reasons.update(
            gaps if gaps is not None else _gaps(snapshot, names, bars, config.gap_window)
        )
    if config.check_halts:
        halted = (bars.volume == 0.0) & (bars.high == bars.low)
        for i in np.flatnonzero(halted).tolist():
            if names[i] not in reasons:
                stamp = np.datetime_as_string(bars.stamp[i], unit="s")
                reasons[names[i]] = f"halted: the last bar ({stamp}) has no volume and no range"
    return reasons


class GapMemo:
    """The gap check over a walk forward, skipped when last tick's clean verdict must hold.

    If at one read of the moons every instrument's last ``window`` stamps equalled the
    universe's clock (no gap anywhere), and at the next read every history is exactly the
    previous one plus one bar (verified bit for bit, :attr:`MoonRows.grew_one`) whose stamp
    is the same for every instrument, then every instrument's last ``window`` stamps are the
    old clock without its oldest stamp (when it held ``window``) plus that one: the same for
    all, so they are the new clock and there is again no gap. Every other tick is checked in
    full. Safe across threads: a verdict is used only by the read right after its own.
    """

    def __init__(self) -> None:
        self._clean: tuple[UniverseMoons, int, tuple[str, ...], int] | None = None
        self.checks = {"full": 0, "carried": 0}  # ticks checked in full / known clean

    def gaps(
        self,
        snapshot: MarketSnapshot,
        names: tuple[str, ...],
        moons: UniverseMoons,
        read: MoonRows,
        window: int,
    ) -> dict[str, str]:
        """:func:`_gaps` of this read (``read`` of ``moons`` for ``names``; ``window`` > 0)."""
        clean = self._clean
        stamps = read.bars.stamp
        if (
            clean is not None
            and read.grew_one
            and clean[0] is moons
            and clean[1] == read.tick - 1
            and clean[2] == names
            and clean[3] == window
            and bool((stamps == stamps[0]).all())
        ):
            found: dict[str, str] = {}
            self.checks["carried"] += 1
        else:
            found = _gaps(snapshot, names, read.bars, window)
            self.checks["full"] += 1
        self._clean = None if found else (moons, read.tick, names, window)
        return found


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
