"""heliarch moons: cached, compiled numeric calculators.

Each moon has three entry points sharing one numba step kernel: ``moons.batch`` (history
-> arrays), ``moons.incremental`` (O(1) per-bar state objects) and the warp (one compiled
call advances N instruments: ``StreamingPanel``). The panel (``batch_panel``,
``StreamingPanel``) computes every moon in one fused pass; batch results are cached by
content key.
"""

from moons import batch, incremental
from moons._book import order_book_imbalance
from moons._cache import DEFAULT_CACHE, CacheBackend, LruBackend, MoonCache, content_key
from moons._cache_redis import RedisBackend
from moons._panel import StreamingPanel, batch_panel, last_panel_row
from moons._registry import MOONS, MoonDef, column_warmup
from moons._types import DEFAULT_PANEL, Ohlcv, PanelSpec, panel_columns

__all__ = [
    "DEFAULT_CACHE",
    "DEFAULT_PANEL",
    "MOONS",
    "CacheBackend",
    "LruBackend",
    "MoonCache",
    "MoonDef",
    "Ohlcv",
    "PanelSpec",
    "RedisBackend",
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
