"""Ingest of a hand-made messy export set (issue 2, "Must show").

The set: a students CSV with a BOM and CRLF; targets as .xlsx; ratings with no id column, a 31/02 date, an
unknown target and trailing blank lines; contacts in cp1252 with £ and curly quotes and an unknown pupil; an
Arbor incidents export with severity 9, an unknown pupil, an exact duplicate row, a conflicting duplicate id and
notes holding =HYPERLINK(...) and <script>. Every count below is worked out by hand from those rows.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import Workbook
from rich.console import Console

from kwanalytics.ingest.pipeline import run_ingest

KWA = str(Path(sys.executable).with_name("kwa"))
ARBOR_HEADER = ("Behaviour Incident ID,Student ID,Student,Incident Datetime,Behaviour,Location,Lesson,Severity,"
                "Antecedent,Narrative,Action Taken,Logged By Staff,Parent Contacted,Physical Intervention,"
                "Restorative Conversation")
HYPERLINK = '=HYPERLINK("http://example.invalid","Click")'
SCRIPT = "<script>alert(1)</script>"


def _csv(rows) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows(rows)
    return buf.getvalue()


def _arbor_row(iid, sid, when="06/10/2025 10:05", behaviour="Swearing", location="Classroom", severity="2",
               narrative="Shouted at staff"):
    return [iid, sid, "Name", when, behaviour, location, "Maths", severity, "Transition", narrative,
            "Reminder", "Mr Patel", "Yes", "No", "No"]


def build_messy(ws: Path) -> None:
    raw = ws / "data" / "raw"
    (raw / "mis").mkdir(parents=True)
    students = _csv([["student_id", "display_name", "year_group", "primary_need", "ehcp"],
                     ["S001", "Tom Hill", "Year 9", "SEMH", "Y"],
                     ["S002", "Amira Khan", "Year 10", "C&I", "no"],
                     ["S003", "Zoë O’Neill", "Year 11", "Social, emotional and mental health", "TRUE"]])
    (raw / "students.csv").write_bytes(b"\xef\xbb\xbf" + students.encode("utf-8"))
    wb = Workbook()
    sheet = wb.active
    sheet.title = "Targets"
    sheet.append(["Target ID", "Student ID", "Area", "Description", "Set on"])
    sheet.append(["T1", "S001", "SEMH", "Manage feelings", pd.Timestamp("2025-09-08").to_pydatetime()])
    sheet.append(["T2", "S002", "Communication & Interaction", "Ask for help", "08/09/2025"])
    sheet.append(["T3", "S001", "Telepathy", "Read minds", "08/09/2025"])  # pinned vocabulary: rejected
    wb.save(raw / "targets.xlsx")
    ratings = _csv([["target_id", "rated_on", "gas_score"],
                    ["T1", "03/02/2025", "-1"],
                    ["T1", "31/02/2025", "0"],  # no such date
                    ["T9", "10/02/2025", "1"],  # no such target
                    ["T2", "2025-03-01", "+1"]]) + "\r\n\r\n\r\n"  # trailing blank lines are not rows
    (raw / "ratings.csv").write_text(ratings, encoding="utf-8", newline="")
    contacts = _csv([["contact_id", "student_id", "date", "party", "summary"],
                     ["C1", "S001", "12/01/2026", "Mum", "Paid £20 for the “bus” trip"],
                     ["C2", "S999", "13/01/2026", "CAMHS", "Referral"]])
    (raw / "mis" / "contacts.csv").write_bytes(contacts.encode("cp1252"))
    incidents = [ARBOR_HEADER.split(","),
                 _arbor_row("I1", "S001", severity="9", narrative=HYPERLINK),  # out of range: rejected
                 _arbor_row("I2", "S002"),
                 _arbor_row("I2", "S002"),  # exact duplicate
                 _arbor_row("I3", "S001", when="07/10/2025 13:30", severity="3"),
                 _arbor_row("I3", "S001", when="07/10/2025 13:30", severity="4"),  # conflict: rejected
                 _arbor_row("I4", "S003", location=SCRIPT, narrative=HYPERLINK + " " + SCRIPT),
                 _arbor_row("I5", "S999"),  # unknown pupil: rejected
                 _arbor_row("I6", "S003", when="08/10/2025 09:00", behaviour="Meltdown", location="Library")]
    (raw / "arbor_behaviour_incidents.csv").write_bytes(b"\xef\xbb\xbf" + _csv(incidents).encode("utf-8"))


EXPECTED = {  # file -> (table, profile, rows_read, accepted, rejected, duplicates)
    "students.csv": ("students", "generic", 3, 3, 0, 0),
    "targets.xlsx": ("targets", "generic", 3, 2, 1, 0),
    "ratings.csv": ("target_ratings", "generic", 4, 2, 2, 0),
    "mis/contacts.csv": ("contacts", "generic", 2, 1, 1, 0),
    "arbor_behaviour_incidents.csv": ("incidents", "arbor_incidents", 8, 4, 3, 1),
}


def _write_raw(ws: Path, files: dict[str, str]) -> Path:
    """The workspace's data/raw holding ``files`` (name: text)."""
    raw = ws / "data/raw"
    raw.mkdir(parents=True)
    for name, text in files.items():
        (raw / name).write_text(text)
    return raw


