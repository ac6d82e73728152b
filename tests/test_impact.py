"""Impact per enrolment and per programme, on a school calendar built by hand (synthetic data only)."""

from __future__ import annotations

import sys
import types

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scipy.stats import beta, binomtest

from kwanalytics.calendar import SchoolCalendar
from kwanalytics.schema.contracts import empty_frame
from kwanalytics.metrics.impact import (FEWER, MORE, NO_CLEAR, TOO_LITTLE, enrolment_impact, programme_impact,
                                programme_sessions, rate_ratio_ci, records_start)
from kwanalytics.metrics.pooling import pool_log_ratios
from kwanalytics.settings import load_settings

# Autumn term 2025 by hand: weekdays 1 Sep .. 19 Dec, less half term (27-31 Oct) and a closed week (1-5 Dec).
HALF_TERM = pd.bdate_range("2025-10-27", "2025-10-31")
CLOSED_WEEK = pd.bdate_range("2025-12-01", "2025-12-05")
DAYS = pd.bdate_range("2025-09-01", "2025-12-19").difference(HALF_TERM).difference(CLOSED_WEEK)
CAL = SchoolCalendar(DAYS, "a calendar built by hand for the tests")
START = pd.Timestamp("2025-11-03")  # Monday after half term
END = pd.Timestamp("2025-12-19")
# 30 school days before START: the weeks of 15 Sep .. 20 Oct (half term is not school).
BASELINE_START = pd.Timestamp("2025-09-15")


@pytest.fixture(scope="module")
def settings():
    return load_settings(None)


def _incidents(student, dates, severity=2, category="Defiance"):
    dates = pd.DatetimeIndex(dates)
    return pd.DataFrame({
        "incident_id": [f"{student}-I{i}" for i in range(len(dates))],
        "student_id": student,
        "occurred_at": (dates + pd.Timedelta(hours=10)).astype("datetime64[us]"),
        "category": category,
        "severity": pd.array([severity] * len(dates), dtype="Int64"),
    })


def _weekdays(start, end, weekdays):
    """School days between start and end that fall on the given weekdays (0 = Monday)."""
    d = CAL.between(start, end)
    return d[d.day_of_week.isin(weekdays)]


def _tables(incidents, interventions, sessions=None, ratings=None, targets=None, budget=None):
    t = {name: empty_frame(name) for name in ("students", "targets", "target_ratings", "sessions", "incidents",
                                             "interventions", "contacts", "budget", "risk_assessments")}
    # A session on the first day of term anchors "the data's first school day".
    anchor = pd.DataFrame({"session_id": ["anchor"], "student_id": ["ANCHOR"],
                           "date": [pd.Timestamp("2025-09-01")]}).astype({"date": "datetime64[us]"})
    t["incidents"] = incidents
    t["interventions"] = interventions
    t["sessions"] = pd.concat([anchor, sessions], ignore_index=True) if sessions is not None else anchor
    if ratings is not None:
        t["target_ratings"] = ratings
    if targets is not None:
        t["targets"] = targets
    if budget is not None:
        t["budget"] = budget
    return t


def _enrol(rows):
    f = pd.DataFrame(rows, columns=["enrolment_id", "student_id", "programme", "started_on", "ended_on"])
    f["started_on"] = pd.to_datetime(f["started_on"]).astype("datetime64[us]")
    f["ended_on"] = pd.to_datetime(f["ended_on"]).astype("datetime64[us]")
    return f


def _binom_rr(a, da, b, db):
    if a != int(a) or b != int(b):  # counts scaled by a dispersion: Clopper-Pearson from the beta quantiles
        ci = types.SimpleNamespace(low=beta.ppf(0.025, a, b + 1), high=beta.ppf(0.975, a + 1, b))
    else:
        ci = binomtest(a, a + b).proportion_ci(confidence_level=0.95, method="exact")
    to_rr = lambda p: p / (1 - p) * db / da  # noqa: E731
    return (a / da) / (b / db), to_rr(ci.low), to_rr(ci.high)


