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
