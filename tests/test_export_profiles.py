"""SIMS' separate Date and Time columns and Arbor's signed severities (issue 18), with export rows built in code."""

from __future__ import annotations

from datetime import date, time

import pandas as pd
import pytest
from openpyxl import Workbook

from kwanalytics.errors import KwaError
from kwanalytics.ingest.pipeline import run_ingest, with_time
from kwanalytics.settings import load_settings
from kwanalytics.schema.profiles import load_profiles
from kwanalytics.store import read_table

STUDENTS = "student_id,display_name\nS001,Tom Hill\nS002,Amira Khan\n"


def workspace(tmp_path, **files):
    raw = tmp_path / "data" / "raw"
    raw.mkdir(parents=True)
    (raw / "students.csv").write_text(STUDENTS)
    for name, text in files.items():
        (raw / name.replace("__", ".")).write_text(text)
    return tmp_path


def by_note(ws) -> pd.DataFrame:
    return read_table(ws, "incidents").set_index("notes").sort_index()


def test_sims_date_and_time_columns_become_one_occurred_at(tmp_path):
    ws = workspace(tmp_path, sims__csv=(
        "Adno,Name,Date,Time,Behaviour Type,Points,Location,Comments\n"
        "S002,Amira Khan,08/10/2025,09:15,Hitting,3,Playground,first\n"
        "S002,Amira Khan,09/10/2025,13:40,Swearing,1,Classroom,second\n"
        "S001,Tom Hill,10/10/2025,,Disruption,1,Classroom,no time\n"))
    result = run_ingest(ws)
    assert result.exit_code == 0, result.rejected
    assert {f.path: f.profile for f in result.files}["sims.csv"] == "sims"
    inc = by_note(ws)
    assert inc["occurred_at"].to_dict() == {"first": pd.Timestamp("2025-10-08 09:15"),
                                            "second": pd.Timestamp("2025-10-09 13:40"),
                                            "no time": pd.Timestamp("2025-10-10")}
    # no Period column: the period follows from the time (settings.yaml: Period 1 08:50-09:50, Period 4 13:00-14:00)
    assert inc.loc["first", "period"] == "Period 1" and inc.loc["second", "period"] == "Period 4"


def test_sims_workbook_with_date_cells_and_time_cells(tmp_path):
    ws = workspace(tmp_path)
    wb = Workbook()
    sheet = wb.active
    sheet.append(["Adno", "Name", "Incident Date", "Incident Time", "Behaviour Type", "Comments"])
    sheet.append(["S002", "Amira Khan", date(2025, 10, 8), time(14, 5), "Hitting", "a"])
    sheet.append(["S001", "Tom Hill", date(2025, 10, 9), time(9, 0), "Refusal", "b"])
    wb.save(ws / "data" / "raw" / "sims_behaviour.xlsx")
    result = run_ingest(ws)
    assert result.exit_code == 0, result.rejected
    assert by_note(ws)["occurred_at"].tolist() == [pd.Timestamp("2025-10-08 14:05"), pd.Timestamp("2025-10-09 09:00")]


def test_a_bad_time_rejects_its_row_naming_the_value(tmp_path):
    ws = workspace(tmp_path, sims__csv=(
        "Adno,Date,Time,Behaviour Type,Comments\n"
        "S002,08/10/2025,25:99,Hitting,bad\nS002,08/10/2025,10:00,Hitting,good\n"))
    result = run_ingest(ws)
    assert result.exit_code == 1
    reasons = result.rejected["incidents"]["reason"].tolist()
    assert len(reasons) == 1 and "08/10/2025 25:99" in reasons[0] and "occurred_at" in reasons[0]
    assert by_note(ws).index.tolist() == ["good"]


def test_with_time_joins_only_where_there_is_a_time():
    dates = pd.Series(["06/10/2025", "2025-10-07 00:00:00", "08/10/2025", None, "09/10/2025 14:20"], dtype="str")
    times = pd.Series(["10:05", "09:30", None, "11:00", "14:20"], dtype="str")
    joined = with_time(dates, times).tolist()
    assert joined[:3] + joined[4:] == ["06/10/2025 10:05", "2025-10-07 09:30", "08/10/2025", "09/10/2025 14:20"]
    assert pd.isna(joined[3])


