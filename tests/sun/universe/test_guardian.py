"""The portfolio guardian: only ever shrinks positions, and every limit holds afterwards."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from sun.universe import PORTFOLIO_RULES, PortfolioLimits, corrections_of, portfolio_guard

N = 30
weights = hnp.arrays(np.float64, N, elements=st.floats(-1.0, 1.0))
vols = hnp.arrays(np.float64, N, elements=st.floats(0.01, 2.0) | st.just(np.nan) | st.just(0.0))
corrs = hnp.arrays(np.float64, N, elements=st.floats(-1.0, 1.0) | st.just(np.nan))
limits = st.builds(
    PortfolioLimits,
    target_volatility=st.floats(0.01, 1.0),
    max_gross=st.floats(0.1, 3.0),
    max_net=st.floats(0.05, 2.0),
    max_cluster_gross=st.floats(0.05, 2.0),
    correlation_threshold=st.floats(0.1, 1.0),
)


@settings(max_examples=300, deadline=None)
@given(targets=weights, vol=vols, corr=corrs, portfolio=limits)
def test_every_limit_holds_and_nothing_grows(
    targets: np.ndarray, vol: np.ndarray, corr: np.ndarray, portfolio: PortfolioLimits
) -> None:
    steps = portfolio_guard(targets, vol, corr, portfolio)
    final = steps[-1]
    eps = 1e-9
    assert (np.abs(steps[1:]) <= np.abs(steps[:-1]) + 1e-15).all()  # only shrinks
    assert (steps[1:] * steps[:-1] >= 0).all()  # never flips
    assert np.abs(final).sum() <= portfolio.max_gross + eps
    assert abs(final.sum()) <= portfolio.max_net + eps
    unsizable = ~(np.isfinite(vol) & (vol > 0))
    assert (final[unsizable] == 0).all()
    open_ = np.count_nonzero(steps[1])
    if open_:
        assert (
            np.abs(final) * np.where(unsizable, 1.0, vol)
            <= portfolio.target_volatility / open_ + eps
        ).all()
    threshold = portfolio.correlation_threshold
    for member in (corr >= threshold, corr <= -threshold, ~np.isfinite(corr)):
        assert np.abs(final[member]).sum() <= portfolio.max_cluster_gross + eps
    records = corrections_of(steps, portfolio)
    for i, found in enumerate(records):
        assert bool(found) == (final[i] != targets[i])
        if found:
            assert found[0].before == targets[i] and found[-1].after == final[i]
            assert all(c.rule.removeprefix("portfolio:") in PORTFOLIO_RULES for c in found)


def test_an_open_position_without_volatility_is_flat_and_says_why() -> None:
    steps = portfolio_guard(
        np.array([0.2, 0.0]), np.array([np.nan, np.nan]), np.zeros(2), PortfolioLimits()
    )
    assert steps[-1].tolist() == [0.0, 0.0]
    (found,), none = corrections_of(steps, PortfolioLimits())
    assert found.rule == "portfolio:vol_unknown" and "volatility" in found.reason and none == []


@pytest.mark.parametrize(("name", "vol", "corr"), [
    ("vol", np.ones(3), np.zeros(4)),
    ("correlation", np.ones(4), np.zeros(3)),
])  # fmt: skip
def test_mismatched_shapes_name_the_instrument(
    name: str, vol: np.ndarray, corr: np.ndarray
) -> None:
    with pytest.raises(
        ValueError, match=rf"{name} has shape \(3,\) for 4 instruments: instrument 3"
    ):
        portfolio_guard(np.zeros(4), vol, corr, PortfolioLimits())


def test_limits_reject_nonsense() -> None:
    with pytest.raises(ValueError, match="max_gross"):
        PortfolioLimits(max_gross=0.0)
    with pytest.raises(ValueError, match="correlation_threshold"):
        PortfolioLimits(correlation_threshold=1.5)


def _cluster_gross(w: np.ndarray, corr: np.ndarray, threshold: float) -> list[float]:
    clusters = [corr >= threshold, corr <= -threshold, ~np.isfinite(corr)]
    return [float(np.abs(w[member]).sum()) for member in clusters]


@settings(max_examples=300, deadline=None)
@given(
    targets=weights,
    vol=vols,
    corr=corrs,
    portfolio=limits,
    cuts=st.lists(st.integers(1, N - 1), max_size=4, unique=True),
)
def test_parts_guarded_with_their_share_hold_the_whole_universes_limits(
    targets: np.ndarray,
    vol: np.ndarray,
    corr: np.ndarray,
    portfolio: PortfolioLimits,
    cuts: list[int],
) -> None:
    """A universe decided in parts (shards), each guarded with ``limits.share(part / N)``:
    together within every limit of the whole universe."""
    bounds = [0, *sorted(cuts), N]
    final = np.concatenate([
        portfolio_guard(targets[a:b], vol[a:b], corr[a:b], portfolio.share((b - a) / N))[-1]
        for a, b in zip(bounds[:-1], bounds[1:], strict=True)
    ])  # fmt: skip
    eps = 1e-9
    assert np.abs(final).sum() <= portfolio.max_gross + eps
    assert abs(final.sum()) <= portfolio.max_net + eps
    for gross in _cluster_gross(final, corr, portfolio.correlation_threshold):
        assert gross <= portfolio.max_cluster_gross + eps
    sized = np.isfinite(vol) & (vol > 0)
    assert (final[~sized] == 0).all()
    assert float(np.sum(np.abs(final[sized]) * vol[sized])) <= portfolio.target_volatility + eps


@pytest.mark.parametrize("fraction", [0.0, -0.5, 1.5, float("nan")])
def test_a_share_outside_zero_to_one_is_refused(fraction: float) -> None:
    with pytest.raises(ValueError, match="share must be in"):
        PortfolioLimits().share(fraction)


def test_the_whole_share_is_the_limits_themselves() -> None:
    assert PortfolioLimits(max_gross=0.8).share(1.0) == PortfolioLimits(max_gross=0.8)
