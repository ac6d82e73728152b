"""Reports: one batch, one warm kernel, and nothing of one pupil in another pupil's report.

The synthetic school is tests/conftest.py's: six pupils whose notes name each other on purpose.
"""

from __future__ import annotations

import json
import re
import stat
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from conftest import NAMES, PUPILS
from kwanalytics import audit
from kwanalytics.evidence.charts import table_html
from kwanalytics.render.reports import NOTEBOOKS, is_offline

pytestmark = pytest.mark.xdist_group("reports")


def visible(html: str) -> str:
    """The report without the embedded plotly.js bundle (gzipped base64 text could hold a short name by chance)."""
    return re.sub(r'<script id="kwa-plotly".*?</script>', "", html, count=1, flags=re.S)


def words(text: str, word: str) -> int:
    return len(re.findall(rf"(?<![\w-]){re.escape(word)}(?![\w-])", text))


def test_batch_rendered_every_report(rendered_reports):
    ws, failures = rendered_reports
    assert failures == []
    for sid in NAMES:
        path = ws / "reports" / "students" / f"{sid}.html"
        assert path.exists()
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert (ws / "reports" / "cohort.html").exists() and (ws / "reports" / "patterns.html").exists()
    entry = [e for e in audit.read_log(ws) if e["event"] == "report"][-1]
    assert len(entry["written"]) == len(NAMES) + 2 and entry["failed"] == []


@pytest.mark.parametrize("sid", list(NAMES))
def test_no_other_pupil_in_a_pupil_report(rendered_reports, sid):
    ws, _ = rendered_reports
    html = (ws / "reports" / "students" / f"{sid}.html").read_text(encoding="utf-8")
    text = visible(html)
    assert len(text) < len(html) / 4, "the plotly bundle was not found and stripped"
    own_first = NAMES[sid].split()[0]
    assert words(text, NAMES[sid]) >= 1 and words(text, own_first) >= 1
    for other, name in NAMES.items():
        if other == sid:
            continue
        for token in (other, name, *name.split()):
            assert words(text, token) == 0, f"{token!r} (another pupil) appears in {sid}'s report"
    if sid != "S005":  # S005 has no incidents; the others' notes named a peer, now redacted
        assert "[another pupil]" in text


def test_reports_are_self_contained(rendered_reports):
    ws, _ = rendered_reports
    for path in [ws / "reports/cohort.html", ws / "reports/patterns.html", ws / "reports/students/S001.html"]:
        html = path.read_text(encoding="utf-8")
        assert is_offline(html), path
        assert not re.search(r"<script[^>]+src=", html) and not re.search(r"<link[^>]+href=", html)
        assert html.count('<script id="kwa-plotly"') == 1  # embedded exactly once
        assert "require.js" not in visible(html) and "mathjax" not in visible(html).lower()
        assert "def " not in visible(html) and "import " not in visible(html)  # code hidden


def test_pupil_report_draws_its_charts(rendered_reports):
    ws, _ = rendered_reports
    text = visible((ws / "reports/students/S001.html").read_text(encoding="utf-8"))
    # incidents per week, GAS ratings, T-scores, activities, engagement
    assert text.count("Plotly.newPlot(") >= 5
    assert "No incidents were recorded in this period." in visible(
        (ws / "reports/students/S005.html").read_text(encoding="utf-8"))


def test_cohort_uses_pseudonyms_and_suppresses_small_groups(rendered_reports):
    ws, _ = rendered_reports
    text = visible((ws / "reports/cohort.html").read_text(encoding="utf-8"))
    for sid, name, *_ in PUPILS:
        assert words(text, sid) == 0 and words(text, name) == 0
    assert re.search(r"P-[0-9a-f]{8}", text)
    # Anger Management has one pupil: its row is shown with its counts suppressed, its enrolment not listed.
    from kwanalytics.evidence.cohort import cohort_sections
    from kwanalytics.render.engine import workspace_data
    from kwanalytics.evidence.privacy import load_salt

    tables, settings, calendar = workspace_data(ws)
    report = cohort_sections(tables, settings, calendar, load_salt(ws))
    prog = report.tables["programmes"].set_index("programme")
    assert pd.isna(prog.loc["Anger Management", "pupils"])
    assert prog.loc["Zones of Regulation", "pupils"] == 5
    assert set(report.tables["enrolments"]["programme"]) == {"Zones of Regulation"}
    assert len(report.tables["enrolments"]) == 5
    # Cost per pupil: 60-minute sessions at £25 each, every 5th school day from the pupil's offset.
    costs = report.tables["cost_per_pupil"]
    assert costs["cost_gbp"].sum() == pytest.approx(25.0 * len(tables["sessions"]))


def test_notebooks_committed_without_outputs():
    for kind in ("student", "cohort", "patterns"):
        nb = nbformat.read(NOTEBOOKS / f"{kind}_report.ipynb", as_version=4)
        first = nb.cells[0]
        assert first.cell_type == "code" and "parameters" in first.metadata.get("tags", [])
        assert 'os.environ.get("KWA_WORKSPACE", "..")' in first.source
        for cell in nb.cells:
            if cell.cell_type == "code":
                assert cell.outputs == [] and cell.execution_count is None, kind
        nbformat.validate(nb)
    student = nbformat.read(NOTEBOOKS / "student_report.ipynb", as_version=4).cells[0].source
    for name in ("student_id", "since", "until"):
        assert re.search(rf"^{name} = ", student, re.M)


