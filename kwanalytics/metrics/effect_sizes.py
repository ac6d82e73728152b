"""Single-case effect sizes: how far a treatment phase (B) improves on a baseline phase (A) for one pupil.

Every function takes the baseline and treatment observations (any 1-D array-like, in time order; missing values
are dropped) and ``improvement="increase"`` or ``"decrease"`` (which direction is better: fewer incidents is
``"decrease"``), and returns an :class:`Effect`. Each measure is oriented so that larger values mean more
improvement, exactly as the SingleCaseES R package does (Pustejovsky, Chen, Swan & Grekov,
https://jepusto.github.io/SingleCaseES/, vignette "Effect size definitions and mathematical details"); our tests
reproduce that package's worked examples.

Where a phase has no observations the estimate is NaN: callers say "too little data" rather than guess.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from scipy import optimize, stats

__all__ = [
    "Effect",
    "nap",
    "tau",
    "tau_u",
    "pnd",
    "pem",
    "pand",
    "ird",
    "log_response_ratio",
    "rate_ratio_ci",
    "rate_ratios",
    "nap_tau_u_by_group",
]

Improvement = Literal["increase", "decrease"]
NAN = float("nan")


@dataclass(frozen=True)
class Effect:
    """One effect size with its uncertainty where the method defines one (NaN where it does not)."""

    estimate: float
    se: float = NAN
    ci_low: float = NAN
    ci_high: float = NAN
    n_baseline: int = 0
    n_treatment: int = 0
    method: str = ""

    def __float__(self) -> float:
        return float(self.estimate)


def _phases(baseline, treatment, improvement: str) -> tuple[np.ndarray, np.ndarray]:
    """Both phases as float arrays without missing values, flipped so that larger is always better."""
    if improvement not in ("increase", "decrease"):
        raise ValueError(f'improvement must be "increase" or "decrease", not {improvement!r}')
    a = np.asarray(baseline, dtype=float).ravel()
    b = np.asarray(treatment, dtype=float).ravel()
    a, b = a[~np.isnan(a)], b[~np.isnan(b)]
    if improvement == "decrease":
        a, b = -a, -b
    return a, b


def _empty(method: str, a: np.ndarray, b: np.ndarray) -> Effect:
    return Effect(NAN, n_baseline=len(a), n_treatment=len(b), method=method)


def _z(confidence: float) -> float:
    return float(stats.norm.ppf(1 - (1 - confidence) / 2))


def _newcombe_ci(est: float, m: int, n: int, confidence: float) -> tuple[float, float]:
    """Newcombe (2006) Method 5 score interval for a Mann-Whitney probability, as SingleCaseES computes it.

    Newcombe, R. G. (2006). Confidence intervals for an effect size measure based on the Mann-Whitney statistic.
    Part 2. Statistics in Medicine 25(4), 559-573. The endpoints are the roots of
    m n (NAP - x)^2 (2 - x)(1 + x) = z^2 x (1 - x) (2 + h + (1 + 2h) x (1 - x)), h = (m + n)/2 - 1.
    """
    z = _z(confidence)
    h = (m + n) / 2 - 1

    def f(x: float) -> float:
        return m * n * (est - x) ** 2 * (2 - x) * (1 + x) - z**2 * x * (1 - x) * (2 + h + (1 + 2 * h) * x * (1 - x))

    # Complete separation (NAP 0 or 1) makes x = NAP itself a root; the informative bound is the other root.
    if est >= 1:
        return float(optimize.brentq(lambda x: _sep(x, m, n, z, h), 0.0, 1.0)), 1.0
    if est <= 0:
        return 0.0, float(1 - optimize.brentq(lambda x: _sep(x, m, n, z, h), 0.0, 1.0))
    return float(optimize.brentq(f, 0.0, est)), float(optimize.brentq(f, est, 1.0))


def _sep(x: float, m: int, n: int, z: float, h: float) -> float:
    """Newcombe's equation for NAP = 1 divided by (1 - x); NAP = 0 is its mirror image (x -> 1 - x)."""
    return m * n * (1 - x) * (2 - x) * (1 + x) - z**2 * x * (2 + h + (1 + 2 * h) * x * (1 - x))


