"""The declaration of one moon (``MoonDef``) and what every entry point derives from it.

A moon is declared once in ``moons._registry``: its inputs, parameters, output columns,
state size, warm-up and its registry step kernel. The batch functions, the incremental
classes, the fused panel and ``PanelSpec`` are all built from these declarations.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

Packed = tuple[tuple[int, ...], tuple[float, ...]]
INPUTS = ("open", "high", "low", "close", "volume", "benchmark_close")


def check_period(name: str, value: Any) -> int:
    """Validate an integer window/period parameter (an int >= 2)."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 2:
        raise ValueError(f"{name} must be an int >= 2, got {value!r}")
    return int(value)


def check_positive(name: str, value: Any) -> Any:
    """Validate a real parameter that must be finite and > 0 (e.g. ``periods_per_year``).

    Returns the value unchanged (an int stays an int: the spec field keeps its type).
    """
    if isinstance(value, bool) or not isinstance(value, int | float | np.number):
        raise ValueError(f"{name} must be a number > 0, got {value!r}")
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be finite and > 0, got {value!r}")
    return value


def check_factor(name: str, value: Any) -> float:
    """Validate a float factor (finite, > 0) and return it as a float."""
    return float(check_positive(name, value))


@dataclass(frozen=True)
class Param:
    """One parameter of a moon.

    Attributes:
        arg: keyword of the batch function / incremental class (``period``).
        field: the ``PanelSpec`` field that sets it in the panel (``sma_period``).
        default: default value; its type (int or float) is the spec field's type.
        check: (arg, value) -> validated value; raises ValueError.
    """

    arg: str
    field: str
    default: int | float
    check: Callable[[str, Any], Any] = check_period


def _default_pack(**kwargs: Any) -> Packed:
    """Integer parameters to the int block, the others to the float block, in order."""
    ints = tuple(int(v) for v in kwargs.values() if isinstance(v, int | np.integer))
    floats = tuple(float(v) for v in kwargs.values() if not isinstance(v, int | np.integer))
    return ints, floats


@dataclass(frozen=True, eq=False)
class MoonDef:
    """One moon, declared once; everything else is derived.

    Attributes:
        name: registry key; also the ``moons.batch`` function name, and in CamelCase the
            ``moons.incremental`` class name.
        inputs: bar fields it reads, in call order (subset of open/high/low/close/volume/
            benchmark_close).
        args: its parameters.
        columns: the panel columns it produces, in the order its step writes them.
        step: numba step kernel ``step(st, o, *int_params, *float_params, *inputs)`` that
            advances the state at ``st[o:]`` by one bar and returns the value (one column),
            or takes ``(..., out, col)`` last and writes ``out[col:col + len(columns)]``.
        size: (**params) -> state length.
        lookback: (**params) -> warm-up (leading NaN bars).
        doc: one-line summary for the generated batch function and class.
        pack: (**params) -> (int params, float params) as the step kernel reads them.
        validate: (**params) -> None, cross-parameter checks (raise ValueError).
        windowed: True if a value depends only on the last ``lookback + 1`` bars (finite
            window), False for recursive moons (EMA-like) whose memory never ends.
    """

    name: str
    inputs: tuple[str, ...]
    args: tuple[Param, ...]
    columns: tuple[str, ...]
    step: Any
    size: Callable[..., int]
    lookback: Callable[..., int]
    doc: str
    pack: Callable[..., Packed] = _default_pack
    validate: Callable[..., None] | None = None
    windowed: bool = True
    class_name: str = field(init=False)
    entry_points: dict[str, Any] = field(init=False, default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        unknown = set(self.inputs) - set(INPUTS)
        if unknown:
            raise ValueError(f"moon {self.name}: unknown inputs {sorted(unknown)}")
        object.__setattr__(self, "class_name", self.name.title().replace("_", ""))

    @property
    def params(self) -> tuple[str, ...]:
        """The ``PanelSpec`` fields this moon reads."""
        return tuple(p.field for p in self.args)

    def kwargs(self, spec: Any) -> dict[str, Any]:
        """Keyword arguments of ``batch`` / ``incremental`` for a ``PanelSpec``."""
        return {p.arg: getattr(spec, p.field) for p in self.args}

    def warmup(self, spec: Any) -> int:
        """Leading NaN bars of this moon's columns under ``spec``."""
        return self.lookback(**self.kwargs(spec))

    def check(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """Validate parameters by ``arg`` name; returns them converted."""
        out = {p.arg: p.check(p.arg, values[p.arg]) for p in self.args}
        if self.validate is not None:
            self.validate(**out)
        return out

    @property
    def batch(self) -> Callable[..., Any]:
        """The ``moons.batch`` function of this moon (registered when ``moons`` loads)."""
        fn: Callable[..., Any] = self.entry_points["batch"]
        return fn

    @property
    def incremental(self) -> type:
        """The ``moons.incremental`` class of this moon (registered when ``moons`` loads)."""
        cls: type = self.entry_points["incremental"]
        return cls
