"""Python entry points generated from a ``MoonDef``: the batch function and incremental class.

Both validate at the boundary (``moons._types``), pack the parameters with the moon's
``pack`` and drive the same compiled step kernel (``moons._fused.RUNS``), so they agree bit for bit with each
other and with the fused panel.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np

from moons._fused import RUNS, build_layout
from moons._moon import INPUTS, MoonDef
from moons._registry import REGISTRY
from moons._types import as_price_array, check_bar_rules, check_value

_POS = inspect.Parameter.POSITIONAL_OR_KEYWORD


def _input_params(moon: MoonDef) -> list[inspect.Parameter]:
    """Signature parameters of the moon's inputs (positional, no default)."""
    return [inspect.Parameter(name, _POS) for name in moon.inputs]


def _param_params(moon: MoonDef) -> list[inspect.Parameter]:
    """Signature parameters of the moon's parameters, with their defaults."""
    return [inspect.Parameter(p.arg, _POS, default=p.default) for p in moon.args]


def _six(moon: MoonDef, arrays: dict[str, np.ndarray]) -> list[np.ndarray]:
    """The six bar-field arrays a run takes; fields the moon does not read alias one it does."""
    filler = arrays[moon.inputs[0]]
    return [arrays.get(name, filler) for name in INPUTS]


def _batch_arrays(moon: MoonDef, given: dict[str, Any]) -> dict[str, np.ndarray]:
    """Validate the input histories: finite, in bounds, equal lengths, OHLC rules."""
    arrays = {n: as_price_array(given[n], n) for n in moon.inputs}
    first = moon.inputs[0]
    for name, arr in arrays.items():
        if arr.shape != arrays[first].shape:
            raise ValueError(
                f"{name}: length {arr.shape[0]} != {first} length {arrays[first].shape[0]}"
            )
    check_bar_rules(arrays)
    return arrays


def _split(moon: MoonDef, out: np.ndarray) -> Any:
    """(n, k) output -> one array (k == 1) or a tuple of k contiguous arrays."""
    if len(moon.columns) == 1:
        return out.reshape(out.shape[0])
    return tuple(out[:, j].copy() for j in range(out.shape[1]))


def make_batch(moon: MoonDef) -> Callable[..., Any]:
    """The ``moons.batch`` function of ``moon``: whole history in, output array(s) out."""
    which = REGISTRY.index(moon)
    sig = inspect.Signature(_input_params(moon) + _param_params(moon))

    def run(*args: Any, **kwargs: Any) -> Any:
        bound = sig.bind(*args, **kwargs)
        bound.apply_defaults()
        arrays = _batch_arrays(moon, bound.arguments)
        params = moon.check(bound.arguments)
        ip, fp, size = build_layout([(moon, params)])
        n = arrays[moon.inputs[0]].shape[0]
        out = np.empty((n, len(moon.columns)))
        RUNS[which](np.zeros(size), ip, fp, *_six(moon, arrays), out)
        return _split(moon, out)

    run.__name__ = run.__qualname__ = moon.name
    run.__module__ = "moons.batch"
    run.__doc__ = moon.doc
    run.__dict__["__signature__"] = sig  # read by inspect.signature / help()
    moon.entry_points["batch"] = run
    return run


class MoonState:
    """Streaming state of one moon: ``update(...)`` consumes one closed bar in O(1).

    Fed from bar 0, it reproduces the moon's ``moons.batch`` function exactly. Subclasses
    (``moons.incremental.Sma``, ...) are generated from the registry.
    """

    moon: ClassVar[MoonDef]
    _which: ClassVar[int]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        sig = inspect.Signature(_param_params(self.moon))
        bound = sig.bind(*args, **kwargs)
        bound.apply_defaults()
        params = self.moon.check(bound.arguments)
        for name, value in params.items():
            setattr(self, name, value)
        self._ip, self._fp, size = build_layout([(self.moon, params)])
        self._st = np.zeros(size)
        self._bar = np.zeros((len(INPUTS), 1))
        self._rows = [self._bar[INPUTS.index(n)] for n in self.moon.inputs]
        self._six = [self._bar[i] for i in range(len(INPUTS))]
        self._out = np.empty((1, len(self.moon.columns)))

    def reset(self) -> None:
        """Forget all history (back to the state before bar 0)."""
        self._st[:] = 0.0

    def update(self, *values: float) -> Any:
        """Consume one bar (the moon's inputs, in order); returns a float or a tuple."""
        names = self.moon.inputs
        if len(values) != len(names):
            raise TypeError(f"update() takes {len(names)} values ({', '.join(names)})")
        checked = {n: check_value(v, n) for n, v in zip(names, values, strict=True)}
        check_bar_rules(checked)
        for row, x in zip(self._rows, checked.values(), strict=True):
            row[0] = x
        RUNS[self._which](self._st, self._ip, self._fp, *self._six, self._out)
        if self._out.shape[1] == 1:
            return float(self._out[0, 0])
        return tuple(float(v) for v in self._out[0])


def make_incremental(moon: MoonDef) -> type[MoonState]:
    """The ``moons.incremental`` class of ``moon`` (a ``MoonState`` subclass)."""
    cls = type(
        moon.class_name,
        (MoonState,),
        {"moon": moon, "_which": REGISTRY.index(moon), "__doc__": moon.doc,
         "__module__": "moons.incremental",
         "__signature__": inspect.Signature(_param_params(moon))},
    )  # fmt: skip
    moon.entry_points["incremental"] = cls
    return cls
