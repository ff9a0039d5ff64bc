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
        build = _builder(cls, keys)  # ``keys`` checked here
        if values.keys() != keys:
            raise TypeError(f"{cls.__name__}: fields {sorted(values)} are not {sorted(keys)}")
        return build(**values)
    layout = _layout(cls)
    given = set(values)
    if not values.keys() <= layout.names or not layout.required <= given:
        _explain(cls, layout, values)
    return _make(cls, {**layout.template, **values}, _absent(layout.factories, values), given)


def prechecked_builder(cls: type[Model], keys: frozenset[str]) -> Callable[..., Model]:
    """``lambda **values: prechecked(cls, values, keys)`` for a caller building thousands of
    objects per pass: a function taking exactly ``keys`` as keyword-only arguments (Python
    itself refuses a missing or unknown one with ``TypeError``), everything about ``cls`` and
    ``keys`` worked out once, each object built in one step (~30% less than merging a dict
    of values into the defaults).

    Raises:
        TypeError: as :func:`prechecked` (``keys`` at once, the arguments per object).
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
def _builder(cls: type[Model], keys: frozenset[str]) -> Callable[..., Model]:
    """The keyword-only builder of ``cls`` objects given ``keys``, generated once: its
    ``__dict__`` is one dict display in declaration order, the fields not given holding their
    default (or a fresh value of their factory). Field names are identifiers that cannot start
    with an underscore (pydantic's rule), so they never clash with the builder's own names."""
    template, given, factories = _shared(cls, keys)  # ``keys`` checked here, once
    made = dict(factories)
    env: dict[str, Any] = {"_new": cls.__new__, "_cls": cls, "_set": _set, "_given": given}
    entries = []
    for index, name in enumerate(template):
        if name in keys:
            entries.append(f"{name!r}: {name}")
        elif name in made:
            env[f"_factory{index}"] = made[name]
            entries.append(f"{name!r}: _factory{index}()")
        else:
            env[f"_default{index}"] = template[name]
            entries.append(f"{name!r}: _default{index}")
    arguments = ", ".join(name for name in template if name in keys)
    function = f"{cls.__name__}_prechecked"
    source = (
        f"def {function}(*, {arguments}):\n"
        "    _obj = _new(_cls)\n"
        f"    _set(_obj, '__dict__', {{{', '.join(entries)}}})\n"
        "    _set(_obj, '__pydantic_fields_set__', _given)\n"
        "    _set(_obj, '__pydantic_extra__', None)\n"
        "    _set(_obj, '__pydantic_private__', None)\n"
        "    return _obj\n"
    )
    exec(source, env)  # the source is built above from the model's own field names
    build: Callable[..., Model] = env[function]
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
