"""``PanelSpec.moons``: a panel of some of the moons equals those columns of the whole panel."""

from __future__ import annotations

import numpy as np
import pytest
from _helpers import synthetic_benchmark

from moons import (
    DEFAULT_PANEL,
    REGISTRY,
    Ohlcv,
    PanelSpec,
    StreamingPanel,
    batch_panel,
    column_warmup,
    last_panel_row,
    panel_columns,
)

SUBSETS = {
    "talib_six": ("sma", "ema", "rsi", "macd", "bollinger", "atr"),
    "risk_only": ("var_cvar",),
    "with_benchmark": ("volume_z", "beta_corr", "sma"),
}
FIELDS = ("open", "high", "low", "close", "volume")


@pytest.mark.parametrize("names", SUBSETS.values(), ids=SUBSETS.keys())
def test_batch_subset_equals_the_whole_panel(names, goog):
    spec = PanelSpec(moons=names)
    bench = synthetic_benchmark(goog.close)
    whole = batch_panel(goog, benchmark_close=bench, cache=None)
    part = batch_panel(goog, spec, benchmark_close=bench, cache=None)
    expected = tuple(c for d in REGISTRY if d.name in names for c in d.columns)
    assert tuple(part) == spec.columns == panel_columns(spec) == expected
    assert tuple(column_warmup(spec)) == expected
    for col in expected:
        np.testing.assert_array_equal(part[col], whole[col], err_msg=col)
    assert last_panel_row(goog, spec, bench, cache=None) == {c: part[c][-1] for c in expected}


@pytest.mark.parametrize("names", SUBSETS.values(), ids=SUBSETS.keys())
def test_streaming_subset_equals_the_whole_panel(names, goog):
    n, head, steps = 3, 300, 40
    rng = np.random.default_rng(3)
    insts = [Ohlcv(*(getattr(goog, f)[i * 5 : i * 5 + head + steps] for f in FIELDS))
             for i in range(n)]  # fmt: skip
    bench = 100.0 * np.cumprod(1.0 + 0.01 * rng.standard_normal(head + steps))
    spec = PanelSpec(moons=names)
    part, whole = StreamingPanel(n, spec), StreamingPanel(n)
    assert part.columns == spec.columns
    histories = [Ohlcv(*(getattr(x, f)[: head - 10 * i] for f in FIELDS))
                 for i, x in enumerate(insts)]  # fmt: skip
    cols = [DEFAULT_PANEL.columns.index(c) for c in spec.columns]
    benches = [bench[: len(h)] for h in histories]
    np.testing.assert_array_equal(part.warmup_from(histories, benches),
                                  whole.warmup_from(histories, benches)[:, cols])  # fmt: skip
    for t in range(head, head + steps):
        bar = [np.array([getattr(x, f)[t] for x in insts]) for f in FIELDS]
        np.testing.assert_array_equal(part.update(*bar, benchmark_close=bench[t]),
                                      whole.update(*bar, benchmark_close=bench[t])[:, cols])  # fmt: skip


@pytest.mark.parametrize("bad", [("sma", "nope"), (), ("sma", "sma"), 3])
def test_moons_must_be_distinct_registry_names(bad):
    with pytest.raises(ValueError, match="moons must be distinct names"):
        PanelSpec(moons=bad)


def test_moons_are_kept_in_registry_order():
    spec = PanelSpec(moons=("atr", "sma"))
    assert spec.moons == ("sma", "atr") and spec == PanelSpec(moons=["sma", "atr"])
    assert hash(spec) == hash(PanelSpec(moons=("sma", "atr")))
    assert PanelSpec(moons="rsi").columns == ("rsi",)
    assert DEFAULT_PANEL.moons == tuple(d.name for d in REGISTRY)
    assert spec != DEFAULT_PANEL
