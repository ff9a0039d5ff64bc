"""PolicyRouter.route_many: the same Route per instrument as route, over arrays."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bus import MarketSnapshot, to_datetime
from heliarch.backtest import bundled_universe
from sun import PolicyRouter
from sun.policy import load_policy
from sun.universe import UniverseMoons

COLUMNS = ("close", "sma", "atr", "volume_z", "ret_z", "realized_vol", "rsi")
EDGES = [0.0, -0.0, 0.15, 0.4, 1.0, 2.0, 3.0, -3.0, 4.0, 1e-300, 5e-324, 1e308, -1e308]
VALUES = st.one_of(
    st.sampled_from(EDGES),
    st.sampled_from([np.nan, np.inf, -np.inf]),
    st.integers(-4, 4).map(float),
    st.floats(allow_nan=True, allow_infinity=True),
)

FLOATS_POLICY = """
policy: floats
profile: trading
agents:
  technical: {kind: planet}
  sentiment: {kind: planet}
  execution: {kind: planet}
  risk: {kind: planet}
  reasoner: {kind: reasoner, llm: true}
rules:
  - name: calm
    when: 'realized_vol < 0.15 && 1.0 > trend_strength && data_quality != "failed"'
    plan:
      nodes:
        - {name: technical, params_from: {scale: 'realized_vol * 2.0', ready: 'technical_ready'}}
        - {name: risk}
  - name: shock
    when: "abs_volume_z >= 3 || (trend_strength == 2.0 && regime != \\"range\\")"
    plan:
      nodes:
        - name: technical
          params_from: {style: 'trend_strength >= 1.0 ? "momentum" : "mean_reversion"'}
        - {name: execution, skip_if: "-abs_volume_z < -4.0"}
        - {name: sentiment, skip_if: "!has_headlines || urgency == \\"low\\""}
        - {name: risk}
        - {name: reasoner, skip_if: "realized_vol >= 0.4"}
  - name: rest
    when: "true"
    plan:
      nodes:
        - {name: technical}
        - {name: risk, params_from: {vol: 'realized_vol'}}
"""


@pytest.fixture(scope="module")
def floats_policy(tmp_path_factory: pytest.TempPathFactory) -> Any:
    path: Path = tmp_path_factory.mktemp("policies") / "floats.yaml"
    path.write_text(FLOATS_POLICY)
    return load_policy(path)


def routers(floats: Any) -> list[PolicyRouter]:
    return [
        PolicyRouter(),
        PolicyRouter.load("trading_guarded"),
        PolicyRouter(policy=floats),
    ]


@st.composite
def moon_columns(draw: st.DrawFn) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Moon columns for 1..12 instruments (some columns absent), and their headline flags."""
    n = draw(st.integers(1, 12))
    names = draw(st.lists(st.sampled_from(COLUMNS), unique=True, min_size=0, max_size=7))
    columns = {
        name: np.array(draw(st.lists(VALUES, min_size=n, max_size=n)), dtype=np.float64)
        for name in names
    }
    headlines = np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)), dtype=np.bool_)
    return columns, headlines


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=moon_columns(), which=st.integers(0, 2))
def test_route_many_equals_route_per_instrument(
    floats_policy: Any, data: tuple[dict[str, np.ndarray], np.ndarray], which: int
) -> None:
    columns, headlines = data
    router = routers(floats_policy)[which]
    many = router.route_many(columns, headlines)
    assert len(many) == len(headlines)
    for i, route in enumerate(many):
        row = {name: column.tolist()[i] for name, column in columns.items()}
        assert route == router.route(row, bool(headlines[i])), (i, row)


@pytest.mark.parametrize("which", [0, 1, 2])
def test_route_many_equals_route_on_a_real_universe(floats_policy: Any, which: int) -> None:
    bars, benchmark = bundled_universe(60, 320)
    snapshot = MarketSnapshot.at(to_datetime(benchmark.timestamps[-1]), bars, benchmark=benchmark)
    engine = UniverseMoons()
    rows = engine.rows(snapshot, snapshot.instruments)
    columns = {c: rows[:, j] for j, c in enumerate(engine.columns)}
    headlines = np.arange(len(rows)) % 4 == 0
    router = routers(floats_policy)[which]
    many = router.route_many(columns, headlines)
    for i, route in enumerate(many):
        row = dict(zip(engine.columns, rows[i].tolist(), strict=True))
        assert route == router.route(row, bool(headlines[i]))
    # the shipped policies read trend_strength and abs_volume_z only through comparisons:
    # far fewer classes than instruments
    if which < 2:
        assert len({id(route.params) for route in many}) < len(many) // 4


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=moon_columns(), which=st.integers(0, 2))
def test_route_classes_equal_route_many_without_a_route_per_instrument(
    floats_policy: Any, data: tuple[dict[str, np.ndarray], np.ndarray], which: int
) -> None:
    columns, headlines = data
    router = routers(floats_policy)[which]
    many = router.route_many(columns, headlines)
    distinct, index = router.route_classes(columns, headlines)
    assert len(index) == len(many) and len(set(index)) == len(distinct)
    for route, k in zip(many, index, strict=True):
        assert route == dataclasses.replace(distinct[k], profile=route.profile, deferred={})
    table = router.classifier.classify_columns(columns, [int(h) for h in headlines])
    profiles = router.classifier.classify_many(columns, [int(h) for h in headlines])
    assert [
        dict(zip(table, row, strict=True)) for row in zip(*table.values(), strict=True)
    ] == profiles


_KEPT: dict[int, PolicyRouter] = {}


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=moon_columns(), which=st.integers(0, 1))
def test_class_routes_kept_across_calls_equal_route(
    data: tuple[dict[str, np.ndarray], np.ndarray], which: int
) -> None:
    """One router for every example: routes of classes seen in earlier calls are reused, and
    still equal what ``route`` gives each instrument now."""
    columns, headlines = data
    router = _KEPT.setdefault(which, routers(None)[which])
    distinct, index = router.route_classes(columns, headlines)
    for i, k in enumerate(index):
        row = {name: column.tolist()[i] for name, column in columns.items()}
        fresh = router.route(row, bool(headlines[i]))
        kept = distinct[k]
        assert (kept.planets, kept.params, kept.path, kept.rule, kept.nodes, kept.llm) == (
            fresh.planets,
            fresh.params,
            fresh.path,
            fresh.rule,
            fresh.nodes,
            fresh.llm,
        ), (i, row)


@pytest.mark.parametrize("which", [0, 1])
def test_class_routes_kept_over_a_walk_forward(which: int) -> None:
    bars, benchmark = bundled_universe(60, 320)
    router = routers(None)[which]
    engine = UniverseMoons()
    for stamp in benchmark.timestamps[-4:]:
        snapshot = MarketSnapshot.at(to_datetime(stamp), bars, benchmark=benchmark)
        rows = engine.rows(snapshot, snapshot.instruments)
        columns = {c: rows[:, j] for j, c in enumerate(engine.columns)}
        headlines = np.arange(len(rows)) % 3 == 0
        distinct, index = router.route_classes(columns, headlines)
        for i, k in enumerate(index):
            fresh = router.route(dict(zip(engine.columns, rows[i].tolist(), strict=True)),
                                 bool(headlines[i]))  # fmt: skip
            assert (distinct[k].planets, distinct[k].params, distinct[k].rule) == (
                fresh.planets,
                fresh.params,
                fresh.rule,
            )
    assert router._class_routes  # kept between the ticks