def test_rate_ratio_interval_matches_r_poisson_test_and_handles_zeros():
    # R: poisson.test(c(11, 6+8+7), c(800, 1083+1050+878)) -> 1.971488 (0.8584264, 4.2772659)
    est, low, high = rate_ratio_ci([11, 25, 0, 4, 0], [800, 1000, 30, 30, 30], [21, 25, 6, 0, 0],
                                   [3011, 1000, 30, 30, 30])
    np.testing.assert_allclose(est[:2], [1.971488, 1.0], rtol=1e-6)
    np.testing.assert_allclose(low[:2], [0.8584264, 0.55104408], rtol=1e-6)
    np.testing.assert_allclose(high[:2], [4.2772659, 1.81473686], rtol=1e-6)
    # No incidents during: ratio 0, lower limit 0, upper = 1 - 0.025^(1/6) mapped to the ratio scale.
    p_hi = 1 - 0.025 ** (1 / 6)
    assert est[2] == 0 and low[2] == 0 and high[2] == pytest.approx(p_hi / (1 - p_hi))
    # No baseline incidents: infinite ratio and upper limit, a finite lower limit.
    assert np.isinf(est[3]) and np.isinf(high[3]) and 0 < low[3] < 1
    # No incidents at all: nothing can be said.
    assert np.isnan(est[4]) and np.isnan(low[4]) and np.isnan(high[4])


def test_half_term_inside_each_window_does_not_change_the_rate(settings):
    # Two incidents every school week (Mon and Wed) throughout; a holiday week sits inside each window.
    dates = _weekdays("2025-09-01", END, [0, 2])
    t = _tables(_incidents("S1", dates), _enrol([["E1", "S1", "Zones of Regulation", START, END]]))
    row = enrolment_impact(t, CAL, settings, as_of=END).iloc[0]
    assert row["baseline_start"] == BASELINE_START
    assert row["baseline_school_days"] == 30 and row["intervention_school_days"] == 30
    assert row["baseline_incidents"] == 12 and row["intervention_incidents"] == 12
    assert row["baseline_rate"] == pytest.approx(0.4) and row["intervention_rate"] == pytest.approx(0.4)
    est, low, high = _binom_rr(12, 30, 12, 30)
    assert row["rate_ratio"] == pytest.approx(1.0)
    assert row["rate_ratio_ci_low"] == pytest.approx(low) and row["rate_ratio_ci_high"] == pytest.approx(high)
    # Every week has the same rate: all pairs tie (NAP 0.5), no trend (Tau-U 0).
    assert row["nap"] == pytest.approx(0.5) and row["tau_u"] == pytest.approx(0.0)
    assert row["verdict"] == NO_CLEAR
    # Per calendar day the same pupil would look different: 49 calendar days before, 47 during.
    assert (START - BASELINE_START).days != (END - START).days + 1


def test_clear_fall_and_clear_rise(settings):
    base = CAL.between(BASELINE_START, START - pd.Timedelta(days=1))
    during = CAL.between(START, END)
    falls = _incidents("FALL", np.concatenate([base[:18].to_numpy(), during[[0, 10]].to_numpy()]), severity=3)
    rises = _incidents("RISE", np.concatenate([base[[0, 20]].to_numpy(), during[:18].to_numpy()]))
    t = _tables(pd.concat([falls, rises], ignore_index=True),
                _enrol([["E-F", "FALL", "Anger Management", START, END], ["E-R", "RISE", "ELSA", START, None]]))
    out = enrolment_impact(t, CAL, settings, as_of=END).set_index("enrolment_id")
    f, r = out.loc["E-F"], out.loc["E-R"]
    assert (f["baseline_incidents"], f["intervention_incidents"]) == (18, 2)
    # Weekly counts 5, 5, 5, 3, 0, 0 before (expected 3 a week) and 1, 0, 1, 0, 0, 0 during (expected 1/3):
    # Pearson chi-squared (4 + 4 + 4 + 0 + 3 + 3) + (2 * 4/3 + 4 * 1/3) = 14 on 12 - 2 weeks, dispersion 1.4.
    # The interval is the exact one on the counts divided by it.
    assert f["dispersion"] == pytest.approx(1.4)
    est, low, high = _binom_rr(2 / 1.4, 30, 18 / 1.4, 30)
    assert f["rate_ratio"] == pytest.approx(2 / 18)
    assert f["rate_ratio_ci_low"] == pytest.approx(low) and f["rate_ratio_ci_high"] == pytest.approx(high)
    assert high < 1 and f["verdict"] == FEWER
    assert f["baseline_severity"] == pytest.approx(3.0) and f["intervention_severity"] == pytest.approx(3.0)
    # Baseline weeks: 5, 5, 5, 3, 0, 0 incidents over 5 days each -> rates 1, 1, 1, .6, 0, 0;
    # intervention weeks: 1 incident in weeks 1 and 3 (0.2), none in the other four.
    a = np.array([1, 1, 1, .6, 0, 0])
    b = np.array([.2, 0, .2, 0, 0, 0])
    pairs = (b[None, :] < a[:, None]) + 0.5 * (b[None, :] == a[:, None])
    assert f["nap"] == pytest.approx(pairs.mean())
    s_ab = np.sign(a[:, None] - b[None, :]).sum()
    s_aa = sum(np.sign(a[i] - a[j]) for i in range(6) for j in range(i + 1, 6))  # falling baseline = improving
    assert f["tau_u"] == pytest.approx((s_ab - s_aa) / 36)
    # Open enrolment: counted up to as_of.
    assert r["intervention_school_days"] == 30 and pd.isna(r["ended_on"])
    assert (r["baseline_incidents"], r["intervention_incidents"]) == (2, 18)
    assert r["rate_ratio"] == pytest.approx(9.0) and r["rate_ratio_ci_low"] > 1 and r["verdict"] == MORE
    # Weekly rates before .2, 0, 0, 0, .2, 0 and during 1, 1, 1, .6, 0, 0: of 36 pairs 4 improve (0 after .2)
    # and 8 tie (0 and 0), so NAP = (4 + 8 / 2) / 36.
    assert r["nap"] == pytest.approx(8 / 36)


