"""`kwa template` (issue 18): workbooks a key worker fills in, and what ingest makes of them once filled.

Every workbook here is made by the command or by ``build_template`` and filled in code from its own dropdown
lists (the values on its Lists sheet), the way a key worker would pick them.
"""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from datetime import date, datetime, time
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook

from kwanalytics.ingest.pipeline import run_ingest
from kwanalytics.ingest.template_marks import EXAMPLE_NAME, example_rows
from kwanalytics.settings import load_settings
from kwanalytics.store import read_table
from kwanalytics.templates.kinds import KINDS
from kwanalytics.templates.workbook import build_template, write_template

KWA = [sys.executable, "-m", "kwanalytics.cli"]
PUPILS = [("S0001", "Callum Stevens"), ("S0002", "Amira Khan"), ("S0003", "Jo Evans")]


def students_workspace(ws: Path) -> Path:
    """A workspace whose students table is stored (three pupils), as after ingesting a students export."""
    raw = ws / "data" / "raw"
    raw.mkdir(parents=True)
    lines = ["student_id,display_name,year_group,primary_need"] + [f"{s},{n},Year 9,SEMH" for s, n in PUPILS]
    (raw / "students.csv").write_text("\n".join(lines) + "\n")
    assert run_ingest(ws).exit_code == 0
    return ws


def session_log(tmp_path: Path, name: str = "log.xlsx") -> tuple[Path, Path]:
    """A three-pupil workspace and an unfilled session-log template in its data/raw: (workspace, workbook)."""
    ws = students_workspace(tmp_path / "ws")
    out = ws / "data" / "raw" / name
    write_template("sessions", out, ws, today=date(2026, 2, 2))
    return ws, out


def dropdowns(path: Path) -> dict[int, list]:
    """Column number (1-based) on the first sheet -> the values of its dropdown list, read from the Lists sheet."""
    wb = load_workbook(path)
    first, lists = wb.worksheets[0], wb["Lists"]
    out = {}
    for dv in first.data_validations.dataValidation:
        if dv.type != "list":
            continue
        ref = dv.formula1.lstrip("=")
        if "!" in ref:
            cells = lists[ref.split("!", 1)[1].replace("$", "")]
            values = [row[0].value for row in cells]
        else:
            values = ref.strip('"').split(",")
        for rng in str(dv.sqref).split():
            col = first[rng.split(":")[0]].column
            out[col] = values
    return out


def fill(path: Path, n: int, start_row: int = 3, day: date = date(2026, 2, 2), sheet=None) -> None:
    """Rows ``start_row``.. filled from the workbook's own dropdowns (the k-th value of each list, in turn) and
    valid dates, times and numbers; saved in place."""
    lists = dropdowns(path)
    wb = load_workbook(path)
    ws = wb[sheet] if sheet else wb.worksheets[0]
    header = [c.value for c in ws[1]]
    for k in range(n):
        r = start_row + k
        for c, label in enumerate(header, start=1):
            if c in lists:
                values = [v for v in lists[c] if v is not None]
                ws.cell(r, c, values[k % len(values)])
            elif label in ("Date", "Rated on", "Set on"):
                ws.cell(r, c, day)
            elif label == "Review on":
                ws.cell(r, c, date(2026, 7, 1))
            elif label == "Date and time":
                ws.cell(r, c, datetime(day.year, day.month, day.day, 9 + k % 6, 5 * (k % 12)))
            elif label == "Start time":
                ws.cell(r, c, time(9 + k % 6, 30))
            elif "(1-5)" in label:
                ws.cell(r, c, 1 + k % 5)
            elif label.startswith("GAS"):
                ws.cell(r, c, -2 + k % 5)
            elif label == "Duration (minutes)":
                ws.cell(r, c, 30 + k)
            elif label in ("Cost (£)", "Weight"):
                ws.cell(r, c, 12.5)
            elif label == "Target ID":
                ws.cell(r, c, f"T{k + 1}")
            elif label == "Risk assessment ID":
                continue
            else:
                ws.cell(r, c, f"{label} note {k + 1} (row {r})")
    wb.save(path)


