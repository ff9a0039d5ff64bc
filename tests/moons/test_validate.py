"""The compiled input checks: the vectorized all-bars test agrees with the per-bar rules."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numba import njit

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


@njit
def _through_flat(a, i, x):
    """Every value of ``a`` read through ``flat``, after writing ``x`` at flat index ``i``."""
    p = flat(a)
    p[i] = x
    out = np.empty(a.size)
    for j in range(a.size):
        out[j] = p[j]
    return out


def test_flat_reads_and_writes_in_place_and_refuses_a_strided_array():
    a = np.arange(12.0).reshape(3, 4)
    expected = np.arange(12.0)
    expected[7] = -1.0
    np.testing.assert_array_equal(_through_flat(a, 7, -1.0), expected)
    assert a[1, 3] == -1.0  # the pointer writes the array itself
    with pytest.raises(ValueError, match="C-contiguous"):
        _through_flat(a[:, 1], 0, 0.0)
