"""Incremental (streaming) moons: O(1)-per-bar state objects.

One ``MoonState`` subclass per registered moon, named after it in CamelCase
(``Sma``, ``Macd``, ``RealizedVol``, ``BetaCorr``, ...), generated from the registry.
``update(...)`` consumes one closed bar and returns the new value (a float, or a tuple for
multi-output moons). Fed from bar 0, every class reproduces its ``moons.batch`` function
exactly (both drive the same numba step kernel). Values are NaN during warm-up.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from moons._api import MoonState, make_incremental
from moons._registry import REGISTRY

for _moon in REGISTRY:
    globals()[_moon.class_name] = make_incremental(_moon)

__all__ = ["MoonState", *(_moon.class_name for _moon in REGISTRY)]

if TYPE_CHECKING:

    def __getattr__(name: str) -> type[MoonState]: ...