def _ingest(ws, **kw):
    return run_ingest(ws, console=Console(file=io.StringIO(), width=200), **kw)


def _digests(ws: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted((ws / "data" / "processed").glob("*.parquet"))}


@pytest.fixture(scope="module")
def messy(tmp_path_factory):
    ws = tmp_path_factory.mktemp("messy")
    build_messy(ws)
    result = _ingest(ws)
    return ws, result


def test_every_row_is_accounted_for_with_hand_worked_counts(messy):
    ws, result = messy
    assert result.exit_code == 1
    summary = json.loads((ws / "data/processed/ingest_summary.json").read_text(encoding="utf-8"))
    assert summary["exit_code"] == 1
    got = {f["path"]: (f["table"], f["profile"], f["rows_read"], f["accepted"], f["rejected"], f["duplicates"])
           for f in summary["files"]}
    assert got == EXPECTED
    for f in summary["files"]:
        assert f["rows_read"] == f["accepted"] + f["rejected"] + f["duplicates"] + f["skipped"]
        assert f["skipped"] == 0
    assert any("read sheet 'Targets'" in w for f in summary["files"] for w in f["warnings"])


def test_stored_values_are_typed_and_canonical(messy):
    ws, _ = messy
    students = pd.read_parquet(ws / "data/processed/students.parquet")
    assert students["student_id"].tolist() == ["S001", "S002", "S003"]
    assert students["display_name"].iloc[2] == "Zoë O’Neill"
    assert students["primary_need"].tolist() == ["SEMH", "Communication and Interaction", "SEMH"]
    assert students["ehcp"].tolist() == [True, False, True]
    targets = pd.read_parquet(ws / "data/processed/targets.parquet")
    assert targets.set_index("target_id")["set_on"].dt.strftime("%Y-%m-%d").to_dict() == \
        {"T1": "2025-09-08", "T2": "2025-09-08"}
    ratings = pd.read_parquet(ws / "data/processed/target_ratings.parquet")
    assert sorted(ratings["gas_score"].tolist()) == [-1, 1]
    assert ratings["rating_id"].str.match(r"^TR-[0-9a-f]{16}$").all()  # derived from target_id + rated_on
    assert set(ratings["rated_on"].dt.strftime("%d/%m/%Y")) == {"03/02/2025", "01/03/2025"}
    contacts = pd.read_parquet(ws / "data/processed/contacts.parquet")
    assert contacts["summary"].tolist() == ["Paid £20 for the “bus” trip"]
    assert contacts["party"].tolist() == ["Parent/carer"]
    inc = pd.read_parquet(ws / "data/processed/incidents.parquet").set_index("incident_id")
    assert inc.index.tolist() == ["I2", "I3", "I4", "I6"]
    assert inc.loc["I2", "category"] == "Verbal abuse"  # "Swearing" is another spelling
    assert inc.loc["I6", "category"] == "Dysregulation"
    assert inc.loc["I3", "severity"] == 3  # the first of the conflicting pair is kept
    assert inc.loc["I2", "occurred_at"] == pd.Timestamp("2025-10-06 10:05")
    assert inc.loc["I2", "period"] == "Period 2" and inc.loc["I6", "period"] == "Period 1"  # from the time
    assert inc.loc["I2", "parent_contacted"] == True  # noqa: E712 (a pandas boolean)
    assert inc.loc["I2", "notes"] == "Shouted at staff" and inc.loc["I2", "consequence"] == "Reminder"
    assert inc.loc["I4", "notes"] == HYPERLINK + " " + SCRIPT  # stored as typed; made inert only on output


