"""Situation embeddings: a deterministic, normalized vector built from the moon panel.

Recall must work offline and must mean "a similar market state", so the situation vector is
made only of scale-free moon features (no price levels), each squashed into roughly
``[-1, 1]`` so that no single feature dominates the cosine similarity:

====================  ==========================================  =========================
component             definition                                   meaning
====================  ==========================================  =========================
``rsi``               ``(rsi - 50) / 50``                          overbought / oversold
``bb_pctb``           ``clip(2 * (bb_pctb - 0.5), -1.5, 1.5)``     position in the bands
``ret_z``             ``tanh(ret_z / 2)``                          size of the last move
``trend``             ``tanh((close - sma) / atr / 2)``            distance from the mean
``ema_sma``           ``tanh((ema - sma) / atr)``                  short vs long trend
``macd``              ``tanh(macd_hist / atr / 0.25)``             momentum acceleration
``vol``               ``tanh(log(vol_ratio))``                     volatility regime
``sharpe``            ``tanh(sharpe / 2)``                         recent risk-adjusted drift
``drawdown``          ``tanh(max_drawdown / 0.2)``                 depth of the drawdown
``var95``             ``tanh(var95 / 0.03)``                       tail risk per bar
``volume_z``          ``tanh(volume_z / 3)``                       abnormal activity
``bias``              ``0.5`` (constant)                           keeps the norm away from 0
====================  ==========================================  =========================

``vol_ratio`` is the short-window per-bar volatility ``realized_vol / sqrt(periods_per_year)``
over the long-window one implied by VaR95 (``var95 / 1.645``): scale-free across bar sizes.

The vector is L2-normalized, so the dot product of two situations is their cosine similarity.
The constant ``bias`` component makes "quiet" states (all features near 0) similar to each other
instead of having an undefined direction. A panel still warming up (any required moon NaN) has
no situation vector: it is never stored nor used as a query (missing data is not "neutral").
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

SITUATION_FEATURES: tuple[str, ...] = (
    "rsi",
    "bb_pctb",
    "ret_z",
    "trend",
    "ema_sma",
    "macd",
    "vol",
    "sharpe",
    "drawdown",
    "var95",
    "volume_z",
    "bias",
)
"""Names of the situation-vector components, in order."""

REQUIRED_MOONS: tuple[str, ...] = (
    "close",
    "sma",
    "ema",
    "rsi",
    "macd_hist",
    "bb_pctb",
    "atr",
    "realized_vol",
    "ret_z",
    "max_drawdown",
    "var95",
    "sharpe",
    "volume_z",
)
"""Moon-panel columns a situation vector is built from."""

DIM = len(SITUATION_FEATURES)


def situation_features(
    moons: Mapping[str, float], periods_per_year: int = 252
) -> dict[str, float] | None:
    """The named, squashed features of one instrument's moon values (None while warming up).

    ``periods_per_year`` must be the moon panel's (it annualized ``realized_vol``).
    """
    values = {}
    for name in REQUIRED_MOONS:
        value = moons.get(name)
        if value is None or not math.isfinite(value):
            return None
        values[name] = float(value)
    atr = values["atr"]
    vol = values["realized_vol"]
    if atr <= 0.0 or vol <= 0.0 or values["var95"] <= 0.0:
        return None
    vol_ratio = (vol / math.sqrt(periods_per_year)) / (values["var95"] / 1.645)
    return {
        "rsi": (values["rsi"] - 50.0) / 50.0,
        "bb_pctb": min(1.5, max(-1.5, 2.0 * (values["bb_pctb"] - 0.5))),
        "ret_z": math.tanh(values["ret_z"] / 2.0),
        "trend": math.tanh((values["close"] - values["sma"]) / atr / 2.0),
        "ema_sma": math.tanh((values["ema"] - values["sma"]) / atr),
        "macd": math.tanh(values["macd_hist"] / atr / 0.25),
        "vol": math.tanh(math.log(vol_ratio)),
        "sharpe": math.tanh(values["sharpe"] / 2.0),
        "drawdown": math.tanh(abs(values["max_drawdown"]) / 0.2),
        "var95": math.tanh(values["var95"] / 0.03),
        "volume_z": math.tanh(values["volume_z"] / 3.0),
        "bias": 0.5,
    }


def situation_vector(moons: Mapping[str, float]) -> np.ndarray | None:
    """The L2-normalized float32 situation vector (length :data:`DIM`), or None while warming up.

    Deterministic: the same moon values always give the same bytes.
    """
    features = situation_features(moons)
    if features is None:
        return None
    vector = np.array([features[name] for name in SITUATION_FEATURES], dtype=np.float64)
    vector /= np.linalg.norm(vector)
    return vector.astype(np.float32)


class HashingTextEmbeddings:
    """A deterministic, offline text embedding (signed feature hashing of word uni/bigrams).

    Implements the two methods of LangChain's ``Embeddings`` interface, so it can stand in
    wherever one is expected; pass a real ``Embeddings`` (OpenAI, Ollama, ...) to
    :class:`~memory.UniversalMemory` for semantic text similarity instead of lexical overlap.
    """

    def __init__(self, dim: int = 256) -> None:
        self.dim = dim

    def _embed(self, text: str) -> list[float]:
        import hashlib

        words = [w for w in "".join(c.lower() if c.isalnum() else " " for c in text).split() if w]
        grams = words + [f"{a} {b}" for a, b in zip(words, words[1:], strict=False)]
        vector = np.zeros(self.dim)
        for gram in grams:
            digest = hashlib.blake2b(gram.encode(), digest_size=8).digest()
            index = int.from_bytes(digest[:4], "little") % self.dim
            vector[index] += 1.0 if digest[4] & 1 else -1.0
        norm = float(np.linalg.norm(vector))
        if norm == 0.0:
            vector[0] = 1.0
            norm = 1.0
        return (vector / norm).tolist()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Embed several texts."""
        return [self._embed(t) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        """Embed one query text."""
        return self._embed(text)