def kwa(*args, cwd=None):
    done = subprocess.run([*KWA, *args], capture_output=True, text=True, cwd=cwd)
    # the terminal wraps long messages: compare words
    return subprocess.CompletedProcess(done.args, done.returncode, " ".join(done.stdout.split()),
                                       " ".join(done.stderr.split()))


# ------------------------------------------------------------------------------------------------ the contract

@pytest.mark.parametrize("kind", list(KINDS))
def test_every_kind_has_header_row_example_row_lists_and_instructions(tmp_path, kind):
    ws = students_workspace(tmp_path / "ws")
    out = tmp_path / f"{kind}.xlsx"
    write_template(kind, out, ws, today=date(2026, 2, 2))
    wb = load_workbook(out)
    first = wb.worksheets[0]
    assert wb.sheetnames == [KINDS[kind].sheet, "Instructions", "Lists"]
    header = [c.value for c in first[1]]
    settings = load_settings(ws)
    from kwanalytics.schema.profiles import load_profiles

    mapping = next(m for m in load_profiles(settings)["template"] if m.table == KINDS[kind].table)
    assert header == list(mapping.labels.values())
    # row 2: a filled example (every required column has a value); nothing below it
    example = dict(zip(header, [c.value for c in first[2]]))
    assert all(v is not None for v in example.values() if v != example.get("Risk assessment ID"))
    assert first.max_row == 2 or all(c.value is None for row in first.iter_rows(min_row=3) for c in row)
    # the example's mark: a hidden name scoped to the first sheet, covering row 2 only
    name = first.defined_names[EXAMPLE_NAME]
    assert name.hidden and name.attr_text.endswith("$2")
    assert example_rows(out) == {KINDS[kind].sheet: {2}}
    assert [p.value for p in wb.custom_doc_props.props if p.name == "kwanalytics template"] == [kind]
    # instructions in plain words name where the file goes and what row 2 is
    words = " ".join(str(c.value) for c in wb["Instructions"]["A"] if c.value)
    assert "data/raw" in words and "Row 2 is an example" in words and "kwa ingest" in words
    # every column's input message is set, and date/number cells are validated as such
    validations = {first[str(dv.sqref).split(":")[0]].column: dv for dv in first.data_validations.dataValidation}
    typed = {i for i, h in enumerate(header, 1) if h == "Pupil" or h.startswith(("Date", "Rated on", "Set on",
                                                                                   "Review on", "Start time"))}
    assert typed and all(validations[i].prompt for i in typed)
    for i, h in enumerate(header, 1):
        dv = validations.get(i)
        if h in ("Date", "Rated on", "Set on", "Review on", "Date and time"):
            assert dv.type == "date" and "03/02/2026" in dv.prompt
        if h.startswith(("Engagement", "Severity")):
            assert (dv.type, dv.formula1, dv.formula2) == ("whole", "1", "5")
        if h.startswith("GAS"):
            assert (dv.type, dv.formula1, dv.formula2) == ("whole", "-2", "2")
        if h == "Start time":
            assert dv.type == "time"


def test_sessions_lists_come_from_the_vocabularies_and_the_students_table(tmp_path):
    ws = students_workspace(tmp_path / "ws")
    out = tmp_path / "s.xlsx"
    write_template("sessions", out, ws)
    lists = dropdowns(out)
    header = [c.value for c in load_workbook(out).worksheets[0][1]]
    col = {h: i for i, h in enumerate(header, 1)}
    vocab = load_settings(ws).vocabularies
    assert lists[col["Pupil"]] == ["S0001 – Callum Stevens", "S0002 – Amira Khan", "S0003 – Jo Evans"]
    # activities, then the programmes (a programme's session is logged with the programme as its activity), each
    # once: Lego-based therapy is both, Travel Training is the activity Bus travel's other spelling
    programmes = ["Zones of Regulation", "ELSA", "Social Skills Group", "Anger Management", "TIS 1:1"]
    assert lists[col["Activity"]] == list(vocab["activities"].values) + programmes
    assert set(programmes) | set(vocab["activities"].values) >= set(vocab["programmes"].values) - {"Travel Training"}
    assert lists[col["Setting"]] == ["on-site", "community"]
    assert lists[col["Format"]] == ["one-to-one", "small-group"]


