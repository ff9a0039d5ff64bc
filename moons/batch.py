"""Batch entry points: one history in, one output array per moon column out.

One function per registered moon (``moons.batch.sma``, ``moons.batch.macd``, ...),
generated from the registry: inputs first (e.g. ``close`` or ``high, low, close``), then
the parameters with their defaults. Each runs the moon's step kernel over the whole
history on a fresh state, so it equals the incremental class fed bar by bar. Outputs are
NaN during warm-up (see each docstring) and all-NaN when the history is shorter than that.
Inputs are checked at the boundary (``moons._types``): ValueError names field and index.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from moons._api import make_batch
from moons._moon import check_period
from moons._registry import REGISTRY

for _moon in REGISTRY:
    globals()[_moon.name] = make_batch(_moon)

__all__ = ["check_period", *(_moon.name for _moon in REGISTRY)]

if TYPE_CHECKING:

    def __getattr__(name: str) -> Callable[..., Any]: ...