def test_too_little_data(settings):
    during = CAL.between(START, END)
    t = _tables(
        pd.concat([_incidents("FEW", [BASELINE_START, during[3]]),  # 2 incidents in all (< 3)
                   _incidents("EARLY", _weekdays("2025-09-01", "2025-09-30", [0, 1, 2, 3, 4]))],
                  ignore_index=True),
        _enrol([["E-FEW", "FEW", "ELSA", START, END],
                # starts on the 6th school day of the data: only 5 baseline days (< 10)
                ["E-EARLY", "EARLY", "ELSA", "2025-09-08", "2025-10-24"],
                # starts two days before as_of: 2 intervention days
                ["E-LATE", "FEW", "ELSA", "2025-12-18", None],
                # starts after as_of: not counted at all
                ["E-FUTURE", "FEW", "ELSA", "2026-01-05", None]]))
    out = enrolment_impact(t, CAL, settings, as_of=END).set_index("enrolment_id")
    assert "E-FUTURE" not in out.index
    assert out.loc["E-EARLY", "baseline_school_days"] == 5
    assert out.loc["E-EARLY", "baseline_start"] == pd.Timestamp("2025-09-01")
    assert out.loc["E-LATE", "intervention_school_days"] == 2
    assert (out["verdict"] == TOO_LITTLE).all()
    # EARLY fell from 1 a day (5 in 5 days) to 17 in 35 days, but 5 baseline days cannot carry a claim.
    assert out.loc["E-EARLY", "rate_ratio"] == pytest.approx(17 / 35)


def test_gas_and_engagement_means_per_window(settings):
    base = CAL.between(BASELINE_START, START - pd.Timedelta(days=1))
    during = CAL.between(START, END)
    targets = pd.DataFrame({"target_id": ["T1", "T2"], "student_id": ["G", "G"], "area": ["SEMH", "SEMH"]})
    ratings = pd.DataFrame({
        "rating_id": ["r1", "r2", "r3", "r4", "r5"],
        "target_id": ["T1", "T2", "T1", "T2", "T1"],
        "student_id": [np.nan, "G", np.nan, np.nan, np.nan],  # the owner comes from the target
        "rated_on": pd.to_datetime([base[2], base[9], during[1], during[5], "2025-09-02"]).astype("datetime64[us]"),
        "gas_score": pd.array([-2, -1, 0, 1, 2], dtype="Int64"),  # the last is before the baseline: ignored
    })
    sessions = pd.DataFrame({
        "session_id": ["s1", "s2", "s3", "s4"], "student_id": "G",
        "date": pd.to_datetime([base[0], base[4], during[0], during[29]]).astype("datetime64[us]"),
        "engagement": pd.array([2, 3, 4, 5], dtype="Int64"),
    })
    t = _tables(_incidents("G", base[:5]), _enrol([["E-G", "G", "ELSA", START, END]]), sessions=sessions,
                ratings=ratings, targets=targets)
    row = enrolment_impact(t, CAL, settings, as_of=END).iloc[0]
    assert row["baseline_gas"] == pytest.approx(-1.5) and row["intervention_gas"] == pytest.approx(0.5)
    assert row["baseline_engagement"] == pytest.approx(2.5) and row["intervention_engagement"] == pytest.approx(4.5)
    assert row["baseline_severity"] == pytest.approx(2.0) and np.isnan(row["intervention_severity"])


