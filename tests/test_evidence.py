"""The evidence each reader is shown: each of issue 20's outright errors, on small schools built in code.

Every test here failed on the code before the fix (checked), and each figure is worked out by hand.
"""

from __future__ import annotations

import pandas as pd
import pytest

from kwanalytics.calendar import from_term_dates
from kwanalytics.schema.contracts import TABLES, empty_frame
from kwanalytics.settings import load_settings
from tests.conftest import _typed

SALT = b"s" * 32


@pytest.fixture(scope="module")
def settings():
    return load_settings(None)


@pytest.fixture(scope="module")
def calendar(settings):
    # the shipped term dates: 2024-25 to 2026-27, far more than the records below
    return from_term_dates(settings.term_dates)


def school(**rows) -> dict:
    """Every canonical table, empty unless rows are given (dicts cast onto the canonical dtypes)."""
    return {name: (_typed(name, rows[name]) if name in rows else empty_frame(name)) for name in TABLES}


def pupils(n: int, year: str = "Year 11", need: str = "SEMH") -> list[dict]:
    return [{"student_id": f"S{i:03d}", "display_name": f"Pupil {chr(65 + i)}", "year_group": year,
             "primary_need": need, "ehcp": True, "key_worker": "Ms Key"} for i in range(1, n + 1)]


def incident(sid: str, when: str, k: int, **extra) -> dict:
    row = {"incident_id": f"I-{sid}-{k}", "student_id": sid, "occurred_at": pd.Timestamp(when),
           "category": "Defiance", "location": "Classroom", "period": "Period 1", "severity": 2}
    row.update(extra)
    return row


# ------------------------------------------------------------------------------------------ the data's period

def test_data_period_is_the_records_not_the_term_dates(calendar):
    from kwanalytics.calendar import data_period

    tables = school(incidents=[incident("S001", "2025-09-10 10:00", 1)],
                    sessions=[{"session_id": "X1", "student_id": "S001", "date": "2025-09-19"}])
    assert data_period(tables) == (pd.Timestamp("2025-09-10"), pd.Timestamp("2025-09-19"))
    assert data_period(tables, as_of="2025-09-15") == (pd.Timestamp("2025-09-10"), pd.Timestamp("2025-09-15"))
    assert data_period(school()) == (None, None)
    assert len(calendar) > 500  # three school years of term dates


def test_cohort_counts_the_school_days_of_the_data_not_of_every_term(settings, calendar):
    from kwanalytics.evidence.cohort import cohort_sections

    # 5 Year 11 pupils, 4 incidents each, between Mon 8 and Fri 19 September 2025: 10 school days.
    rows = [incident(f"S00{p}", f"2025-09-{8 + d} 10:00", d) for p in range(1, 6) for d in (0, 1, 2, 11)]
    report = cohort_sections(school(students=pupils(5), incidents=rows), settings, calendar, SALT)
    assert "20 incidents were recorded for 5 pupils over 10 school days." in report.summary
    weekly = report.tables["incidents_weekly"]
    assert list(weekly["week_start"]) == [pd.Timestamp("2025-09-08"), pd.Timestamp("2025-09-15")]
    assert weekly["incidents"].sum() == 20 and weekly["school_days"].sum() == 10
    year = report.tables["breakdowns"].set_index(["breakdown", "group"]).loc[("year group", "Year 11")]
    # 20 incidents / (5 pupils x 10 school days)
    assert year["incidents_per_pupil_per_school_day"] == pytest.approx(0.4)
    assert year["incidents"] == 20


# ------------------------------------------------------------------------------------------ the pupil pack

