"""A consistent-hash ring with virtual nodes: which worker owns which instrument.

Each node is hashed onto the ring ``vnodes`` times; a key belongs to the first virtual node
clockwise from its hash. Adding or removing one node moves only the keys that node gains or
loses (about ``1 / len(nodes)`` of them); every process computes the same owners from the
same node set, so no coordination is needed to agree on an assignment.
"""

from __future__ import annotations

import bisect
import hashlib
from collections.abc import Iterable, Sequence


def ring_hash(text: str) -> int:
    """A stable 64-bit hash of ``text`` (the same in every process and on every machine)."""
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")


class HashRing:
    """An immutable ring over ``nodes`` (duplicates ignored).

    Args:
        nodes: Node names, e.g. live worker names.
        vnodes: Virtual nodes per node (more: better balance, bigger ring).

    Raises:
        ValueError: when ``vnodes < 1``.
    """

    def __init__(self, nodes: Iterable[str], vnodes: int = 64) -> None:
        if vnodes < 1:
            raise ValueError(f"vnodes must be >= 1, got {vnodes}")
        self.nodes: frozenset[str] = frozenset(nodes)
        self.vnodes = vnodes
        points = sorted(
            (ring_hash(f"{node}#{i}"), node) for node in self.nodes for i in range(vnodes)
        )
        self._hashes = [h for h, _ in points]
        self._owners = [n for _, n in points]

    def owner(self, key: str) -> str:
        """The node owning ``key``.

        Raises:
            LookupError: when the ring has no node.
        """
        if not self._owners:
            raise LookupError("the hash ring has no node")
        index = bisect.bisect_right(self._hashes, ring_hash(key)) % len(self._hashes)
        return self._owners[index]

    def assign(self, keys: Sequence[str]) -> dict[str, list[str]]:
        """Keys grouped by owner (every node present, order of ``keys`` kept)."""
        groups: dict[str, list[str]] = {node: [] for node in sorted(self.nodes)}
        for key in keys:
            groups[self.owner(key)].append(key)
        return groups