def test_a_pupil_who_has_left_is_not_offered():
    from kwanalytics.templates.workbook import pupil_entries

    students = pd.DataFrame({"student_id": ["S2", "S1", "S3"], "display_name": ["Amira Khan", "Callum Stevens", None],
                             "left_on": pd.to_datetime([None, "2026-01-30", None])})
    assert pupil_entries(students) == ["S1 – Callum Stevens", "S2 – Amira Khan", "S3"]
    assert pupil_entries(students, on=date(2026, 2, 2)) == ["S2 – Amira Khan", "S3"]
    assert pupil_entries(students, on=date(2026, 1, 30)) == ["S1 – Callum Stevens", "S2 – Amira Khan", "S3"]


def test_a_workspace_vocabulary_changes_the_dropdown(tmp_path):
    ws = students_workspace(tmp_path / "ws")
    (ws / "schemas").mkdir()
    (ws / "schemas" / "vocabularies.yaml").write_text(
        "activities:\n  pinned: false\n  values:\n    Climbing wall: [Climbing]\n    Pottery: []\n")
    out = tmp_path / "s.xlsx"
    write_template("sessions", out, ws)
    header = [c.value for c in load_workbook(out).worksheets[0][1]]
    shipped = list(load_settings(None).vocabularies["activities"].values)
    # a workspace's vocabulary adds to the shipped one
    assert dropdowns(out)[header.index("Activity") + 1][:len(shipped) + 2] == shipped + ["Climbing wall", "Pottery"]


# ------------------------------------------------------------------------------------------------ ingest

def test_filled_session_workbook_ingests_with_zero_rejections_and_more_rows_later_merge(tmp_path):
    ws, out = session_log(tmp_path, "key_work_session_log.xlsx")
    fill(out, 37)
    first = run_ingest(ws)
    summary = json.loads((ws / "data" / "processed" / "ingest_summary.json").read_text())
    entry = next(f for f in summary["files"] if f["path"] == "key_work_session_log.xlsx")
    assert first.exit_code == 0
    assert (entry["rows_read"], entry["accepted"], entry["rejected"], entry["skipped"]) == (38, 37, 0, 1)
    assert entry["profile"] == "template"
    stored = read_table(ws, "sessions")
    assert len(stored) == 37
    # rows k = 0..36 pick pupil k % 3: 13, 12, 12 (the example, also the first pupil, is not stored)
    assert stored["student_id"].value_counts().to_dict() == {"S0001": 13, "S0002": 12, "S0003": 12}
    assert not stored["notes"].str.contains("Made toast").any()
    ids = set(stored["session_id"])
    # three more rows later: the first 37 keep their derived ids, nothing is stored twice
    fill(out, 3, start_row=40, day=date(2026, 2, 3))
    again = run_ingest(ws)
    assert again.exit_code == 0
    later = read_table(ws, "sessions")
    assert len(later) == 40 and ids < set(later["session_id"])


def test_a_row_copied_from_the_example_is_a_real_entry(tmp_path):
    ws, out = session_log(tmp_path)
    wb = load_workbook(out)
    sheet = wb.worksheets[0]
    for c in range(1, sheet.max_column + 1):
        sheet.cell(3, c, sheet.cell(2, c).value)
    wb.save(out)
    result = run_ingest(ws)
    entry = next(f for f in result.files if f.path == "log.xlsx")
    assert (entry.rows_read, entry.accepted, entry.skipped) == (2, 1, 1)
    assert read_table(ws, "sessions")["notes"].tolist() == ["Made toast with support and paid for the ingredients"]