def _place_school() -> dict:
    """30 pupils whose incidents are mostly in classrooms, and S001: 8 of 10 in the toilets, one a week."""
    places = ["Classroom", "Classroom", "Classroom", "Corridor", "Playground", "Dining hall", "Classroom", "Corridor",
              "Classroom", "Toilets"]
    days = pd.bdate_range("2025-09-08", "2025-12-12")
    rows = []
    for p in range(2, 32):
        sid = f"S{p:03d}"
        for k in range(10):
            rows.append(incident(sid, f"{days[(p * 7 + k * 6) % len(days)]:%Y-%m-%d} 1{k % 5}:00", k,
                                 location=places[k], period=f"Period {1 + (p + k) % 5}"))
    for k in range(10):
        rows.append(incident("S001", f"{days[k * 7]:%Y-%m-%d} 1{k % 5}:00", k,
                             location="Toilets" if k < 8 else "Classroom", period=f"Period {1 + k % 5}"))
    return school(students=pupils(31), incidents=rows)


def test_a_pupil_on_the_watchlist_has_the_same_pattern_in_their_pack(settings, calendar):
    from kwanalytics.evidence.pupil import evidence_pack
    from kwanalytics.metrics.patterns import watchlist

    tables = _place_school()
    school_list = watchlist(tables["incidents"], tables["students"], tables["sessions"], calendar, settings,
                            interventions=tables["interventions"])
    mine = school_list.loc[school_list["student_id"] == "S001"]
    assert "place" in set(mine["pattern"])  # against the school's mix of places, 8 of 10 in the toilets stands out
    pack = evidence_pack(tables, settings, "S001", calendar=calendar)
    shown = pack.tables["patterns"]
    assert set(shown["pattern"]) == set(mine["pattern"])
    assert "No repeated pattern" not in " ".join(pack.summary)
    # the same figures as the patterns report: the plain words in the pack, the statistics in the technical note
    place = mine.loc[mine["pattern"] == "place"].iloc[0]
    technical = pack.tables["technical"]
    assert place["p_value"] in set(technical["p_value"])
    assert place["evidence"] in set(technical["detail"])


def _sessions(sid: str, spec: list[tuple[str, int, int]]) -> list[dict]:
    rows, k = [], 0
    days = pd.bdate_range("2025-09-08", "2026-03-27")
    for activity, minutes, n in spec:
        for _ in range(n):
            rows.append({"session_id": f"SE{k}", "student_id": sid, "date": days[k % len(days)],
                         "duration_minutes": minutes, "activity": activity, "setting": "on-site",
                         "format": "one-to-one", "engagement": 3, "cost_gbp": 10.0})
            k += 1
    return rows


def test_hours_are_rounded_once_so_rows_add_up_to_the_total(settings, calendar):
    from kwanalytics.evidence.display import display_frame
    from kwanalytics.evidence.pupil import evidence_pack

    # Cooking 43 x 15 min = 10.75 h; Check-in 39 x 75 min = 48.75 h; 59.5 h in all
    tables = school(students=pupils(1), sessions=_sessions("S001", [("Cooking", 15, 43), ("Check-in", 75, 39)]))
    pack = evidence_pack(tables, settings, "S001", calendar=calendar)
    shown = display_frame(pack.tables["activities"])
    assert sorted(shown["Hours"]) == ["10.75", "48.75"]
    total = pack.tables["sessions"].set_index("measure").loc["Hours in total", "value"]
    assert total == "59.50"
    assert sum(float(h) for h in shown["Hours"]) == float(total)
    assert "(59.50 hours" in " ".join(pack.summary)


def test_physical_interventions_are_counted_and_restorative_lists_conversations(settings, calendar):
    from kwanalytics.evidence.pupil import evidence_pack

    days = pd.bdate_range("2025-09-08", "2025-12-12")
    rows = [incident("S001", f"{days[k * 3]:%Y-%m-%d} 10:00", k, physical_intervention=k < 11,
                     restorative_conversation=k in (0, 12), consequence="Detention", notes=f"Note {k}")
            for k in range(15)]
    pack = evidence_pack(school(students=pupils(1), incidents=rows), settings, "S001", calendar=calendar)
    assert len(pack.tables["physical"]) == 11
    assert "Staff used physical intervention 11 times." in " ".join(pack.summary)
    restorative = pack.tables["restorative"]
    assert len(restorative) == 2 and list(restorative["notes"]) == ["Note 0", "Note 12"]
    assert "Detention" not in restorative.to_string()  # a sanction is not a restorative conversation
    assert len(pack.tables["incident_log"]) == 15  # the appendix keeps every incident, sanctions included


