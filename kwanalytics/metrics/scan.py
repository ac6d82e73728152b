"""The scan statistic behind the watchlist's cluster test: how likely is a pupil's busiest run of school days?

Conditional on the pupil's total: given ``n`` incidents on ``days`` school days on roll, chance (a constant rate)
places each incident on a school day uniformly at random, independently. The statistic is the most incidents in
any ``window`` consecutive school days of the pupil's own time on roll. Its tail probability has no simple closed
form, so the test uses an upper bound, exact enough to keep power and never below the true probability, so the
p-value is valid (docs/patterns.md):

    P(max >= s) <= P(W_1 >= s) + (L - 1) * P(W_1 <= s - 1, W_2 >= s)

where W_t counts the incidents in the t-th window and L = days - window + 1 windows. The event "some window holds
s or more" is exactly "the first window does, or some window is the first to reach s after the one before it did
not"; the windows are exchangeable under chance, so each of the L - 1 crossings has the probability of the first.
The crossing is a four-cell multinomial (the day the window drops, the window's other days, the day it gains, the
rest), summed exactly.
"""

from __future__ import annotations

import numpy as np
from scipy import stats


def densest_windows(positions: np.ndarray, pupils: np.ndarray, window: int) -> np.ndarray:
    """For each incident, the incidents of the same pupil in the ``window`` school days starting at its day.

    ``positions`` are school-day ordinals and ``pupils`` integer codes, both sorted by pupil then position.
    Returns the count per incident (its window starts at its own position); the pupil's busiest window starts at
    one of its incidents.
    """
    span = int(positions.max()) + window + 1 if len(positions) else 1
    key = pupils.astype(np.int64) * span + positions.astype(np.int64)
    inside = np.searchsorted(key, key + window, "left") - np.arange(len(key))
    return inside


def scan_p_value(s, n, days, window: int) -> np.ndarray:
    """Upper bound on P(some ``window`` consecutive school days hold ``s`` or more of ``n`` incidents placed at
    random on ``days`` school days), elementwise. 1 where the test cannot tell (``days <= window`` or ``s <= 1``).
    """
    s, n, days = (np.atleast_1d(np.asarray(a, dtype=np.int64)) for a in (s, n, days))
    s, n, days = np.broadcast_arrays(s, n, days)
    out = np.ones(s.shape, dtype=float)
    ok = (days > window) & (s >= 2) & (n >= s)
    if not ok.any():
        return out
    s_, n_, d_ = s[ok], n[ok], days[ok].astype(float)
    first = stats.binom.sf(s_ - 1, n_, window / d_)
    crossing = np.zeros(len(s_))
    # W_1 <= s-1 and W_2 >= s: the shared (window - 1) days hold m, the dropped day c <= s-1-m, the new day >= s-m
    for m in range(int(s_.max())):
        p_m = stats.binom.pmf(m, n_, (window - 1) / d_)
        rest = n_ - m
        for c in range(int(s_.max()) - m):
            live = (m + c <= s_ - 1) & (rest >= c)
            if not live.any():
                continue
            p_c = stats.binom.pmf(c, rest, 1 / (d_ - window + 1))
            p_new = stats.binom.sf(s_ - m - 1, rest - c, 1 / (d_ - window))
            crossing += np.where(live, p_m * p_c * p_new, 0.0)
    out[ok] = np.minimum(1.0, first + (d_ - window) * crossing)
    return out
