"""Benchmark of the moon tier: streaming panel, warp, batch, and the TA-Lib / pandas baselines.

Run ``python benchmarks/moons.py --json`` for one JSON object on stdout (a table otherwise).

TA-Lib comparison: ``warp_vs_talib_stream_same_indicators`` is like for like (a panel of only
the six moons TA-Lib's handles compute: ``TALIB_SET``); ``warp_vs_talib_stream`` sets the
whole 22-column panel against the same six TA-Lib handles.
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
# this file is called moons.py: keep its folder off sys.path so `import moons` is the package
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import talib  # noqa: E402
from talib import stream as ta_stream  # noqa: E402

from moons import DEFAULT_PANEL, Ohlcv, PanelSpec, StreamingPanel, batch_panel  # noqa: E402

FIELDS = ("open", "high", "low", "close", "volume")
TALIB_WINDOW = 300  # bars of history each TA-Lib stream handle is opened on
HISTORY = 1500  # bars replayed into every instrument before timing
STEPS = 300  # timed bars
# the moons computing what the TA-Lib stream handles compute (like-for-like comparison)
TALIB_SET = PanelSpec(moons=("sma", "ema", "rsi", "macd", "bollinger", "atr"))


def load(name: str) -> Ohlcv:
    return Ohlcv.from_frame(pd.read_csv(ROOT / "examples" / "data" / f"{name}.csv", index_col=0))


def universe(goog: Ohlcv, eur: Ohlcv, n: int, length: int) -> np.ndarray:
    """(5, n, length) OHLCV of n instruments: GOOG/EURUSD slices with random-walk perturbations."""
    rng = np.random.default_rng(42)
    out = np.empty((5, n, length))
    for i in range(n):
        base = goog if i % 2 == 0 else eur
        start = int(rng.integers(0, len(base) - length + 1))
        scale = np.exp(np.cumsum(0.003 * rng.standard_normal(length))) * rng.uniform(0.5, 2.0)
        for f, name in enumerate(FIELDS):
            x = getattr(base, name)[start : start + length]
            out[f, i] = x * (rng.uniform(0.5, 2.0) if name == "volume" else scale)
    return out


def percentiles(samples: list[float]) -> tuple[float, float]:
    a = np.asarray(samples) * 1e6
    return float(np.percentile(a, 50)), float(np.percentile(a, 95))


def time_panel(
    data: np.ndarray, reps: int, parallel: bool = False, spec: PanelSpec = DEFAULT_PANEL
) -> tuple[float, float, float]:
    """p50/p95 wall and p50 thread-CPU microseconds of StreamingPanel.update over all
    instruments of ``data`` (CPU time leaves out the time the thread waited for a core)."""
    n = data.shape[1]
    panel = StreamingPanel(n, spec, parallel=parallel)
    panel.warmup_from([Ohlcv(*data[:, i, :HISTORY]) for i in range(n)])
    bars = [
        [np.ascontiguousarray(data[f, :, t]) for f in range(5)]
        for t in range(HISTORY, HISTORY + STEPS)
    ]
    for b in bars[:5]:
        panel.update(*b)
    samples, cpu = [], []
    for r in range(reps):  # wall clock alone: a thread_time() syscall per bar would perturb it
        b = bars[5 + r % (STEPS - 5)]
        t0 = time.perf_counter()
        panel.update(*b)
        samples.append(time.perf_counter() - t0)
    for r in range(reps):  # then the thread's CPU time, in a pass of its own
        b = bars[5 + r % (STEPS - 5)]
        c0 = time.thread_time()
        panel.update(*b)
        cpu.append(time.thread_time() - c0)
    return (*percentiles(samples), percentiles(cpu)[0])


def time_talib_stream(data: np.ndarray, steps: int) -> tuple[float, float]:
    """p50/p95 microseconds to advance SMA, EMA, RSI, MACD, BBANDS, ATR handles of all instruments."""
    s = DEFAULT_PANEL
    n = data.shape[1]
    lo_i = HISTORY - TALIB_WINDOW
    handles = []
    for i in range(n):
        c = data[3, i, lo_i:HISTORY]
        h, lo = data[1, i, lo_i:HISTORY], data[2, i, lo_i:HISTORY]
        handles.append((
            ta_stream.SMA(c, timeperiod=s.sma_period), ta_stream.EMA(c, timeperiod=s.ema_period),
            ta_stream.RSI(c, timeperiod=s.rsi_period),
            ta_stream.MACD(c, fastperiod=s.macd_fast, slowperiod=s.macd_slow,
                           signalperiod=s.macd_signal),
            ta_stream.BBANDS(c, timeperiod=s.bb_period, nbdevup=s.bb_k, nbdevdn=s.bb_k, matype=0),
            ta_stream.ATR(h, lo, c, timeperiod=s.atr_period),
        ))  # fmt: skip
    samples = []
    for t in range(HISTORY, HISTORY + steps):
        hs, ls, cs = data[1, :, t].tolist(), data[2, :, t].tolist(), data[3, :, t].tolist()
        t0 = time.perf_counter()
        for i in range(n):
            sma, ema, rsi, macd, bb, atr = handles[i]
            c = cs[i]
            sma.update(c)
            ema.update(c)
            rsi.update(c)
            macd.update(c)
            bb.update(c)
            atr.update(hs[i], ls[i], c)
        samples.append(time.perf_counter() - t0)
    return percentiles(samples)


def time_talib_reopen(data: np.ndarray, steps: int) -> float:
    """p50 microseconds when every bar re-opens each handle on the trailing TALIB_WINDOW bars."""
    s = DEFAULT_PANEL
    n = data.shape[1]
    samples = []
    sink: list[tuple[object, ...]] = []
    for t in range(HISTORY, HISTORY + steps):
        lo_i = t + 1 - TALIB_WINDOW
        t0 = time.perf_counter()
        for i in range(n):
            c = data[3, i, lo_i : t + 1]
            h, lo = data[1, i, lo_i : t + 1], data[2, i, lo_i : t + 1]
            values = (
                ta_stream.SMA(c, timeperiod=s.sma_period).value,
                ta_stream.EMA(c, timeperiod=s.ema_period).value,
                ta_stream.RSI(c, timeperiod=s.rsi_period).value,
                ta_stream.MACD(c, fastperiod=s.macd_fast, slowperiod=s.macd_slow,
                               signalperiod=s.macd_signal).value,
                ta_stream.BBANDS(c, timeperiod=s.bb_period, nbdevup=s.bb_k, nbdevdn=s.bb_k).value,
                ta_stream.ATR(h, lo, c, timeperiod=s.atr_period).value,
            )  # fmt: skip
            sink.append(values)
        samples.append(time.perf_counter() - t0)
    return percentiles(samples)[0]


def pandas_panel(df: pd.DataFrame, include_apply: bool = True) -> dict[str, pd.Series]:
    """A straightforward pandas implementation of the same panel (no benchmark)."""
    s = DEFAULT_PANEL
    c, h, lo, v = df["Close"], df["High"], df["Low"], df["Volume"]
    out: dict[str, pd.Series] = {}
    out["sma"] = c.rolling(s.sma_period).mean()
    out["ema"] = c.ewm(span=s.ema_period, adjust=False).mean()
    d = c.diff()
    gain = d.clip(lower=0).ewm(alpha=1 / s.rsi_period, adjust=False).mean()
    loss = (-d.clip(upper=0)).ewm(alpha=1 / s.rsi_period, adjust=False).mean()
    out["rsi"] = 100 * gain / (gain + loss)
    macd = (
        c.ewm(span=s.macd_fast, adjust=False).mean() - c.ewm(span=s.macd_slow, adjust=False).mean()
    )
    out["macd"] = macd
    out["macd_signal"] = macd.ewm(span=s.macd_signal, adjust=False).mean()
    out["macd_hist"] = macd - out["macd_signal"]
    mid = c.rolling(s.bb_period).mean()
    sd = c.rolling(s.bb_period).std(ddof=0)
    out["bb_mid"], out["bb_upper"], out["bb_lower"] = mid, mid + s.bb_k * sd, mid - s.bb_k * sd
    out["bb_pctb"] = (c - out["bb_lower"]) / (out["bb_upper"] - out["bb_lower"])
    prev = c.shift(1)
    tr = pd.concat([h - lo, (h - prev).abs(), (lo - prev).abs()], axis=1).max(axis=1)
    out["atr"] = tr.ewm(alpha=1 / s.atr_period, adjust=False).mean()
    out["realized_vol"] = np.log(c).diff().rolling(s.vol_window).std() * math.sqrt(
        s.periods_per_year
    )
    r = c.pct_change()
    out["ret_z"] = (r - r.rolling(s.ret_z_window).mean()) / r.rolling(s.ret_z_window).std()
    rw = r.rolling(s.var_window)
    out["var95"] = -rw.quantile(0.05, interpolation="lower")
    out["var99"] = -rw.quantile(0.01, interpolation="lower")
    if include_apply:
        out["max_drawdown"] = c.rolling(s.dd_window).apply(
            lambda x: np.max(1.0 - x / np.maximum.accumulate(x)), raw=True
        )
        k95, k99 = math.ceil(s.var_window * 0.05), math.ceil(s.var_window * 0.01)
        out["cvar95"] = -rw.apply(lambda x: np.sort(x)[:k95].mean(), raw=True)
        out["cvar99"] = -rw.apply(lambda x: np.sort(x)[:k99].mean(), raw=True)
    out["sharpe"] = (
        r.rolling(s.sharpe_window).mean() / r.rolling(s.sharpe_window).std()
        * math.sqrt(s.periods_per_year)
    )  # fmt: skip
    out["volume_z"] = (v - v.rolling(s.volume_z_window).mean()) / v.rolling(s.volume_z_window).std()
    return out


def time_call(fn, reps: int) -> float:
    fn()
    samples = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    return percentiles(samples)[0]


def max_rel_err_vs_talib(datasets: list[Ohlcv]) -> tuple[float, float, float]:
    """Largest |ours - talib| / |talib| over SMA, EMA, RSI, MACD(3), BBANDS(3), ATR; and the
    largest relative and absolute error of beta vs talib.BETA (reported apart: TA-Lib's
    raw-sum formula loses relative precision where beta is near 0)."""
    s = DEFAULT_PANEL
    worst = beta_rel = beta_abs = 0.0
    for d in datasets:
        rng = np.random.default_rng(0)
        r = np.diff(d.close) / d.close[:-1]
        bench = np.concatenate(
            [[1.0], np.cumprod(1 + 0.5 * r + 0.005 * rng.standard_normal(r.size))]
        )
        p = batch_panel(d, benchmark_close=bench, cache=None)
        c = d.close
        ref = {
            "sma": talib.SMA(c, s.sma_period), "ema": talib.EMA(c, s.ema_period),
            "rsi": talib.RSI(c, s.rsi_period), "atr": talib.ATR(d.high, d.low, c, s.atr_period),
        }  # fmt: skip
        ref_beta = talib.BETA(bench, c, s.beta_window)
        m = ~np.isnan(ref_beta) & (ref_beta != 0)
        diff = np.abs(p["beta"][m] - ref_beta[m])
        beta_rel = max(beta_rel, float(np.max(diff / np.abs(ref_beta[m]))))
        beta_abs = max(beta_abs, float(np.max(diff)))
        ref["macd"], ref["macd_signal"], ref["macd_hist"] = talib.MACD(
            c, s.macd_fast, s.macd_slow, s.macd_signal
        )
        ref["bb_upper"], ref["bb_mid"], ref["bb_lower"] = talib.BBANDS(
            c, s.bb_period, s.bb_k, s.bb_k, 0
        )
        for col, expected in ref.items():
            got = p[col]
            if not np.array_equal(np.isnan(got), np.isnan(expected)):
                return math.inf, math.inf, math.inf
            m = ~np.isnan(expected) & (expected != 0)
            if m.any():
                worst = max(
                    worst, float(np.max(np.abs(got[m] - expected[m]) / np.abs(expected[m])))
                )
    return worst, beta_rel, beta_abs


def cold_import_s() -> float:
    code = "import time; t = time.perf_counter(); import moons; print(time.perf_counter() - t)"
    runs = []
    for _ in range(3):
        res = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                             check=True)  # fmt: skip
        runs.append(float(res.stdout.strip()))
    return float(np.median(runs))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()

    goog, eur = load("GOOG"), load("EURUSD")
    batch_panel(goog, cache=None)  # compile / load numba caches
    data = universe(goog, eur, 500, HISTORY + STEPS)
    one_p50, one_p95, _ = time_panel(data[:, :1], reps=5000)
    warp_p50, warp_p95, warp_cpu = time_panel(data, reps=1000)
    par_p50, par_p95, _ = time_panel(data, reps=1000, parallel=True)
    six_p50, six_p95, six_cpu = time_panel(data, reps=1000, spec=TALIB_SET)
    ta_p50, ta_p95 = time_talib_stream(data, steps=200)
    reopen_p50 = time_talib_reopen(data, steps=5)
    batch_us = time_call(lambda: batch_panel(goog, cache=None), reps=200)
    gdf = pd.read_csv(ROOT / "examples" / "data" / "GOOG.csv", index_col=0)
    pandas_us = time_call(lambda: pandas_panel(gdf), reps=5)
    pandas_builtin_us = time_call(lambda: pandas_panel(gdf, include_apply=False), reps=20)
    ta_rel, beta_rel, beta_abs = max_rel_err_vs_talib([goog, eur])
    result = {
        "panel_update_us_p50_1": round(one_p50, 2),
        "panel_update_us_p95_1": round(one_p95, 2),
        "panel_update_us_p50_500": round(warp_p50, 1),
        "panel_update_us_p95_500": round(warp_p95, 1),
        "panel_update_us_p50_500_parallel": round(par_p50, 1),
        "panel_update_us_p95_500_parallel": round(par_p95, 1),
        "panel_update_cpu_us_p50_500": round(warp_cpu, 1),
        "panel_columns": len(DEFAULT_PANEL.columns),
        "talib_set_update_us_p50_500": round(six_p50, 1),
        "talib_set_update_us_p95_500": round(six_p95, 1),
        "talib_set_update_cpu_us_p50_500": round(six_cpu, 1),
        "talib_set_moons": ",".join(TALIB_SET.moons),
        "talib_stream_us_p50_500": round(ta_p50, 1),
        "talib_stream_us_p95_500": round(ta_p95, 1),
        "talib_stream_indicators": "SMA,EMA,RSI,MACD,BBANDS,ATR",
        "talib_stream_mode": "talib.stream handle.update(bar), handles opened on trailing window",
        "talib_stream_window_bars": TALIB_WINDOW,
        "talib_stream_reopen_us_p50_500": round(reopen_p50, 1),
        "warp_vs_talib_stream": round(ta_p50 / warp_p50, 1),
        "warp_vs_talib_stream_same_indicators": round(ta_p50 / six_p50, 1),
        "warp_parallel_vs_talib_stream": round(ta_p50 / par_p50, 1),
        "warp_vs_talib_stream_reopen": round(reopen_p50 / warp_p50, 1),
        "batch_goog_us": round(batch_us, 1),
        "pandas_goog_us": round(pandas_us, 1),
        "batch_vs_pandas": round(pandas_us / batch_us, 1),
        "pandas_builtin_only_goog_us": round(pandas_builtin_us, 1),
        "batch_vs_pandas_builtin_only": round(pandas_builtin_us / batch_us, 1),
        "max_rel_err_vs_talib": ta_rel,
        "cold_import_s": round(cold_import_s(), 3),
        "max_rel_err_beta_vs_talib": beta_rel,
        "max_abs_err_beta_vs_talib": beta_abs,
    }
    if args.json:
        print(json.dumps(result))
        return
    width = max(len(k) for k in result)
    for key, value in result.items():
        print(f"{key:<{width}}  {value}")


if __name__ == "__main__":
    main()