def _nap_parts(a: np.ndarray, b: np.ndarray, confidence: float) -> tuple[float, float, float, float]:
    m, n = len(a), len(b)
    # q[i, j] = 1 if B_j beats A_i, 0.5 for a tie: all m*n pairs at once.
    q = (b[None, :] > a[:, None]) + 0.5 * (b[None, :] == a[:, None])
    est = float(q.mean())
    # Hanley & McNeil (1982) variance, as written in SingleCaseES calc_NAP(SE = "Hanley").
    q1 = float((q.sum(axis=1) ** 2).sum() / (m * n**2))
    q2 = float((q.sum(axis=0) ** 2).sum() / (m**2 * n))
    var = (est * (1 - est) + (n - 1) * (q1 - est**2) + (m - 1) * (q2 - est**2)) / (m * n)
    se = math.sqrt(max(var, 0.0))
    low, high = _newcombe_ci(est, m, n, confidence)
    return est, se, low, high


def nap(baseline, treatment, improvement: Improvement = "increase", confidence: float = 0.95) -> Effect:
    """Non-overlap of All Pairs: the share of (baseline, treatment) pairs in which treatment improves, ties 0.5.

    Parker, R. I., & Vannest, K. J. (2009). An improved effect size for single-case research: Nonoverlap of all
    pairs. Behavior Therapy 40(4), 357-367. Range 0..1, 0.5 = no effect.
    SE: Hanley & McNeil (1982), Radiology 143, 29-36. CI: Newcombe (2006) Method 5, the SingleCaseES default.
    """
    a, b = _phases(baseline, treatment, improvement)
    if not len(a) or not len(b):
        return _empty("NAP", a, b)
    est, se, low, high = _nap_parts(a, b, confidence)
    return Effect(est, se, low, high, len(a), len(b), "NAP")


def tau(baseline, treatment, improvement: Improvement = "increase", confidence: float = 0.95) -> Effect:
    """Tau (non-overlap) = 2 NAP - 1: (improving pairs - worsening pairs) / all pairs. Range -1..1, 0 = no effect.

    Parker, R. I., Vannest, K. J., Davis, J. L., & Sauber, S. B. (2011). Combining nonoverlap and trend for
    single-case research: Tau-U. Behavior Therapy 42(2), 284-299. SE and CI are those of NAP rescaled, as in
    SingleCaseES.
    """
    a, b = _phases(baseline, treatment, improvement)
    if not len(a) or not len(b):
        return _empty("Tau", a, b)
    est, se, low, high = _nap_parts(a, b, confidence)
    return Effect(2 * est - 1, 2 * se, 2 * low - 1, 2 * high - 1, len(a), len(b), "Tau")


def tau_u(baseline, treatment, improvement: Improvement = "increase") -> Effect:
    """Tau-U: A-vs-B non-overlap less the baseline's own trend, (S_AB - S_AA) / (m n).

    Parker, R. I., Vannest, K. J., Davis, J. L., & Sauber, S. B. (2011). Combining nonoverlap and trend for
    single-case research: Tau-U. Behavior Therapy 42(2), 284-299; computed as SingleCaseES calc_Tau_U.
    S_AB is Kendall's S over all (A, B) pairs, S_AA over the baseline's time-ordered pairs (so ``baseline`` must be
    in time order). Because S_AA is scaled by m n rather than by its own pair count the value can exceed 1 in
    magnitude. No standard error is defined for this form.
    """
    a, b = _phases(baseline, treatment, improvement)
    if not len(a) or not len(b):
        return _empty("Tau-U", a, b)
    m, n = len(a), len(b)
    s_ab = np.sign(b[None, :] - a[:, None]).sum()
    # Later minus earlier baseline points: a rising baseline (in the good direction) is discounted.
    s_aa = np.triu(np.sign(a[None, :] - a[:, None]), k=1).sum()
    return Effect(float((s_ab - s_aa) / (m * n)), n_baseline=m, n_treatment=n, method="Tau-U")


