"""One estimate per programme from its enrolments: a pooled rate ratio with an honest interval, and how much the
enrolments differ.

Counting verdicts ("5 of 60 enrolments clearly improved") is the textbook error in pooling (Borenstein et al. 2009,
Introduction to Meta-Analysis, ch. 28): it ignores how precise each enrolment is and says nothing of the size of
the effect. Two tools, each for what it does well (docs/impact.md has the simulation behind the choice):

- :func:`pool_rate_ratios`, the estimate and its interval: the conditional Poisson model. Given an enrolment's
  incidents in both windows together, those during the intervention are binomial with odds RR x (intervention
  days / baseline days); a binomial GLM (statsmodels) with that offset estimates the common log RR. Its variance
  is the robust (sandwich) one across enrolments with each residual scaled by 1 / (1 - leverage) (the "CR2"
  small-sample form, Bell & McCaffrey 2002), never below the binomial model's; it absorbs both the week-to-week
  overdispersion within pupils and the real differences between them. The sandwich sums residuals by pupil, so
  several enrolments of one pupil (enrolled again after a break) count as one pupil's evidence, not as
  independent ones, and the t quantile takes pupils - 1 degrees of freedom. Unlike inverse-variance pooling of each enrolment's log ratio, it needs no 0.5 added to zero counts
  and its weights do not depend on the counts being pooled, so a programme of pupils with few incidents is not
  pulled towards "no change" (measured: 0.59 for a true 0.5 that way, 0.50 this way).
- :func:`pool_log_ratios`, the heterogeneity: a random-effects meta-analysis of the log ratios (statsmodels
  ``combine_effects``, Paule-Mandel tau^2) for tau^2 and I^2, the share of the spread between enrolments beyond
  chance.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats
from statsmodels.stats.meta_analysis import combine_effects

POOL_KEYS = ("estimate", "ci_low", "ci_high", "tau2", "i2", "k")
METHOD = ("conditional Poisson GLM, robust (CR2, by pupil) variance, t interval on pupils - 1 degrees of freedom; "
          "I² from a Paule-Mandel random-effects pool")


def pool_rate_ratios(events_treatment, days_treatment, events_baseline, days_baseline, offset=None,
                     extra_variance: float = 0.0, confidence: float = 0.95, pupils=None) -> dict:
    """Pooled log rate ratio (intervention / baseline) with its interval, from each enrolment's counts and days.

    ``offset`` (log scale, per enrolment) is subtracted from each enrolment's log ratio, e.g. the comparison
    group's log ratio over the same days, to pool a difference in differences; ``extra_variance`` is added to the
    estimate's variance (the comparison's own, on the log scale). Enrolments with no incidents at all or no days
    in a window carry no information and are left out; ``k`` says how many entered. ``pupils`` (one id per
    enrolment) groups the enrolments of one pupil in the robust variance; without it each enrolment is its own
    pupil. Returns ``estimate``, ``ci_low``, ``ci_high`` (log scale) and ``k``; one pupil gives their own estimate
    with a normal interval (no dispersion between pupils can be estimated from one).
    """
    a = np.asarray(events_treatment, dtype=float)
    b = np.asarray(events_baseline, dtype=float)
    dt = np.asarray(days_treatment, dtype=float)
    db = np.asarray(days_baseline, dtype=float)
    off = np.zeros(len(a)) if offset is None else np.asarray(offset, dtype=float)
    who = np.arange(len(a)) if pupils is None else pd.factorize(pd.Series(pupils, dtype=object))[0]
    keep = (a + b > 0) & (dt > 0) & (db > 0) & np.isfinite(off) & np.isfinite(a) & np.isfinite(b)
    a, n, off = a[keep], (a + b)[keep], (np.log(dt / np.where(db > 0, db, 1)) + off)[keep]
    k, who = int(keep.sum()), pd.factorize(who[keep])[0]
    g = int(who.max()) + 1 if k else 0
    nan = float("nan")
    if k == 0 or a.sum() == 0 or a.sum() == n.sum():
        # No incidents during (or none before) in any enrolment: the ratio is 0 (or infinite), no interval.
        return {"estimate": nan, "ci_low": nan, "ci_high": nan, "k": k}
    if k == 1:  # saturated: the enrolment's own log odds (a GLM fit of one row has no residual degrees of freedom)
        est, p = float(np.log(a[0] / (n[0] - a[0])) - off[0]), a / n
    else:
        fit = sm.GLM(np.column_stack([a, n - a]), np.ones((k, 1)), family=sm.families.Binomial(), offset=off).fit()
        est, p = float(fit.params[0]), np.asarray(fit.fittedvalues, dtype=float)
    info = float((n * p * (1 - p)).sum())
    if g == 1:
        # One pupil is their own estimate, with the binomial (Poisson) variance, 1/a + 1/b for one enrolment,
        # and a normal interval.
        half = stats.norm.isf((1 - confidence) / 2) * np.sqrt(1 / info + extra_variance)
        return {"estimate": est, "ci_low": est - half, "ci_high": est + half, "k": k}
    # The robust (sandwich) variance: each pupil's summed residual squared, over 1 - the pupil's leverage (CR2:
    # for this one-parameter model (I - H_gg)^(-1/2) comes to that), over the squared information; never below
    # the binomial model's own 1 / information. A constant dispersion (Pearson) would be too small here: a
    # pupil's week-to-week overdispersion inflates the binomial variance by more the more incidents the pupil
    # has, and those pupils weigh most.
    residual = np.bincount(who, weights=a - n * p, minlength=g)
    leverage = np.bincount(who, weights=n * p * (1 - p), minlength=g) / info
    sandwich = float((residual**2 / (1 - leverage)).sum()) / info**2
    var = max(sandwich, 1 / info) + extra_variance
    crit = stats.t.isf((1 - confidence) / 2, g - 1)
    half = crit * np.sqrt(var)
    return {"estimate": est, "ci_low": est - half, "ci_high": est + half, "k": k}


def pool_log_ratios(log_ratio, se, confidence: float = 0.95) -> dict:
    """Random-effects pool of log ratios: estimate with its interval, tau^2 and I^2 (0..1).

    Paule-Mandel tau^2 (statsmodels ``combine_effects``, method "iterated"); the interval uses the
    Hartung-Knapp-Sidik-Jonkman variance, never below the usual one, with a t quantile on k - 1 degrees of
    freedom (the "modified Knapp-Hartung" interval, Röver, Knapp & Friede 2015). Rows with a missing estimate or
    SE are left out; ``k`` says how many entered. One row is its own estimate (normal interval, tau^2 and I^2
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
    with np.errstate(divide="ignore", invalid="ignore"):
        res = combine_effects(y, v, method_re="iterated")
        i2 = float(res.i2)
    var = max(float(res.var_hksj_re), float(res.var_eff_w_re))
    half = stats.t.isf((1 - confidence) / 2, k - 1) * np.sqrt(var)
    mean = float(res.mean_effect_re)
    # I^2 below 0 (less spread than the within-enrolment variances explain) is reported as 0, as is usual.
    i2 = max(0.0, i2) if np.isfinite(i2) else 0.0
    return dict(zip(POOL_KEYS, (mean, mean - half, mean + half, max(0.0, float(res.tau2)), i2, k)))
