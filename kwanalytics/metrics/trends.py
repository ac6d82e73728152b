"""Trends: the Theil-Sen slope, written once for every trend the reports quote (engagement per session in
sessions.py, incidents per school week in the watchlist's escalation pattern in patterns.py).

The Theil-Sen slope (Sen 1968) is the median of the slopes between every pair of points with different x: robust
to a few outlying sessions or weeks, unlike least squares. It equals ``scipy.stats.theilslopes(y, x).slope``
(tests/test_trends.py checks this); it is computed here with NumPy because theilslopes also works out an
intercept and a confidence interval the reports do not use, and one call per pupil adds up in a trust.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np


@lru_cache(maxsize=512)
def _pairs(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Every pair i < j of n positions (pupils share their counts of sessions or weeks, so each n is worked out
    once)."""
    return np.triu_indices(n, 1)


def theil_sen_slope(y, x=None) -> float:
    """The median of the pairwise slopes of ``y`` against ``x`` (default: 0, 1, 2, ...); NaN with fewer than two
    distinct x."""
    y = np.asarray(y, dtype=float)
    x = np.arange(len(y), dtype=float) if x is None else np.asarray(x, dtype=float)
    i, j = _pairs(len(y))
    dx = x[j] - x[i]
    keep = dx != 0
    if not keep.any():
        return float("nan")
    return float(np.median((y[j] - y[i])[keep] / dx[keep]))