def _programme_case(settings):
    base = CAL.between(BASELINE_START, START - pd.Timedelta(days=1))
    during = CAL.between(START, END)
    inc = pd.concat([
        _incidents("A", np.concatenate([base[:18].to_numpy(), during[:2].to_numpy()])),  # 18 -> 2: fewer
        _incidents("B", np.concatenate([base[:6].to_numpy(), during[:6].to_numpy()])),  # 6 -> 6: no clear change
        # 2 -> 16 spread over the weeks (not bunched, which the overdispersion would rightly widen): more
        _incidents("C", np.concatenate([base[[0, 15]].to_numpy(), during[np.linspace(0, 29, 16).astype(int)]
                                        .to_numpy()])),
        _incidents("D", base[:1]),  # 1 incident: too little data
    ], ignore_index=True)
    enrol = _enrol([["EA", "A", "Travel Training", START, END], ["EB", "B", "Travel Training", START, END],
                    ["EC", "C", "Travel Training", START, END], ["ED", "D", "Travel Training", START, END],
                    ["EZ", "A", "Zones of Regulation", START, END]])
    sessions = pd.DataFrame({
        "session_id": ["p1", "p2", "p3", "p4", "p5", "p6"],
        "student_id": ["A", "A", "B", "C", "A", "Z"],
        # p1-p4 deliver Travel Training ("Bus travel" is its activity name; "Travel training" a spelling of it);
        # p5 is before the enrolment, p6 is a pupil not enrolled.
        "date": pd.to_datetime([during[0], during[1], during[2], during[3], base[0], during[0]]).astype(
            "datetime64[us]"),
        "activity": ["Bus travel", "Travel training", "Bus travel", "Bus travel", "Bus travel", "Bus travel"],
        "duration_minutes": pd.array([60, 90, 30, 60, 60, 60], dtype="Int64"),
        "cost_gbp": [20.0, 30.0, 10.0, 20.0, 99.0, 99.0],
    })
    budget = pd.DataFrame({"budget_id": ["B1", "B2", "B3"], "scope": ["programme", "programme", "student"],
                           "scope_id": ["Independent travel training", "Zones", "A"],
                           "amount_gbp": [500.0, 300.0, 100.0]})
    return _tables(inc, enrol, sessions=sessions, budget=budget)


def test_programme_aggregation(settings, monkeypatch):
    t = _programme_case(settings)
    enrol = enrolment_impact(t, CAL, settings, as_of=END)
    assert dict(zip(enrol["enrolment_id"], enrol["verdict"])) == {
        "EA": FEWER, "EZ": FEWER, "EB": NO_CLEAR, "EC": MORE, "ED": TOO_LITTLE}
    # The criteria helper is stubbed so that this test checks only the counting (EA meets exit, EB does not).
    stub = types.ModuleType("kwanalytics.metrics.criteria")
    stub.criteria_status = lambda incidents, interventions, calendar, settings, as_of=None: pd.DataFrame({
        "student_id": ["A", "B", "Q"], "programme": ["Travel Training", "Travel Training", "Anger Management"],
        "enrolment_id": ["EA", "EB", np.nan], "enrolled": [True, True, False], "meets_entry": [True, True, True],
        "meets_exit": [True, False, True], "evidence": ["", "", ""]})
    monkeypatch.setitem(sys.modules, "kwanalytics.metrics.criteria", stub)
    out = programme_impact(enrol, t, settings, as_of=END).set_index("programme")
    tt = out.loc["Travel Training"]
    assert tt["pupils"] == 4 and tt["enrolments"] == 4
    # One pooled estimate from all four enrolments, D's single incident too. Every window has 30 school days, so
    # the conditional Poisson estimate is incidents during over incidents before: (2 + 6 + 16 + 0) / (18 + 6 + 2 + 1).
    assert tt["rate_ratio"] == pytest.approx(24 / 27)
    # Its variance (log scale) is the robust one: squared residuals of each enrolment's count during, given its
    # total, each over 1 - its leverage (its share of the binomial information), over the squared information;
    # the interval takes t on 4 - 1 degrees of freedom.
    during, total = np.array([2, 6, 16, 0]), np.array([20, 12, 18, 1])
    p = 24 / 51
    w = total * p * (1 - p)
    var = ((during - total * p) ** 2 / (1 - w / w.sum())).sum() / w.sum() ** 2
    half = stats.t.isf(0.025, 3) * np.sqrt(var)
    assert tt["rate_ratio_ci_low"] == pytest.approx(24 / 27 * np.exp(-half))
    assert tt["rate_ratio_ci_high"] == pytest.approx(24 / 27 * np.exp(half))
    # One fell, one rose: the spread between them is far beyond chance (I² from the random-effects pool).
    rows = enrol[enrol["programme"] == "Travel Training"]
    assert tt["heterogeneity_i2"] == pytest.approx(
        pool_log_ratios(rows["log_rate_ratio"], rows["log_rate_ratio_se"])["i2"]) and tt["heterogeneity_i2"] > 0.75
    assert list(out.reset_index().columns[:11]) == [
        "programme", "enrolments", "pupils", "rate_ratio", "rate_ratio_ci_low", "rate_ratio_ci_high",
        "adjusted_rate_ratio", "adjusted_ci_low", "adjusted_ci_high", "comparison_pupils", "heterogeneity_i2"]
    assert (tt["improved_clearly"], tt["no_clear_change"], tt["worse_clearly"], tt["too_little_data"]) == (1, 1, 1, 1)
    assert tt["exit_criteria_met"] == 1
    assert tt["sessions"] == 4 and tt["session_hours"] == pytest.approx(4.0)
    assert tt["cost_gbp"] == pytest.approx(80.0) and tt["budget_gbp"] == pytest.approx(500.0)
    assert tt["cost_per_pupil"] == pytest.approx(20.0) and tt["cost_per_hour"] == pytest.approx(20.0)
    z = out.loc["Zones of Regulation"]
    # No Zones sessions: the programme's budget stands in for its cost; no hours, so no cost per hour.
    assert z["pupils"] == 1 and z["sessions"] == 0 and z["budget_gbp"] == pytest.approx(300.0)
    assert z["cost_gbp"] == pytest.approx(300.0) and z["cost_per_pupil"] == pytest.approx(300.0)
    assert pd.isna(z["cost_per_hour"]) and z["exit_criteria_met"] == 0