# ------------------------------------------------------------------------------------------ the cohort report

def test_suppression_is_not_defeated_by_the_rows_listed_below():
    from kwanalytics.evidence.privacy import suppress_partitions

    verdicts = pd.DataFrame({"verdict": ["clearly fewer incidents", "too little data", "no clear change"],
                             "pupils": [8, 2, 6]})
    # every "too little data" pupil is listed one by one below: blanking its 2 would hide nothing;
    # 6 "no clear change" pupils of whom 3 are listed: 3 kept out of the listing would be found by subtraction
    shown = suppress_partitions(verdicts, pd.Series([8, 2, 3]), min_size=5)
    assert list(shown["pupils"].astype(object).where(shown["pupils"].notna(), None)) == [8, 2, None]
    assert list(shown["suppressed"]) == [False, False, True]


def _programme_school() -> dict:
    rows, enrol = [], []
    days = pd.bdate_range("2025-09-08", "2026-03-27")
    for p in range(1, 6):
        sid = f"S00{p}"
        rows += [incident(sid, f"{days[k * 4 + p]:%Y-%m-%d} 10:00", k) for k in range(30)]
        enrol.append({"enrolment_id": f"E{p}", "student_id": sid, "programme": "Zones of Regulation",
                      "started_on": "2025-11-03", "ended_on": "2026-02-13",
                      "exit_outcome": "Completed: targets met, fewer incidents" if p <= 3 else "No clear change"})
    budget = [{"budget_id": "B1", "scope": "programme", "scope_id": "Zones of Regulation", "amount_gbp": 3000.0},
              {"budget_id": "B2", "scope": "programme", "scope_id": "ELSA", "amount_gbp": 1200.0}]
    return school(students=pupils(5), incidents=rows, interventions=enrol, budget=budget)


def test_cohort_quotes_the_outcomes_staff_recorded_and_budgets_without_enrolments(settings, calendar):
    from kwanalytics.evidence.cohort import cohort_sections

    report = cohort_sections(_programme_school(), settings, calendar, SALT)
    programmes = report.tables["programmes"].set_index("programme")
    assert programmes.loc["Zones of Regulation", "completed"] == 5
    assert programmes.loc["Zones of Regulation", "targets_met"] == 3
    # a programme with a budget and nobody enrolled yet is shown, its budget not suppressed
    assert programmes.loc["ELSA", "budget_gbp"] == 1200.0 and programmes.loc["ELSA", "pupils"] == 0


# ------------------------------------------------------------------------------------------ the patterns report

def test_escalation_reads_a_short_last_week_at_its_own_length(settings, calendar):
    from kwanalytics.metrics.patterns import watchlist

    # 10 school weeks up to Tuesday 24 March 2026: 1 incident a week in the first five, 3 a week in the next
    # four and 2 in the last week's two school days. A school week is 5 days: (12 + 2) / (20 + 2) x 5 = 3.2,
    # not the 3.4 that reading the two-day week's rate as a whole week gives.
    first = ["2026-01-14", "2026-01-21", "2026-01-28", "2026-02-04", "2026-02-11"]
    second = [f"{d:%Y-%m-%d}" for w in pd.date_range("2026-02-23", periods=4, freq="7D")
              for d in (w, w + pd.Timedelta(days=1), w + pd.Timedelta(days=2))] + ["2026-03-23", "2026-03-24"]
    rows = [incident("S001", f"{d} 10:00", k) for k, d in enumerate(first + second)]
    tables = school(students=pupils(1), incidents=rows)
    found = watchlist(tables["incidents"], tables["students"], tables["sessions"], calendar, settings,
                      as_of="2026-03-24")
    evidence = found.loc[found["pattern"] == "escalation", "evidence"]
    assert len(evidence) == 1
    # the earlier half: 5 incidents over the pupil's own 23 school days in it (first seen Wednesday 14 January,
    # no admission date: each pupil's own time, docs/patterns.md) = 1.1 a school week
    assert "rose from 1.1 to 3.2 a school week" in evidence.iloc[0]


