"""Random draws the demo school makes again and again: school-day indices, spaced or distinct, and weighted choices.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


# The school year the demo covers (its days come from the shipped term dates).
START, END = pd.Timestamp("2025-09-03"), pd.Timestamp("2026-07-21")


def spaced(rng, lo: int, hi: int, n: int, gap: int) -> np.ndarray:
    """``n`` sorted day indices in [lo, hi) with consecutive ones at least ``gap`` school days apart."""
    room = hi - lo - (gap - 1) * (n - 1)
    if n <= 0:
        return np.zeros(0, dtype=np.int64)
    if room < n:
        raise ValueError("not enough school days")
    picks = np.sort(rng.choice(room, size=n, replace=False))
    return lo + picks + np.arange(n) * (gap - 1)


def pick(rng, lo: int, hi: int, n: int) -> np.ndarray:
    """``n`` distinct sorted day indices in [lo, hi) (all of them when the range is shorter)."""
    hi = max(hi, lo)
    n = min(n, hi - lo)
    return np.sort(rng.choice(np.arange(lo, hi), size=n, replace=False)) if n > 0 else np.zeros(0, np.int64)


def choice(rng, options: list, weights=None, size=None):
    p = None if weights is None else np.asarray(weights, float) / np.sum(weights)
    return rng.choice(len(options), size=size, p=p)