ARBOR = ("Behaviour Incident ID,Student ID,Student,Incident Datetime,Behaviour,Severity,Narrative\n"
         "BI1,S001,Tom Hill,06/10/2025 10:05,Disruption,-1,minus one\n"
         "BI2,S001,Tom Hill,06/10/2025 11:05,Great effort,2,plus two\n"
         "BI3,S002,Amira Khan,07/10/2025 09:05,Hitting,-5,minus five\n"
         "BI4,S002,Amira Khan,07/10/2025 12:05,Kind to a peer,+1,plus one\n"
         "BI5,S002,Amira Khan,08/10/2025 12:05,Swearing,-3,minus three\n")


def test_arbor_positive_incidents_are_skipped_and_negative_severities_read_as_their_size(tmp_path):
    ws = workspace(tmp_path, arbor_incidents__csv=ARBOR)
    result = run_ingest(ws)
    assert result.exit_code == 0, result.rejected
    f = next(f for f in result.files if f.path == "arbor_incidents.csv")
    assert (f.profile, f.rows_read, f.accepted, f.rejected, f.skipped) == ("arbor_incidents", 5, 3, 0, 2)
    assert list(f.skipped_because.values()) == [2] and "positive incident" in next(iter(f.skipped_because))
    assert by_note(ws)["severity"].to_dict() == {"minus five": 5, "minus one": 1, "minus three": 3}


def test_arbor_points_above_zero_are_skipped_whatever_the_severity(tmp_path):
    ws = workspace(tmp_path, arbor__csv=(
        "Behaviour Incident ID,Student ID,Incident Datetime,Behaviour,Severity,Points,Narrative\n"
        "BI1,S001,06/10/2025 10:05,Disruption,2,-2,a\n"
        "BI2,S001,06/10/2025 11:05,Helping,1,3,b\n"
        "BI3,S002,07/10/2025 09:05,Hitting,4,0,c\n"))
    result = run_ingest(ws)
    f = next(f for f in result.files if f.path == "arbor.csv")
    assert (f.rows_read, f.accepted, f.skipped) == (3, 2, 1)
    # no negative severity in the file: its severities are read as they are
    assert by_note(ws)["severity"].to_dict() == {"a": 2, "c": 4}


def test_an_arbor_export_without_signs_is_read_as_it_is(tmp_path):
    # The demo's Arbor export and older exports carry 1..5 only: nothing is skipped, 7 is still out of range.
    ws = workspace(tmp_path, arbor__csv=(
        "Behaviour Incident ID,Student ID,Incident Datetime,Behaviour,Severity,Narrative\n"
        "BI1,S001,06/10/2025 10:05,Disruption,1,a\nBI2,S002,07/10/2025 09:05,Hitting,5,b\n"
        "BI3,S002,07/10/2025 10:05,Hitting,7,c\n"))
    result = run_ingest(ws)
    f = next(f for f in result.files if f.path == "arbor.csv")
    assert (f.rows_read, f.accepted, f.rejected, f.skipped) == (3, 2, 1, 0)
    assert "severity" in result.rejected["incidents"]["reason"].iloc[0]
    assert by_note(ws)["severity"].to_dict() == {"a": 1, "b": 5}


def test_a_profile_joining_a_time_must_name_the_time_column(tmp_path):
    (tmp_path / "schemas" / "profiles").mkdir(parents=True)
    (tmp_path / "schemas" / "profiles" / "mine.yaml").write_text(
        "profile: mine\ntables:\n  incidents:\n    columns:\n"
        "      occurred_at: {headers: [When], transform: with_time}\n      category: [What]\n")
    with pytest.raises(KwaError, match="with_time"):
        load_profiles(load_settings(tmp_path))