def test_cohort_effect_by_group_and_cost_by_programme(settings, calendar):
    from kwanalytics.evidence.cohort import cohort_sections
    from kwanalytics.metrics.impact import enrolment_impact

    tables = _programme_school()
    # Zones sessions: 10 of £30 = £300 against its £3,000 budget
    tables["sessions"] = _typed("sessions", [
        {"session_id": f"Z{i}", "student_id": f"S00{1 + i % 5}", "date": pd.Timestamp("2025-11-10") + pd.Timedelta(days=i),
         "duration_minutes": 60, "activity": "Zones of Regulation", "cost_gbp": 30.0} for i in range(10)])
    report = cohort_sections(tables, settings, calendar, SALT)
    verdicts = enrolment_impact(tables, calendar, settings)["verdict"].value_counts()
    year = report.tables["effect_by_group"].set_index(["breakdown", "group"]).loc[("year group", "Year 11")]
    assert year["enrolments"] == 5 and year["pupils"] == 5
    assert year["improved_clearly"] == verdicts.get("clearly fewer incidents", 0)
    assert year["no_clear_change"] == verdicts.get("no clear change", 0)
    cost = report.tables["cost_by_programme"].set_index("programme")
    assert cost.loc["Zones of Regulation", "cost_gbp"] == pytest.approx(300.0)
    assert cost.loc["Zones of Regulation", "spend_share"] == pytest.approx(0.1)
    improved = verdicts.get("clearly fewer incidents", 0)
    expected = 300.0 / improved if improved else None
    got = cost.loc["Zones of Regulation", "cost_per_pupil_improved"]
    assert (pd.isna(got) and expected is None) or got == pytest.approx(expected)
    assert cost.loc["ELSA", "budget_gbp"] == 1200.0


def test_best_meeting_rows_by_urgency_and_entry_criteria_aware_of_past_enrolments(settings):
    from kwanalytics.evidence.cohort import past_enrolments_note, pupils_by_urgency

    students = pupils(3)
    days = ["2026-03-02 10:00", "2026-03-23 10:00"]
    incidents = [incident("S003", d, k, physical_intervention=True) for k, d in enumerate(days)]
    enrol = [{"enrolment_id": "E1", "student_id": "S002", "programme": "Zones of Regulation",
              "started_on": "2026-02-02", "ended_on": "2026-05-15", "exit_outcome": "Completed: no clear change"},
             {"enrolment_id": "E2", "student_id": "S003", "programme": "Anger Management",
              "started_on": "2026-01-12", "ended_on": None}]
    tables = school(students=students, incidents=incidents, interventions=enrol)
    watch = pd.DataFrame({"student_id": ["S001", "S002", "S003"], "pattern": ["place", "escalation", "cluster"],
                          "incidents": [6, 9, 4]})
    view = watch.assign(status=["continuing", "continuing", "new"])
    rows = pupils_by_urgency(watch, view, tables, "2026-03-20", "2026-06-01")
    # new since the meeting first, then escalating, then the rest
    assert list(rows["student_id"]) == ["S003", "S002", "S001"]
    first = rows.iloc[0]
    assert (first["name"], first["year"], first["key_worker"]) == ("Pupil D", "Year 11", "Ms Key")
    assert first["physical_since_meeting"] == 1 and first["programmes"] == "Anger Management (now, since 12 Jan 2026)"
    assert rows.iloc[1]["programmes"] == "Zones of Regulation (Feb–May 2026: Completed: no clear change)"
    entry = pd.DataFrame({"student_id": ["S002", "S001"], "programme": ["Zones of Regulation"] * 2})
    notes = past_enrolments_note(entry, tables["interventions"], settings)
    assert notes.iloc[0] == ("completed Zones of Regulation Feb–May 2026, completed: no clear change: consider "
                             "another programme")
    assert notes.iloc[1] == ""


