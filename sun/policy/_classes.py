"""Which profiles a policy cannot tell apart: the key that lets a router evaluate its CEL once
per class of profiles instead of once per instrument.

A policy reads a profile only through its compiled expressions. A float field that every
expression reads only as ``field <op> literal`` (or ``literal <op> field``) as a whole
operand matters only through those comparisons' outcomes; any other field matters by its
value. Two profiles with the same key therefore get the same value from every expression.
The analysis is conservative: anything it cannot prove (a field inside arithmetic, a string
literal that spells a field name, an unusual literal) keys on the raw value.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from sun.policy._cel import Compiled
from sun.policy._profile import Profile

_OPS: dict[str, Callable[[Any, Any], Any]] = {
    "<=": operator.le, ">=": operator.ge, "==": operator.eq, "!=": operator.ne,
    "<": operator.lt, ">": operator.gt,
}  # fmt: skip
_OP = r"(<=|>=|==|!=|<|>)"
_NUMBER = r"(-?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][+-]?\d+)?)"
_BEFORE = ("(", "?", ":", "&&", "||", ",", "[")
"""What may precede a whole comparison operand (lower precedence than a relation)."""
_AFTER = (")", "?", ":", "&&", "||", ",", "]")
_EXACT_INT = 2**53

Cut = tuple[str, float | int]
"""One comparison ``field <op> literal``, normalized with the field on the left."""


@dataclass(frozen=True)
class ProfileClasses:
    """The profile fields a policy reads, and for each float field either its comparisons
    (``cuts``) or None (the raw value matters).

    Build with :meth:`of`; :meth:`keys` gives one hashable key per profile.
    """

    fields: tuple[str, ...]
    cuts: Mapping[str, tuple[Cut, ...] | None]

    @classmethod
    def of(cls, compiled: Iterable[Compiled], profile: type[Profile]) -> ProfileClasses:
        """The classes of every expression in ``compiled`` over ``profile``'s fields."""
        floats = {n for n, f in profile.model_fields.items() if f.annotation in (float, "float")}
        fields: set[str] = set()
        cuts: dict[str, list[Cut] | None] = {}
        for expression in compiled:
            read = expression.variables & profile.model_fields.keys()
            fields |= read
            for name in read & floats:
                found = _comparisons(expression.source, name)
                held = cuts.get(name, [])
                cuts[name] = None if found is None or held is None else [*held, *found]
        ordered = tuple(sorted(fields))
        return cls(
            ordered,
            {name: None if c is None else tuple(dict.fromkeys(c)) for name, c in cuts.items()},
        )

    def keys(self, columns: Mapping[str, Sequence[Any]]) -> list[tuple[Any, ...]]:
        """One key per profile, from profile ``columns`` (field -> one value per profile):
        equal keys, equal results of every expression the classes were built from."""
        parts: list[list[Any]] = []
        for name in self.fields:
            values = columns[name]
            cuts = self.cuts.get(name)
            if cuts is None:
                parts.append(list(values))
                continue
            array = np.asarray(values, dtype=np.float64)
            parts.append(np.isnan(array).tolist())
            parts.extend(_OPS[op](array, literal).tolist() for op, literal in cuts)
        if not parts:
            return [()] * len(next(iter(columns.values()), ()))
        return list(zip(*parts, strict=True))


def _comparisons(source: str, name: str) -> list[Cut] | None:
    """Every comparison of field ``name`` with a literal in ``source``, or None when some
    occurrence of ``name`` is read any other way (or cannot be told apart)."""
    found: list[Cut] = []
    for match in re.finditer(rf"(?<![\w.]){re.escape(name)}(?!\w)", source):
        cut = _field_first(source, match) or _literal_first(source, match)
        if cut is None:
            return None
        found.append(cut)
    return found


def _field_first(source: str, match: re.Match[str]) -> Cut | None:
    """``name <op> literal`` starting at ``match``."""
    tail = re.match(rf"\s*{_OP}\s*{_NUMBER}", source[match.end() :])
    if tail is None or not _bounded(source[: match.start()], source[match.end() + tail.end() :]):
        return None
    return _cut(tail.group(1), tail.group(2))


_FLIP = {"<": ">", ">": "<", "<=": ">=", ">=": "<=", "==": "==", "!=": "!="}


def _literal_first(source: str, match: re.Match[str]) -> Cut | None:
    """``literal <op> name`` ending at ``match``."""
    head = re.search(rf"{_NUMBER}\s*{_OP}\s*$", source[: match.start()])
    if head is None or not _bounded(source[: head.start()], source[match.end() :]):
        return None
    return _cut(_FLIP[head.group(2)], head.group(1))


def _bounded(before: str, after: str) -> bool:
    """The comparison is a whole operand: only lower-precedence syntax around it."""
    before, after = before.rstrip(), after.lstrip()
    starts = any(before.endswith(token) for token in _BEFORE) or not before
    ends = any(after.startswith(token) for token in _AFTER) or not after
    return starts and ends


def _cut(op: str, text: str) -> Cut | None:
    if any(c in text for c in ".eE"):
        return op, float(text)
    literal = int(text)
    return (op, literal) if abs(literal) < _EXACT_INT else None