def test_programme_sessions_match_through_the_vocabulary(settings):
    t = _programme_case(settings)
    got = programme_sessions(t["sessions"], t["interventions"], settings)
    assert sorted(got["session_id"]) == ["p1", "p2", "p3", "p4"]
    assert set(got["programme"]) == {"Travel Training"}


def test_one_pass_nap_and_tau_u_agree_with_effect_sizes(settings):
    # Speed lives in benchmarks/calibrate_impact.py (it prints the time for 3,000 pupils); here only the figures.
    rng = np.random.default_rng(7)
    n = 300
    students = np.array([f"S{i:04d}" for i in range(n)])
    starts = CAL.days[rng.integers(20, len(CAL) - 20, size=3 * n)]
    enrol = _enrol([[f"E{i}", students[i % n], "ELSA", starts[i], None] for i in range(3 * n)])
    k = 40 * n
    inc = pd.DataFrame({"incident_id": [f"I{i}" for i in range(k)], "student_id": students[rng.integers(0, n, k)],
                        "occurred_at": CAL.days[rng.integers(0, len(CAL), k)].astype("datetime64[us]"),
                        "category": "Defiance", "severity": pd.array(rng.integers(1, 6, k), dtype="Int64")})
    t = _tables(inc, enrol)
    out = enrolment_impact(t, CAL, settings, as_of=END)
    assert len(out) == 3 * n and out["verdict"].isin([FEWER, NO_CLEAR, MORE, TOO_LITTLE]).all()
    # The one-pass NAP and Tau-U agree with effect_sizes' own functions, enrolment by enrolment.
    from kwanalytics.metrics import effect_sizes
    from kwanalytics.metrics.impact import _assign, _weekly_rates, _windows

    enr = _windows(t["interventions"], CAL, t, 30, END)
    weeks = _weekly_rates(enr, _assign(t["incidents"], "occurred_at", enr), CAL)
    by_id = out.set_index("enrolment_id")
    for pos in rng.choice(len(enr), 40, replace=False):
        w = weeks[weeks["enr_pos"] == pos]
        a, b = w[w["window"] == "baseline"]["rate"], w[w["window"] == "intervention"]["rate"]
        row = by_id.loc[enr.loc[pos, "enrolment_id"]]
        if len(a) and len(b):
            assert row["nap"] == pytest.approx(float(effect_sizes.nap(a, b, improvement="decrease")))
            assert row["tau_u"] == pytest.approx(float(effect_sizes.tau_u(a, b, improvement="decrease")))
        else:
            assert np.isnan(row["nap"]) and np.isnan(row["tau_u"])