def test_each_rejection_names_column_value_and_place(messy):
    ws, _ = messy
    folder = ws / "data/processed/rejected"
    inc = pd.read_csv(folder / "incidents.csv", dtype=str, encoding="utf-8-sig", keep_default_na=False)
    by_row = dict(zip(inc["row"].astype(int), inc["reason"]))
    assert set(by_row) == {2, 6, 8}
    assert "severity" in by_row[2] and "'9'" in by_row[2] and "between 1 and 5" in by_row[2]
    assert "incident_id" in by_row[6] and "'I3'" in by_row[6] and "arbor_behaviour_incidents.csv row 5" in by_row[6]
    assert "severity" in by_row[6]  # names what differs
    assert "student_id" in by_row[8] and "'S999'" in by_row[8]
    ratings = pd.read_csv(folder / "target_ratings.csv", dtype=str, encoding="utf-8-sig")
    reasons = dict(zip(ratings["row"].astype(int), ratings["reason"]))
    assert "rated_on" in reasons[3] and "'31/02/2025'" in reasons[3]
    assert "target_id" in reasons[4] and "'T9'" in reasons[4]
    targets = pd.read_csv(folder / "targets.csv", dtype=str, encoding="utf-8-sig")
    assert targets["row"].tolist() == ["4"] and "area" in targets["reason"][0] and "'Telepathy'" in targets["reason"][0]
    contacts = pd.read_csv(folder / "contacts.csv", dtype=str, encoding="utf-8-sig")
    assert contacts["file"].tolist() == ["mis/contacts.csv"] and "'S999'" in contacts["reason"][0]
    for frame in (inc, ratings, targets, contacts):
        assert frame["reason"].str.len().gt(20).all()
        assert {"file", "row", "reason"} <= set(frame.columns)