def test_evidence_pack_counts(report_workspace):
    from kwanalytics.render.engine import workspace_data
    from kwanalytics.evidence.pupil import evidence_pack

    tables, settings, calendar = workspace_data(report_workspace)
    pack = evidence_pack(tables, settings, "S001", calendar=calendar)
    # Default period: since the last annual review (due 15 Nov 2026, so last held 15 Nov 2025).
    assert pack.since == pd.Timestamp("2025-11-15")
    inc = tables["incidents"]
    mine = inc[(inc["student_id"] == "S001") & (inc["occurred_at"] >= "2025-11-15")]
    assert pack.tables["incidents_weekly"]["incidents"].sum() == len(mine)
    restorative = mine["restorative_conversation"].astype(bool).sum()
    assert len(pack.tables["restorative"]) == restorative
    # one sentence per section with something to say (no cap that silently drops the last ones)
    assert 3 <= len(pack.summary) <= 8
    assert any("contact with home" in s for s in pack.summary) and any("cost" in s for s in pack.summary)
    assert any(f"{len(mine)} incidents were recorded" in s for s in pack.summary)
    # notes naming Ben Jones (S002) are redacted
    assert not pack.tables["restorative"]["notes"].str.contains("Ben|S002").any()
    assert pack.tables["restorative"]["notes"].str.contains(r"\[another pupil\]", regex=True).all()
    quiet = evidence_pack(tables, settings, "S005", calendar=calendar)
    assert "No incidents were recorded in this period." in quiet.summary


def test_tables_escape_hostile_text():
    html = table_html(pd.DataFrame({"notes": ['<script>alert("x")</script>', "=HYPERLINK()"]}))
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_warm_kernel_resets_between_notebooks_and_survives_a_failure(report_workspace):
    from kwanalytics.render.engine import CellError, WarmKernel

    def nb(*sources):
        return nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])

    with WarmKernel(cwd=report_workspace) as kernel:
        kernel.execute(nb("secret = 'Alice Smith'", "secret"))
        # wiped as soon as the notebook is done, not only when the next one starts
        assert kernel.run_code("print('secret' in dir())").strip() == "False"
        out = kernel.execute(nb("print('secret' in dir(), len([k for k in Out]))"))
        assert out.cells[0].outputs[0]["text"].strip() == "False 0"
        # code run in the kernel between two notebooks is wiped before the next one
        kernel.run_code("leaked = 'Alice Smith'")
        out = kernel.execute(nb("print('leaked' in dir())"))
        assert out.cells[0].outputs[0]["text"].strip() == "False"
        with pytest.raises(CellError, match="ZeroDivisionError"):
            kernel.execute(nb("x = 1 / 0"))
        assert kernel.restarts == 1
        out = kernel.execute(nb("print(1 + 1)"))
        assert out.cells[0].outputs[0]["text"].strip() == "2"


def test_unknown_pupil_is_a_clear_error(report_workspace):
    from kwanalytics.errors import InputError
    from kwanalytics.render.reports import render_reports

    with pytest.raises(InputError, match="No pupil with id S999"):
        render_reports(report_workspace, "student", students=["S999"])


@pytest.mark.slow
@pytest.mark.xdist_group("reports-demo")  # its own worker: it builds and renders a whole demo school
def test_no_other_pupil_name_in_any_report_on_the_demo_data(tmp_path):
    """`kwa demo` + `kwa ingest`, then every pupil's report in one batch: no other pupil's name or id in any."""
    import subprocess
    import sys

    from kwanalytics.render.reports import render_reports
    from kwanalytics.store import read_table

    kwa = str(Path(sys.executable).with_name("kwa"))
    subprocess.run([kwa, "demo", "--workspace", str(tmp_path)], check=True, capture_output=True)
    ingest = subprocess.run([kwa, "ingest", "--workspace", str(tmp_path)], capture_output=True, text=True)
    assert ingest.returncode in (0, 1), ingest.stderr[-2000:]  # 1: the demo's planted mistakes were rejected
    students = read_table(tmp_path, "students")
    names = dict(zip(students["student_id"], students["display_name"]))
    assert len(names) >= 20
    assert render_reports(tmp_path, "student") == []
    for sid in names:
        text = visible((tmp_path / "reports" / "students" / f"{sid}.html").read_text(encoding="utf-8"))
        assert words(text, names[sid]) >= 1
        leaks = [tok for other, name in names.items() if other != sid for tok in (other, name)
                 if isinstance(tok, str) and words(text, tok)]
        assert leaks == [], f"{sid}'s report names other pupils: {leaks}"


def test_a_failing_pupil_does_not_stop_the_batch(report_workspace, tmp_path, monkeypatch):
    import shutil

    from kwanalytics.render import reports

    ws = tmp_path / "ws"
    shutil.copytree(report_workspace / "data", ws / "data")
    nb = nbformat.read(NOTEBOOKS / "student_report.ipynb", as_version=4)
    nb.cells.insert(1, nbformat.v4.new_code_cell(
        'if student_id == "S002":\n    raise ValueError("planted failure for S002")'))
    (tmp_path / "nbs").mkdir()
    nbformat.write(nb, tmp_path / "nbs" / "student_report.ipynb")
    monkeypatch.setattr(reports, "NOTEBOOKS", tmp_path / "nbs")
    failures = reports.render_reports(ws, "student", students=["S001", "S002", "S003"], workers=1)
    assert len(failures) == 1 and failures[0][0] == "pupil S002"
    assert "planted failure for S002" in failures[0][1]
    assert sorted(p.name for p in (ws / "reports" / "students").iterdir()) == ["S001.html", "S003.html"]
    # S003 ran after the failure in a restarted kernel and is whole
    assert words(visible((ws / "reports/students/S003.html").read_text(encoding="utf-8")), "Carys Evans") >= 1
    assert audit.read_log(ws)[-1]["failed"][0]["what"] == "pupil S002"
