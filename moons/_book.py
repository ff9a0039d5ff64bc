"""Order-book imbalance (a plain function, not a time series)."""

from __future__ import annotations

import math

import numpy as np


def order_book_imbalance(bid_sizes: object, ask_sizes: object) -> float:
    """(sum bid - sum ask) / (sum bid + sum ask), in [-1, 1].

    Args:
        bid_sizes: sizes resting on the bid side (any 1-D sequence, may be a scalar).
        ask_sizes: sizes resting on the ask side.

    Raises:
        ValueError: a size is negative or not finite, or both sides sum to 0 (an empty book
            has no imbalance; returning 0 would look like a balanced book).
    """
    totals = []
    for name, sizes in (("bid_sizes", bid_sizes), ("ask_sizes", ask_sizes)):
        a = np.asarray(sizes, dtype=np.float64).reshape(-1)
        if not np.all(np.isfinite(a)):
            raise ValueError(f"{name}: sizes must be finite")
        if np.any(a < 0.0):
            raise ValueError(f"{name}: sizes must be >= 0")
        totals.append(float(a.sum()))
    bid, ask = totals
    total = bid + ask
    if not math.isfinite(total) or total <= 0.0:
        raise ValueError("order book is empty (bid + ask sizes sum to 0)")
    return (bid - ask) / total
