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
