"""heliarch moons: cached, compiled numeric calculators.

Every moon is declared once in the registry (``REGISTRY`` / ``MOONS``: inputs, parameters,
columns, state size, step kernel). From that declaration it gets three entry points sharing
one numba step kernel: ``moons.batch`` (history
-> arrays), ``moons.incremental`` (O(1) per-bar state objects) and the warp (one compiled
call advances N instruments: ``StreamingPanel``). The panel (``batch_panel``,
``StreamingPanel``) computes every moon in one fused pass; batch results are cached by
content key, and ``PanelCarry`` carries a history's state forward to the next call whose
history extends it (O(new bars), verified equal).
"""

from moons import batch, incremental
from moons._book import order_book_imbalance
from moons._cache import DEFAULT_CACHE, CacheBackend, LruBackend, MoonCache, content_key
from moons._cache_redis import RedisBackend
from moons._carry import PanelCarry
from moons._moon import MoonDef, Param
from moons._panel import HistoryPanel, batch_panel, last_panel_row
from moons._registry import MOONS, REGISTRY
from moons._spec import DEFAULT_PANEL, PanelSpec, column_warmup, panel_columns
from moons._streaming import StreamingPanel
from moons._types import PRICE_MAX, PRICE_MIN, VOLUME_MAX, Ohlcv

__all__ = [
    "DEFAULT_CACHE",
    "DEFAULT_PANEL",
    "MOONS",
    "PRICE_MAX",
    "PRICE_MIN",
    "REGISTRY",
    "VOLUME_MAX",
    "CacheBackend",
    "LruBackend",
    "MoonCache",
    "MoonDef",
    "Ohlcv",
    "Param",
    "PanelCarry",
    "PanelSpec",
    "RedisBackend",
    "HistoryPanel",
    "StreamingPanel",
    "batch",
    "batch_panel",
    "column_warmup",
    "content_key",
    "incremental",
    "last_panel_row",
    "order_book_imbalance",
    "panel_columns",
]