def test_baseline_never_reaches_before_the_records_begin(settings):
    base = CAL.between(BASELINE_START, START - pd.Timedelta(days=1))
    t = _tables(_incidents("P", base[10:16]), _enrol([["E-P", "P", "ELSA", START, END]]))
    t["sessions"] = t["sessions"].iloc[0:0]  # one pupil's rows only: the first record is her incident on 29 Sep
    own = enrolment_impact(t, CAL, settings, as_of=END).iloc[0]
    assert own["baseline_start"] == pd.Timestamp("2025-09-29") and own["baseline_school_days"] == 20
    # Told where the school's records begin (the whole school's tables start on 1 Sep), the baseline is the full
    # 30 days, as in the cohort view.
    school = _tables(t["incidents"], t["interventions"])
    assert records_start(school) == pd.Timestamp("2025-09-01")
    full = enrolment_impact(t, CAL, settings, as_of=END, data_start=records_start(school)).iloc[0]
    assert full["baseline_start"] == BASELINE_START and full["baseline_school_days"] == 30
    assert full["baseline_incidents"] == own["baseline_incidents"] == 6


def test_exit_criteria_left_empty_without_the_criteria_module(settings, monkeypatch):
    t = _programme_case(settings)
    enrol = enrolment_impact(t, CAL, settings, as_of=END)
    monkeypatch.setitem(sys.modules, "kwanalytics.metrics.criteria", None)  # import fails as if the module were absent
    out = programme_impact(enrol, t, settings, as_of=END)
    assert out["exit_criteria_met"].isna().all()


def test_impact_report_names_its_calendar_and_date(settings, tmp_path):
    from kwanalytics.errors import InputError
    from kwanalytics.evidence.listings import impact_report
    from kwanalytics.metrics.impact import REPORT_COLUMNS
    from kwanalytics.store import write_table

    t = _programme_case(settings)
    for name in ("incidents", "interventions", "sessions", "budget"):
        write_table(tmp_path, name, t[name])
    frame, title = impact_report(tmp_path, as_of=END.date())
    assert list(frame.columns) == REPORT_COLUMNS and len(frame) == 5
    assert "up to 2025-12-19" in title and "term_dates.yaml" in title
    # The school's term dates (not the hand-made test calendar) make the same verdicts here.
    assert frame.set_index("enrolment_id").loc["EA", "verdict"] == FEWER
    per_programme, title = impact_report(tmp_path, by="programme")
    assert title.startswith("Impact per programme") and set(per_programme["programme"]) == {
        "Travel Training", "Zones of Regulation"}
    # The CSV has every column; the terminal the pooled estimates and the costs, in the CSV's order.
    from kwanalytics.evidence.listings import terminal_columns
    from kwanalytics.metrics.impact import PROGRAMME_COLUMNS

    assert list(per_programme.columns) == PROGRAMME_COLUMNS
    shown = list(terminal_columns(per_programme, "programme").columns)
    assert shown[:11] == PROGRAMME_COLUMNS[:11] and shown == [c for c in PROGRAMME_COLUMNS if c in shown]
    assert terminal_columns(frame, "enrolment") is frame
    with pytest.raises(InputError, match="--by enrolment or --by programme"):
        impact_report(tmp_path, by="pupil")


def test_windows_start_at_admission_skip_an_earlier_enrolment_and_name_an_overlap(settings):
    during = CAL.between(START, END)
    inc = pd.concat([_incidents("ADM", _weekdays("2025-09-01", END, [1])),
                     _incidents("TWO", _weekdays("2025-09-01", END, [1]))], ignore_index=True)
    t = _tables(inc, _enrol([["E-ADM", "ADM", "ELSA", START, END],
                             # TWO was in ELSA until 17 Oct (the Friday before half term), then in Zones from 3 Nov,
                             # and also in a Drawing and Talking group that started on 1 Dec and is still open
                             ["E-OLD", "TWO", "ELSA", "2025-09-22", "2025-10-17"],
                             ["E-NEW", "TWO", "Zones of Regulation", START, END],
                             ["E-DT", "TWO", "Drawing and Talking", during[20], None]]))
    # ADM joined on Monday 13 October: the baseline is that week only, not 30 school days of zeros before.
    t["students"] = pd.DataFrame({"student_id": ["ADM", "TWO"], "admitted_on": pd.to_datetime(
        ["2025-10-13", None]).astype("datetime64[us]"), "left_on": pd.to_datetime(
        [None, "2025-12-12"]).astype("datetime64[us]")})
    out = enrolment_impact(t, CAL, settings, as_of=END).set_index("enrolment_id")
    assert out.loc["E-ADM", "baseline_start"] == pd.Timestamp("2025-10-13")
    assert out.loc["E-ADM", "baseline_school_days"] == 10 and out.loc["E-ADM", "baseline_incidents"] == 2
    # The Zones baseline begins after the ELSA enrolment ended: 20 Oct .. 24 Oct, 5 school days (too few to judge).
    new = out.loc["E-NEW"]
    assert new["baseline_start"] == pd.Timestamp("2025-10-20") and new["baseline_school_days"] == 5
    assert new["verdict"] == TOO_LITTLE
    # Drawing and Talking runs inside the Zones window: the overlap is named on both rows; ELSA no longer touches.
    assert new["overlaps"] == "E-DT" and out.loc["E-DT", "overlaps"] == "E-NEW"
    assert out.loc["E-OLD", "overlaps"] == "" and out.loc["E-ADM", "overlaps"] == ""
    # TWO left on Friday 12 December: the open Drawing and Talking enrolment (from 8 Dec) stops there, 5 school days,
    # not 10 of which the last 5 would count as incident-free; the Zones one too (25 days, not 30).
    assert out.loc["E-DT", "intervention_school_days"] == 5 and out.loc["E-NEW", "intervention_school_days"] == 25
    assert out.loc["E-ADM", "intervention_school_days"] == 30


