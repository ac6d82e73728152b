"""One estimate per programme from its enrolments' log rate ratios: a random-effects meta-analysis.

Counting verdicts ("5 of 60 enrolments clearly improved") is the textbook error in pooling (Borenstein et al. 2009,
Introduction to Meta-Analysis, ch. 28): it ignores how precise each enrolment is and says nothing of the size of
the effect. Here each enrolment's log rate ratio enters with its own variance, the between-enrolment variance tau^2
is estimated by Paule-Mandel (statsmodels ``combine_effects``, method "iterated"), and the 95% interval uses the
Hartung-Knapp-Sidik-Jonkman variance, never below the usual one, with a t quantile on k - 1 degrees of freedom
(the "modified Knapp-Hartung" interval, Röver, Knapp & Friede 2015), which keeps its coverage with a handful of
enrolments where the normal-quantile interval is too narrow (docs/impact.md has the simulation).
"""

from __future__ import annotations

import numpy as np
from scipy import stats
from statsmodels.stats.meta_analysis import combine_effects

POOL_KEYS = ("estimate", "ci_low", "ci_high", "tau2", "i2", "k")
METHOD = "random effects (Paule-Mandel tau², modified Knapp-Hartung 95% interval)"


def pool_log_ratios(log_ratio, se, confidence: float = 0.95) -> dict:
    """Pooled log rate ratio with its interval, tau^2 and I^2 (0..1), from per-enrolment estimates and SEs.

    Rows with a missing estimate or SE are left out; ``k`` says how many entered. One enrolment is its own
    estimate (a t interval on 0 degrees of freedom does not exist, so its normal interval is returned, tau^2 and I^2
    undefined); none gives NaN throughout.
    """
    y = np.asarray(log_ratio, dtype=float)
    s = np.asarray(se, dtype=float)
    keep = np.isfinite(y) & np.isfinite(s) & (s > 0)
    y, v = y[keep], s[keep] ** 2
    k = int(keep.sum())
    nan = float("nan")
    if k == 0:
        return dict(zip(POOL_KEYS, (nan, nan, nan, nan, nan, 0)))
    if k == 1:
        z = stats.norm.isf((1 - confidence) / 2)
        return dict(zip(POOL_KEYS, (y[0], y[0] - z * s[keep][0], y[0] + z * s[keep][0], nan, nan, 1)))
    res = combine_effects(y, v, method_re="iterated")
    var = max(float(res.var_hksj_re), float(res.var_eff_w_re))
    half = stats.t.isf((1 - confidence) / 2, k - 1) * np.sqrt(var)
    mean = float(res.mean_effect_re)
    # I^2 below 0 (less spread than the within-enrolment variances explain) is reported as 0, as is usual.
    i2 = max(0.0, float(res.i2)) if np.isfinite(res.i2) else 0.0
    return dict(zip(POOL_KEYS, (mean, mean - half, mean + half, max(0.0, float(res.tau2)), i2, k)))
