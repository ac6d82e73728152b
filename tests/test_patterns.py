"""The watchlist: small incident logs with one known pattern each, and scattered logs that must raise nothing."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kwanalytics.calendar import from_term_dates
from kwanalytics.metrics.criteria import criteria_status
from kwanalytics.metrics.patterns import hotspots, watchlist
from kwanalytics.settings import load_settings

SETTINGS = load_settings()
CAL = from_term_dates(SETTINGS.term_dates)
YEAR = CAL.between("2025-09-03", "2026-07-21")
CATEGORIES = ["Low-level disruption", "Defiance", "Verbal abuse", "Leaving lesson", "Unkind words to peers",
              "Misuse of technology", "Dysregulation", "Damage to property"]
LOCATIONS = ["Classroom", "Corridor", "Playground", "Dining hall", "Toilets", "Sensory room", "Minibus", "PE hall",
             "Reception", "Community"]
PERIODS = {"Period 1": "09:10", "Period 2": "10:10", "Period 3": "11:30", "Lunch": "12:30", "Period 4": "13:20",
           "Period 5": "14:20", "Break": "10:55"}
# Chance spreads incidents over the school day by each period's length (minutes, schemas/settings.yaml).
MINUTES = {"Period 1": 60, "Period 2": 60, "Period 3": 60, "Lunch": 50, "Period 4": 60, "Period 5": 60, "Break": 20}
WEIGHTS = np.array(list(MINUTES.values())) / sum(MINUTES.values())
ANTECEDENTS = ["Demand placed", "Transition", "Peer conflict", "Unstructured time", "Sensory overload", "Told no",
               "Unexpected change", "Difficult work"]


def incident(sid, day, category="Defiance", location="Classroom", period="Period 2", antecedent=None, severity=2):
    at = pd.Timestamp(f"{pd.Timestamp(day):%Y-%m-%d} {PERIODS[period]}")
    return {"student_id": sid, "occurred_at": at, "period": period, "location": location, "category": category,
            "severity": severity, "antecedent": antecedent, "lesson": None, "staff": None}


def frame(rows) -> pd.DataFrame:
    out = pd.DataFrame(rows)
    out.insert(0, "incident_id", [f"I{i:05d}" for i in range(len(out))])
    out["severity"] = out["severity"].astype("Int64")
    return out


def scattered(rng, sid, n, gap=15):
    """n incidents at least ``gap`` school days apart, everything else at random."""
    start = rng.integers(0, len(YEAR) - gap * n)
    days = start + np.cumsum(rng.integers(gap, gap + 8, size=n))
    days = np.minimum(days, len(YEAR) - 1)
    return [incident(sid, YEAR[d], rng.choice(CATEGORIES), rng.choice(LOCATIONS), rng.choice(list(MINUTES), p=WEIGHTS),
                     rng.choice(ANTECEDENTS), int(rng.integers(1, 4))) for d in days]


def background(rng, pupils=40):
    rows = []
    for i in range(pupils):
        rows += scattered(rng, f"B{i:03d}", int(rng.integers(2, 6)))
    return rows


@pytest.mark.parametrize("seed", range(8))
def test_scattered_incidents_raise_nothing(seed):
    rng = np.random.default_rng(seed)
    log = frame(background(rng, pupils=60))
    wl = watchlist(log, None, None, CAL, SETTINGS, as_of="2026-07-21")
    assert wl.empty, wl[["student_id", "pattern", "evidence"]].to_string()


def test_cluster_counts_school_days_across_a_half_term():
    rng = np.random.default_rng(1)
    # Friday before half-term, then Monday and Tuesday after it: 3 school days, 11 calendar days; five incidents
    # there and two more in the pupil's year on roll (chance gives 5 of 7 within 10 school days with p < 0.001).
    rows = [incident("P1", d, "Dysregulation") for d in ("2025-10-24", "2025-10-24", "2025-11-03", "2025-11-03",
                                                        "2025-11-04")]
    rows += [incident("P1", "2026-03-10"), incident("P1", "2026-06-15")]
    students = pd.DataFrame({"student_id": ["P1"], "admitted_on": [pd.Timestamp("2025-09-03")], "left_on": [pd.NaT]})
    wl = watchlist(frame(rows + background(rng)), students, None, CAL, SETTINGS, as_of="2026-07-21")
    hit = wl[(wl.student_id == "P1") & (wl.pattern == "cluster")]
    assert len(hit) == 1, wl
    assert hit.iloc[0]["incidents"] == 5
    assert hit.iloc[0]["evidence"].startswith("5 incidents within 3 school days (24/10/2025 to 04/11/2025)")
    assert set(wl.student_id) == {"P1"}


def test_three_incidents_eleven_school_days_apart_are_not_a_cluster():
    rows = [incident("P1", d) for d in CAL.between("2026-01-05", "2026-03-27")[[0, 11, 22]]]
    wl = watchlist(frame(rows), None, None, CAL, SETTINGS, as_of="2026-07-21")
    assert wl.empty


def test_time_pattern_on_monday_period_one():
    rng = np.random.default_rng(2)
    mondays = [d for d in YEAR if d.weekday() == 0][::3][:8]
    rows = [incident("P2", d, rng.choice(CATEGORIES), rng.choice(LOCATIONS), "Period 1") for d in mondays]
    rows += [incident("P2", "2025-10-08", period="Period 4"), incident("P2", "2026-02-26", period="Lunch")]
    wl = watchlist(frame(rows + background(rng)), None, None, CAL, SETTINGS, as_of="2026-07-21")
    hit = wl[(wl.student_id == "P2") & (wl.pattern == "time")]
    assert len(hit) == 1, wl
    assert "8 of 10 incidents (80%) were on Mondays in Period 1" in hit.iloc[0]["evidence"]
    assert hit.iloc[0]["p_value"] < 0.01


def test_place_pattern_in_the_toilets():
    rng = np.random.default_rng(3)
    days = YEAR[::16][:10]
    rows = [incident("P3", d, rng.choice(CATEGORIES), "Toilets" if i < 8 else "Classroom",
                     rng.choice(list(PERIODS))) for i, d in enumerate(days)]
    wl = watchlist(frame(rows + background(rng)), None, None, CAL, SETTINGS, as_of="2026-07-21")
    hit = wl[(wl.student_id == "P3") & (wl.pattern == "place")]
    assert len(hit) == 1, wl
    assert "8 of 10 incidents (80%) happened in Toilets" in hit.iloc[0]["evidence"]
    assert set(wl.pattern[wl.student_id == "P3"]) == {"place"}


def test_trigger_transition_before_dysregulation():
    rng = np.random.default_rng(4)
    days = YEAR[::15][:12]
    rows = [incident("P4", d, "Dysregulation" if i < 9 else "Defiance", rng.choice(LOCATIONS),
                     rng.choice(list(PERIODS)), "Transition" if i < 9 else "Told no") for i, d in enumerate(days)]
    wl = watchlist(frame(rows + background(rng)), None, None, CAL, SETTINGS, as_of="2026-07-21")
    hit = wl[(wl.student_id == "P4") & (wl.pattern == "trigger")]
    assert len(hit) == 1, wl
    assert hit.iloc[0]["evidence"].startswith("'Transition' came before 9 of the pupil's 9 dysregulation incidents")
    assert "dysregulation x9" in hit.iloc[0]["evidence"]
    assert hit.iloc[0]["incidents"] == 9


def _leaving_after_unstructured_times(n: int, transitions: int) -> list[dict]:
    days = CAL.between("2026-01-06", "2026-03-27")[::5][:n]
    places = ["Classroom", "Corridor", "Playground", "Dining hall", "PE hall", "Toilets", "Minibus"]
    periods = ["Period 1", "Period 2", "Period 3", "Lunch", "Period 4", "Period 5", "Break"]
    return [incident("M1", d, "Leaving lesson", places[i % 7], periods[i % 7],
                     "Transition" if i < transitions else "Unstructured time") for i, d in enumerate(days)]


def test_the_missed_pupil_leaving_after_unstructured_times_is_flagged():
    """Issue 15's miss: seven incidents in one term, all leaving the lesson, each after a transition (four) or
    unstructured time (three), at different places and periods: one behaviour repeated. The antecedent group is
    the strongest trigger cell (neither antecedent alone is), though seven incidents are too few for it to pass
    the school-wide false discovery rate on its own here."""
    from kwanalytics.metrics.patterns import _prepare, triggers

    rng = np.random.default_rng(8)
    log = frame(_leaving_after_unstructured_times(7, 4) + background(rng))
    wl = watchlist(log, None, None, CAL, SETTINGS, as_of="2026-07-21")
    assert set(wl.student_id) == {"M1"}
    behaviour = wl[wl.pattern == "behaviour"]
    assert len(behaviour) == 1, wl
    assert behaviour.iloc[0]["evidence"].startswith("7 of 7 incidents were leaving lesson (other pupils: 16%)")
    trigger = triggers(_prepare(log, "2026-07-21")[0], SETTINGS)
    row = trigger.describe("M1", trigger.p_values["M1"])
    assert row["evidence"].startswith("unstructured times ('Transition' x4 and 'Unstructured time' x3) came before "
                                      "7 of the pupil's 7 incidents with an antecedent recorded (100%; other pupils: 2")
    assert trigger.p_values["M1"] < 0.01


def test_an_antecedent_group_is_a_trigger():
    rng = np.random.default_rng(8)
    wl = watchlist(frame(_leaving_after_unstructured_times(10, 5) + background(rng)), None, None, CAL, SETTINGS,
                   as_of="2026-07-21")
    hit = wl[(wl.student_id == "M1") & (wl.pattern == "trigger")]
    assert len(hit) == 1, wl
    assert hit.iloc[0]["evidence"].startswith(
        "unstructured times ('Transition' x5 and 'Unstructured time' x5) came before 10 of the pupil's 10 incidents")
    assert hit.iloc[0]["incidents"] == 10 and hit.iloc[0]["q_value"] <= 0.05


def test_escalation_rising_rate_and_move_to_physical():
    rng = np.random.default_rng(5)
    weeks = CAL.weeks(end="2026-07-21").tail(10)["week_start"].to_list()
    rows = [incident("P5", "2025-11-12", "Low-level disruption")]
    for w, n in zip(weeks, [0, 0, 1, 1, 1, 2, 2, 3, 3, 4]):
        days = CAL.between(w, w + pd.Timedelta(days=4))
        for d in days[:n]:
            rows.append(incident("P5", d, "Low-level disruption", severity=2))
    last = CAL.between(weeks[-1], weeks[-1] + pd.Timedelta(days=4))
    rows += [incident("P5", last[-1], "Physical aggression", severity=4, period="Lunch"),
             incident("P5", last[-2], "Physical aggression", severity=4, period="Break")]
    wl = watchlist(frame(rows + background(rng)), None, None, CAL, SETTINGS, as_of="2026-07-21")
    hit = wl[(wl.student_id == "P5") & (wl.pattern == "escalation")]
    assert len(hit) == 1, wl
    text = hit.iloc[0]["evidence"]
    assert "Mann-Kendall" in text and "2 physical incidents" in text


def test_criteria_entry_and_exit_hand_worked():
    rows = [incident("E1", d, "Physical aggression") for d in ("2026-07-01", "2026-07-08", "2026-07-15")]
    rows += [incident("E2", d, "Physical aggression") for d in ("2026-07-01", "2026-07-08")]  # 2 < 3: no entry
    rows += [incident("X1", "2026-02-02", "Physical aggression")]  # long before the exit window
    enrol = pd.DataFrame({
        "enrolment_id": ["EN1", "EN2"], "student_id": ["X1", "X2"], "programme": ["Anger Management"] * 2,
        "started_on": pd.to_datetime(["2026-03-02", "2026-07-13"]), "ended_on": pd.to_datetime([None, None])})
    st = criteria_status(frame(rows), enrol, CAL, SETTINGS, as_of="2026-07-21")
    anger = st[st.programme == "Anger Management"].set_index("student_id")
    assert anger.loc["E1", "meets_entry"] and "3 incidents of physical aggression in the last 20 school days" \
        in anger.loc["E1", "evidence"]
    assert "E2" not in anger.index
    assert anger.loc["X1", "meets_exit"]  # 0 physical in the last 30 school days, enrolled 4+ months
    assert not anger.loc["X2", "meets_exit"]  # 7 school days in: too early to judge
    assert "too early" in anger.loc["X2", "evidence"]


def test_watchlist_next_step_names_entry_criteria():
    rows = [incident("E1", d, "Physical aggression") for d in ("2026-07-13", "2026-07-14", "2026-07-15")]
    on_roll = pd.DataFrame({"student_id": ["E1"], "admitted_on": [pd.Timestamp("2025-09-03")], "left_on": [pd.NaT]})
    wl = watchlist(frame(rows), on_roll, None, CAL, SETTINGS, as_of="2026-07-21")
    assert "Meets entry criteria for Anger Management." in wl.iloc[0]["next_step"]


def test_hotspots_flag_a_planted_slot_and_not_an_even_spread():
    rng = np.random.default_rng(6)
    rows = background(rng, pupils=80)
    # chance puts an incident in a place as often as pupils are there (settings.yaml timetable), not evenly
    hours = SETTINGS.school.timetable.hours_per_week
    places = [p for p in LOCATIONS if p in hours]
    weights = np.array([hours[p] for p in places]) / sum(hours[p] for p in places)
    for row in rows:
        row["location"] = rng.choice(places, p=weights)
    fridays = [d for d in YEAR if d.weekday() == 4]
    rows += [incident(f"H{i}", fridays[i], "Defiance", "Playground", "Lunch") for i in range(30)]
    hs = hotspots(frame(rows), CAL, SETTINGS, by="weekday_period")
    flagged = hs[hs.flagged]
    assert list(zip(flagged.weekday.astype(str), flagged.period)) == [("Friday", "Lunch")]
    loc = hotspots(frame(rows), CAL, SETTINGS, by="location").set_index("location")
    assert loc.loc["Playground", "flagged"] and loc["flagged"].sum() == 1
    assert not hotspots(frame(background(np.random.default_rng(7), 80)), CAL, SETTINGS, "weekday_period").flagged.any()


# ------------------------------------------------------------------------------------- calibration on chance data
def test_scan_bound_is_exact_on_a_hand_worked_case_and_never_below_chance():
    from kwanalytics.metrics.scan import scan_p_value

    # Two incidents on three school days, windows of two days: only days 1 and 3 (2 of the 9 placements) keep
    # them apart, so P(some window holds both) = 7/9, and the bound is exact here.
    assert scan_p_value(2, 2, 3, 2)[0] == pytest.approx(7 / 9)
    rng = np.random.default_rng(0)
    for n, days, s in ((6, 190, 4), (4, 190, 4), (20, 190, 5)):
        pos = rng.integers(0, days, (40_000, n))
        counts = np.zeros((len(pos), days + 1))
        np.add.at(counts, (np.repeat(np.arange(len(pos)), n), pos.ravel() + 1), 1)
        cum = counts.cumsum(axis=1)
        observed = ((cum[:, 10:] - cum[:, :-10]).max(axis=1) >= s).mean()
        bound = scan_p_value(s, n, days, 10)[0]
        se = np.sqrt(observed * (1 - observed) / len(pos))
        assert observed - 3 * se <= bound <= max(observed * 1.2, observed + 4 * se), (n, days, s, observed, bound)


@pytest.mark.parametrize("seed", [0, 1])
def test_chance_data_is_not_flagged_by_the_tests(seed):
    """Issue 15's false alarms: a year where nothing is a pattern (constant rates from a gamma, every incident's
    details from school-wide mixes, a third joining in the spring). Main's code before this change flagged 3.0%
    and 2.0% of these 600 pupils as clusters (5-6% of the late joiners); the tests now flag almost none, and only
    the safeguarding rule (not a test) lists a few."""
    from kwanalytics.calendar import SchoolCalendar
    from kwanalytics.demo.calibration import null_school

    year = SchoolCalendar(YEAR, "the 2025-26 school year")
    school = null_school(year, SETTINGS, pupils=600, seed=seed)
    wl = watchlist(school.incidents, school.students, None, year, SETTINGS, as_of="2026-07-21")
    tested = wl[wl["p_value"].notna()]
    assert tested["student_id"].nunique() <= 3, tested[["student_id", "pattern", "evidence"]]
    late = set(school.pupils.loc[school.pupils["late_joiner"], "student_id"])
    assert not set(tested.loc[tested["pattern"] == "cluster", "student_id"]) & late
    assert wl["student_id"].nunique() <= 0.015 * 600
    rule = wl[wl["p_value"].isna()]
    assert (rule["pattern"] == "escalation").all() and rule["evidence"].str.contains("safeguarding rule").all()


# ------------------------------------------------------------------------------ since the last meeting (status)
def _since_school():
    rng = np.random.default_rng(9)
    on_roll = pd.DataFrame({"student_id": ["C1", "T1", "Q1"], "admitted_on": [pd.Timestamp("2025-09-03")] * 3,
                            "left_on": [pd.NaT] * 3})
    # C1: a burst in July, two incidents before it; T1: Mondays in Period 1 all year, the last on 13/07/2026;
    # Q1: Mondays in Period 1 too, but none since May.
    rows = [incident("C1", d, "Dysregulation") for d in ("2025-10-08", "2026-03-11", "2026-07-06", "2026-07-06",
                                                        "2026-07-07", "2026-07-07", "2026-07-08")]
    mondays = [d for d in YEAR if d.weekday() == 0]
    rows += [incident("T1", d, "Defiance", "Classroom", "Period 1") for d in mondays[::4][:9] + [mondays[-2]]]
    rows += [incident("Q1", d, "Defiance", "Classroom", "Period 1") for d in mondays[1:32:3]]
    return frame(rows + background(rng)), on_roll


def test_since_marks_new_and_continuing_and_leaves_out_patterns_without_recent_incidents():
    log, on_roll = _since_school()
    full = watchlist(log, on_roll, None, CAL, SETTINGS, as_of="2026-07-21")
    assert full["status"].isna().all()
    assert {("C1", "cluster"), ("T1", "time"), ("Q1", "time")} <= set(zip(full.student_id, full.pattern))
    view = watchlist(log, on_roll, None, CAL, SETTINGS, as_of="2026-07-21", since="2026-07-01")
    status = dict(zip(zip(view.student_id, view.pattern), view.status))
    assert status[("C1", "cluster")] == "new"
    assert status[("T1", "time")] == "continuing"
    assert ("Q1", "time") not in status  # no incident in that cell since 01/07/2026
    assert (pd.to_datetime(view["last_seen"]) >= "2026-07-01").all()
    assert len(view) == len(full[pd.to_datetime(full["last_seen"]) >= "2026-07-01"])


def test_meeting_summary_counts_each_kind_and_puts_new_first():
    from kwanalytics.evidence.patterns import kinds_since, last_meeting, pupils_by_kind

    view = pd.DataFrame({"student_id": ["A", "A", "B", "C", "C"],
                         "pattern": ["time", "cluster", "place", "time", "behaviour"],
                         "status": ["continuing", "new", "continuing", "new", "new"]})
    kinds = kinds_since(view).set_index("pattern")
    assert list(kinds.index) == ["escalation", "cluster", "trigger", "behaviour", "time", "place"]
    assert kinds.loc["time"].tolist() == [1, 1, 2] and kinds.loc["cluster"].tolist() == [1, 0, 1]
    assert kinds["pupils"].sum() == len(view)
    grid = pupils_by_kind(view)
    assert grid["student_id"].tolist() == ["C", "A", "B"]
    assert grid.set_index("student_id").loc["A", ["cluster", "time", "place"]].tolist() == ["new", "continuing", ""]
    assert last_meeting("2026-07-21", SETTINGS) == pd.Timestamp("2026-07-14")


def test_kwa_watchlist_since_keeps_the_contract_columns(tmp_path):
    import io
    import subprocess
    import sys

    from conftest import build_workspace

    build_workspace(tmp_path)
    done = subprocess.run([sys.executable, "-m", "kwanalytics.cli", "watchlist", "--since", "01/03/2026", "--format",
                           "csv", "-w", str(tmp_path)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    out = pd.read_csv(io.StringIO(done.stdout))
    assert list(out.columns) == ["student_id", "pattern", "evidence", "first_seen", "last_seen", "incidents",
                                 "next_step", "p_value", "q_value", "status"]
    assert set(out["status"]) <= {"new", "continuing"}
    assert set(out["pattern"]) <= {"cluster", "time", "place", "behaviour", "trigger", "escalation"}
    assert (pd.to_datetime(out["last_seen"]) >= "2026-03-01").all()
    bad = subprocess.run([sys.executable, "-m", "kwanalytics.cli", "watchlist", "--since", "31/02/2026", "-w",
                          str(tmp_path)], capture_output=True, text=True)
    assert bad.returncode == 2 and "--since" in bad.stderr + bad.stdout and "Traceback" not in bad.stderr


def test_escalation_rise_is_tested_on_the_pupils_own_time():
    """Ten incidents spread from September to May, then eight in the last 22 school days (from 22/06/2026) of a
    pupil on roll all year (193 school days): the rise test's binomial p is 3 x P(X >= 8), X ~ Bin(18, 22/193),
    = 0.0013 (Bonferroni over three tests), hand-worked with scipy.stats.binom. The same eight for a pupil who
    joined on 01/06/2026 with two incidents in their first three weeks are near their own rate: the weeks before
    they joined are not read as quiet ones, so no rise."""
    from scipy import stats

    early = YEAR[5:160:16][:10]
    late = CAL.between("2026-06-22", "2026-07-21")[[0, 4, 8, 11, 14, 17, 19, 21]]
    rows = [incident("R1", d, "Defiance") for d in list(early) + list(late)]
    rows += [incident("L1", d, "Defiance") for d in ["2026-06-03", "2026-06-15"] + list(late)]
    on_roll = pd.DataFrame({"student_id": ["R1", "L1"], "admitted_on": pd.to_datetime(["2025-09-03", "2026-06-01"]),
                            "left_on": [pd.NaT, pd.NaT]})
    wl = watchlist(frame(rows + background(np.random.default_rng(10))), on_roll, None, CAL, SETTINGS,
                   as_of="2026-07-21")
    hit = wl[(wl.student_id == "R1") & (wl.pattern == "escalation")]
    assert len(hit) == 1, wl
    assert "8 of the pupil's 18 incidents in the last 22 of their 193 school days on roll" in hit.iloc[0]["evidence"]
    assert hit.iloc[0]["p_value"] <= 3 * stats.binom.sf(7, 18, 22 / 193) == pytest.approx(0.0012953, rel=1e-4)
    assert "L1" not in set(wl.loc[wl.pattern == "escalation", "student_id"])


def test_weekend_incidents_are_not_a_time_pattern():
    """A pupil whose incidents fall on Saturdays (a residential weekend, a trip): the school week has no Saturday
    to set them against, so no time pattern is claimed from them."""
    saturdays = pd.date_range("2025-09-06", "2026-07-18", freq="7D")[::4][:8]
    rows = [incident("W1", d, category, location, period) for d, category, location, period in
            zip(saturdays, CATEGORIES, LOCATIONS, ["Period 1", "Period 2", "Period 3", "Lunch", "Period 4",
                                                  "Period 5", "Break", "Period 1"])]
    on_roll = pd.DataFrame({"student_id": ["W1"], "admitted_on": [pd.Timestamp("2025-09-03")], "left_on": [pd.NaT]})
    wl = watchlist(frame(rows + background(np.random.default_rng(11))), on_roll, None, CAL, SETTINGS,
                   as_of="2026-07-21")
    assert "time" not in set(wl.loc[wl.student_id == "W1", "pattern"]), wl


def test_false_discovery_rate_hand_worked():
    """Benjamini-Hochberg over the tests that could reach the rate: the fourth (smallest possible p 0.5) is left
    out; over the other three, sorted 0.01, 0.03, 0.04: q = 0.01 x 3/1 = 0.03, min(0.03 x 3/2, 0.04) = 0.04 and
    0.04 x 3/3 = 0.04."""
    from kwanalytics.metrics.patterns import false_discovery

    q = false_discovery(np.array([0.01, 0.04, 0.03, 0.6]), np.array([0.0, 0.001, 0.01, 0.5]), 0.05)
    assert q[:3] == pytest.approx([0.03, 0.04, 0.04])
    assert np.isnan(q[3])
