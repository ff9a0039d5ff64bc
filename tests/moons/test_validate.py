"""The compiled input checks: the vectorized all-bars test agrees with the per-bar rules."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from moons import PRICE_MAX, VOLUME_MAX
from moons._flat import flat
from moons._validate import bad_bar, bars_ok

VALUES = st.sampled_from(
    [1.0, 2.0, 3.0, 5.0, 0.0, -1.0, np.nan, np.inf, PRICE_MAX * 2, VOLUME_MAX * 2, 1e-13]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(*[VALUES] * 6), min_size=1, max_size=9), st.booleans())
def test_bars_ok_is_true_exactly_when_no_bar_breaks_a_rule(bars, has_b):
    o, h, lo, c, v, b = (np.array(col) for col in zip(*bars, strict=True))
    expected = all(bad_bar(*bar, has_b) == -1 for bar in bars)
    assert bars_ok(o, h, lo, c, v, b, has_b) == expected


def test_flat_refuses_a_strided_array():
    a = np.arange(12.0).reshape(3, 4)
    np.testing.assert_array_equal(flat(a), np.arange(12.0))
    with pytest.raises(ValueError, match="C-contiguous"):
        flat(a[:, 1])
