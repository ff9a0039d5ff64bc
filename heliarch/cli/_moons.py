"""``heliarch moons``: the moon panel of one CSV at one time, in one streamed pass.

The file is read chunk by chunk and each chunk advances the moons' state, so a file of
millions of bars costs the memory of one chunk (the whole history is never held), and nothing
after ``--as-of`` reaches a moon (rows after it are still validated).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import numpy as np

import moons
from bus import BarSeries, MoonPanel, iter_csv


def file_panel(data: Path, symbol: str, as_of: datetime | None) -> MoonPanel:
    """Moon values (and ``close``) at ``as_of`` (default: the last bar) of ``data``'s bars.

    Raises:
        DataValidationError: for an unreadable or invalid file (naming row and value).
        ValueError: for an ``as_of`` outside the bars (naming ``--as-of`` and the range).
    """
    history = moons.HistoryPanel()
    first: BarSeries | None = None
    last: BarSeries | None = None
    close = float("nan")
    for chunk in iter_csv(data, symbol):
        first, last = first or chunk, chunk
        visible = _visible(chunk, as_of)
        if visible is not None:
            history.feed(_ohlcv(visible))
            close = float(visible.close[-1])
    if first is None or last is None:  # iter_csv raises for a file without bars
        raise ValueError(f"{data}: no bars")
    stamp = last.last_timestamp if as_of is None else _within(as_of, first, last)
    row = history.last_row()
    return MoonPanel(
        as_of=stamp, values={symbol: {"close": close, **row}}, spec_key=repr(moons.DEFAULT_PANEL)
    )


def _visible(chunk: BarSeries, as_of: datetime | None) -> BarSeries | None:
    """The bars of ``chunk`` at or before ``as_of`` (None when there are none)."""
    if as_of is None or chunk.last_timestamp <= as_of:
        return chunk
    if chunk.first_timestamp > as_of:
        return None
    return chunk.up_to(as_of)


def _within(as_of: datetime, first: BarSeries, last: BarSeries) -> datetime:
    """``as_of`` if it lies between the file's first and last bar (the same check and message
    as for a loaded series, asked of the file's two end bars)."""
    if first is last and len(first) == 1:
        return first.check_within("--as-of", as_of)

    def ends(name: str) -> np.ndarray:
        return np.array([getattr(first, name)[0], getattr(last, name)[-1]])

    both = BarSeries(
        instrument=first.instrument,
        timestamps=ends("timestamps"),
        open=ends("open"),
        high=ends("high"),
        low=ends("low"),
        close=ends("close"),
        volume=ends("volume"),
    )
    return both.check_within("--as-of", as_of)


def _ohlcv(series: BarSeries) -> moons.Ohlcv:
    return moons.Ohlcv(
        open=series.open, high=series.high, low=series.low, close=series.close, volume=series.volume
    )
