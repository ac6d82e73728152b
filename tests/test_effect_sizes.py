"""Single-case effect sizes against published worked examples.

Sources (quoted where each figure is used):
- [README] SingleCaseES README, "Basic usage" (https://github.com/jepusto/SingleCaseES, README.md): data
  A = 20 20 26 25 22 23, B = 28 25 24 27 30 30 29 and the printed output of NAP (Hanley-McNeil SE, Newcombe CI),
  IRD and LRR for them.
- [PVD2011] Parker, Vannest & Davis (2011), Behavior Modification 35(4), worked examples as encoded in
  SingleCaseES tests/testthat/test-parker-vannest-davis-2011.R: for the same data NAP = 38.5/42, Tau = 35/42,
  PND = 5/7, PAND = 11/13, PEM = 7/7, IRD = 6/7 - 1/6; and A = 3 3 4 5, B = 4 5 6 7 7: Tau = 16/20, Tau-U = 11/20.
- [PV2009] Parker & Vannest (2009), Behavior Therapy 40(4) 357-367: the data of their NAP example,
  A = 4 3 4 3 4 7 5 2 3 2, B = 5 9 7 9 7 5 9 11 11 10 9, as given in the SingleCaseES NAP() help page
  ("Example from Parker & Vannest (2009)"); the NAP figure is checked by a hand count of all 110 pairs.
- [Tarlow2017] Tarlow (2017) example in SingleCaseES tests/testthat/test-tarlow-2017.R: A = 1..5, B = 6..10,
  Tau = 1, Tau-U = 0.6 (the baseline trend is discounted even though there is no overlap).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from kwanalytics.metrics import effect_sizes as es

A = [20, 20, 26, 25, 22, 23]
B = [28, 25, 24, 27, 30, 30, 29]


def test_nap_matches_singlecasees_readme():
    # [README]: NAP(A, B) -> Est 0.9166667, SE 0.07739185, CI 0.5973406 .. 0.9860176.
    # R's uniroot stops at tol ~1.2e-4, so the printed CI is good to about 1e-4; we solve to machine precision.
    r = es.nap(A, B)
    assert r.estimate == pytest.approx(38.5 / 42)  # [PVD2011]
    assert r.se == pytest.approx(0.07739185, abs=1e-8)
    assert r.ci_low == pytest.approx(0.5973406, abs=1e-4)
    assert r.ci_high == pytest.approx(0.9860176, abs=1e-4)
    assert (r.n_baseline, r.n_treatment, r.method) == (6, 7, "NAP")
    assert float(r) == r.estimate


def test_nap_decrease_matches_readme():
    # [README]: NAP(A, B, improvement = "decrease") -> 0.08333333, SE 0.07739185, CI 0.01398242 .. 0.40265939.
    r = es.nap(A, B, improvement="decrease")
    assert r.estimate == pytest.approx(1 / 12)
    assert r.se == pytest.approx(0.07739185, abs=1e-8)
    assert r.ci_low == pytest.approx(0.01398242, abs=1e-4)
    assert r.ci_high == pytest.approx(0.40265939, abs=1e-4)


def test_nap_ci_endpoints_solve_newcombe_equation():
    # Newcombe (2006) Method 5: both endpoints x satisfy m n (NAP - x)^2 (2 - x)(1 + x)
    #   = z^2 x (1 - x)(2 + h + (1 + 2h) x (1 - x)), h = (m + n)/2 - 1.
    r = es.nap(A, B)
    m, n, z = 6, 7, 1.959963984540054
    h = (m + n) / 2 - 1
    for x in (r.ci_low, r.ci_high):
        lhs = m * n * (r.estimate - x) ** 2 * (2 - x) * (1 + x)
        rhs = z**2 * x * (1 - x) * (2 + h + (1 + 2 * h) * x * (1 - x))
        assert lhs == pytest.approx(rhs, rel=1e-9)


def test_nap_parker_vannest_2009_example():
    # [PV2009] data. Hand count of the 110 pairs: 104 improve, 4 tie (B's two 5s with A's 5, B's
    # two 7s with A's 7), 2 worsen (B's 5s below A's 7): (104 + 4/2) / 110 = 106/110.
    y_a = [4, 3, 4, 3, 4, 7, 5, 2, 3, 2]
    y_b = [5, 9, 7, 9, 7, 5, 9, 11, 11, 10, 9]
    r = es.nap(y_a, y_b)
    assert round(r.estimate, 2) == 0.96
    assert r.estimate == pytest.approx(106 / 110)


def test_nap_complete_separation_has_degenerate_bounds():
    r = es.nap([1, 2, 3], [4, 5, 6])
    assert r.estimate == 1.0
    assert r.ci_high == 1.0
    assert 0.5 < r.ci_low < 1.0
    # The non-trivial root of Newcombe's equation at NAP = 1 (x = 1 is a trivial root we must not return).
    m = n = 3
    z, h = 1.959963984540054, 2.0
    x = r.ci_low
    assert m * n * (1 - x) ** 2 * (2 - x) * (1 + x) == pytest.approx(
        z**2 * x * (1 - x) * (2 + h + (1 + 2 * h) * x * (1 - x)), rel=1e-9
    )
    # NAP = 0 mirrors it.
    worse = es.nap([4, 5, 6], [1, 2, 3])
    assert (worse.estimate, worse.ci_low) == (0.0, 0.0)
    assert worse.ci_high == pytest.approx(1 - r.ci_low)


def test_tau_is_rescaled_nap():
    # [PVD2011] Tau = (38 - 3) / 42; SE and CI are NAP's rescaled (SingleCaseES calc_Tau).
    r = es.tau(A, B)
    n = es.nap(A, B)
    assert r.estimate == pytest.approx(35 / 42)
    assert r.se == pytest.approx(2 * n.se)
    assert r.ci_low == pytest.approx(2 * n.ci_low - 1)
    assert r.ci_high == pytest.approx(2 * n.ci_high - 1)
    assert es.tau([3, 3, 4, 5], [4, 5, 6, 7, 7]).estimate == pytest.approx(16 / 20)


def test_tau_u_parker_2011_example():
    # [PVD2011] A = 3 3 4 5, B = 4 5 6 7 7: S_AB = 16, S_AA = 5 (baseline rises: pairs 3<4,3<5,3<4,3<5,4<5, one tie)
    # Tau-U = (16 - 5) / 20 = 0.55.
    r = es.tau_u([3, 3, 4, 5], [4, 5, 6, 7, 7])
    assert r.estimate == pytest.approx(11 / 20)
    assert math.isnan(r.se)


def test_tau_u_tarlow_2017_example():
    # [Tarlow2017]: A = 1..5, B = 6..10 -> Tau-U = (25 - 10) / 25 = 0.6.
    assert es.tau_u([1, 2, 3, 4, 5], [6, 7, 8, 9, 10]).estimate == pytest.approx(0.6)


def test_tau_u_can_exceed_one_and_respects_direction():
    # Falling baseline, no overlap, improvement = increase: S_AB = 3*2 = 6, S_AA = -3 -> (6 + 3) / 6 = 1.5.
    assert es.tau_u([3, 2, 1], [5, 6]).estimate == pytest.approx(1.5)
    # Incidents falling after an intervention (decrease is better) from a flat baseline: Tau-U = 1.
    assert es.tau_u([4, 4, 4], [1, 0], improvement="decrease").estimate == pytest.approx(1.0)
    # The same numbers under "increase" are a worsening: -1.
    assert es.tau_u([4, 4, 4], [1, 0], improvement="increase").estimate == pytest.approx(-1.0)


def test_tau_u_baseline_order_matters():
    # Rising incidents during baseline (bad trend when decrease is better) flip sign under "decrease":
    # flipped A = -1 -2 -3 (falling), S_AA = -3, flipped B = -1 -1: S_AB vs A = (0 + 1 + 1) * 2 = 4.
    # Tau-U = (4 - (-3)) / 6 = 7/6.
    assert es.tau_u([1, 2, 3], [1, 1], improvement="decrease").estimate == pytest.approx(7 / 6)
    assert es.tau_u([3, 2, 1], [1, 1], improvement="decrease").estimate == pytest.approx((4 - 3) / 6)


def test_pnd_pem_pand_ird_published():
    # [PVD2011] and [README] (IRD 0.6904762).
    assert es.pnd(A, B).estimate == pytest.approx(5 / 7)
    assert es.pem(A, B).estimate == pytest.approx(1.0)
    assert es.pand(A, B).estimate == pytest.approx(11 / 13)
    assert es.ird(A, B).estimate == pytest.approx(6 / 7 - 1 / 6)
    assert es.ird(A, B).estimate == pytest.approx(0.6904762, abs=1e-7)


def test_pnd_pem_decrease_hand_worked():
    # Incidents per week, fewer is better. Baseline 3 5 4 (lowest 3, median 4); treatment 2 4 1 3.
    # PND: points below 3 -> 2, 1 -> 2/4. PEM: below 4 -> 2, 1, 3 = 3; one tie (4) counts 0.5 -> 3.5/4.
    assert es.pnd([3, 5, 4], [2, 4, 1, 3], improvement="decrease").estimate == pytest.approx(0.5)
    assert es.pem([3, 5, 4], [2, 4, 1, 3], improvement="decrease").estimate == pytest.approx(3.5 / 4)


def test_pand_hand_worked_with_overlap():
    # A = 1 4 2, B = 3 5 6 (increase): dropping one point (A's 4 or B's 3) leaves no overlap: 5/6 kept.
    # IRD = ((6)^2 * 5/6 - 9 - 9) / (2*3*3) = (30 - 18) / 18 = 2/3.
    assert es.pand([1, 4, 2], [3, 5, 6]).estimate == pytest.approx(5 / 6)
    assert es.ird([1, 4, 2], [3, 5, 6]).estimate == pytest.approx(2 / 3)


def test_log_response_ratio_matches_readme():
    # [README]: LRR(A, B) (bias-corrected) -> Est 0.1953962, SE 0.05557723, CI 0.08646679 .. 0.30432554.
    r = es.log_response_ratio(A, B)
    assert r.estimate == pytest.approx(0.1953962, abs=1e-7)
    assert r.se == pytest.approx(0.05557723, abs=1e-8)
    assert r.ci_low == pytest.approx(0.08646679, abs=1e-8)
    assert r.ci_high == pytest.approx(0.30432554, abs=1e-8)


def test_log_response_ratio_uncorrected_and_decrease():
    # Without bias correction it is exactly ln(mean B / mean A) = ln((193/7) / (136/6)).
    plain = math.log((193 / 7) / (136 / 6))
    assert es.log_response_ratio(A, B, bias_correct=False).estimate == pytest.approx(plain)
    # Counts, fewer is better: baseline mean 4, treatment mean 2 -> +ln 2 improvement (LRRi orientation).
    r = es.log_response_ratio([4, 4, 4, 4], [2, 2, 2, 2], improvement="decrease", bias_correct=False)
    assert r.estimate == pytest.approx(math.log(2))
    assert r.se == pytest.approx(0.0)  # no spread in either phase


def test_log_response_ratio_truncates_zero_counts():
    # Pustejovsky (2018): a zero count mean is replaced by 1 / (2 n). Treatment 0 0 0 0 -> 1/8; baseline mean 2.
    r = es.log_response_ratio([2, 2, 2, 2], [0, 0, 0, 0], improvement="decrease", bias_correct=False)
    assert r.estimate == pytest.approx(math.log(2 / (1 / 8)))
    assert np.isfinite(r.estimate)


def test_missing_values_dropped_and_empty_phase_is_nan():
    assert es.nap([20, np.nan, 20, 26, 25, 22, 23], B).estimate == pytest.approx(38.5 / 42)
    r = es.nap([], B)
    assert math.isnan(r.estimate) and r.n_baseline == 0 and r.n_treatment == 7
    assert math.isnan(float(es.tau_u([1, 2], [])))
    assert math.isnan(es.log_response_ratio([np.nan], [1, 2]).estimate)


def test_bad_direction_is_refused():
    with pytest.raises(ValueError):
        es.nap(A, B, improvement="up")


def test_large_series_fast():
    # Vectorised: 2,000 x 2,000 pairs in well under a second.
    rng = np.random.default_rng(1)
    a, b = rng.poisson(3, 2000), rng.poisson(2, 2000)
    r = es.nap(a, b, improvement="decrease")
    assert 0.6 < r.estimate < 0.75
    assert 0 < r.se < 0.02
