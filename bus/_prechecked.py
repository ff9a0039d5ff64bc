"""Contract objects from values already checked over arrays, without validating each again.

Why: a universe pass builds thousands of planet reports and decisions per tick. Pydantic
validates one object in ~3 us and ``model_construct`` (pure Python) takes twice that, while
the numeric constraints can be checked for every instrument at once. The pattern is:

1. check the numbers of all rows over arrays (:func:`report_rows_ok`, :func:`decision_rows_ok`:
   exactly the field constraints and model validators of :class:`PlanetReport`,
   :class:`ReasonedDecision` and :class:`SunDecision`, NaN and infinities refused);
2. build the rows that pass with :func:`prechecked` (~1 us), and every other row with the
   validating constructor, so a bad row raises exactly the error it always raised.

:func:`prechecked` trusts its caller for the types: only values that validation would return
unchanged (``str``, ``float``, ``bool``, tuples of models or strings, ``dict[str, float]``
with ``float`` values, a validated instrument id, a ``datetime``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
from pydantic import BaseModel
from pydantic_core import PydanticUndefined

Model = TypeVar("Model", bound=BaseModel)

_ACTIONS = {"BUY": 1, "SELL": -1, "HOLD": 0}
_set = object.__setattr__


@dataclass(frozen=True)
class _Layout:
    """What :func:`prechecked` needs of a model class, worked out once per class."""

    template: dict[str, Any]  # every field in declaration order: its default (or a marker)
    names: frozenset[str]
    required: frozenset[str]
    factories: tuple[tuple[str, Callable[[], Any]], ...]


@functools.cache
def _layout(cls: type[BaseModel]) -> _Layout:
    template: dict[str, Any] = {}
    required, factories = [], []
    for name, info in cls.model_fields.items():
        if info.default_factory_takes_validated_data:
            raise TypeError(f"{cls.__name__}.{name}: a default factory reading other fields")
        template[name] = info.default
        if info.default_factory is not None:
            factories.append((name, info.default_factory))
        elif info.default is PydanticUndefined:
            required.append(name)
    return _Layout(template, frozenset(template), frozenset(required), tuple(factories))  # type: ignore[arg-type]  # no-arg factories (checked above)


_Factories = tuple[tuple[str, Callable[[], Any]], ...]


def _absent(factories: _Factories, given: Mapping[str, Any] | frozenset[str]) -> _Factories:
    """The default factories of the fields not ``given``."""
    return tuple((name, factory) for name, factory in factories if name not in given)


def prechecked(
    cls: type[Model], values: Mapping[str, Any], keys: frozenset[str] | None = None
) -> Model:
    """An instance of ``cls`` holding ``values`` (defaults for the rest), not validated again.

    The object equals ``cls(**values)`` (same field values in the same order, same
    ``model_fields_set``) when the values passed the row checks of this module and have the
    types validation returns.

    Args:
        cls: The model class.
        values: Field values (the fields given, as keyword arguments would give them).
        keys: For a frozen model built many times with the same fields given: those field
            names. The objects then share one ``model_fields_set`` (pydantic never changes
            it on a frozen model; ``model_copy`` copies it), sparing a set per object, which
            the cyclic garbage collector would also have to scan.

    Raises:
        TypeError: naming a field ``cls`` does not have, or a required field not given, or
            when ``values`` are not exactly ``keys``.
    """
    if keys is not None:
        return _builder(cls, keys)(values)
    layout = _layout(cls)
    given = set(values)
    if not values.keys() <= layout.names or not layout.required <= given:
        _explain(cls, layout, values)
    return _make(cls, {**layout.template, **values}, _absent(layout.factories, values), given)


def prechecked_builder(
    cls: type[Model], keys: frozenset[str]
) -> Callable[[Mapping[str, Any]], Model]:
    """``lambda values: prechecked(cls, values, keys)``, everything about ``cls`` and ``keys``
    worked out once (for a caller building thousands of objects per pass).

    Raises:
        TypeError: as :func:`prechecked` (``keys`` at once, ``values`` per object).
    """
    return _builder(cls, keys)


def _make(cls: type[Model], state: dict[str, Any], factories: _Factories, given: set[str]) -> Model:
    for name, factory in factories:
        state[name] = factory()
    obj = cls.__new__(cls)
    _set(obj, "__dict__", state)
    _set(obj, "__pydantic_fields_set__", given)
    _set(obj, "__pydantic_extra__", None)
    _set(obj, "__pydantic_private__", None)
    return obj


@functools.cache
def _builder(cls: type[Model], keys: frozenset[str]) -> Callable[[Mapping[str, Any]], Model]:
    template, given, factories = _shared(cls, keys)  # ``keys`` checked here, once
    new = cls.__new__

    def build(values: Mapping[str, Any]) -> Model:
        if values.keys() != keys:
            raise TypeError(f"{cls.__name__}: fields {sorted(values)} are not {sorted(keys)}")
        if factories:
            return _make(cls, {**template, **values}, factories, given)
        obj = new(cls)
        _set(obj, "__dict__", {**template, **values})
        _set(obj, "__pydantic_fields_set__", given)
        _set(obj, "__pydantic_extra__", None)
        _set(obj, "__pydantic_private__", None)
        return obj

    return build


@functools.cache
def _shared(
    cls: type[BaseModel], keys: frozenset[str]
) -> tuple[dict[str, Any], set[str], _Factories]:
    """For ``cls`` objects built with ``keys`` (frozen models only), worked out once: the
    template, the one fields set they share, the factories of the fields not in ``keys``
    (one cached look-up per object instead of two and a loop over every factory)."""
    if not cls.model_config.get("frozen"):
        raise TypeError(f"{cls.__name__} is not frozen: its objects cannot share a fields set")
    layout = _layout(cls)
    if not keys <= layout.names or not layout.required <= keys:
        _explain(cls, layout, dict.fromkeys(keys))
    return layout.template, set(keys), _absent(layout.factories, keys)


def _explain(cls: type[BaseModel], layout: _Layout, values: Mapping[str, Any]) -> None:
    unknown = sorted(set(values) - set(layout.template))
    if unknown:
        raise TypeError(f"{cls.__name__} has no field {unknown[0]!r}")
    absent = sorted(layout.required - set(values))
    raise TypeError(f"{cls.__name__}: required field {absent[0]!r} not given")


def report_rows_ok(score: np.ndarray, confidence: np.ndarray, has_data: np.ndarray) -> np.ndarray:
    """Per row, whether :class:`PlanetReport` accepts this score, confidence and has_data.

    Score finite in [-1, 1], confidence finite in [0, 1], and confidence 0 without data.
    """
    score = np.asarray(score, dtype=np.float64)
    confidence = np.asarray(confidence, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        ok = (score >= -1.0) & (score <= 1.0) & (confidence >= 0.0) & (confidence <= 1.0)
    return ok & (np.asarray(has_data, dtype=np.bool_) | (confidence == 0.0))


def decision_rows_ok(
    actions: Sequence[str], target: np.ndarray, confidence: np.ndarray
) -> np.ndarray:
    """Per row, whether :class:`ReasonedDecision` and :class:`SunDecision` accept this action,
    target position and confidence.

    Action one of BUY / SELL / HOLD matching the target's sign (BUY > 0, SELL < 0,
    HOLD == 0), target finite in [-1, 1], confidence finite in [0, 1].
    """
    target = np.asarray(target, dtype=np.float64)
    confidence = np.asarray(confidence, dtype=np.float64)
    code = np.array([_ACTIONS.get(a, 2) if type(a) is str else 2 for a in actions])
    with np.errstate(invalid="ignore"):
        ok = (target >= -1.0) & (target <= 1.0) & (confidence >= 0.0) & (confidence <= 1.0)
        sign = np.sign(target)
    return ok & (code == sign)