def test_a_pupil_typed_by_name_instead_of_picked_is_that_pupil(tmp_path):
    ws, out = session_log(tmp_path)
    fill(out, 5)
    wb = load_workbook(out)
    sheet = wb.worksheets[0]
    pupil = [c.value for c in sheet[1]].index("Pupil") + 1
    typed = ["Amira Khan", "Stevens, Callum", "S0003", "Jo Evans (9B)", "Jo Stevens"]  # the last is no one
    for row, text in enumerate(typed, start=3):
        sheet.cell(row, pupil, text)
    wb.save(out)
    entry = next(f for f in run_ingest(ws).files if f.path == "log.xlsx")
    assert (entry.rows_read, entry.accepted, entry.rejected, entry.skipped) == (6, 4, 1, 1)
    assert sorted(read_table(ws, "sessions")["student_id"]) == ["S0001", "S0002", "S0003", "S0003"]
    rejected = pd.read_csv(ws / "data" / "processed" / "rejected" / "sessions.csv", dtype=str)
    assert rejected["row"].tolist() == ["7"] and "Jo Stevens" in rejected["reason"][0]


def test_every_kind_filled_from_its_dropdowns_ingests_with_zero_rejections(tmp_path):
    ws = students_workspace(tmp_path / "ws")
    raw = ws / "data" / "raw"
    for kind in ("sessions", "incidents", "contacts", "targets"):
        write_template(kind, raw / f"{kind}.xlsx", ws, today=date(2026, 2, 2))
        fill(raw / f"{kind}.xlsx", 6)
    first = run_ingest(ws)
    assert first.exit_code == 0, first.rejected
    # ratings list the targets just stored ("T1 – S0001: ..."), so their template is made after
    write_template("ratings", raw / "ratings.xlsx", ws, today=date(2026, 2, 2))
    header = [c.value for c in load_workbook(raw / "ratings.xlsx").worksheets[0][1]]
    assert dropdowns(raw / "ratings.xlsx")[header.index("Target") + 1][0].startswith("T1 – S0001: ")
    fill(raw / "ratings.xlsx", 6)
    result = run_ingest(ws)
    assert result.exit_code == 0, result.rejected
    counts = {f.path: (f.accepted, f.rejected, f.skipped) for f in result.files}
    assert len(counts) == len(result.files)  # one part per file: the Instructions and Lists sheets are not read
    assert counts == {"sessions.xlsx": (6, 0, 1), "incidents.xlsx": (6, 0, 1), "contacts.xlsx": (6, 0, 1),
                      "targets.xlsx": (6, 0, 1), "ratings.xlsx": (6, 0, 1), "students.csv": (3, 0, 0)}
    assert len(read_table(ws, "target_ratings")) == 6
    assert set(read_table(ws, "target_ratings")["target_id"]) == {f"T{k}" for k in range(1, 7)}
    incidents = read_table(ws, "incidents")
    assert sorted(incidents["occurred_at"].dt.hour) == [9, 10, 11, 12, 13, 14]  # the time of day is kept


def test_without_the_mark_row_2_is_an_entry(tmp_path):
    # The example is known by the workbook's hidden name, not by its values: the same workbook without the
    # name stores row 2 like any other row.
    ws, out = session_log(tmp_path)
    wb = load_workbook(out)
    del wb.worksheets[0].defined_names[EXAMPLE_NAME]
    wb.save(out)
    assert example_rows(out) == {}
    entry = next(f for f in run_ingest(ws).files if f.path == "log.xlsx")
    assert (entry.rows_read, entry.accepted, entry.skipped) == (1, 1, 0)


