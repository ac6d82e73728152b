"""Pooling a programme's enrolments, and the calibration of the impact intervals by seeded simulation."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from kwanalytics.metrics.effect_sizes import nap, nap_tau_u_by_group, rate_ratio_ci, rate_ratios, tau_u
from kwanalytics.metrics.pooling import pool_log_ratios, pool_rate_ratios

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "calibrate_impact.py"


def _calibration():
    spec = importlib.util.spec_from_file_location("calibrate_impact", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_two_enrolments_pool_by_paule_mandel_as_worked_by_hand():
    # With two studies the Paule-Mandel equation sum w (y - m)^2 = k - 1 reads (y1 - y2)^2 / (v1 + v2 + 2 tau2) = 1,
    # so tau2 = ((y1 - y2)^2 - v1 - v2) / 2; then the weighted sum of squares is exactly 1 and the HKSJ variance
    # equals the usual 1 / sum(w); the interval takes t on 1 degree of freedom (12.706).
    y, v = np.log([0.5, 2.0]), np.array([0.04, 0.09])
    tau2 = ((y[0] - y[1]) ** 2 - v.sum()) / 2
    w = 1 / (v + tau2)
    mean = (w * y).sum() / w.sum()
    half = 12.7062047 * np.sqrt(1 / w.sum())
    q = (y[0] - y[1]) ** 2 / v.sum()  # Cochran's Q with fixed-effect weights
    got = pool_log_ratios(y, np.sqrt(v))
    assert got["tau2"] == pytest.approx(tau2, rel=1e-4) and got["k"] == 2
    assert got["estimate"] == pytest.approx(mean, rel=1e-4)
    assert (got["ci_low"], got["ci_high"]) == pytest.approx((mean - half, mean + half), rel=1e-4)
    assert got["i2"] == pytest.approx((q - 1) / q)
    # Two close estimates: no spread beyond chance, tau2 and I^2 are 0 and the fixed-effect mean is returned.
    close = pool_log_ratios(np.log([0.9, 1.0]), np.sqrt(v))
    assert close["tau2"] == 0 and close["i2"] == 0
    assert close["estimate"] == pytest.approx((np.log(0.9) / 0.04 + 0) / (1 / 0.04 + 1 / 0.09))


def test_pooled_rate_ratio_is_incidents_during_over_before_when_the_days_match():
    during, before = np.array([2, 6, 16, 0, 0]), np.array([18, 6, 2, 1, 0])
    days = np.full(5, 30)
    got = pool_rate_ratios(during, days, before, days)
    assert got["k"] == 4  # the enrolment with no incidents at all carries no information
    assert np.exp(got["estimate"]) == pytest.approx(24 / 27)
    # Twice the intervention days: the same counts are half the rate.
    assert np.exp(pool_rate_ratios(during, 2 * days, before, days)["estimate"]) == pytest.approx(12 / 27)
    # An offset of log 0.6 (the comparison group fell by 40%) divides the ratio by 0.6; its variance widens.
    adj = pool_rate_ratios(during, days, before, days, offset=np.full(5, np.log(0.6)), extra_variance=0.01)
    assert np.exp(adj["estimate"]) == pytest.approx(24 / 27 / 0.6)
    assert adj["ci_high"] - adj["ci_low"] > got["ci_high"] - got["ci_low"]
    # One enrolment: its own ratio with the Poisson interval 1/a + 1/b.
    one = pool_rate_ratios([3], [30], [12], [30])
    assert np.exp(one["estimate"]) == pytest.approx(0.25)
    assert one["ci_high"] - one["estimate"] == pytest.approx(stats.norm.isf(0.025) * np.sqrt(1 / 3 + 1 / 12))


def test_a_pupil_enrolled_twice_is_one_pupils_evidence():
    during, before = np.array([2, 6, 16, 9, 4]), np.array([18, 6, 2, 11, 7])
    days = np.full(5, 30)
    once = pool_rate_ratios(during, days, before, days, pupils=["A", "B", "C", "D", "E"])
    # the same pupils each enrolled a second time with the same counts: the same evidence again, nothing new,
    # so (residuals and information both double) the estimate, the variance and the 4 degrees of freedom stay
    twice = pool_rate_ratios(np.tile(during, 2), np.tile(days, 2), np.tile(before, 2), np.tile(days, 2),
                             pupils=list("ABCDE") * 2)
    assert twice["k"] == 10
    assert (twice["estimate"], twice["ci_low"], twice["ci_high"]) == pytest.approx(
        (once["estimate"], once["ci_low"], once["ci_high"]))
    # taken as ten independent enrolments, the interval would be narrower than the evidence allows
    naive = pool_rate_ratios(np.tile(during, 2), np.tile(days, 2), np.tile(before, 2), np.tile(days, 2))
    assert naive["ci_high"] - naive["ci_low"] < 0.75 * (once["ci_high"] - once["ci_low"])
    # by hand: p = sum a / sum n (equal days); CR2 sums each pupil's residual, over 1 - its leverage
    n = during + before
    p = during.sum() / n.sum()
    info = (n * p * (1 - p)).sum()
    var = ((during - n * p) ** 2 / (1 - n * p * (1 - p) / info)).sum() / info**2
    half = stats.t.isf(0.025, 4) * np.sqrt(max(var, 1 / info))
    assert (once["ci_low"], once["ci_high"]) == pytest.approx((np.log(p / (1 - p)) - half, np.log(p / (1 - p)) + half))
    # one pupil with two enrolments: their own estimate, the binomial variance, a normal interval
    alone = pool_rate_ratios([3, 5], [30, 30], [12, 10], [30, 30], pupils=["A", "A"])
    assert np.exp(alone["estimate"]) == pytest.approx(8 / 22)
    assert alone["ci_high"] - alone["estimate"] == pytest.approx(
        stats.norm.isf(0.025) * np.sqrt(1 / (30 * (8 / 30) * (22 / 30))))


def test_rate_ratios_is_the_exact_poisson_interval_without_overdispersion_and_wider_with_it():
    # Steady weeks (1 incident each): Pearson chi-squared below its df, so the dispersion stays 1 and the interval
    # is R's poisson.test on the totals.
    steady = pd.DataFrame({"group": 0, "window": ["baseline"] * 6 + ["intervention"] * 6, "days": 5,
                           "events": [1] * 6 + [1] * 6})
    # Bunched weeks with the same totals (6 and 6): 0, 0, 0, 0, 3, 3 before and 6, 0, 0, 0, 0, 0 during.
    bunched = steady.assign(group=1, events=[0, 0, 0, 0, 3, 3, 6, 0, 0, 0, 0, 0])
    got = rate_ratios(pd.concat([steady, bunched], ignore_index=True))
    est, low, high = rate_ratio_ci([6], [30], [6], [30])
    assert got.loc[0, "dispersion"] == 1.0
    assert (got.loc[0, "ci_low"], got.loc[0, "ci_high"]) == pytest.approx((low[0], high[0]))
    # Expected 1 a week in each: chi-squared (4 * 1 + 2 * 4) + (25 + 5 * 1) = 42 on 10 df.
    assert got.loc[1, "dispersion"] == pytest.approx(4.2)
    est, low, high = rate_ratio_ci([6 / 4.2], [30], [6 / 4.2], [30])
    assert (got.loc[1, "ci_low"], got.loc[1, "ci_high"]) == pytest.approx((low[0], high[0]))
    assert got.loc[1, "se"] == pytest.approx(np.sqrt(4.2 * (1 / 6 + 1 / 6)))


def test_nap_and_tau_u_for_all_groups_at_once_agree_with_one_call_per_group():
    rng = np.random.default_rng(14)
    rows = []
    for g in range(25):
        m, n = rng.integers(1, 8, size=2)
        rows += [(g, "baseline", v) for v in rng.poisson(3, m) / 5]
        rows += [(g, "intervention", v) for v in rng.poisson(2, n) / 5]
    weeks = pd.DataFrame(rows, columns=["group", "window", "value"])
    got = nap_tau_u_by_group(weeks)
    for g, w in weeks.groupby("group"):
        a, b = w.loc[w["window"] == "baseline", "value"], w.loc[w["window"] == "intervention", "value"]
        assert got.loc[g, "nap"] == pytest.approx(float(nap(a, b, improvement="decrease")))
        assert got.loc[g, "tau_u"] == pytest.approx(float(tau_u(a, b, improvement="decrease")))


def test_overdispersed_weeks_no_longer_give_false_clear_verdicts():
    # A programme that does nothing, no season, weekly counts with variance 3.6 times the mean (issue 16: the exact
    # Poisson interval then called about a fifth of such enrolments "clearly fewer").
    cal = _calibration()
    rng = np.random.default_rng(163)
    k = 600
    base = rng.gamma(4.0, cal.RATE / 4.0, size=k)[:, None] * cal.DAYS * np.ones((1, 2 * cal.WEEKS))
    counts = cal._counts(rng, base, 3.6)
    got = rate_ratios(cal._weeks_frame(counts, cal.DAYS))
    enough = (got["baseline_events"] + got["intervention_events"]) >= cal.MIN_INCIDENTS
    false_clear = (got["ci_high"] < 1)[enough].mean()
    _, _, high = rate_ratio_ci(got["intervention_events"], got["intervention_days"], got["baseline_events"],
                               got["baseline_days"])
    exact_false_clear = (high < 1)[enough.to_numpy()].mean()
    assert false_clear <= 0.05 < 0.10 < exact_false_clear


def test_pooled_intervals_hold_the_programme_effect_about_95_times_in_100():
    # 120 simulated programmes (30 enrolments, 60 comparison pupils, VMR 2.3, a 40% seasonal fall and a programme
    # that halves incidents): the adjusted pooled interval holds 0.5 in 93-99 of 100, the naive one 0.3.
    cal = _calibration()
    rng = np.random.default_rng(1602)
    runs = pd.DataFrame([cal.replicate(rng, 30, 60, 2.3, 0.6, 0.5, 0.2) for _ in range(120)])
    assert 0.90 <= runs["pooled_adj_cover"].mean() <= 0.99
    assert 0.90 <= runs["pooled_naive_cover"].mean() <= 0.99
    assert runs["pooled_adj_rr"].median() == pytest.approx(0.5, abs=0.05)