def test_a_small_rate_is_shown_to_the_places_its_table_asks_for(settings, calendar):
    from kwanalytics.evidence.cohort import cohort_sections
    from kwanalytics.evidence.display import display_frame

    rows = [incident(f"S00{p}", f"2025-09-{8 + d} 10:00", d) for p in range(1, 6) for d in (0, 11)]
    rows += [incident("S001", "2025-10-20 10:00", 99)]  # 11 incidents over 5 pupils x 31 school days
    report = cohort_sections(school(students=pupils(5), incidents=rows), settings, calendar, SALT)
    shown = display_frame(report.tables["breakdowns"])
    assert set(shown["Incidents per pupil per school day"]) == {"0.071"}  # 11 / 155, not "0.07"


def test_each_target_in_plain_words_with_its_evidence_and_a_next_step(settings, calendar):
    from kwanalytics.evidence.pupil import NEXT_STEPS, evidence_pack

    targets = [{"target_id": "T1", "student_id": "S001", "area": "SEMH", "description": "Names feelings",
                "source": "EHCP"},
               {"target_id": "T2", "student_id": "S001", "area": "SEMH", "description": "Asks for help",
                "source": "ILP"}]
    ratings = [{"rating_id": f"R{k}", "target_id": "T1", "student_id": "S001", "rated_on": d, "gas_score": g,
                "evidence": e} for k, (d, g, e) in enumerate([("2025-10-01", -2, "Hid under desk"),
                                                             ("2025-12-01", -1, "Used the card once"),
                                                             ("2026-02-01", 0, "Named anger twice")])]
    sessions = [{"session_id": "X1", "student_id": "S001", "date": "2026-01-20", "duration_minutes": 30,
                 "targets_addressed": "T1; T2", "notes": "Feelings wheel"}]
    pack = evidence_pack(school(students=pupils(1), targets=targets, target_ratings=ratings, sessions=sessions),
                         settings, "S001", calendar=calendar)
    rows = pack.tables["outcomes"].set_index("target")
    first = rows.loc["EHCP outcome (SEMH): Names feelings"]
    assert first["how it has gone"] == "Rated 3 times, from -2 to 0 (improving); at or above the expected level."
    assert first["rating evidence"] == "Named anger twice"
    assert first["latest session note"] == "20 Jan 2026: Feelings wheel"
    assert first["next step"] == NEXT_STEPS["met"]
    second = rows.loc["ILP target (SEMH): Asks for help"]
    assert second["how it has gone"] == "Not rated yet." and second["next step"] == NEXT_STEPS["not rated"]
    hours = pack.tables["target_hours"].set_index("description")
    assert hours.loc["Names feelings", "hours"] == 0.5 and hours.loc["Asks for help", "sessions"] == 1


def test_place_hotspots_are_measured_against_the_hours_spent_there(settings, calendar):
    from kwanalytics.metrics.patterns import hotspots

    rows = [incident(f"S00{1 + k % 5}", f"2025-09-{8 + k % 10} 10:00", k, location="Classroom") for k in range(10)]
    rows += [incident(f"S00{1 + k % 5}", f"2025-09-{8 + k % 10} 11:00", 20 + k, location="Toilets") for k in range(3)]
    found = hotspots(school(incidents=rows)["incidents"], calendar, settings, by="location").set_index("location")
    hours = settings.school.timetable.hours_per_week
    total = sum(hours.values())
    # 13 incidents in listed places, shared by each place's part of the week's hours
    assert found.loc["Classroom", "expected"] == pytest.approx(13 * hours["Classroom"] / total)
    assert found.loc["Toilets", "expected"] == pytest.approx(13 * hours["Toilets"] / total)
    assert found.loc["Toilets", "ratio"] > 10 > found.loc["Classroom", "ratio"]