def pnd(baseline, treatment, improvement: Improvement = "increase") -> Effect:
    """Percentage of Non-overlapping Data: share of treatment points beyond the best baseline point (0..1).

    Scruggs, T. E., Mastropieri, M. A., & Casto, G. (1987). The quantitative synthesis of single-subject
    research. Remedial and Special Education 8(2), 24-43.
    """
    a, b = _phases(baseline, treatment, improvement)
    if not len(a) or not len(b):
        return _empty("PND", a, b)
    return Effect(float(np.mean(b > a.max())), n_baseline=len(a), n_treatment=len(b), method="PND")


def pem(baseline, treatment, improvement: Improvement = "increase") -> Effect:
    """Percentage Exceeding the Median: share of treatment points beyond the baseline median, ties 0.5 (0..1).

    Ma, H.-H. (2006). An alternative method for quantitative synthesis of single-subject researches: Percentage
    of data points exceeding the median. Behavior Modification 30(5), 598-617; ties as in SingleCaseES.
    """
    a, b = _phases(baseline, treatment, improvement)
    if not len(a) or not len(b):
        return _empty("PEM", a, b)
    med = np.median(a)
    return Effect(float(np.mean((b > med) + 0.5 * (b == med))), n_baseline=len(a), n_treatment=len(b), method="PEM")


def _pand_kept(a: np.ndarray, b: np.ndarray) -> int:
    """Most points that can be kept so that every kept baseline point is below every kept treatment point."""
    m, n = len(a), len(b)
    # Keep the i lowest baseline points (i = 0..m) and the treatment points from the j-th lowest up (j = 0..n).
    x = np.concatenate([[-np.inf], np.sort(a)])  # x[i] = highest kept baseline point when keeping i
    y = np.concatenate([np.sort(b), [np.inf]])  # y[j] = lowest kept treatment point when dropping j
    i = np.arange(m + 1)[:, None]
    j = np.arange(n + 1)[None, :]
    kept = i + (n - j)
    return int(np.max(np.where(x[:, None] < y[None, :], kept, 0)))


def pand(baseline, treatment, improvement: Improvement = "increase") -> Effect:
    """Percentage of All Non-overlapping Data: share of all points kept after removing the fewest for no overlap.

    Parker, R. I., Hagan-Burke, S., & Vannest, K. J. (2007). Percentage of all non-overlapping data (PAND).
    The Journal of Special Education 40(4), 194-204; computed as SingleCaseES calc_PAND.
    """
    a, b = _phases(baseline, treatment, improvement)
    if not len(a) or not len(b):
        return _empty("PAND", a, b)
    return Effect(_pand_kept(a, b) / (len(a) + len(b)), n_baseline=len(a), n_treatment=len(b), method="PAND")


def ird(baseline, treatment, improvement: Improvement = "increase") -> Effect:
    """Robust Improvement Rate Difference, from PAND: ((m+n)^2 PAND - m^2 - n^2) / (2 m n).

    Parker, R. I., Vannest, K. J., & Brown, L. (2009). The improvement rate difference for single-case research.
    Exceptional Children 75(2), 135-150; the robust form and this identity as in SingleCaseES calc_IRD.
    """
    a, b = _phases(baseline, treatment, improvement)
    if not len(a) or not len(b):
        return _empty("IRD", a, b)
    m, n = len(a), len(b)
    p = _pand_kept(a, b) / (m + n)
    return Effect(((m + n) ** 2 * p - m**2 - n**2) / (2 * m * n), n_baseline=m, n_treatment=n, method="IRD")


