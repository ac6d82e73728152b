"""Property-based (hypothesis): random valid and mangled rows never crash ingest and never lose a row.

For a well-formed CSV of N rows in any of the encodings ingest reads, the file's counts must add up to N:
rows_read = accepted + rejected + duplicates + skipped, and the rejected CSV must hold exactly the rejected rows.
"""

from __future__ import annotations

import csv
import io
import json

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rich.console import Console

from kwanalytics.errors import KwaError
from kwanalytics.ingest.pipeline import run_ingest

FAST = settings(max_examples=20, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
HEADER = ["incident_id", "student_id", "occurred_at", "category", "severity", "location", "notes"]
STUDENTS = "student_id,display_name\r\nS001,Tom Hill\r\nS002,Amira Khan\r\n"

text = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=30)
valid_row = st.tuples(st.from_regex(r"I[0-9]{1,3}", fullmatch=True), st.sampled_from(["S001", "S002"]),
                      st.sampled_from(["2025-10-01 09:15", "01/10/2025 13:05", "06/10/2025"]),
                      st.sampled_from(["Defiance", "Swearing", "Meltdown", "Made-up category"]),
                      st.sampled_from(["1", "3", "5", ""]), st.sampled_from(["Toilets", "Yard", ""]), text)
mangled_row = st.tuples(st.one_of(st.just(""), text), st.sampled_from(["S001", "S999", "", " s002 "]),
                        st.one_of(st.sampled_from(["31/02/2025 10:00", "yesterday", "", "2025-13-01"]), text),
                        st.one_of(st.just(""), text), st.sampled_from(["0", "9", "x", "-1", "2.5"]), text, text)


def _run(ws) -> int:
    try:
        return run_ingest(ws, console=Console(file=io.StringIO(), width=200)).exit_code
    except KwaError as exc:
        assert str(exc).strip()
        return exc.exit_code


def _workspace(factory):
    ws = factory.mktemp("prop")
    raw = ws / "data" / "raw"
    raw.mkdir(parents=True)
    (raw / "students.csv").write_text(STUDENTS, encoding="utf-8", newline="")
    return ws


@FAST
@given(rows=st.lists(st.one_of(valid_row, mangled_row).map(list), max_size=12),
       encoding=st.sampled_from(["utf-8", "utf-8-sig", "cp1252"]))
def test_rows_are_never_lost(tmp_path_factory, rows, encoding):
    ws = _workspace(tmp_path_factory)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(HEADER)
    writer.writerows(rows)
    (ws / "data/raw/incidents.csv").write_bytes(buf.getvalue().encode(encoding, errors="replace"))
    code = _run(ws)
    assert code in (0, 1)
    files = {f["path"]: f for f in json.loads((ws / "data/processed/ingest_summary.json").read_text())["files"]}
    entry = files["incidents.csv"]
    assert entry["rows_read"] == len(rows)
    assert entry["rows_read"] == entry["accepted"] + entry["rejected"] + entry["duplicates"] + entry["skipped"]
    stored = pd.read_parquet(ws / "data/processed/incidents.parquet") if entry["accepted"] else None
    assert (0 if stored is None else len(stored)) == entry["accepted"]
    rejected = ws / "data/processed/rejected/incidents.csv"
    if entry["rejected"]:
        frame = pd.read_csv(rejected, dtype=str, encoding="utf-8-sig", keep_default_na=False)
        assert len(frame) == entry["rejected"] and frame["reason"].str.len().gt(0).all()
    assert code == (1 if entry["rejected"] else 0)


@FAST
@given(data=st.binary(max_size=2000), name=st.sampled_from(["incidents.csv", "export.xlsx"]))
def test_random_bytes_never_crash(tmp_path_factory, data, name):
    ws = _workspace(tmp_path_factory)
    (ws / "data/raw" / name).write_bytes(data)
    assert _run(ws) in (0, 1, 2)
    summary = json.loads((ws / "data/processed/ingest_summary.json").read_text())
    for f in summary["files"]:
        assert f["rows_read"] == f["accepted"] + f["rejected"] + f["duplicates"] + f["skipped"]
    students = next(f for f in summary["files"] if f["path"] == "students.csv")
    assert students["accepted"] == 2  # a bad file next to it does not stop the others
