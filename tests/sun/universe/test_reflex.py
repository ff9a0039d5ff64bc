"""The reflex loop: streaming moons + hard risk rules per tick, alerts that reach the sun."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime
from uuid import uuid4

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import moons
from bus import (
    SUN,
    BarSeries,
    BusConfig,
    Envelope,
    InProcBus,
    MarketSnapshot,
    Priority,
    to_datetime,
)
from heliarch.backtest import bundled_universe
from planets import RiskLimits
from sun import Sun
from sun.universe import REFLEX, ReflexBook, ReflexLoop, ReflexRules, reflex_rules

FIELDS = ("open", "high", "low", "close", "volume")


@pytest.fixture(scope="module")
def universe() -> tuple[dict[str, BarSeries], BarSeries]:
    bars, benchmark = bundled_universe(12, 320)
    return {n: s for n, s in bars.items() if len(s) == 320}, benchmark


def ohlcv(series: BarSeries, stop: int | None = None) -> moons.Ohlcv:
    return moons.Ohlcv(*(np.asarray(getattr(series, f)[:stop]) for f in FIELDS))


def bar(bars: dict[str, BarSeries], t: int) -> list[np.ndarray]:
    return [np.array([getattr(s, f)[t] for s in bars.values()]) for f in FIELDS]


def test_tick_panel_equals_the_batch_panel(
    universe: tuple[dict[str, BarSeries], BarSeries],
) -> None:
    bars, _ = universe
    loop = ReflexLoop(list(bars))
    loop.warm_up([ohlcv(s, -3) for s in bars.values()])
    for t in (-3, -2, -1):
        tick = loop.tick(*bar(bars, t), as_of=datetime(2013, 1, 1))
    for i, series in enumerate(bars.values()):
        expected = moons.last_panel_row(ohlcv(series), cache=None)
        got = dict(zip(moons.panel_columns(), tick.panel[i].tolist(), strict=True))
        assert {k: v for k, v in got.items() if k not in ("beta", "correlation")} == pytest.approx(
            {k: v for k, v in expected.items() if k not in ("beta", "correlation")},
            rel=0, abs=0, nan_ok=True,
        )  # fmt: skip


LIMITS = RiskLimits(max_position=0.8, max_var95=0.02, max_drawdown=0.3)
CASES = {
    # name: (position, entry, close, var95, drawdown, expected position, rule)
    "flat stays flat": (0.0, 100.0, 50.0, 0.5, -0.9, 0.0, 0),
    "unknown risk fails closed": (0.5, 100.0, 100.0, np.nan, -0.1, 0.0, 1),
    "drawdown breaker": (-0.5, 100.0, 100.0, 0.01, -0.31, 0.0, 2),
    "stop on a long": (0.5, 100.0, 91.0, 0.01, -0.1, 0.0, 3),
    "stop on a short": (-0.5, 100.0, 109.0, 0.01, -0.1, 0.0, 3),
    "no stop on a winning short": (-0.5, 100.0, 80.0, 0.01, -0.1, -0.5, 0),
    "var cap clamps": (0.7, 100.0, 100.0, 0.04, -0.1, 0.5, 4),
    "max position clamps": (-0.9, 100.0, 100.0, 0.001, -0.1, -0.8, 4),
    "within limits": (0.3, 100.0, 101.0, 0.01, -0.1, 0.3, 0),
}


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_hard_rules(case: str) -> None:
    position, entry, close, var95, drawdown, expected, rule = CASES[case]
    new, codes = np.zeros(1), np.zeros(1, dtype=np.int64)
    arrays = [np.array([v]) for v in (position, entry, close, var95, drawdown)]
    changed = reflex_rules(*arrays, LIMITS.max_position, LIMITS.max_var95, LIMITS.max_drawdown,
                           0.08, new, codes)  # fmt: skip
    assert new[0] == pytest.approx(expected) and codes[0] == rule and changed == (rule != 0)


floats = st.floats(-1.0, 1.0, allow_nan=False)


@settings(max_examples=200, deadline=None)
@given(
    position=hnp.arrays(np.float64, 20, elements=floats),
    move=hnp.arrays(np.float64, 20, elements=st.floats(-0.5, 0.5)),
    var95=hnp.arrays(np.float64, 20, elements=st.floats(0.0, 0.2) | st.just(np.nan)),
    drawdown=hnp.arrays(np.float64, 20, elements=st.floats(-0.9, 0.0)),
)
def test_rules_never_loosen_or_flip_a_position(
    position: np.ndarray, move: np.ndarray, var95: np.ndarray, drawdown: np.ndarray
) -> None:
    entry = np.full(20, 100.0)
    new, codes = np.zeros(20), np.zeros(20, dtype=np.int64)
    reflex_rules(position, entry, entry * (1 + move), var95, drawdown, 1.0, 0.02, 0.35, 0.08,
                 new, codes)  # fmt: skip
    assert (np.abs(new) <= np.abs(position)).all()
    assert (new * position >= 0).all()
    assert ((new != position) == (codes != 0)).all()


@pytest.mark.parametrize("field", FIELDS)
def test_mismatched_shapes_and_bad_values_name_the_instrument(
    universe: tuple[dict[str, BarSeries], BarSeries], field: str
) -> None:
    bars, _ = universe
    names = list(bars)
    loop = ReflexLoop(names)
    loop.warm_up([ohlcv(s, -1) for s in bars.values()])
    arrays = bar(bars, -1)
    index = FIELDS.index(field)
    short = [a[:-1] if k == index else a for k, a in enumerate(arrays)]
    with pytest.raises(
        ValueError, match=rf"{field}: .*instrument {len(names) - 1} \('{names[-1]}'\)"
    ):
        loop.tick(*short, as_of=datetime(2013, 1, 1))
    bad = [a.copy() for a in arrays]
    bad[index][2] = np.nan
    with pytest.raises(ValueError, match=rf"instrument 2 \('{names[2]}'\): {field} = nan"):
        loop.tick(*bad, as_of=datetime(2013, 1, 1))
    tick = loop.tick(*arrays, as_of=datetime(2013, 1, 1))  # nothing changed by the failures
    assert np.isfinite(tick.panel[:, 0]).all()


def _breaching_loop(
    bars: dict[str, BarSeries], book: ReflexBook | None = None
) -> tuple[ReflexLoop, str]:
    """A loop whose limits make the next tick flatten or clamp open positions."""
    names = list(bars)
    loop = ReflexLoop(
        names, RiskLimits(max_var95=0.001, max_drawdown=0.05), ReflexRules(0.01), book=book
    )
    loop.warm_up([ohlcv(s, -1) for s in bars.values()])
    loop.set_targets({name: 0.6 for name in names})
    return loop, names[0]


def test_alerts_cap_the_suns_next_decision(
    universe: tuple[dict[str, BarSeries], BarSeries],
) -> None:
    bars, benchmark = universe
    snapshot = MarketSnapshot.at(to_datetime(benchmark.timestamps[-1]), bars, benchmark=benchmark)
    with Sun("quant", checkpoint="none") as sun:
        plain = sun.decide_universe(snapshot)
        loop, _ = _breaching_loop(bars, sun.universe.book)
        tick = loop.tick(*bar(bars, -1), as_of=snapshot.as_of)
        assert tick.alerts and all(a.critical and a.planet == REFLEX for a in tick.alerts)
        assert (np.abs(tick.positions) <= 0.6).all() and len(sun.universe.book) == len(tick.alerts)
        capped = sun.decide_universe(snapshot)
        assert len(sun.universe.book) == 0
        again = sun.decide_universe(snapshot)
    alerted = {a.instrument: a for a in tick.alerts}
    for name, decision in capped.items():
        before = plain[name].target_position
        if name in alerted and abs(before) > alerted[name].evidence["position_cap"]:
            rules = [c.rule for c in decision.corrections if c.rule.startswith("reflex:")]
            assert rules and abs(decision.target_position) <= alerted[name].evidence["position_cap"]
        else:
            assert decision.target_position == before
        assert again[name] == plain[name]  # an alert caps one decision; the sun re-assesses
    assert any(c.rule.startswith("reflex:") for d in capped.values() for c in d.corrections)


@pytest.fixture(params=["inproc", "redis"])
async def bus(request: pytest.FixtureRequest) -> AsyncIterator[InProcBus]:
    config = BusConfig(block_ms=50, reclaim_interval_s=0.05, trim_interval_s=0.05)
    if request.param == "inproc":
        made = InProcBus(config)
        yield made
        await made.close()
        return
    from bus import RedisBus

    url = request.getfixturevalue("redis_url")
    prefix = f"heliarch:test:reflex:{uuid4().hex}:"
    made = RedisBus(url, prefix=prefix, config=config)
    yield made
    await made.close()
    import redis.asyncio as redis

    client = redis.from_url(url)
    keys = [key async for key in client.scan_iter(f"{prefix}*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()


async def test_alerts_travel_to_the_sun_on_the_critical_lane(
    universe: tuple[dict[str, BarSeries], BarSeries], bus: InProcBus
) -> None:
    bars, _ = universe
    book = ReflexBook()
    lanes: list[Priority] = []

    async def sun_inbox(envelope: Envelope) -> None:
        lanes.append(envelope.priority)
        await book.handle(envelope)

    await bus.subscribe(SUN, sun_inbox)
    loop, _ = _breaching_loop(bars)
    tick = loop.tick(*bar(bars, -1), as_of=datetime(2013, 3, 1))
    await loop.emit(bus, tick.alerts)
    for _ in range(200):
        if len(book) == len(tick.alerts):
            break
        await asyncio.sleep(0.02)
    assert tick.alerts and len(book) == len(tick.alerts)
    assert set(lanes) == {Priority.CRITICAL}
    assert set(book.take()) == {a.instrument for a in tick.alerts}
