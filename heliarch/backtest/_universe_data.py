"""A universe of many instruments made deterministically from the bundled real bars.

``examples/data`` holds three real series (GOOG daily, EURUSD hourly, BTCUSD monthly). A
universe of ``n`` instruments is derived from them without inventing any bar shape:
instrument ``k`` takes a window of real bars of its base series and re-stamps it onto one
common daily clock (the newest ``bars`` GOOG dates), so every instrument trades on the same
ticks and the benchmark (GOOG itself over the clock) covers all of them:

* base: BTCUSD when ``k % 10 == 9`` (only 156 monthly bars: too short a history for the
  250-bar VaR window, so these are "no data" instruments by nature), else GOOG for even
  ``k`` and EURUSD for odd ``k``;
* window: the base's bars from offset ``(k * 97) % (len - bars)`` (GOOG), ``(k * 389) %
  (len - bars)`` (EURUSD), or ``k % 30`` to the end (BTCUSD, stamped on the clock's end);
* scaling: prices times ``0.5 + ((k * 37) % 100) / 25``;
* inversion: when ``k % 7 == 3`` prices become ``scale * 100 / price`` (high and low swap),
  which gives negatively correlated instruments.

Names are ``<BASE><k:03d>`` (``GOOG000``, ``EURUSD001``, ..., ``BTCUSD009``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from bus import BarSeries, load_csv

DATA_DIR = Path(__file__).resolve().parents[2] / "examples" / "data"
BENCHMARK = "GOOG"


def _base(k: int) -> str:
    if k % 10 == 9:
        return "BTCUSD"
    return "GOOG" if k % 2 == 0 else "EURUSD"


def bundled_universe(
    n: int = 50, bars: int = 600, data_dir: Path | None = None
) -> tuple[dict[str, BarSeries], BarSeries]:
    """``n`` instruments on a common clock of ``bars`` daily ticks, and the benchmark.

    Returns:
        ``(universe, benchmark)``: instrument -> its full history (BTCUSD-based ones start
        late), and GOOG's real bars over the clock.

    Raises:
        ValueError: when ``n < 1`` or ``bars`` does not fit the bundled series.
    """
    directory = data_dir or DATA_DIR
    real = {
        name: load_csv(directory / f"{name}.csv", name) for name in ("GOOG", "EURUSD", "BTCUSD")
    }
    goog = real[BENCHMARK]
    if n < 1 or not 30 <= bars < len(goog):
        raise ValueError(f"need n >= 1 and 30 <= bars < {len(goog)}, got n={n}, bars={bars}")
    clock = goog.timestamps[-bars:]
    benchmark = goog.tail(bars)
    universe = {}
    for k in range(n):
        base = _base(k)
        name = f"{base}{k:03d}"
        universe[name] = _derive(real[base], name, k, clock, bars)
    return universe, benchmark


def _derive(series: BarSeries, name: str, k: int, clock: np.ndarray, bars: int) -> BarSeries:
    if series.instrument == "BTCUSD":
        start, stop = k % 30, len(series)
    else:
        stride = 97 if series.instrument == "GOOG" else 389
        start = (k * stride) % (len(series) - bars)
        stop = start + bars
    scale = 0.5 + ((k * 37) % 100) / 25
    o, h, lo, c = (
        np.asarray(a[start:stop]) for a in (series.open, series.high, series.low, series.close)
    )
    if k % 7 == 3:
        o, h, lo, c = 100 * scale / o, 100 * scale / lo, 100 * scale / h, 100 * scale / c
    else:
        o, h, lo, c = o * scale, h * scale, lo * scale, c * scale
    length = stop - start
    return BarSeries(
        instrument=name,
        timestamps=clock[-length:],
        open=o,
        high=h,
        low=lo,
        close=c,
        volume=np.asarray(series.volume[start:stop]),
    )
