"""The one Theil-Sen slope (metrics/trends.py) against hand-worked values and scipy.stats.theilslopes."""

import numpy as np
import pytest
from scipy import stats

from kwanalytics.metrics.trends import theil_sen_slope


def test_theil_sen_by_hand():
    # (0, 2), (1, 3), (2, 3), (3, 5): pairwise slopes 1, .5, 1, 0, 1, 2 -> median 1.
    assert theil_sen_slope([2, 3, 3, 5]) == pytest.approx(1.0)
    # One wild point does not move it (least squares would give 2.9).
    assert theil_sen_slope([1, 2, 3, 4, 20], [0, 1, 2, 3, 4]) == pytest.approx(1.0)
    assert theil_sen_slope([4, 4, 4]) == 0.0
    assert np.isnan(theil_sen_slope([1.0])) and np.isnan(theil_sen_slope([1, 2], [3, 3]))


@pytest.mark.parametrize("seed", range(20))
def test_theil_sen_equals_scipy_on_seeded_data_with_ties_in_x(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(3, 40))
    x = np.sort(rng.integers(0, n, n)).astype(float)  # repeated x values: their pairs are left out
    y = rng.poisson(3, n) + 0.1 * x
    if len(np.unique(x)) < 2:
        x[-1] += 1
    assert theil_sen_slope(y, x) == pytest.approx(stats.theilslopes(y, x).slope)