def log_response_ratio(
    baseline,
    treatment,
    improvement: Improvement = "increase",
    bias_correct: bool = True,
    confidence: float = 0.95,
    scale: Literal["count", "rate", "proportion", "percentage"] = "count",
    intervals: float | None = None,
) -> Effect:
    """Log response ratio ln(mean B / mean A), oriented so that a positive value is an improvement (LRRi).

    Pustejovsky, J. E. (2018). Using response ratios for meta-analyzing single-case designs with behavioral
    outcomes. Journal of School Psychology 68, 99-112; computed as SingleCaseES calc_LRRi.
    - For counts and rates, ``improvement="decrease"`` flips the sign: halving incidents gives +ln 2. Undo with
      ``-estimate`` (or ``exp(-estimate)``) for the plain ratio of means.
    - ``bias_correct`` adds the delta-method small-sample correction s^2 / (2 n M^2) to each phase's log mean.
    - SE = sqrt(s_A^2 / (n_A M_A^2) + s_B^2 / (n_B M_B^2)) (delta method, unequal dispersion); CI is z-based.
    - A zero mean is truncated (Pustejovsky 2018): counts to 1 / (2 n); proportions and percentages to
      1 / (2 D n) with D = ``intervals`` (per-session intervals or items; 100ths for percentages) when given.
    - For proportions and percentages with ``improvement="decrease"`` the ratio is of the complements (1 - p).
    """
    if improvement not in ("increase", "decrease"):
        raise ValueError(f'improvement must be "increase" or "decrease", not {improvement!r}')
    a = np.asarray(baseline, dtype=float).ravel()
    b = np.asarray(treatment, dtype=float).ravel()
    a, b = a[~np.isnan(a)], b[~np.isnan(b)]
    if len(a) < 1 or len(b) < 1:
        return _empty("LRRi", a, b)
    n = np.array([len(a), len(b)], dtype=float)
    mean = np.array([a.mean(), b.mean()])
    # Sample variance (n - 1). A phase with one observation has none (NaN, as R's var() gives NA), so neither the
    # SE nor the bias-corrected estimate is defined; ask for bias_correct=False to get the plain log ratio.
    var = np.array([a.var(ddof=1) if len(a) > 1 else NAN, b.var(ddof=1) if len(b) > 1 else NAN])
    if improvement == "decrease" and scale in ("proportion", "percentage"):
        mean = (100.0 if scale == "percentage" else 1.0) - mean
    d = {"count": 1.0, "rate": 0.0}.get(scale)
    if d is None:
        d = (intervals / 100.0 if scale == "percentage" else intervals) if intervals else 0.0
    if d > 0:
        mean = np.maximum(1 / (2 * d * n), mean)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_mean = np.log(mean)
        if bias_correct:
            log_mean = log_mean + var / (2 * n * mean**2)
        est = float(log_mean[1] - log_mean[0])
        if improvement == "decrease" and scale not in ("proportion", "percentage"):
            est = -est + 0.0  # + 0.0 turns a -0.0 (no change) into 0.0
        se = float(np.sqrt(np.sum(var / (n * mean**2))))
    z = _z(confidence)
    return Effect(est, se, est - z * se, est + z * se, len(a), len(b), "LRRi")


# --------------------------------------------------------------------------------------------------------------
# Rate ratios of counts over exposure, and the all-groups-at-once non-overlap measures used by impact.py