def test_parents_read_a_pattern_without_its_statistics():
    from kwanalytics.evidence.pupil import plain_words

    text = ("4 incidents within 5 school days (22/05/2026 to 04/06/2026): dysregulation x4. At the pupil's own rate "
            "(5 incidents over 190 school days on roll, 0.3 in 10 school days), chance would put 4 or more into "
            "some 10 school days with probability p = 0.0023 (scan statistic).")
    assert plain_words(text) == "4 incidents within 5 school days (22/05/2026 to 04/06/2026): dysregulation x4."
    trend = ("Incidents rose from 1.0 to 3.2 a school week over the last 10 school weeks (Mann-Kendall tau = 0.80; "
             "Theil-Sen slope +0.40 a week per week) (weeks from 12/01/2026; trend p = 0.0037).")
    assert plain_words(trend) == "Incidents rose from 1.0 to 3.2 a school week over the last 10 school weeks."


# ------------------------------------------------------------------------------------------ planned vs delivered

def _provision_school(planned: dict) -> dict:
    """S001 in ELSA and Forest School from Mon 15 Sep to Fri 28 Nov 2025: 6 school weeks, the half-term week
    (27-31 Oct, a holiday in the shipped term dates) and 4 more, so 50 school days = 10 school weeks."""
    enrolments = [{"enrolment_id": f"E{k}", "student_id": "S001", "programme": programme,
                   "started_on": "2025-09-15", "ended_on": "2025-11-28", "planned_hours_per_week": hours}
                  for k, (programme, hours) in enumerate(planned.items(), 1)]
    elsa = [(f"2025-09-{d:02d}", 45) for d in (16, 23, 30)] + [(f"2025-10-{d:02d}", 45) for d in (7, 14, 21)] + \
        [(f"2025-11-{d:02d}", 45) for d in (4, 11, 18, 25)]  # 10 x 45 min = 7.5 h
    rows = [{"session_id": f"X{i}", "student_id": "S001", "date": day, "duration_minutes": minutes,
             "activity": "ELSA"} for i, (day, minutes) in enumerate(elsa)]
    # not this enrolment's delivery: before it started, after it ended, another activity, another pupil
    rows += [{"session_id": "B1", "student_id": "S001", "date": "2025-09-09", "duration_minutes": 60,
              "activity": "ELSA"},
             {"session_id": "A1", "student_id": "S001", "date": "2025-12-02", "duration_minutes": 60,
              "activity": "ELSA"},
             {"session_id": "C1", "student_id": "S001", "date": "2025-10-01", "duration_minutes": 30,
              "activity": "Check-in"},
             {"session_id": "P1", "student_id": "S002", "date": "2025-10-01", "duration_minutes": 60,
              "activity": "ELSA"},
             {"session_id": "F1", "student_id": "S001", "date": "2025-10-02", "duration_minutes": 60,
              "activity": "Forest School"},
             {"session_id": "F2", "student_id": "S001", "date": "2025-11-06", "duration_minutes": 60,
              "activity": "Forest School"}]
    return school(students=pupils(2), interventions=enrolments, sessions=rows)


def test_pack_shows_planned_against_delivered_hours_per_enrolment(settings, calendar):
    from kwanalytics.evidence.pupil import evidence_pack

    tables = _provision_school({"ELSA": 1.0, "Forest School": 0.5})
    pack = evidence_pack(tables, settings, "S001", since="2025-09-01", until="2025-12-19", calendar=calendar)
    prov = pack.tables["provision"].set_index("programme")
    assert len(prov) == 2  # one row per enrolment
    assert prov.loc["ELSA", "school_days"] == 50
    assert prov.loc["ELSA", "planned_hours"] == pytest.approx(10.0)        # 1 h a week x 50 / 5
    assert prov.loc["ELSA", "delivered_hours"] == pytest.approx(7.5)       # 10 sessions of 45 min
    assert prov.loc["ELSA", "sessions"] == 10
    assert prov.loc["ELSA", "delivered_share"] == pytest.approx(0.75)
    assert prov.loc["Forest School", "planned_hours"] == pytest.approx(5.0)
    assert prov.loc["Forest School", "delivered_share"] == pytest.approx(0.4)  # 2 h of 5
    assert "Programmes with a plan had 15.00 hours planned in this period and 9.50 delivered (63%)." in pack.summary

    # a pack period that ends before the enrolment: the plan counts only the school days inside the period
    short = evidence_pack(tables, settings, "S001", since="2025-09-01", until="2025-09-26", calendar=calendar)
    elsa = short.tables["provision"].set_index("programme").loc["ELSA"]
    assert (elsa["school_days"], elsa["planned_hours"], elsa["delivered_hours"]) == (10, 2.0, 1.5)


