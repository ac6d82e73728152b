"""Exports as schools really write them (issue 19): each habit as a small file built in code.

Every test names what went wrong before: a row stored wrong, a file or sheet passed over without a word, or an
everyday habit refused. Counts are worked out by hand from the rows written here.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook
from rich.console import Console

from kwanalytics.ingest import readers
from kwanalytics.ingest.pipeline import run_ingest

STUDENTS = [["student_id", "display_name", "year_group"], ["S001", "Callum Stevens", "Year 9"],
            ["S002", "Amira Khan", "Year 10"], ["S003", "Tom Hill", "Year 11"]]
HEADER = ["incident_id", "student_id", "occurred_at", "category", "severity", "location", "notes"]


def _csv(rows, sep=",") -> str:
    buf = io.StringIO()
    csv.writer(buf, delimiter=sep, lineterminator="\r\n").writerows(rows)
    return buf.getvalue()


def _incident(i, sid="S001", when="06/10/2025 10:05", notes="Shouted"):
    return [f"I{i}", sid, when, "Defiance", "2", "Classroom", notes]


def _workspace(tmp_path: Path) -> Path:
    raw = tmp_path / "data" / "raw"
    raw.mkdir(parents=True)
    (raw / "students.csv").write_text(_csv(STUDENTS), encoding="utf-8")
    return tmp_path


def _ingest(ws: Path):
    console = Console(file=io.StringIO(), width=300)
    result = run_ingest(ws, console=console)
    summary = json.loads((ws / "data" / "processed" / "ingest_summary.json").read_text(encoding="utf-8"))
    return result, summary, console.file.getvalue()


def _entries(summary, name):
    return [f for f in summary["files"] if f["path"] == name]


def _stored(ws, table="incidents") -> pd.DataFrame:
    return pd.read_parquet(ws / "data" / "processed" / f"{table}.parquet")


def _conserved(summary):
    for f in summary["files"]:
        assert f["rows_read"] == f["accepted"] + f["rejected"] + f["duplicates"] + f["skipped"], f
        assert sum(f["skipped_because"].values()) == f["skipped"], f


# ------------------------------------------------------------------------------------------------ workbooks

def _book(path: Path, sheets: dict[str, list[list]]) -> None:
    wb = Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        sheet = wb.create_sheet(name)
        for row in rows:
            sheet.append(row)
    wb.save(path)


def test_every_sheet_whose_header_matches_is_read_and_counted(tmp_path):
    ws = _workspace(tmp_path)
    _book(ws / "data" / "raw" / "behaviour.xlsx",
          {"Autumn": [HEADER, _incident(1), _incident(2, "S002")],
           "Spring": [HEADER, _incident(3, when="12/01/2026 09:00"), _incident(4, "S003", when="13/01/2026 11:00"),
                      _incident(5, when="14/01/2026 14:00")],
           "Lists": [["Categories"], ["Defiance"]]})
    result, summary, shown = _ingest(ws)
    assert result.exit_code == 0
    parts = _entries(summary, "behaviour.xlsx")
    assert [(p["sheet"], p["rows_read"], p["accepted"]) for p in parts] == [("Autumn", 2, 2), ("Spring", 3, 3)]
    assert "'Lists' (its header row matches no table)" in " ".join(parts[0]["warnings"])
    assert sorted(_stored(ws)["incident_id"]) == ["I1", "I2", "I3", "I4", "I5"]  # the second sheet is not lost
    assert "behaviour.xlsx [Spring]" in shown
    _conserved(summary)


def test_read_workbook_gives_one_part_per_sheet_with_its_furniture(tmp_path):
    path = tmp_path / "log.xlsx"
    _book(path, {"Week 1": [["Key work log"], HEADER, _incident(1), _incident(2), [None] * 7, ["Total: 2"]],
                 "Week 2": [HEADER, _incident(3)]})
    parts = readers.read_workbook(path, recognise=lambda h: h[:2] == HEADER[:2])
    assert [(p.sheet, p.header_row, p.rows.tolist()) for p in parts] == [("Week 1", 2, [3, 4]), ("Week 2", 1, [2])]
    # the empty row 5 holds no cell at all, so it is not a row; the total line is furniture
    assert [(f.row, f.reason) for f in parts[0].furniture] == [(6, readers.FOOTER_ROW)]
    assert parts[0].title == ["Key work log"] and parts[0].rows_read == 3
    # the session-log reader marks a template's example row from outside the row itself
    assert parts[1].set_aside([2], "the template's example row") == 1
    assert parts[1].cells.empty and parts[1].furniture[0].cells[0] == "I3" and parts[1].rows_read == 1


def test_excel_error_cells_reject_their_row_naming_the_error(tmp_path):
    ws = _workspace(tmp_path)
    wb = Workbook()
    sheet = wb.active
    sheet.append(HEADER)
    sheet.append(_incident(1))
    sheet.append(_incident(2, notes="#REF!"))  # openpyxl writes an error cell, as Excel does for a broken formula
    row = _incident(3)
    row[4] = "#DIV/0!"
    sheet.append(row)
    sheet.append(_incident(4, when="#N/A"))
    wb.save(ws / "data" / "raw" / "incidents.xlsx")
    result, summary, _ = _ingest(ws)
    assert result.exit_code == 1
    (entry,) = _entries(summary, "incidents.xlsx")
    assert (entry["accepted"], entry["rejected"]) == (1, 3)
    reasons = result.rejected["incidents"].set_index("row")["reason"]
    assert "notes: the cell shows Excel's error '#REF!'" in reasons[3]
    assert "severity: the cell shows Excel's error '#DIV/0!'" in reasons[4]
    # one reason for the cell, not a second about its date
    assert reasons[5].count(";") == 0 and "'#N/A'" in reasons[5]
    assert _stored(ws)["incident_id"].tolist() == ["I1"]  # never stored as a blank


def test_excel_error_text_in_a_csv_rejects_its_row(tmp_path):
    ws = _workspace(tmp_path)
    (ws / "data" / "raw" / "incidents.csv").write_text(_csv([HEADER, _incident(1), _incident(2, notes="#VALUE!")]))
    result, summary, _ = _ingest(ws)
    assert result.exit_code == 1 and _entries(summary, "incidents.csv")[0]["rejected"] == 1


# ------------------------------------------------------------------------------------------------ furniture

def test_padding_and_a_total_line_are_skipped_and_counted_not_rejected(tmp_path):
    ws = _workspace(tmp_path)
    text = _csv([HEADER, _incident(1), _incident(2)]) + ",,,,,,\r\n,,,,,,\r\n" + "Total: 2,,,,,,\r\n"
    (ws / "data" / "raw" / "incidents.csv").write_text(text)
    result, summary, shown = _ingest(ws)
    assert result.exit_code == 0
    (entry,) = _entries(summary, "incidents.csv")
    assert (entry["rows_read"], entry["accepted"], entry["skipped"]) == (5, 2, 3)
    assert entry["skipped_because"] == {readers.EMPTY_ROW: 2, readers.FOOTER_ROW: 1}
    assert f"incidents.csv: 1 row(s) skipped: {readers.FOOTER_ROW}" in shown  # said in the terminal too


def test_a_record_whose_first_cell_looks_like_a_footer_is_still_a_record(tmp_path):
    ws = _workspace(tmp_path)
    rows = [["contact_id", "student_id", "date", "party", "summary"], ["Total", "S001", "12/01/2026", "Mum", "Call"]]
    (ws / "data" / "raw" / "contacts.csv").write_text(_csv(rows))
    result, summary, _ = _ingest(ws)
    assert result.exit_code == 0 and _entries(summary, "contacts.csv")[0]["accepted"] == 1


def test_a_long_title_block_above_the_header(tmp_path):
    ws = _workspace(tmp_path)
    title = [[f"Report line {i}"] for i in range(25)] + [["Printed by: Mr Patel", "", "Page 1"]]
    (ws / "data" / "raw" / "incidents.csv").write_text(_csv(title + [HEADER, _incident(1), _incident(2)]))
    result, summary, _ = _ingest(ws)
    (entry,) = _entries(summary, "incidents.csv")
    assert result.exit_code == 0 and entry["header_row"] == 27 and entry["accepted"] == 2


# ------------------------------------------------------------------------------------------------ every file

def test_excel_unicode_text_is_read_as_utf16_tab_separated(tmp_path):
    ws = _workspace(tmp_path)
    text = _csv([HEADER, _incident(1, notes="Zoë’s “bad” day"), _incident(2, "S002")], sep="\t")
    (ws / "data" / "raw" / "incidents.txt").write_bytes(text.encode("utf-16"))  # Excel writes a BOM
    (ws / "data" / "raw" / "more.tsv").write_bytes(_csv([HEADER, _incident(3)], sep="\t").encode("utf-16-le"))
    result, summary, _ = _ingest(ws)
    assert result.exit_code == 0
    (txt,) = _entries(summary, "incidents.txt")
    (tsv,) = _entries(summary, "more.tsv")
    assert txt["accepted"] == 2 and tsv["accepted"] == 1
    assert txt["read_as"] == "tab-separated text, UTF-16 (Excel's Unicode Text)"
    assert tsv["read_as"] == "tab-separated text, UTF-16 without BOM (Excel's Unicode Text)"
    assert _stored(ws).set_index("incident_id")["notes"]["I1"] == "Zoë’s “bad” day"


def test_an_old_xls_workbook_is_read(tmp_path):
    xlwt = pytest.importorskip("xlwt")
    ws = _workspace(tmp_path)
    book = xlwt.Workbook()
    sheet = book.add_sheet("Incidents")
    for r, row in enumerate([HEADER, _incident(1), _incident(2, "S003")]):
        for c, value in enumerate(row):
            sheet.write(r, c, value)
    book.save(str(ws / "data" / "raw" / "behaviour.xls"))
    result, summary, _ = _ingest(ws)
    (entry,) = _entries(summary, "behaviour.xls")
    assert result.exit_code == 0 and entry["accepted"] == 2
    assert entry["read_as"] == "Excel 97-2003 workbook (.xls), sheet 'Incidents'"


def test_error_cells_in_an_old_xls_reject_their_row_naming_the_error(tmp_path):
    xlwt = pytest.importorskip("xlwt")
    ws = _workspace(tmp_path)
    book = xlwt.Workbook()
    sheet = book.add_sheet("Incidents")
    for r, row in enumerate([HEADER, _incident(1), _incident(2)]):
        for c, value in enumerate(row):
            if (r, c) != (2, HEADER.index("notes")):
                sheet.write(r, c, value)
    sheet.row(2).set_cell_error(HEADER.index("notes"), "#REF!")  # as Excel saves a broken formula's cell
    book.save(str(ws / "data" / "raw" / "behaviour.xls"))
    result, summary, _ = _ingest(ws)
    (entry,) = _entries(summary, "behaviour.xls")
    assert result.exit_code == 1 and (entry["accepted"], entry["rejected"]) == (1, 1)
    reason = result.rejected["incidents"].set_index("row")["reason"][3]
    assert "the cell shows Excel's error '#REF!'" in reason
    assert _stored(ws)["incident_id"].tolist() == ["I1"]  # never stored as a blank


def test_every_file_is_named_and_a_pdf_is_refused_as_not_an_export(tmp_path):
    ws = _workspace(tmp_path)
    raw = ws / "data" / "raw"
    (raw / "incidents.csv").write_text(_csv([HEADER, _incident(1)]))
    (raw / "behaviour report.pdf").write_bytes(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n")
    (raw / "notes.docx").write_bytes(b"PK\x03\x04" + b"\x00" * 40)
    (raw / "<b>odd.csv").write_text("nothing,we,know\n1,2,3\n")
    result, summary, shown = _ingest(ws)
    assert result.exit_code == 2  # not every file was taken
    by_path = {f["path"]: f for f in summary["files"]}
    assert set(by_path) == {"students.csv", "incidents.csv", "behaviour report.pdf", "notes.docx", "<b>odd.csv"}
    pdf = by_path["behaviour report.pdf"]
    assert pdf["status"] == "refused" and "is a PDF, not an export" in pdf["error"]
    assert "Export the report from the system as CSV or Excel" in pdf["error"]
    assert "a zip archive" in by_path["notes.docx"]["error"]
    assert by_path["incidents.csv"]["status"] == "read" and by_path["incidents.csv"]["accepted"] == 1
    assert "behaviour report.pdf could not be read" in shown
    page = (ws / "reports" / "validation.html").read_text(encoding="utf-8")
    assert "behaviour report.pdf" in page and "is a PDF, not an export" in page
    assert "<b>odd" not in page and "&lt;b&gt;odd.csv" in page  # autoescaped
    audit = (ws / "data" / "audit.jsonl").read_text(encoding="utf-8")
    assert "behaviour report.pdf" in audit and "not an export" in audit


def test_a_windows_thumbnail_file_is_named_and_left_alone(tmp_path):
    ws = _workspace(tmp_path)
    (ws / "data" / "raw" / "Thumbs.db").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64)
    result, summary, _ = _ingest(ws)
    (entry,) = _entries(summary, "Thumbs.db")
    assert result.exit_code == 0 and entry["status"] == "left alone" and "not an export" in entry["warnings"][0]


def test_the_workspace_readme_in_data_raw_is_named_and_left_alone(tmp_path):
    # A clean clone's data/raw holds the repository's README.md: `make demo` must not exit 2 over it.
    ws = _workspace(tmp_path)
    shipped = Path(__file__).resolve().parents[1] / "data" / "raw" / "README.md"
    (ws / "data" / "raw" / "README.md").write_bytes(shipped.read_bytes())
    result, summary, _ = _ingest(ws)
    (entry,) = _entries(summary, "README.md")
    assert result.exit_code == 0 and entry["status"] == "left alone" and "note about this folder" in entry["warnings"][0]


def test_validation_page_carries_the_reports_content_security_policy(tmp_path):
    from kwanalytics.safety import REPORT_CSP

    ws = _workspace(tmp_path)
    _ingest(ws)
    page = (ws / "reports" / "validation.html").read_text(encoding="utf-8")
    assert f'<meta http-equiv="Content-Security-Policy" content="{REPORT_CSP}">' in page
    assert "<script" not in page


# ------------------------------------------------------------------------------------------------ numbers, dates

BUDGET = ["budget_id", "scope", "amount_gbp"]


def test_a_semicolon_export_with_decimal_commas_is_read_the_european_way(tmp_path):
    from kwanalytics.ingest.habits import decide_decimal

    cells = pd.Series(["9,00", "1.950,00", "650,75", "12"])
    assert decide_decimal([cells]).value == ","
    assert decide_decimal([pd.Series(["1,950.00", "9.00"])]).value == "."
    assert decide_decimal([pd.Series(["1,950"])]).value == "."  # ambiguous: English thousands, as before
    from kwanalytics.ingest.parsing import parse_column

    p = parse_column(cells, "float", decimal=",")
    assert p.values.tolist() == [9.0, 1950.0, 650.75, 12.0]
    # in an English file "9,00" is not 900: it is refused, never misread
    q = parse_column(pd.Series(["9,00", "1,950.00"]), "float")
    assert q.bad.tolist() == [True, False] and q.values.iloc[1] == 1950.0


def test_decimal_comma_file_end_to_end(tmp_path):
    ws = _workspace(tmp_path)
    rows = [["budget_id", "scope", "scope_id", "period_start", "period_end", "amount_gbp"],
            ["B1", "student", "S001", "01/09/2025", "31/08/2026", "9,00"],
            ["B2", "student", "S002", "01/09/2025", "31/08/2026", "1.950,00"],
            ["B3", "student", "S003", "01/09/2025", "31/08/2026", "650,75"]]
    (ws / "data" / "raw" / "budget.csv").write_text(_csv(rows, sep=";"))
    result, summary, _ = _ingest(ws)
    assert result.exit_code == 0
    amounts = _stored(ws, "budget").set_index("budget_id")["amount_gbp"]
    assert amounts.to_dict() == {"B1": 9.0, "B2": 1950.0, "B3": 650.75}  # not 900, 1.95 and 65075
    assert "decimal comma" in " ".join(_entries(summary, "budget.csv")[0]["warnings"])


def test_a_us_export_is_read_month_first_and_says_so(tmp_path):
    ws = _workspace(tmp_path)
    # nine rows; only the last has a "day" above 12 in the middle: the whole file is month-first
    whens = [f"{m:02d}/{d:02d}/2025 09:00" for m, d in [(10, 1), (10, 2), (10, 3), (10, 6), (10, 7), (10, 8),
                                                         (10, 9), (10, 10), (10, 14)]]
    rows = [HEADER] + [_incident(i, when=w) for i, w in enumerate(whens)]
    (ws / "data" / "raw" / "incidents.csv").write_text(_csv(rows))
    result, summary, _ = _ingest(ws)
    assert result.exit_code == 0
    stored = _stored(ws).set_index("incident_id")["occurred_at"]
    assert stored["I0"] == pd.Timestamp("2025-10-01 09:00") and stored["I8"] == pd.Timestamp("2025-10-14 09:00")
    said = " ".join(_entries(summary, "incidents.csv")[0]["warnings"])
    assert "dates read month first" in said and "10/14/2025" in said


def test_an_ambiguous_export_stays_day_first_and_a_profile_can_say_month_first(tmp_path):
    from kwanalytics.ingest.habits import decide_date_order

    ambiguous = pd.Series(["03/02/2025", "04/02/2025"])
    assert decide_date_order([ambiguous]).value == "day_first"
    assert decide_date_order([ambiguous], "month_first").value == "month_first"
    # one value that only makes sense day-first, one only month-first: day-first stands, the other is refused
    assert decide_date_order([pd.Series(["13/02/2025", "02/13/2025"])]).value == "day_first"


@pytest.mark.parametrize("typed,expected", [
    ("9.30am", "09:30"), ("2.15pm", "14:15"), ("9:30 AM", "09:30"), ("09.30", "09:30"), ("12pm", "12:00"),
    ("12.05am", "00:05"), ("9:30", "09:30")])
def test_everyday_times(typed, expected):
    from kwanalytics.ingest.parsing import parse_column

    p = parse_column(pd.Series([typed]), "time")
    assert p.values.iloc[0] == expected and not p.bad.iloc[0]


@pytest.mark.parametrize("typed,expected", [
    ("2 Dec 2025", "2025-12-02 00:00"), ("Wed 02/12/2026", "2026-12-02 00:00"),
    ("Wednesday 2 December 2025 14:30", "2025-12-02 14:30"), ("02/12/2025 2.15pm", "2025-12-02 14:15"),
    ("2025-12-02T09:30:00Z", "2025-12-02 09:30"), ("2025-07-02T09:30:00Z", "2025-07-02 10:30"),  # BST
    ("2025-07-02T09:30:00+01:00", "2025-07-02 09:30"), ("2 Dec 2025 9.30am", "2025-12-02 09:30")])
def test_everyday_dates_and_iso_with_t_and_z(typed, expected):
    from kwanalytics.ingest.parsing import parse_column

    p = parse_column(pd.Series([typed, "2025-10-06 10:05"]), "datetime", timezone="Europe/London")
    assert p.values.iloc[0] == pd.Timestamp(expected) and not p.bad.any()


def test_iso_times_in_utc_are_stored_on_the_school_clock_settings_name(tmp_path):
    # the same export read by a school on London's clock and by one whose settings say UTC
    ws = _workspace(tmp_path)
    (ws / "data/raw/incidents.csv").write_text(
        "incident_id,student_id,occurred_at,category,severity\n"
        "I1,S001,2025-07-02T09:30:00Z,Defiance,2\nI2,S001,2025-12-02T09:30:00+00:00,Defiance,2\n")
    assert _ingest(ws)[0].exit_code == 0
    london = _stored(ws).set_index("incident_id")["occurred_at"]
    assert london.to_dict() == {"I1": pd.Timestamp("2025-07-02 10:30"), "I2": pd.Timestamp("2025-12-02 09:30")}
    (ws / "schemas").mkdir(exist_ok=True)
    (ws / "schemas/settings.yaml").write_text("school_day:\n  timezone: UTC\n")
    assert _ingest(ws)[0].exit_code == 0
    utc = _stored(ws).set_index("incident_id")["occurred_at"]
    assert utc["I1"] == pd.Timestamp("2025-07-02 09:30")


def test_an_iso_time_with_a_zone_is_not_guessed_without_the_school_clock():
    from kwanalytics.ingest.parsing import parse_column

    p = parse_column(pd.Series(["2025-07-02T09:30:00Z"]), "datetime")
    assert p.bad.all()


def test_a_merged_incident_datetime_header_over_date_and_time_keeps_the_time(tmp_path):
    ws = _workspace(tmp_path)
    wb = Workbook()
    sheet = wb.active
    sheet.append(["Behaviour Incident ID", "Student ID", "Incident Datetime", None, "Behaviour", "Severity"])
    sheet.merge_cells("C1:D1")
    from datetime import datetime, time

    sheet.append(["I1", "S001", datetime(2025, 10, 6), time(10, 5), "Defiance", 2])
    sheet.append(["I2", "S002", "07/10/2025", "13:30", "Defiance", 3])
    wb.save(ws / "data" / "raw" / "arbor.xlsx")
    result, summary, _ = _ingest(ws)
    assert result.exit_code == 0, summary
    stored = _stored(ws).set_index("incident_id")["occurred_at"]
    assert stored["I1"] == pd.Timestamp("2025-10-06 10:05") and stored["I2"] == pd.Timestamp("2025-10-07 13:30")
    assert "written over two columns" in " ".join(_entries(summary, "arbor.xlsx")[0]["warnings"])


@pytest.mark.parametrize("text", [
    "Behaviour incidents\r\nDate range: 01/09/2025 - 31/12/2025\r\n\r\nNo records found\r\n",
    "No records found.\r\n",
    ",".join(HEADER) + "\r\nNo records found,,,,,,\r\n"])
def test_no_records_found_is_an_empty_export_not_a_refusal(tmp_path, text):
    ws = _workspace(tmp_path)
    (ws / "data" / "raw" / "incidents.csv").write_text(text)
    result, summary, _ = _ingest(ws)
    (entry,) = _entries(summary, "incidents.csv")
    assert result.exit_code == 0 and entry["status"] == "read" and "error" not in entry, entry
    assert entry["accepted"] == 0
    _conserved(summary)


TITLE_LINE = st.text(alphabet=st.characters(whitelist_categories=("L", "Nd", "Zs"), max_codepoint=0x24F),
                     min_size=1, max_size=30).filter(lambda t: t.strip())


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(title=st.lists(TITLE_LINE, max_size=12), n=st.integers(0, 15),
       footer=st.lists(st.sampled_from(["Total: {n}", "Total,,,,{n}", ",,,,,,", "Printed by Mr Patel on 01/10/2025",
                                        "Page 1 of 1", "End of report", "Number of incidents: {n}", ""]),
                       max_size=5))
def test_a_title_block_and_a_footer_lose_no_data_row(tmp_path_factory, title, n, footer):
    ws = _workspace(tmp_path_factory.mktemp("habit"))
    lines = [_csv([[t]]) for t in title] + [_csv([HEADER] + [_incident(i, notes=f"note {i}") for i in range(n)])]
    lines += [f.format(n=n) + "\r\n" for f in footer]
    (ws / "data" / "raw" / "incidents.csv").write_text("".join(lines), encoding="utf-8")
    result, summary, _ = _ingest(ws)
    (entry,) = _entries(summary, "incidents.csv")
    assert result.exit_code == 0, entry
    assert entry["accepted"] == n and entry["rejected"] == 0
    assert entry["skipped"] == sum(1 for f in footer if f)  # every footer line named and counted, none a record
    if n:
        assert sorted(_stored(ws)["notes"]) == sorted(f"note {i}" for i in range(n))
    _conserved(summary)


# ------------------------------------------------------------------------------------------------ people

CPOMS_HEADER = ["ID", "Student", "Date/Time", "Categories", "Incident", "Action Taken", "Reported By"]


def _cpoms(i, student, when="06/10/2025 10:05"):
    return [str(i), student, when, "Defiance", "Refused to work", "Reminder", "Mr Patel"]


def test_a_cpoms_incident_naming_two_pupils_is_one_incident_for_each(tmp_path):
    ws = _workspace(tmp_path)
    rows = [CPOMS_HEADER, _cpoms(101, "Callum Stevens, Amira Khan"), _cpoms(102, "Tom Hill")]
    (ws / "data" / "raw" / "cpoms.csv").write_text(_csv(rows))
    result, summary, _ = _ingest(ws)
    (entry,) = _entries(summary, "cpoms.csv")
    assert result.exit_code == 0, entry
    assert (entry["rows_read"], entry["accepted"]) == (3, 3)  # row 2 read as two incidents, said in the summary
    assert "name several pupils" in " ".join(entry["warnings"]) and "row 2: Callum Stevens, Amira Khan" in \
        " ".join(entry["warnings"])
    assert entry["split"] == [{"row": 2, "pupils": ["Callum Stevens", "Amira Khan"]}]
    stored = _stored(ws).set_index("incident_id")["student_id"].to_dict()
    assert stored == {"101-S001": "S001", "101-S002": "S002", "102": "S003"}
    # stable: the same export again gives the same ids, no conflict with themselves
    result, summary, _ = _ingest(ws)
    assert result.exit_code == 0 and sorted(_stored(ws)["incident_id"]) == ["101-S001", "101-S002", "102"]


@pytest.mark.parametrize("written", ["Stevens, Callum", "Stevens Callum", "Callum Stevens (8B)", "callum  stevens"])
def test_names_as_people_write_them_are_matched(tmp_path, written):
    ws = _workspace(tmp_path)
    (ws / "data" / "raw" / "cpoms.csv").write_text(_csv([CPOMS_HEADER, _cpoms(7, written)]))
    result, summary, _ = _ingest(ws)
    assert result.exit_code == 0, _entries(summary, "cpoms.csv")
    assert _stored(ws)["student_id"].tolist() == ["S001"]


def test_ids_that_lost_their_leading_zeros_are_matched_with_a_warning(tmp_path):
    ws = tmp_path
    raw = ws / "data" / "raw"
    raw.mkdir(parents=True)
    (raw / "students.csv").write_text(_csv([["student_id", "display_name"], ["001234", "Callum Stevens"],
                                            ["005678", "Amira Khan"], ["1234", "Tom Hill"]]))
    rows = [["contact_id", "student_id", "date", "party", "summary"], ["C1", "5678", "12/01/2026", "Mum", "Call"],
            ["C2", "1234", "12/01/2026", "Dad", "Call"], ["C3", "999", "12/01/2026", "Dad", "Call"]]
    (raw / "contacts.csv").write_text(_csv(rows))
    result, summary, _ = _ingest(ws)
    (entry,) = _entries(summary, "contacts.csv")
    stored = _stored(ws, "contacts").set_index("contact_id")["student_id"].to_dict()
    # 1234 is a pupil of its own: never re-read; 999 is no pupil at all: rejected as before
    assert stored == {"C1": "005678", "C2": "1234"} and entry["rejected"] == 1
    assert "lost its leading zeros" in " ".join(entry["warnings"]) and "'5678' as '005678'" in \
        " ".join(entry["warnings"])


def test_duplicate_header_names_are_refused_with_a_message(tmp_path):
    ws = _workspace(tmp_path)
    header = HEADER[:3] + ["category", "severity", "notes", "notes"]
    (ws / "data" / "raw" / "incidents.csv").write_text(_csv([header, _incident(1) + ["second note"]]))
    result, summary, _ = _ingest(ws)
    (entry,) = _entries(summary, "incidents.csv")
    assert result.exit_code == 2 and entry["status"] == "refused"
    assert "2 columns called 'notes' (columns F and G)" in entry["error"]


# ------------------------------------------------------------------------------------------------ newer wins

def test_the_newer_export_wins_by_its_stated_date_and_the_page_lists_both_versions(tmp_path):
    ws = _workspace(tmp_path)
    raw = ws / "data" / "raw"
    # "a_..." sorts first but is the older export: before, its version won and the correction was rejected
    old = [["Behaviour export"], ["Exported on 01/10/2025 09:00"], HEADER, _incident(1, notes="first account"),
           _incident(2)]
    new = [["Report date: 2 Dec 2025"], HEADER, _incident(1, notes="corrected account"), _incident(3)]
    (raw / "a_incidents_october.csv").write_text(_csv(old))
    (raw / "b_incidents_december.csv").write_text(_csv(new))
    import os
    os.utime(raw / "a_incidents_october.csv", (2e9, 2e9))  # a newer modification time does not outrank a stated date
    result, summary, _ = _ingest(ws)
    assert result.exit_code == 0
    stored = _stored(ws).set_index("incident_id")["notes"].to_dict()
    assert stored == {"I1": "corrected account", "I2": "Shouted", "I3": "Shouted"}
    (older,) = _entries(summary, "a_incidents_october.csv")
    (newer,) = _entries(summary, "b_incidents_december.csv")
    assert older["exported_at"] == "2025-10-01 09:00" and older["exported_at_from"] == "stated in the export"
    assert newer["exported_at"] == "2025-12-02 00:00"
    assert (older["accepted"], older["skipped"], older["replaced"][0]["key"]) == (1, 1, "I1")
    page = (ws / "reports" / "validation.html").read_text(encoding="utf-8")
    assert "Newer exports replace older ones" in page and "b_incidents_december.csv row 3" in page
    assert "a_incidents_october.csv row 4" in page and "01/10/2025 09:00 (stated in the export)" in page
    _conserved(summary)


def test_without_a_stated_date_the_file_modified_later_wins(tmp_path):
    import os

    ws = _workspace(tmp_path)
    raw = ws / "data" / "raw"
    (raw / "a.csv").write_text(_csv([HEADER, _incident(1, notes="newer")]))
    (raw / "b.csv").write_text(_csv([HEADER, _incident(1, notes="older")]))
    os.utime(raw / "a.csv", (1.8e9, 1.8e9))
    os.utime(raw / "b.csv", (1.7e9, 1.7e9))
    result, summary, _ = _ingest(ws)
    assert result.exit_code == 0 and _stored(ws)["notes"].tolist() == ["newer"]
    assert _entries(summary, "b.csv")[0]["exported_at_from"] == "the file's modification time"


def test_two_versions_in_exports_of_the_same_minute_are_still_a_conflict(tmp_path):
    ws = _workspace(tmp_path)
    raw = ws / "data" / "raw"
    (raw / "a.csv").write_text(_csv([["Exported on 02/12/2025 09:30"], HEADER, _incident(1, notes="one")]))
    (raw / "b.csv").write_text(_csv([["Exported on 02/12/2025 09:30"], HEADER, _incident(1, notes="two")]))
    result, summary, _ = _ingest(ws)
    assert result.exit_code == 1 and _entries(summary, "b.csv")[0]["rejected"] == 1