def test_incidents_on_non_school_days_are_counted_apart(settings):
    base = CAL.between(BASELINE_START, START - pd.Timedelta(days=1))
    during = CAL.between(START, END)
    weekend = pd.DatetimeIndex(["2025-11-08", "2025-11-15"])  # Saturdays inside the intervention window
    half_term = pd.DatetimeIndex(["2025-10-28"])  # inside the baseline's date range, no school
    t = _tables(_incidents("W", base[::3].append(during[::3]).append(weekend).append(half_term)),
                _enrol([["E-W", "W", "ELSA", START, END]]))
    row = enrolment_impact(t, CAL, settings, as_of=END).iloc[0]
    # 10 school-day incidents in each window of 30 school days; the three others are neither.
    assert (row["baseline_incidents"], row["intervention_incidents"]) == (10, 10)
    assert row["non_school_day_incidents"] == 3 and row["rate_ratio"] == pytest.approx(1.0)


def _season(rng, pupils, effect, fall=0.4, rate=0.3, vmr=2.0):
    """A school where every pupil's rate falls by ``fall`` from START (the season), and the enrolled pupils' rate
    is also multiplied by ``effect``; weekly counts are negative binomial with variance/mean ``vmr``."""
    rows = []
    weeks = CAL.weeks()
    for p in range(pupils):
        enrolled = p < pupils // 3
        for wk, days in zip(weeks["week_start"], weeks["school_days"]):
            mean = rate * days * ((1 - fall) if wk >= START else 1.0) * (effect if enrolled and wk >= START else 1)
            # Gamma-Poisson with variance mean * vmr: shape mean / (vmr - 1).
            count = rng.poisson(rng.gamma(mean / (vmr - 1), vmr - 1)) if vmr > 1 else rng.poisson(mean)
            rows += [(f"P{p:03d}", d) for d in CAL.between(wk, wk + pd.Timedelta(days=4))[
                rng.integers(0, days, count)]]
    inc = pd.DataFrame(rows, columns=["student_id", "day"])
    inc = pd.DataFrame({"incident_id": [f"I{i}" for i in range(len(inc))], "student_id": inc["student_id"],
                        "occurred_at": (pd.DatetimeIndex(inc["day"]) + pd.Timedelta(hours=11)).astype(
                            "datetime64[us]"), "category": "Defiance", "severity": pd.array([2] * len(inc),
                                                                                          dtype="Int64")})
    enrol = _enrol([[f"E{p}", f"P{p:03d}", "Programme", START, END] for p in range(pupils // 3)])
    t = _tables(inc, enrol)
    t["students"] = pd.DataFrame({"student_id": [f"P{p:03d}" for p in range(pupils)]})
    return t


def test_a_do_nothing_programme_after_a_school_wide_fall_is_not_credited_once_adjusted(settings):
    t = _season(np.random.default_rng(16), 90, effect=1.0)
    enrol = enrolment_impact(t, CAL, settings, as_of=END)
    prog = programme_impact(enrol, t, settings, as_of=END, calendar=CAL).iloc[0]
    assert prog["enrolments"] == 30 and prog["comparison_pupils"] == 60
    # Naively the programme "works": the pooled interval is wholly below 1, near the season's 0.6.
    assert prog["rate_ratio_ci_high"] < 1 and 0.45 < prog["rate_ratio"] < 0.75
    # Against the 60 pupils in no programme over the same school days it does not.
    assert prog["adjusted_ci_low"] < 1 < prog["adjusted_ci_high"]
    assert (enrol["adjusted_verdict"] == FEWER).sum() <= 2 < (enrol["verdict"] == FEWER).sum()
    assert pd.isna(prog["incidents_avoided"]) and pd.isna(prog["cost_per_incident_avoided"])
    # Comparison rate ratio ~0.6 on every enrolment (the same windows): the season, measured.
    assert enrol["comparison_rate_ratio"].between(0.5, 0.7).all()


def test_a_programme_that_halves_incidents_is_credited_with_its_own_effect(settings):
    t = _season(np.random.default_rng(17), 90, effect=0.5)
    t["budget"] = pd.DataFrame({"budget_id": ["B1"], "scope": ["programme"], "scope_id": ["Programme"],
                                "amount_gbp": [3000.0]})
    enrol = enrolment_impact(t, CAL, settings, as_of=END)
    prog = programme_impact(enrol, t, settings, as_of=END, calendar=CAL).iloc[0]
    # The naive estimate mixes the season in (0.6 x 0.5 = 0.3); the adjusted one is the programme's 0.5.
    assert prog["adjusted_ci_low"] < 0.5 < prog["adjusted_ci_high"] < 1
    assert prog["rate_ratio"] < prog["adjusted_rate_ratio"]
    # Incidents avoided: those during, scaled up by 1 / adjusted ratio, less those during; the budget per each.
    during = enrol["intervention_incidents"].sum()
    assert prog["incidents_avoided"] == pytest.approx(during * (1 / prog["adjusted_rate_ratio"] - 1))
    assert prog["cost_per_incident_avoided"] == pytest.approx(3000.0 / prog["incidents_avoided"])
    assert prog["cost_per_pupil"] == pytest.approx(100.0)


def test_forest_plot_draws_each_enrolment_and_both_pooled_estimates(settings):
    from kwanalytics.evidence import charts

    t = _season(np.random.default_rng(18), 30, effect=0.5)
    enrol = enrolment_impact(t, CAL, settings, as_of=END)
    prog = programme_impact(enrol, t, settings, as_of=END, calendar=CAL).iloc[0]
    rows = enrol.assign(pupil=[f"P-{i:02d}" for i in range(len(enrol))])
    rows.loc[0, ["rate_ratio", "rate_ratio_ci_low"]] = 0.0  # a pupil with no incidents during
    rows.loc[1, "rate_ratio_ci_high"] = np.inf  # ... and one with none before
    fig = charts.forest(rows, prog, "Programme")
    each, naive, adjusted = fig.data
    assert len(each.y) == 10 and list(naive.y) == ["pooled, own baseline"]
    assert list(adjusted.y) == ["pooled, against no programme"]
    assert naive.x[0] == pytest.approx(prog["rate_ratio"]) and adjusted.x[0] == pytest.approx(prog["adjusted_rate_ratio"])
    assert adjusted.x[0] - adjusted.error_x.arrayminus[0] == pytest.approx(prog["adjusted_ci_low"])
    # 0 and infinity are drawn at the log axis's edges, never dropped.
    assert each.x[0] > 0 and np.isfinite(each.x[1] + each.error_x.array[1])
    assert fig.layout.xaxis.type == "log"
    assert charts.forest(rows.iloc[0:0], prog, "Programme") is None


def test_cohort_shows_a_forest_only_for_programmes_listed_pupil_by_pupil(settings):
    from kwanalytics.evidence.cohort import cohort_sections

    t = _season(np.random.default_rng(19), 30, effect=0.5)
    small = _enrol([["S1", "P020", "Small group", START, END], ["S2", "P021", "Small group", START, END]])
    t["interventions"] = pd.concat([t["interventions"], small], ignore_index=True)
    # Every canonical column present, as after ingest.
    t = {name: pd.concat([empty_frame(name), t.get(name, empty_frame(name))], ignore_index=True)
         for name in ("students", "targets", "target_ratings", "sessions", "incidents", "interventions", "contacts",
                      "budget", "risk_assessments")}
    section = cohort_sections(t, settings, CAL, b"salt", as_of=END)
    assert not any("programmes section" in note for note in section.notes), section.notes
    assert "forest: Programme" in section.figures and "forest: Small group" not in section.figures
    assert any("cannot take out" in line for line in section.summary)
