"""``PanelSpec`` and the panel columns, derived from the registry.

``PanelSpec`` is a frozen dataclass with one field per distinct ``Param.field`` of the
registry, in registry order, so a new moon's parameters appear in it without an edit
here, and a last field ``moons``: which moons the panel computes (all by default; a
subset gets its own compiled drivers). Static type checkers see the small protocol-like
class under ``TYPE_CHECKING``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import field, fields, make_dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from moons._moon import MoonDef, Param
from moons._registry import REGISTRY
from moons._types import Columns

PANEL_COLUMNS: tuple[str, ...] = tuple(col for d in REGISTRY for col in d.columns)
ALL_MOONS: tuple[str, ...] = tuple(d.name for d in REGISTRY)


def _spec_params() -> dict[str, Param]:
    """Every spec field once (first declaration wins; later ones must agree on the default)."""
    seen: dict[str, Param] = {}
    for d in REGISTRY:
        for p in d.args:
            first = seen.setdefault(p.field, p)
            if first.default != p.default:
                raise ValueError(f"{p.field}: defaults {first.default!r} != {p.default!r}")
    return seen


def _check_field(name: str, value: Any, default: Any) -> None:
    """Spec rule: float fields finite and > 0, int fields ints >= 2."""
    if isinstance(default, float):
        if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
            raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    elif isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 2:
        raise ValueError(f"{name} must be an int >= 2, got {value!r}")


def _check_moons(value: Any) -> tuple[str, ...]:
    """The ``moons`` field: distinct registry names, at least one; returned in registry order."""
    is_iterable = isinstance(value, Iterable)
    names = (value,) if isinstance(value, str) else tuple(value) if is_iterable else ()
    unknown = [n for n in names if n not in ALL_MOONS]
    if unknown or not names or len(set(names)) != len(names):
        raise ValueError(f"moons must be distinct names from {ALL_MOONS}, got {value!r}")
    return tuple(n for n in ALL_MOONS if n in names)


def _post_init(self: Any) -> None:
    """Validate every field, then each moon's cross-parameter rule (e.g. fast < slow)."""
    for f in fields(self):
        if f.name == "moons":
            object.__setattr__(self, "moons", _check_moons(self.moons))
        else:
            _check_field(f.name, getattr(self, f.name), f.default)
    for d in REGISTRY:
        if d.validate is not None:
            d.validate(**d.kwargs(self))


def _columns(self: Any) -> Columns:
    """Output column names in their stable order (``spec.columns`` or ``spec.columns()``)."""
    if self.moons == ALL_MOONS:
        return Columns(PANEL_COLUMNS)
    return Columns(col for d in REGISTRY if d.name in self.moons for col in d.columns)


def _make_spec() -> type:
    """The frozen ``PanelSpec`` dataclass: one defaulted field per registry parameter."""
    params = _spec_params()
    return make_dataclass(
        "PanelSpec",
        [(name, type(p.default), field(default=p.default)) for name, p in params.items()]
        + [("moons", tuple, field(default=ALL_MOONS))],
        frozen=True,
        namespace={
            "__doc__": "Parameters of the moon panel (hashable, so usable as a cache-key "
            "part); one field per registry parameter: " + ", ".join(params) + "; and moons, "
            "the names of the moons computed (default: all, in registry order).",
            "__post_init__": _post_init,
            "columns": property(_columns),
            "__module__": __name__,
        },
    )


if TYPE_CHECKING:

    class PanelSpec:
        """Static view of the generated dataclass: every registry parameter is a field."""

        __dataclass_fields__: ClassVar[dict[str, Any]]

        def __init__(self, *values: float, **params: float) -> None: ...

        def __getattr__(self, name: str) -> Any: ...

        moons: tuple[str, ...]

        @property
        def columns(self) -> Columns: ...

else:
    PanelSpec = _make_spec()

DEFAULT_PANEL = PanelSpec()


def panel_columns(spec: PanelSpec = DEFAULT_PANEL) -> tuple[str, ...]:
    """Output column names of the panel for ``spec``, in stable order."""
    return tuple(spec.columns)


def panel_moons(spec: PanelSpec = DEFAULT_PANEL) -> tuple[MoonDef, ...]:
    """The moons the panel of ``spec`` computes, in registry order."""
    return tuple(d for d in REGISTRY if d.name in spec.moons)


def column_warmup(spec: PanelSpec) -> dict[str, int]:
    """Warm-up length (leading NaN bars) of every panel column under ``spec``."""
    return {col: d.warmup(spec) for d in panel_moons(spec) for col in d.columns}