def test_a_blank_plan_is_not_stated_never_zero(settings, calendar):
    from kwanalytics.evidence.display import display_frame
    from kwanalytics.evidence.pupil import evidence_pack
    from kwanalytics.metrics.sessions import planned_vs_delivered

    tables = _provision_school({"ELSA": None, "Forest School": 0.5})
    pack = evidence_pack(tables, settings, "S001", since="2025-09-01", until="2025-12-19", calendar=calendar)
    prov = pack.tables["provision"].set_index("programme")
    assert prov.loc["ELSA", "planned_hours_per_week"] == "not stated"
    assert prov.loc["ELSA", "planned_hours"] == "not stated"
    assert prov.loc["ELSA", "delivered_hours"] == pytest.approx(7.5)  # what was delivered is still shown
    assert pd.isna(prov.loc["ELSA", "delivered_share"])
    shown = display_frame(pack.tables["provision"]).set_index("Programme")
    assert shown.loc["ELSA", "Planned hours"] == "not stated"
    assert shown.loc["Forest School", "Planned hours"] == "5.00"
    assert shown.loc["Forest School", "Delivered share"] == "40%"
    assert any("The plan of 1 programme is not stated." in line for line in pack.summary)

    # an export with no planned column at all: every plan is not stated
    no_column = tables["interventions"].drop(columns=["planned_hours_per_week"])
    found = planned_vs_delivered(no_column, tables["sessions"], calendar, settings, "2025-09-01", "2025-12-19")
    assert found["planned_hours"].isna().all() and found["delivered_share"].isna().all()
    assert found["delivered_hours"].tolist() == pytest.approx([7.5, 2.0])


def test_cohort_cost_by_programme_shows_planned_hours_and_the_share_delivered(settings, calendar):
    from kwanalytics.evidence.cohort import cohort_sections, provision_by_programme

    tables = _provision_school({"ELSA": 1.0, "Forest School": None})
    # S002 in ELSA too, 2 h a week over the same 50 school days, and one 60-minute ELSA session (P1)
    more = tables["interventions"].iloc[[0]].assign(enrolment_id="E9", student_id="S002", planned_hours_per_week=2.0)
    tables["interventions"] = pd.concat([tables["interventions"], more], ignore_index=True)
    per = provision_by_programme(tables, calendar, settings, "2025-09-01", "2025-12-19").set_index("programme")
    # planned 10 h (S001) + 20 h (S002) = 30 h; delivered 7.5 h + 1 h = 8.5 h
    assert per.loc["ELSA", "planned_hours"] == pytest.approx(30.0)
    assert per.loc["ELSA", "delivered_share"] == pytest.approx(8.5 / 30)
    # no enrolment of Forest School states a plan: no figure of its own here, and blank in the report's table
    assert "Forest School" not in per.index
    cost = cohort_sections(tables, settings, calendar, SALT, as_of="2025-12-19").tables["cost_by_programme"]
    shown = cost.set_index("programme")
    assert shown.loc["ELSA", "planned_hours"] == pytest.approx(30.0)
    assert pd.isna(shown.loc["Forest School", "planned_hours"]) and pd.isna(shown.loc["Forest School", "delivered_share"])