def test_several_sheets_of_one_kind_are_read_as_one_table_each_sheet_counted(tmp_path):
    # A key worker keeps one sheet a week: Excel copies a sheet's own names with the sheet, so each copy's
    # example row carries the mark (done here by hand, as openpyxl's copy does not copy names).
    ws, path = session_log(tmp_path)
    fill(path, 4)
    wb = load_workbook(path)
    copy = wb.copy_worksheet(wb.worksheets[0])
    copy.title = "Week 2"
    from openpyxl.workbook.defined_name import DefinedName

    copy.defined_names[EXAMPLE_NAME] = DefinedName(EXAMPLE_NAME, attr_text="'Week 2'!$A$2:$O$2", hidden=True)
    for r in range(3, 7):  # a different week: different dates
        copy.cell(r, 2, date(2026, 2, 9))
    wb.save(path)
    fill(path, 2, start_row=7, day=date(2026, 2, 10), sheet="Week 2")
    assert example_rows(path) == {"Sessions": {2}, "Week 2": {2}}
    with zipfile.ZipFile(path) as z:
        assert b'localSheetId="0"' in z.read("xl/workbook.xml")
    result = run_ingest(ws)
    assert result.exit_code == 0, result.rejected
    summary = json.loads((ws / "data" / "processed" / "ingest_summary.json").read_text())
    sheets = {f["sheet"]: (f["rows_read"], f["accepted"], f["skipped"]) for f in summary["files"]
              if f["path"] == "log.xlsx"}
    assert sheets == {"Sessions": (5, 4, 1), "Week 2": (7, 6, 1)}
    assert len(read_table(ws, "sessions")) == 10


def test_the_instructions_and_lists_sheets_are_never_read_as_records(tmp_path):
    # Even when someone types a header-like row on the Instructions sheet, its hidden mark keeps it out.
    ws = students_workspace(tmp_path / "ws")
    path = ws / "data" / "raw" / "log.xlsx"
    write_template("sessions", path, ws)
    wb = load_workbook(path)
    notes = wb["Instructions"]
    notes.insert_rows(1, 2)
    notes["A1"], notes["B1"], notes["A2"], notes["B2"] = "student_id", "display_name", "S0009", "Not A Pupil"
    wb.save(path)
    result = run_ingest(ws)
    assert [(f.path, f.sheet, f.table) for f in result.files if f.path == "log.xlsx"] == [("log.xlsx", "Sessions",
                                                                                          "sessions")]
    assert "S0009" not in set(read_table(ws, "students")["student_id"])
    assert any("'Instructions'" in w and "not read" in w for f in result.files for w in f.warnings)


# ------------------------------------------------------------------------------------------------ the command

def run_main(monkeypatch, capsys, *args) -> tuple[int, str]:
    """`kwa ARGS` in this process (a subprocess costs seconds of imports): the exit code and the words printed."""
    from kwanalytics import cli

    monkeypatch.setattr(sys, "argv", ["kwa", *args])
    with pytest.raises(SystemExit) as done:
        cli.main()
    out = capsys.readouterr()
    return done.value.code, " ".join((out.out + out.err).split())


def test_command_writes_the_workbook_and_refuses_mistakes_with_exit_2(tmp_path, monkeypatch, capsys):
    ws = students_workspace(tmp_path / "ws")
    ok = kwa("template", "sessions", "--out", str(tmp_path / "log.xlsx"), "--workspace", str(ws))
    assert ok.returncode == 0, ok.stderr
    assert "3 pupils" in ok.stdout and (tmp_path / "log.xlsx").exists()
    code, words = run_main(monkeypatch, capsys, "template", "behaviour", "--out", str(tmp_path / "x.xlsx"))
    assert code == 2 and "sessions, incidents, contacts, targets, ratings" in words
    blocked = tmp_path / "file"
    blocked.write_text("")
    code, words = run_main(monkeypatch, capsys, "template", "sessions", "--out", str(blocked / "log.xlsx"))
    assert code == 2 and "cannot be written" in words
    code, words = run_main(monkeypatch, capsys, "template", "sessions", "--out", str(tmp_path / "log.csv"))
    assert code == 2 and ".xlsx" in words and not (tmp_path / "log.csv").exists()