def test_rejected_csv_is_neutralised(messy):
    ws, _ = messy
    with open(ws / "data/processed/rejected/incidents.csv", encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    header, data = rows[0], rows[1:]
    narrative = header.index("Narrative")
    first = next(r for r in data if r[1] == "2")
    assert first[narrative] == "'" + HYPERLINK
    assert not any(cell.startswith(("=", "@", "+")) for row in data for cell in row)


def test_validation_report_escapes_and_says_how_to_fix(messy):
    ws, _ = messy
    html = (ws / "reports/validation.html").read_text(encoding="utf-8")
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "Library" in html and "schemas/vocabularies.yaml" in html
    assert ("&#x27;9&#x27;" in html or "&#39;9&#39;" in html) and "arbor_behaviour_incidents.csv" in html
    assert "31/02/2025" in html


def test_second_ingest_changes_nothing_and_deleted_export_loses_nothing(messy, tmp_path):
    ws, _ = messy
    before = _digests(ws)
    again = _ingest(ws)
    assert again.exit_code == 1
    assert _digests(ws) == before
    (ws / "data/raw/mis/contacts.csv").rename(tmp_path / "contacts.csv")
    try:
        _ingest(ws)
        contacts = pd.read_parquet(ws / "data/processed/contacts.parquet")
        assert contacts["contact_id"].tolist() == ["C1"]  # kept from the store
        assert _ingest(ws, rebuild=True).exit_code == 1
        assert not (ws / "data/processed/contacts.parquet").exists()
    finally:
        (tmp_path / "contacts.csv").rename(ws / "data/raw/mis/contacts.csv")
    _ingest(ws, rebuild=True)
    assert _digests(ws) == before


def test_validate_writes_only_the_report(tmp_path):
    build_messy(tmp_path)
    result = _ingest(tmp_path, write=False)
    assert result.exit_code == 1
    assert not (tmp_path / "data/processed").exists()
    assert (tmp_path / "reports/validation.html").exists()


def test_cli_exit_code_1_without_traceback(tmp_path):
    build_messy(tmp_path)
    (tmp_path / "data/raw/~$targets.xlsx").write_bytes(b"lock")
    proc = subprocess.run([KWA, "ingest", "-w", str(tmp_path)], capture_output=True, text=True,
                          env={**os.environ, "COLUMNS": "200"})
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    assert "validation.html" in proc.stdout
    summary = json.loads((tmp_path / "data/processed/ingest_summary.json").read_text())
    lock = [w for f in summary["files"] for w in f["warnings"] if "open in Excel" in w]
    assert lock and "targets.xlsx" in lock[0]


def test_unrecognised_header_is_exit_2_naming_the_closest_table(tmp_path):
    build_messy(tmp_path)
    (tmp_path / "data/raw/odd.csv").write_text("incident_id,student_id,category\nX1,S001,Defiance\n")
    result = _ingest(tmp_path)
    assert result.exit_code == 2
    odd = next(f for f in result.files if f.path == "odd.csv")
    assert "incidents" in odd.error and "occurred_at" in odd.error
    assert next(f for f in result.files if f.path == "students.csv").accepted == 3  # the others still ingested


def test_half_copied_xlsx_and_random_bytes_are_unreadable(tmp_path):
    build_messy(tmp_path)
    data = (tmp_path / "data/raw/targets.xlsx").read_bytes()
    (tmp_path / "data/raw/targets.xlsx").write_bytes(data[: len(data) // 2])
    (tmp_path / "data/raw/junk.csv").write_bytes(bytes(range(256)) * 4)
    result = _ingest(tmp_path)
    assert result.exit_code == 2
    errors = {f.path: f.error for f in result.files if f.error}
    assert set(errors) == {"targets.xlsx", "junk.csv"}
    assert "half-copied" in errors["targets.xlsx"]


# ------------------------------------------------------------------------------------------------ profiles

def test_each_profile_is_recognised_and_mapped(tmp_path):
    raw = tmp_path / "data/raw"
    raw.mkdir(parents=True)
    (raw / "students.csv").write_text("student_id,display_name\nS001,Tom Hill\nS002,Amira Khan\n")
    (raw / "arbor_interventions.csv").write_text(
        "Intervention ID,Student ID,Student,Intervention,Start Datetime,End Datetime,Aims,Success Criteria,Outcome,"
        "Staff\nINT1,S001,Tom Hill,Zones,03/11/2025 09:00,13/02/2026 15:00,Calmer mornings,Fewer incidents,"
        "Met,Ms Key\n")
    (raw / "cc.csv").write_text(
        "timestamp,pupil_name,reason,polarity,score,lesson_name,teacher_name,room_name,note\n"
        "2025-10-06 10:05,Tom Hill,Disruption,negative,-2,Maths,Mr P,Room 4,Calling out\n"
        "2025-10-06 11:20,Tom Hill,Great work,positive,1,Maths,Mr P,Room 4,\n"
        "2025-10-07 09:10,Nobody Here,Disruption,negative,-1,Maths,Mr P,Room 4,\n")
    (raw / "cpoms.csv").write_text(
        "Student,Date/Time,Categories,Incident,Action Taken,Reported By\n"
        "Amira Khan,07/10/2025 13:30,\"Behaviour, Swearing\",Swore at a peer,Restorative chat,Ms Lee\n")
    (raw / "sims.csv").write_text(
        "Adno,Name,Incident Date,Behaviour Type,Points,Location,Comments\n"
        "S002,Amira Khan,08/10/2025 09:15,Hitting,3,Playground,Hit a peer\n")
    result = _ingest(tmp_path)
    files = {f.path: f for f in result.files}
    assert {p: (f.table, f.profile) for p, f in files.items()} == {
        "students.csv": ("students", "generic"),
        "arbor_interventions.csv": ("interventions", "arbor_interventions"),
        "cc.csv": ("incidents", "classcharts"), "cpoms.csv": ("incidents", "cpoms"),
        "sims.csv": ("incidents", "sims")}
    cc = files["cc.csv"]
    assert (cc.rows_read, cc.accepted, cc.rejected, cc.skipped) == (3, 1, 1, 1)  # praise skipped, unknown name
    assert result.exit_code == 1
    inc = pd.read_parquet(tmp_path / "data/processed/incidents.parquet")
    by_note = inc.set_index("notes")
    assert by_note.loc["Calling out", ["student_id", "category", "severity", "location", "staff", "lesson"]].tolist() \
        == ["S001", "Low-level disruption", 2, "Room 4", "Mr P", "Maths"]
    assert by_note.loc["Swore at a peer", ["student_id", "category", "consequence"]].tolist() == \
        ["S002", "Verbal abuse", "Restorative chat"]
    assert by_note.loc["Hit a peer", ["student_id", "category", "severity", "location"]].tolist() == \
        ["S002", "Physical aggression", 3, "Playground"]
    enrol = pd.read_parquet(tmp_path / "data/processed/interventions.parquet").iloc[0]
    assert (enrol["enrolment_id"], enrol["programme"], enrol["entry_reason"], enrol["exit_outcome"]) == \
        ("INT1", "Zones of Regulation", "Calmer mornings", "Met")
    assert pd.isna(enrol["planned_hours_per_week"])  # the export has no plan column: not stated, never 0
    assert enrol["started_on"] == pd.Timestamp("2025-11-03") and enrol["ended_on"] == pd.Timestamp("2026-02-13")
    forced = _ingest(tmp_path, profile="arbor", write=False)
    assert {f.path for f in forced.files if f.error} == {"students.csv", "cc.csv", "cpoms.csv", "sims.csv"}


def test_community_session_without_current_risk_assessment_is_kept_with_a_warning(tmp_path):
    raw = tmp_path / "data/raw"
    raw.mkdir(parents=True)
    (raw / "students.csv").write_text("student_id\nS001\nS002\n")
    (raw / "ras.csv").write_text("ra_id,student_id,assessed_on,review_by\nRA1,S001,01/09/2025,31/10/2025\n")
    (raw / "sessions.csv").write_text(
        "session_id,student_id,date,setting,format,risk_assessment_id\n"
        "SE1,S001,15/10/2025,off site,1:1,RA1\n"  # current: fine
        "SE2,S001,15/11/2025,community,1:1,RA1\n"  # RA1 expired on 31/10
        "SE3,S002,15/10/2025,community,small group,\n"  # no assessment at all
        "SE4,S002,16/10/2025,on site,group,\n"  # on site: none needed
        "SE5,S002,16/10/2025,on the moon,group,\n")  # pinned vocabulary: rejected
    result = _ingest(tmp_path)
    sessions = pd.read_parquet(tmp_path / "data/processed/sessions.parquet").set_index("session_id")
    assert sessions.index.tolist() == ["SE1", "SE2", "SE3", "SE4"]
    assert sessions["setting"].tolist() == ["community", "community", "community", "on-site"]
    assert sessions["format"].tolist() == ["one-to-one", "one-to-one", "small-group", "small-group"]
    assert sorted(w["where"] for w in result.warnings) == ["sessions.csv row 3", "sessions.csv row 4"]
    assert all("risk assessment" in w["message"] for w in result.warnings)
    rejected = pd.read_csv(tmp_path / "data/processed/rejected/sessions.csv", dtype=str)
    assert rejected["row"].tolist() == ["6"] and "setting" in rejected["reason"][0]
    assert result.exit_code == 1


def test_row_with_more_cells_than_its_header_is_rejected_with_its_cells(tmp_path):
    raw = tmp_path / "data/raw"
    raw.mkdir(parents=True)
    (raw / "students.csv").write_text("student_id,display_name\nS001,Tom Hill\nS002,Hill, Tom,extra\nS003,Ann Lee\n")
    result = _ingest(tmp_path)
    f = result.files[0]
    assert (f.rows_read, f.accepted, f.rejected) == (3, 2, 1)
    rejected = pd.read_csv(tmp_path / "data/processed/rejected/students.csv", dtype=str)
    assert rejected[["row", "student_id", "display_name"]].values.tolist() == [["3", "S002", "Hill"]]
    assert "more cells than the header" in rejected["reason"][0]


def test_generic_export_is_not_taken_for_a_source_profile(tmp_path):
    raw = tmp_path / "data/raw"
    raw.mkdir(parents=True)
    (raw / "students.csv").write_text("student_id\nS001\n")
    (raw / "incidents.csv").write_text("incident_id,student_id,occurred_at,category,severity,location,notes\n"
                                       "I1,S001,2025-10-01 09:15,Defiance,-1,Toilets,x\n")
    result = _ingest(tmp_path)
    f = next(f for f in result.files if f.path == "incidents.csv")
    assert (f.profile, f.rejected) == ("generic", 1)  # Class Charts would have turned -1 into severity 1
    assert "'-1'" in result.rejected["incidents"]["reason"][0]


def test_title_line_above_the_header_is_passed_over_and_rows_keep_their_numbers(tmp_path):
    raw = tmp_path / "data/raw"
    raw.mkdir(parents=True)
    (raw / "students.csv").write_text("Pupil list printed 01/10/2025\n\nstudent_id,display_name\nS001,Tom\nS002,Ann\n"
                                      "S003,Ann,x\n")
    result = _ingest(tmp_path)
    f = result.files[0]
    assert (f.table, f.rows_read, f.accepted, f.rejected) == ("students", 3, 2, 1)
    assert result.rejected["students"]["row"].tolist() == [6]  # the sixth line, as a spreadsheet shows it


def test_repeated_keys_out_of_order_are_counted_once_and_conflicts_name_the_first_row(tmp_path):
    raw = tmp_path / "data/raw"
    raw.mkdir(parents=True)
    # S003 three times: the first wins, the same row again is a duplicate, a different name is a conflict
    # (and S002 twice in a row: a repeat of the newest key)
    (raw / "students.csv").write_text("student_id,display_name\nS003,Ann Lee\nS001,Tom Hill\nS003,Ann Lee\n"
                                      "S002,Sam Roe\nS002,Sam Roe\nS003,Anne Leigh\nS001,Tom Hill\n")
    result = _ingest(tmp_path)
    f = result.files[0]
    assert (f.rows_read, f.accepted, f.rejected, f.duplicates) == (7, 3, 1, 3)
    stored = pd.read_parquet(tmp_path / "data/processed/students.parquet")
    assert stored[["student_id", "display_name"]].values.tolist() == [["S001", "Tom Hill"], ["S002", "Sam Roe"],
                                                                      ["S003", "Ann Lee"]]
    rejected = pd.read_csv(tmp_path / "data/processed/rejected/students.csv", dtype=str)
    assert rejected["row"].tolist() == ["7"]
    assert "already used by students.csv row 2" in rejected["reason"][0]


def test_derived_ids_do_not_change_between_versions():
    """A stored table's derived ids must match the next run's, or every re-ingested row would be stored twice:
    these ids were computed by the earlier implementation (astype("str") of every column, then hashed)."""
    from kwanalytics.ingest.pipeline import _derive_key

    T = pd.Timestamp
    frame = pd.DataFrame({"rating_id": pd.Series([None, None, None], dtype="str"),
                          "target_id": pd.Series(["T1", "T2", None], dtype="str"),
                          "rated_on": pd.Series([T("2025-02-03"), None, T("2025-03-01")], dtype="datetime64[us]"),
                          "gas_score": pd.array([1, -1, None], dtype="Int64")})
    assert _derive_key(frame, "target_ratings").tolist() == [
        "TR-12a11b422111c350", "TR-5346a71e13b095e1", "TR-e186357d6b5c8e36"]


def test_audit_log_names_each_file_by_the_sha256_of_its_bytes(messy):
    """The audit entry's SHA-256 is taken from the bytes ingest read (CSV in cp1252, with a BOM, and .xlsx);
    compared here with hashlib over the files as they are on disk."""
    from kwanalytics.audit import read_log

    ws, _ = messy
    entry = [e for e in read_log(ws) if e["event"] == "ingest"][-1]
    got = {f["path"]: f["sha256"] for f in entry["files"]}
    raw = ws / "data" / "raw"
    assert got == {name: hashlib.sha256((raw / name).read_bytes()).hexdigest() for name in EXPECTED}


def test_admission_and_leaving_dates_are_read_and_a_pupil_cannot_leave_before_joining(tmp_path):
    raw = tmp_path / "data/raw"
    raw.mkdir(parents=True)
    (raw / "students.csv").write_text("UPN,Name,Date of Admission,Leaving date\nS001,Tom Hill,05/01/2026,\n"
                                      "S002,Ann Lee,01/09/2025,20/03/2026\nS003,Raj Shah,10/02/2026,09/02/2026\n")
    f = _ingest(tmp_path).files[0]
    assert (f.rows_read, f.accepted, f.rejected) == (3, 2, 1)
    stored = pd.read_parquet(tmp_path / "data/processed/students.parquet").set_index("student_id")
    assert stored.loc["S001", "admitted_on"] == pd.Timestamp("2026-01-05") and pd.isna(stored.loc["S001", "left_on"])
    assert stored.loc["S002", "left_on"] == pd.Timestamp("2026-03-20")
    rejected = pd.read_csv(tmp_path / "data/processed/rejected/students.csv", dtype=str)
    assert rejected["row"].tolist() == ["4"] and "leaves on or after admission" in rejected["reason"][0]


def test_planned_hours_per_week_is_read_from_a_generic_export_and_a_blank_is_not_stated(tmp_path):
    _write_raw(tmp_path, {
        "students.csv": "student_id,display_name\nS001,Tom Hill\n",
        "interventions.csv": "enrolment_id,student_id,programme,started_on,Hours per week\n"
                             "E1,S001,ELSA,2025-09-15,1.5\nE2,S001,Forest School,2025-09-15,\nE3,S001,ELSA,2025-11-03,-1\n"})
    result = _ingest(tmp_path)
    enrol = pd.read_parquet(tmp_path / "data/processed/interventions.parquet").set_index("enrolment_id")
    assert enrol.loc["E1", "planned_hours_per_week"] == 1.5
    assert pd.isna(enrol.loc["E2", "planned_hours_per_week"])
    # a negative plan is a typing mistake: the row is rejected, named with its column and value
    assert "E3" not in enrol.index and result.exit_code == 1
    rejected = {f.path: f for f in result.files}["interventions.csv"]
    assert (rejected.accepted, rejected.rejected) == (2, 1)
