"""Bad input never crashes ingest and never loses a row (issue 6, "Bad input").

Property-based (hypothesis): random bytes, wrong encodings, empty and header-only files, duplicate headers,
enormous fields, .xlsx with merged cells and several sheets. For every input, ingest either returns an exit code
0/1/2 or raises a KwaError (which the CLI prints as one paragraph, exit 2): any other exception is a crash. Where
the file is a well-formed table of N rows, ingest_summary.json must account for all N:
rows_read = accepted + rejected + duplicates + skipped.
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rich.console import Console

from kwanalytics.errors import KwaError

ingest = pytest.importorskip("kwanalytics.ingest.pipeline")

ENV = {**os.environ, "COLUMNS": "400"}
KWA = str(Path(sys.executable).with_name("kwa"))
FUZZ = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                      HealthCheck.too_slow])
HEADER = ["incident_id", "student_id", "occurred_at", "category", "severity", "location", "notes"]
STUDENTS = "student_id,display_name,year_group\nS001,Tom Hill,Year 9\nS002,Amira Khan,Year 10\n"


def _workspace(tmp_path_factory) -> Path:
    ws = tmp_path_factory.mktemp("fuzz")
    raw = ws / "data" / "raw"
    raw.mkdir(parents=True)
    (raw / "students.csv").write_text(STUDENTS, encoding="utf-8")
    return ws


def _run(ws: Path) -> int:
    """Ingest in-process; the exit code the CLI would give. Anything but a KwaError escapes as a crash."""
    try:
        result = ingest.run_ingest(ws, profile=None, write=True, console=Console(file=io.StringIO(), width=200))
    except KwaError as exc:
        assert str(exc).strip(), "an error without a message"
        return exc.exit_code
    assert result.exit_code in (0, 1, 2)
    return result.exit_code


def _summary(ws: Path) -> list[dict]:
    path = ws / "data" / "processed" / "ingest_summary.json"
    return json.loads(path.read_text(encoding="utf-8"))["files"] if path.exists() else []


def _file_entry(ws: Path, name: str) -> dict | None:
    for entry in _summary(ws):
        if name in json.dumps(entry):
            return entry
    return None


def _assert_conserved(ws: Path) -> None:
    for f in _summary(ws):
        assert f["rows_read"] == f["accepted"] + f["rejected"] + f["duplicates"] + f.get("skipped", 0), f


def _csv_text(rows: list[list[str]], header=HEADER) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue()


cell_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40)
incident_row = st.tuples(
    st.one_of(st.from_regex(r"I[0-9]{1,4}", fullmatch=True), cell_text),
    st.sampled_from(["S001", "S002", "S999", "", " s001 "]),
    st.one_of(st.sampled_from(["2025-10-01 09:15", "01/10/2025 09:15", "31/02/2025 10:00", "", "yesterday"]),
              cell_text),
    st.sampled_from(["Dysregulation", "Physical aggression", "Low-level disruption", "made up", ""]),
    st.sampled_from(["1", "3", "5", "9", "-1", "x", ""]),
    st.sampled_from(["Toilets", "Classroom", "Moon", ""]),
    cell_text,
).map(list)


# ------------------------------------------------------------------------------------------------ properties

@FUZZ
@given(data=st.binary(max_size=4000), name=st.sampled_from(["incidents.csv", "targets.xlsx", "export.csv"]))
def test_random_bytes_never_crash(tmp_path_factory, data, name):
    ws = _workspace(tmp_path_factory)
    (ws / "data" / "raw" / name).write_bytes(data)
    assert _run(ws) in (0, 1, 2)
    _assert_conserved(ws)


@FUZZ
@given(rows=st.lists(incident_row, max_size=15),
       encoding=st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "latin-1", "utf-16"]))
def test_any_rows_in_any_encoding_are_all_accounted_for(tmp_path_factory, rows, encoding):
    ws = _workspace(tmp_path_factory)
    text = _csv_text(rows)
    data = text.encode(encoding, errors="replace")
    (ws / "data" / "raw" / "incidents.csv").write_bytes(data)
    code = _run(ws)
    _assert_conserved(ws)
    entry = _file_entry(ws, "incidents.csv")
    if code != 2 and entry is not None:
        # A file that was read at all is read whole: no row is silently dropped.
        assert entry["rows_read"] == len(rows), entry


@FUZZ
@given(header=st.lists(st.sampled_from(HEADER + ["Notes", "notes ", "INCIDENT ID", ""]), min_size=1, max_size=10),
       n=st.integers(0, 5))
def test_duplicate_and_odd_headers(tmp_path_factory, header, n):
    ws = _workspace(tmp_path_factory)
    rows = [[f"I{i}", "S001", "2025-10-01 09:15", "Dysregulation", "2", "Toilets", "x"][: len(header)]
            + [""] * max(0, len(header) - 7) for i in range(n)]
    (ws / "data" / "raw" / "incidents.csv").write_text(_csv_text(rows, header), encoding="utf-8")
    assert _run(ws) in (0, 1, 2)
    _assert_conserved(ws)


xlsx_cell = st.one_of(st.none(), st.integers(-10**12, 10**12), st.floats(allow_nan=False, allow_infinity=False),
                     st.datetimes(), st.booleans(), st.sampled_from(["=1+1", "=A1", "#N/A", "S001", "Dysregulation"]),
                     st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=30))


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(rows=st.lists(st.lists(xlsx_cell, min_size=7, max_size=7), max_size=12), sheets=st.integers(1, 3))
def test_any_xlsx_cells_never_crash(tmp_path_factory, rows, sheets):
    from openpyxl import Workbook

    ws = _workspace(tmp_path_factory)
    wb = Workbook()
    for k in range(sheets):
        sheet = wb.active if k == 0 else wb.create_sheet(f"Sheet{k + 1}")
        sheet.append(HEADER)
        for row in rows:
            sheet.append(row)
    wb.save(ws / "data" / "raw" / "incidents.xlsx")
    code = _run(ws)
    _assert_conserved(ws)
    entry = _file_entry(ws, "incidents.xlsx")
    if code != 2 and entry is not None:
        blank = sum(all(v is None or (isinstance(v, str) and not v.strip()) for v in row) for row in rows)
        assert len(rows) - blank <= entry["rows_read"] <= len(rows), entry


# ------------------------------------------------------------------------------------------------ examples

@pytest.mark.parametrize("content,code", [(b"", 2), (b"\r\n", 2), (b"\xef\xbb\xbf", 2),
                                          (",".join(HEADER).encode() + b"\r\n", 0)],
                         ids=["empty", "blank-line", "bom-only", "header-only"])
def test_empty_and_header_only_files(tmp_path, content, code):
    raw = tmp_path / "data" / "raw"
    raw.mkdir(parents=True)
    (raw / "students.csv").write_text(STUDENTS)
    (raw / "incidents.csv").write_bytes(content)
    proc = subprocess.run([KWA, "ingest", "-w", str(tmp_path)], capture_output=True, text=True, env=ENV)
    assert proc.returncode == code and "Traceback" not in proc.stderr, proc.stderr
    if code == 2:
        assert "incidents.csv" in proc.stdout + proc.stderr  # the file is named
    _assert_conserved(tmp_path)
    assert len(pd.read_parquet(tmp_path / "data" / "processed" / "students.parquet")) == 2  # others still in


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252", "latin-1", "utf-16"])
def test_wrong_encodings_keep_every_character(tmp_path, encoding):
    raw = tmp_path / "data" / "raw"
    raw.mkdir(parents=True)
    (raw / "students.csv").write_text(STUDENTS)
    note = "Zoë paid £5 for the café" + (" “quoted”" if encoding in ("cp1252", "utf-8", "utf-16") else "")
    rows = [["I1", "S001", "2025-10-01 09:15", "Dysregulation", "2", "Toilets", note],
            ["I2", "S002", "02/10/2025 10:15", "Dysregulation", "3", "Toilets", "ok"]]
    (raw / "incidents.csv").write_bytes(_csv_text(rows).encode(encoding))
    assert _run(tmp_path) == 0
    entry = _file_entry(tmp_path, "incidents.csv")
    assert entry["rows_read"] == entry["accepted"] == 2
    notes = pd.read_parquet(tmp_path / "data" / "processed" / "incidents.parquet").set_index("incident_id")["notes"]
    assert notes["I1"] == note


def test_enormous_field(tmp_path):
    raw = tmp_path / "data" / "raw"
    raw.mkdir(parents=True)
    (raw / "students.csv").write_text(STUDENTS)
    big = "A" * 1_000_000
    rows = [["I1", "S001", "2025-10-01 09:15", "Dysregulation", "2", "Toilets", big],
            ["I2", "S002", "2025-10-02 10:15", "Dysregulation", "2", "Toilets", "short"]]
    (raw / "incidents.csv").write_text(_csv_text(rows), encoding="utf-8")
    proc = subprocess.run([KWA, "ingest", "-w", str(tmp_path)], capture_output=True, text=True, env=ENV)
    assert proc.returncode in (0, 1), proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr
    entry = _file_entry(tmp_path, "incidents.csv")
    assert entry["rows_read"] == 2
    _assert_conserved(tmp_path)


def test_xlsx_with_merged_cells_and_several_sheets(tmp_path):
    from openpyxl import Workbook

    raw = tmp_path / "data" / "raw"
    raw.mkdir(parents=True)
    (raw / "students.csv").write_text(STUDENTS)
    wb = Workbook()
    cover = wb.active
    cover.title = "Cover"
    cover["A1"] = "Behaviour export, printed 01/10/2025"
    cover.merge_cells("A1:F3")
    sheet = wb.create_sheet("Incidents")
    sheet.append(HEADER)
    sheet.append(["I1", "S001", "2025-10-01 09:15", "Dysregulation", 2, "Toilets", "merged note"])
    sheet.append(["I2", "S002", "2025-10-02 10:15", "Dysregulation", 3, "Toilets", None])
    sheet.merge_cells("G2:G3")
    wb.create_sheet("Notes")["A1"] = "=1+1"
    wb.save(raw / "incidents.xlsx")
    proc = subprocess.run([KWA, "ingest", "-w", str(tmp_path)], capture_output=True, text=True, env=ENV)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    entry = _file_entry(tmp_path, "incidents.xlsx")
    assert entry["rows_read"] == entry["accepted"] == 2
    said = " ".join(entry.get("warnings", [])).lower()
    assert "merged" in said and "cover" in said  # the merged cells and the unread sheets are said
    _assert_conserved(tmp_path)


@pytest.mark.slow
def test_a_million_rows(tmp_path):
    """A million incidents ingest in about a minute at most (the figure is printed for the benchmarks)."""
    raw = tmp_path / "data" / "raw"
    raw.mkdir(parents=True)
    n = 1_000_000
    ids = [f"S{i:04d}" for i in range(1000)]
    pd.DataFrame({"student_id": ids, "display_name": [f"Pupil {i}" for i in range(1000)]}).to_csv(
        raw / "students.csv", index=False)
    frame = pd.DataFrame({
        "incident_id": [f"I{i}" for i in range(n)],
        "student_id": [ids[i % 1000] for i in range(n)],
        "occurred_at": (pd.Timestamp("2025-09-08 09:00")
                        + pd.to_timedelta([i % 200 for i in range(n)], unit="D")).strftime("%Y-%m-%d %H:%M"),
        "category": "Dysregulation", "severity": 2, "location": "Classroom", "notes": "calm after a while",
    })
    frame.to_csv(raw / "incidents.csv", index=False)
    start = time.perf_counter()
    proc = subprocess.run([KWA, "ingest", "-w", str(tmp_path)], capture_output=True, text=True, env=ENV)
    seconds = time.perf_counter() - start
    print(f"\ningest of {n:,} incident rows: {seconds:.1f} s")
    assert proc.returncode in (0, 1), proc.stderr[-2000:]
    entry = _file_entry(tmp_path, "incidents.csv")
    assert entry["rows_read"] == n
    _assert_conserved(tmp_path)
