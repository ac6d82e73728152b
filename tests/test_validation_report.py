"""The data manager's page, reports/validation.html (issue 20): what was wrong in the exports, said once per thing
to fix and located exactly. Each test builds its exports in code; the figures are worked out by hand."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd
from rich.console import Console

from kwanalytics.ingest.pipeline import run_ingest


def _workspace(tmp_path: Path, **files: str) -> Path:
    raw = tmp_path / "data" / "raw"
    raw.mkdir(parents=True)
    (raw / "students.csv").write_text("student_id,display_name\nS001,Callum Stevens\nS002,Amira Khan\n")
    for name, text in files.items():
        (raw / f"{name}.csv").write_text(text)
    return tmp_path


def _ingest(ws: Path):
    result = run_ingest(ws, console=Console(file=io.StringIO(), width=300))
    summary = json.loads((ws / "data" / "processed" / "ingest_summary.json").read_text(encoding="utf-8"))
    page = (ws / "reports" / "validation.html").read_text(encoding="utf-8")
    return result, summary, page


def test_the_schools_programme_names_are_not_unlisted_values(tmp_path):
    ws = _workspace(tmp_path, sessions=(
        "session_id,student_id,date,setting,format,activity\n"
        "SE1,S001,06/10/2025,on site,1:1,Zones of Regulation\n"  # a programme's session: its name as activity
        "SE2,S001,07/10/2025,on site,1:1,ZoR\n"  # the programme's other spelling
        "SE3,S002,07/10/2025,on site,1:1,nurture group\n"  # a programme only settings.yaml names
        "SE4,S002,08/10/2025,on site,1:1,Juggling\n"),  # truly unlisted
        interventions="enrolment_id,student_id,programme,started_on\nE1,S002,Nurture Group,01/10/2025\n")
    (ws / "schemas").mkdir()
    (ws / "schemas" / "settings.yaml").write_text(
        "programmes:\n  Nurture Group:\n"
        "    entry: {categories: [Dysregulation], at_least: 4, within_school_days: 20}\n"
        "    exit: {categories: [Dysregulation], at_most: 1, within_school_days: 20}\n")
    result, _, page = _ingest(ws)
    assert [(v.column, v.value) for v in result.vocabulary] == [("activity", "Juggling")]
    stored = pd.read_parquet(ws / "data/processed/sessions.parquet").set_index("session_id")["activity"]
    assert stored.to_dict() == {"SE1": "Zones of Regulation", "SE2": "Zones of Regulation",
                                "SE3": "Nurture Group", "SE4": "Juggling"}
    assert "Juggling" in page and "Zones of Regulation" not in page and "Nurture" not in page


def test_the_page_explains_each_exit_code_and_marks_this_runs(tmp_path):
    ws = _workspace(tmp_path, sessions="session_id,student_id,date,setting\nSE1,S001,06/10/2025,on site\n"
                                       "SE2,S009,06/10/2025,on site\n")  # S009 is no pupil: rejected
    result, summary, page = _ingest(ws)
    assert result.exit_code == summary["exit_code"] == 1
    table = page.split('<table class="exit-codes">')[1].split("</table>")[0]
    rows = table.split("<tr")[2:]
    assert [r.split('<td class="n">')[1][0] for r in rows] == ["0", "1", "2"]
    assert [("(this run)" in r) for r in rows] == [False, True, False]
    assert "Some rows were rejected" in rows[1] and "could not be read at all" in rows[2]


def test_a_duplicate_row_is_located_with_the_row_it_copies(tmp_path):
    header = "incident_id,student_id,occurred_at,category,severity,location,notes\n"
    row = "I{},S001,06/10/2025 10:05,Defiance,2,Classroom,Shouted\n"
    ws = _workspace(tmp_path, a_incidents=header + row.format(1) + row.format(2) + row.format(1),  # rows 2, 3, 4
                    b_incidents=header + row.format(3) + row.format(2))  # its row 3 copies a_incidents row 3
    result, summary, page = _ingest(ws)
    assert result.exit_code == 0
    assert len(pd.read_parquet(ws / "data/processed/incidents.parquet")) == 3  # I1, I2, I3: nothing lost
    a, b = (next(f for f in summary["files"] if f["path"] == name) for name in ("a_incidents.csv", "b_incidents.csv"))
    assert (a["duplicates"], b["duplicates"]) == (1, 1)
    listed = a.get("duplicate_rows", []) + b.get("duplicate_rows", [])
    # the copy kept is the first met; both files have the same export time, so file name order decides
    assert sorted((r["key"], r["row"], r["copy_of"]) for r in listed) == [
        ("I1", 4, "a_incidents.csv row 2"), ("I2", 3, "a_incidents.csv row 3")]
    section = page.split("Rows exported twice")[1].split("<h2")[0]
    assert '<td class="n">4</td><td>I1</td><td>a_incidents.csv row 2</td>' in section
    assert "<h3>b_incidents.csv (1 copy)</h3>" in section


def test_risk_assessment_warnings_are_one_line_per_assessment_with_its_sessions(tmp_path):
    ws = _workspace(
        tmp_path,
        ras="ra_id,student_id,activity,venue,assessed_on,review_by\n"
            "RA1,S001,Café visit,Costa,01/09/2024,31/10/2025\n"
            "RA2,S002,Swimming,Leisure centre,01/12/2025,30/11/2026\n",
        sessions="session_id,student_id,date,setting,activity,venue\n"
                 "SE1,S001,15/10/2025,community,Café visit,Costa\n"  # covered by RA1
                 "SE2,S001,03/11/2025,community,Café visit,Costa\n"  # RA1 lapsed: rows 3, 4, 5 are one line
                 "SE3,S001,10/11/2025,community,Café visit,Costa\n"
                 "SE4,S001,17/11/2025,community,Café visit,Costa\n"
                 "SE5,S002,17/11/2025,community,Swimming,Leisure centre\n"  # RA2 not made yet: its own line
                 "SE6,S002,18/11/2025,community,Bus travel,Town centre\n"  # no assessment: one line for both
                 "SE7,S002,25/11/2025,community,Bus travel,Town centre\n")
    result, _, page = _ingest(ws)
    assert result.exit_code == 0 and len(result.warnings) == 6  # one per session, as before
    section = page.split("Community sessions without a current risk assessment")[1].split("</table>")[0]
    rows = section.split("<tr>")[2:]
    assert len(rows) == 3  # not six
    ra1, ra2, none = rows
    assert "<td>RA1</td><td>S001</td><td>Café visit</td><td>Costa</td><td>31/10/2025</td>" in ra1
    assert "3 sessions, 03/11/2025 to 17/11/2025" in ra1
    assert [s in ra1 for s in ("SE2 on 03/11/2025 (sessions.csv row 3)", "SE4 on 17/11/2025 (sessions.csv row 5)",
                               "SE1", "SE5")] == [True, True, False, False]
    assert "<td>RA2</td><td>S002</td>" in ra2 and "only made on 01/12/2025" in ra2 and "1 session, 17/11/2025" in ra2
    assert "<td>none recorded</td><td>S002</td><td>Bus travel</td><td>Town centre</td><td></td>" in none
    assert "2 sessions, 18/11/2025 to 25/11/2025" in none and "SE6" in none and "SE7" in none
