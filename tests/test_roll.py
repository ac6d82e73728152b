"""Each pupil's own time on roll (metrics/roll.py), counted on a hand-made calendar."""

import pandas as pd

from kwanalytics.calendar import SchoolCalendar
from kwanalytics.metrics.roll import time_on_roll

# Two school weeks, Mon 2 to Fri 13 March 2026: ten school days.
CAL = SchoolCalendar(pd.bdate_range("2026-03-02", "2026-03-13"), "test")


def test_dates_from_the_students_table_win_over_activity():
    students = pd.DataFrame({"student_id": ["A", "B", "C", "D"],
                             "admitted_on": pd.to_datetime(["2026-03-09", None, "2026-03-04", None]),
                             "left_on": pd.to_datetime([None, "2026-03-05", "2026-03-06", None])})
    incidents = pd.DataFrame({"student_id": ["A", "B", "D", "D"],
                              "occurred_at": pd.to_datetime(["2026-03-10 09:00", "2026-03-03 10:00",
                                                             "2026-03-03 11:00", "2026-03-11 14:00"])})
    sessions = pd.DataFrame({"student_id": ["B"], "date": pd.to_datetime(["2026-03-02"])})
    roll = time_on_roll(students, incidents, sessions, CAL).set_index("student_id")
    # A: admitted Mon 9th, no leaving date: on roll to the calendar's end (Fri 13th) = 5 school days.
    assert roll.loc["A", "school_days"] == 5 and roll.loc["A", "last_day"] == pd.Timestamp("2026-03-13")
    # B: first seen in a session on Mon 2nd, left Thu 5th = 4 school days.
    assert roll.loc["B", "school_days"] == 4 and roll.loc["B", "dated_by"] == "leaving date"
    # C: Wed 4th to Fri 6th, no activity at all = 3 school days.
    assert roll.loc["C", "school_days"] == 3 and roll.loc["C", "dated_by"] == "admission and leaving dates"
    # D: no dates: first to last incident, Tue 3rd to Wed 11th = 7 school days.
    assert roll.loc["D", "school_days"] == 7 and roll.loc["D", "dated_by"] == "activity"


def test_a_pupil_with_no_dates_and_no_activity_has_no_school_days():
    roll = time_on_roll(pd.DataFrame({"student_id": ["E"]}), None, None, CAL)
    assert roll["school_days"].tolist() == [0]