def rate_ratio_ci(events_treatment, days_treatment, events_baseline, days_baseline, confidence: float = 0.95):
    """Rate ratio (treatment rate / baseline rate) with an exact conditional Poisson interval, vectorised.

    Conditioning on the total ``n = a + b`` events, the treatment count ``a`` is Binomial(n, p) with
    ``p = RR d_t / (RR d_t + d_b)``; the Clopper-Pearson interval for ``p`` maps onto the ratio as
    ``RR = p / (1 - p) * d_b / d_t``. This is R's ``poisson.test(c(a, b), c(d_t, d_b))`` (which uses
    ``binom.test``); the R documentation's example 11/800 vs 21/3011 gives 1.971 (0.858 to 4.277).
    Counts need not be whole: :func:`rate_ratios` passes counts divided by the dispersion (the beta quantiles
    are defined for any positive parameters).
    Zeros: no treatment events gives a ratio of 0 with lower limit 0; no baseline events gives an infinite
    ratio and upper limit; no events at all or no days in a window gives NaN throughout.

    Returns three float arrays: estimate, ci_low, ci_high.
    """
    a = np.asarray(events_treatment, dtype=float)
    b = np.asarray(events_baseline, dtype=float)
    dt = np.asarray(days_treatment, dtype=float)
    db = np.asarray(days_baseline, dtype=float)
    n = a + b
    alpha = 1 - confidence
    defined = (n > 0) & (dt > 0) & (db > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        # Clopper-Pearson limits from the beta distribution; the limit is 0 (or 1) when a = 0 (or a = n).
        p_low = np.where(a > 0, stats.beta.ppf(alpha / 2, a, n - a + 1), 0.0)
        p_high = np.where(b > 0, stats.beta.ppf(1 - alpha / 2, a + 1, n - a), 1.0)
        scale = db / dt
        low = p_low / (1 - p_low) * scale
        high = np.where(p_high < 1, p_high / (1 - p_high), np.inf) * scale
        est = np.where(b > 0, (a / dt) / (b / db), np.inf)
    nan = np.full(a.shape, np.nan)
    return np.where(defined, est, nan), np.where(defined, low, nan), np.where(defined, high, nan)


RATE_RATIO_COLUMNS = ["weeks", "baseline_days", "intervention_days", "baseline_events", "intervention_events",
                      "rate_ratio", "ci_low", "ci_high", "log_rate_ratio", "se", "dispersion"]


def rate_ratios(weeks: pd.DataFrame, confidence: float = 0.95) -> pd.DataFrame:
    """Quasi-Poisson rate ratio (intervention / baseline) per group, from weekly counts with exposure.

    ``weeks`` has one row per group and week: ``group``, ``window`` ("baseline" or "intervention"), ``days``
    (the exposure: school days, or pupil-days for a comparison group) and ``events``. The model is a Poisson
    regression of the weekly counts on the window with log(days) as offset, whose estimates are the two windows'
    pooled rates; week-to-week overdispersion is the Pearson chi-squared over its residual degrees of freedom
    (weeks - 2), floored at 1 so that an under-dispersed run of weeks never narrows the interval below Poisson's
    (McCullagh & Nelder 1989, section 4.5; docs/impact.md). With fewer than three weeks there is nothing to
    estimate it from and it stays 1.

    The interval is the exact conditional Poisson one (:func:`rate_ratio_ci`) on the counts divided by the
    dispersion: quasi-likelihood scales the information in the counts by 1/dispersion, and the exact form keeps
    a sensible interval for small and zero counts. ``log_rate_ratio`` and ``se`` (delta method,
    sqrt(dispersion (1/a + 1/b))) are for pooling; when either window has no events both counts get 0.5 added
    there (Haldane), so such a group enters a pool with its own wide uncertainty instead of being dropped.
    Returns one row per group (the index), columns ``RATE_RATIO_COLUMNS``.
    """
    if weeks.empty:
        return pd.DataFrame(columns=RATE_RATIO_COLUMNS, index=pd.Index([], name="group"))
    w = weeks[weeks["days"] > 0]
    key = [w["group"], w["window"]]
    totals = w.groupby(key, sort=True)[["days", "events"]].sum().unstack("window").reindex(
        columns=pd.MultiIndex.from_product([["days", "events"], ["baseline", "intervention"]])).fillna(0.0)
    db, dt = totals[("days", "baseline")].to_numpy(float), totals[("days", "intervention")].to_numpy(float)
    b, a = totals[("events", "baseline")].to_numpy(float), totals[("events", "intervention")].to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = pd.Series(np.concatenate([b / db, a / dt]), index=pd.MultiIndex.from_arrays(
            [np.tile(totals.index.to_numpy(), 2), np.repeat(["baseline", "intervention"], len(totals))]))
        mu = w["days"].to_numpy(float) * rate.reindex(pd.MultiIndex.from_arrays(key)).to_numpy(float)
        resid = np.where(mu > 0, (w["events"].to_numpy(float) - mu) ** 2 / mu, 0.0)
    chi2 = pd.Series(resid).groupby(w["group"].to_numpy()).sum().reindex(totals.index).to_numpy(float)
    n_weeks = w.groupby("group").size().reindex(totals.index).to_numpy(int)
    df = n_weeks - 2
    with np.errstate(divide="ignore", invalid="ignore"):
        phi = np.where(df > 0, np.maximum(chi2 / np.where(df > 0, df, 1), 1.0), 1.0)
    est, low, high = rate_ratio_ci(a / phi, dt, b / phi, db, confidence)
    zero = (a == 0) | (b == 0)
    a_, b_ = a + 0.5 * zero, b + 0.5 * zero
    with np.errstate(divide="ignore", invalid="ignore"):
        ok = (dt > 0) & (db > 0)
        log_rr = np.where(ok, np.log(a_ / dt) - np.log(b_ / db), np.nan)
        se = np.where(ok, np.sqrt(phi * (1 / a_ + 1 / b_)), np.nan)
    return pd.DataFrame({"weeks": n_weeks, "baseline_days": db, "intervention_days": dt, "baseline_events": b,
                         "intervention_events": a, "rate_ratio": est, "ci_low": low, "ci_high": high,
                         "log_rate_ratio": log_rr, "se": se, "dispersion": phi},
                        index=totals.index.rename("group"))


def nap_tau_u_by_group(weeks: pd.DataFrame, improvement: Improvement = "decrease") -> pd.DataFrame:
    """NAP and Tau-U for many groups at once: the same definitions as :func:`nap` and :func:`tau_u`.

    ``weeks`` has ``group``, ``window`` ("baseline" or "intervention") and ``value``, each group's rows in time
    order. All groups' pairs are formed in one pass instead of one call per group (a school's thousands of
    enrolments take a second, not minutes); only the estimates, without the per-call intervals. Groups missing a
    phase are left out of the result.
    """
    if improvement not in ("increase", "decrease"):
        raise ValueError(f'improvement must be "increase" or "decrease", not {improvement!r}')
    sign = -1.0 if improvement == "decrease" else 1.0
    a = weeks[weeks["window"] == "baseline"][["group", "value"]]
    b = weeks[weeks["window"] == "intervention"][["group", "value"]]
    m_n = (a.groupby("group").size() * b.groupby("group").size()).dropna()
    if m_n.empty:
        return pd.DataFrame(columns=["nap", "tau_u"], index=pd.Index([], name="group"))
    a = a.assign(i=a.groupby("group").cumcount())
    pairs = a.merge(b, on="group", suffixes=("_a", "_b"))
    # Positive when the treatment point improves on the baseline point.
    s = np.sign(sign * (pairs["value_b"].to_numpy(float) - pairs["value_a"].to_numpy(float)))
    g = pairs["group"].to_numpy()
    s_ab = pd.Series(s).groupby(g).sum()
    wins = pd.Series((s > 0) + 0.5 * (s == 0)).groupby(g).sum()
    # The baseline's own trend in the improving direction, over time-ordered pairs i < j.
    aa = a.merge(a, on="group", suffixes=("_i", "_j"))
    aa = aa[aa["i_i"] < aa["i_j"]]
    s_aa = pd.Series(np.sign(sign * (aa["value_j"].to_numpy(float) - aa["value_i"].to_numpy(float)))).groupby(
        aa["group"].to_numpy()).sum().reindex(m_n.index).fillna(0)
    return pd.DataFrame({"nap": wins.reindex(m_n.index) / m_n,
                         "tau_u": (s_ab.reindex(m_n.index) - s_aa) / m_n}).rename_axis("group").astype(float)
