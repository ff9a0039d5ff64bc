"""The consistent-hash ring: deterministic, balanced, and it moves only what it must."""

from __future__ import annotations

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from sun.shard import HashRing

names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=12)
node_sets = st.lists(names, min_size=1, max_size=8, unique=True)
keys = st.lists(names, min_size=1, max_size=200, unique=True)
UNIVERSE = [f"GOOG{k:03d}" for k in range(1000)]


@given(nodes=node_sets, keys=keys, data=st.data())
def test_owners_do_not_depend_on_node_order(
    nodes: list[str], keys: list[str], data: st.DataObject
) -> None:
    shuffled = data.draw(st.permutations(nodes))
    one, other = HashRing(nodes), HashRing(shuffled)
    assert [one.owner(k) for k in keys] == [other.owner(k) for k in keys]
    assert all(one.owner(k) in nodes for k in keys)


@given(nodes=node_sets, keys=keys)
def test_assign_partitions_the_keys(nodes: list[str], keys: list[str]) -> None:
    groups = HashRing(nodes).assign(keys)
    assert set(groups) == set(nodes)
    assert sorted(k for group in groups.values() for k in group) == sorted(keys)


@given(nodes=node_sets, joining=names, keys=keys)
def test_a_joining_node_takes_keys_only_for_itself(
    nodes: list[str], joining: str, keys: list[str]
) -> None:
    before, after = HashRing(nodes), HashRing([*nodes, joining])
    moved = [k for k in keys if before.owner(k) != after.owner(k)]
    assert all(after.owner(k) == joining for k in moved)


@given(nodes=node_sets.filter(lambda n: len(n) >= 2), keys=keys, data=st.data())
def test_a_leaving_node_gives_away_only_its_keys(
    nodes: list[str], keys: list[str], data: st.DataObject
) -> None:
    leaving = data.draw(st.sampled_from(nodes))
    before = HashRing(nodes)
    after = HashRing([n for n in nodes if n != leaving])
    for key in keys:
        if before.owner(key) != leaving:
            assert after.owner(key) == before.owner(key)


@settings(max_examples=25, deadline=None)
@given(nodes=st.lists(names, min_size=2, max_size=6, unique=True))
def test_balance_with_virtual_nodes(nodes: list[str]) -> None:
    groups = HashRing(nodes, vnodes=128).assign(UNIVERSE)
    fair = len(UNIVERSE) / len(nodes)
    assert min(len(g) for g in groups.values()) >= 0.5 * fair
    assert max(len(g) for g in groups.values()) <= 1.6 * fair


@settings(max_examples=25, deadline=None)
@given(nodes=st.lists(names, min_size=2, max_size=6, unique=True), joining=names)
def test_a_join_moves_about_its_fair_share(nodes: list[str], joining: str) -> None:
    assume(joining not in nodes)
    before, after = HashRing(nodes, vnodes=128), HashRing([*nodes, joining], vnodes=128)
    moved = sum(before.owner(k) != after.owner(k) for k in UNIVERSE)
    assert moved <= 1.6 * len(UNIVERSE) / (len(nodes) + 1)


def test_an_empty_ring_names_the_problem() -> None:
    with pytest.raises(LookupError, match="no node"):
        HashRing([]).owner("GOOG")


def test_vnodes_must_be_positive() -> None:
    with pytest.raises(ValueError, match="vnodes"):
        HashRing(["a"], vnodes=0)
