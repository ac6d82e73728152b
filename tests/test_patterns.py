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
    wl = watchlist(log, CAL, SETTINGS, as_of="2026-07-21")
    assert wl.empty, wl[["student_id", "pattern", "evidence"]].to_string()


def test_cluster_counts_school_days_across_a_half_term():
    rng = np.random.default_rng(1)
    # Friday before half-term, then Monday and Tuesday after it: 3 school days, 11 calendar days.
    rows = [incident("P1", d, "Dysregulation") for d in ("2025-10-24", "2025-11-03", "2025-11-04")]
    rows += [incident("P1", "2026-03-10"), incident("P1", "2026-06-15")]
    wl = watchlist(frame(rows + background(rng)), CAL, SETTINGS, as_of="2026-07-21")
    hit = wl[(wl.student_id == "P1") & (wl.pattern == "cluster")]
    assert len(hit) == 1
    assert hit.iloc[0]["incidents"] == 3
    assert hit.iloc[0]["evidence"].startswith("3 incidents within 3 school days (24/10/2025 to 04/11/2025)")
    assert set(wl.student_id) == {"P1"}


def test_three_incidents_eleven_school_days_apart_are_not_a_cluster():
    rows = [incident("P1", d) for d in CAL.between("2026-01-05", "2026-03-27")[[0, 11, 22]]]
    wl = watchlist(frame(rows), CAL, SETTINGS, as_of="2026-07-21")
    assert wl.empty


def test_time_pattern_on_monday_period_one():
    rng = np.random.default_rng(2)
    mondays = [d for d in YEAR if d.weekday() == 0][::3][:8]
    rows = [incident("P2", d, rng.choice(CATEGORIES), rng.choice(LOCATIONS), "Period 1") for d in mondays]
    rows += [incident("P2", "2025-10-08", period="Period 4"), incident("P2", "2026-02-26", period="Lunch")]
    wl = watchlist(frame(rows + background(rng)), CAL, SETTINGS, as_of="2026-07-21")
    hit = wl[(wl.student_id == "P2") & (wl.pattern == "time")]
    assert len(hit) == 1, wl
    assert "8 of 10 incidents (80%) were on Mondays in Period 1" in hit.iloc[0]["evidence"]
    assert hit.iloc[0]["p_value"] < 0.01


def test_place_pattern_in_the_toilets():
    rng = np.random.default_rng(3)
    days = YEAR[::16][:10]
    rows = [incident("P3", d, rng.choice(CATEGORIES), "Toilets" if i < 8 else "Classroom",
                     rng.choice(list(PERIODS))) for i, d in enumerate(days)]
    wl = watchlist(frame(rows + background(rng)), CAL, SETTINGS, as_of="2026-07-21")
    hit = wl[(wl.student_id == "P3") & (wl.pattern == "place")]
    assert len(hit) == 1, wl
    assert "8 of 10 incidents (80%) happened in Toilets" in hit.iloc[0]["evidence"]
    assert set(wl.pattern[wl.student_id == "P3"]) == {"place"}


def test_trigger_transition_before_dysregulation():
    rng = np.random.default_rng(4)
    days = YEAR[::20][:8]
    rows = [incident("P4", d, "Dysregulation" if i < 6 else "Defiance", rng.choice(LOCATIONS),
                     rng.choice(list(PERIODS)), "Transition" if i < 6 else "Told no") for i, d in enumerate(days)]
    wl = watchlist(frame(rows + background(rng)), CAL, SETTINGS, as_of="2026-07-21")
    hit = wl[(wl.student_id == "P4") & (wl.pattern == "trigger")]
    assert len(hit) == 1, wl
    assert hit.iloc[0]["evidence"].startswith("'Transition' came before 6 of the pupil's 6 incidents")
    assert "dysregulation" in hit.iloc[0]["evidence"]


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
    wl = watchlist(frame(rows + background(rng)), CAL, SETTINGS, as_of="2026-07-21")
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
    wl = watchlist(frame(rows), CAL, SETTINGS, as_of="2026-07-21")
    assert "Meets entry criteria for Anger Management." in wl.iloc[0]["next_step"]


def test_hotspots_flag_a_planted_slot_and_not_an_even_spread():
    rng = np.random.default_rng(6)
    rows = background(rng, pupils=80)
    fridays = [d for d in YEAR if d.weekday() == 4]
    rows += [incident(f"H{i}", fridays[i], "Defiance", "Playground", "Lunch") for i in range(30)]
    hs = hotspots(frame(rows), CAL, SETTINGS, by="weekday_period")
    flagged = hs[hs.flagged]
    assert list(zip(flagged.weekday.astype(str), flagged.period)) == [("Friday", "Lunch")]
    loc = hotspots(frame(rows), CAL, SETTINGS, by="location").set_index("location")
    assert loc.loc["Playground", "flagged"] and loc["flagged"].sum() == 1
    assert not hotspots(frame(background(np.random.default_rng(7), 80)), CAL, SETTINGS, "weekday_period").flagged.any()
