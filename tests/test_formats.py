"""Every report in every format: Word built from the report's HTML (render/htmldocx.py), PDF printed by the batch's
one Chromium (render/browser.py), and a clear exit 2 when there is nothing a report could be made from."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from docx import Document
from docx.enum.section import WD_ORIENT

from kwanalytics.evidence import display
from kwanalytics.render import htmldocx
from kwanalytics.render.reports import page

HAVE_CHROMIUM = bool(shutil.which("chromium") or os.path.exists("/usr/bin/chromium"))


def word_cells(table) -> list[list[str]]:
    return [[c.text for c in row.cells] for row in table.rows]


def test_word_file_follows_the_page_heading_by_heading_and_cell_by_cell():
    narrow = pd.DataFrame({"programme": ["Forest school"], "cost_gbp": [1234.5], "pupils": [12]})
    wide = pd.DataFrame({f"column_number_{i}": ["a fairly long cell text here"] for i in range(8)})
    body = ("<h1>Impact</h1><div class=\"kwa-summary\"><p>One.</p><p>Two.</p></div>"
            "<h2>Per programme</h2><p>Words <em>between</em>.</p>" + display.table_html(narrow)
            + "<h2>Everything</h2>" + display.table_html(wide)
            + '<div class="kwa-chart"><div class="plotly-graph-div"></div></div><p class="kwa-notes">Note.</p>')
    doc = htmldocx.build_document(page(body, "Impact"), "Impact", charts=[None])
    assert [p.text for p in doc.paragraphs if p.style.name in ("Title", "Heading 1")] == [
        "Impact", "Per programme", "Everything"]
    box, first, second = doc.tables
    assert [p.text for p in box.rows[0].cells[0].paragraphs] == ["One.", "Two."]  # one shaded summary box
    assert word_cells(first) == [["Programme", "Cost", "Pupils"], ["Forest school", "£1,234.50", "12"]]
    assert word_cells(second)[1] == ["a fairly long cell text here"] * 8
    # the wide table alone on a landscape page, then back to portrait
    assert [s.orientation for s in doc.sections] == [WD_ORIENT.PORTRAIT, WD_ORIENT.LANDSCAPE, WD_ORIENT.PORTRAIT]
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "Words between." in text and "could not be drawn as a picture" in text and "Note." in text


def _kwa(ws: Path, *command: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kwanalytics.cli", *command, "-w", str(ws)],
                          capture_output=True, text=True, timeout=600)


def test_validation_report_before_any_ingest_is_exit_2(tmp_path):
    from conftest import build_workspace

    build_workspace(tmp_path)
    done = _kwa(tmp_path, "report", "validation", "--format", "docx")
    assert done.returncode == 2, done.stdout + done.stderr
    assert "kwa ingest" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.xdist_group("reports")
@pytest.mark.skipif(not HAVE_CHROMIUM, reason="chromium is needed")
def test_cohort_report_as_word_and_pdf_from_the_command(tmp_path):
    from conftest import build_workspace

    build_workspace(tmp_path)
    done = _kwa(tmp_path, "report", "cohort", "--format", "docx", "--format", "pdf")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Wrote 2 file(s)" in done.stdout
    out = tmp_path / "reports"
    assert (out / "cohort.pdf").read_bytes().startswith(b"%PDF")
    assert not (out / "cohort.html").exists() and not list(out.glob(".*.html"))  # only what was asked for
    doc = Document(str(out / "cohort.docx"))
    assert len(doc.tables) >= 3 and len(doc.inline_shapes) >= 2  # its tables, and its charts as pictures
    (out / "validation.html").write_text(page("<h1>Validation</h1><table><tr><th>File</th></tr>"
                                              "<tr><td>a.csv</td></tr></table>", "Validation"), encoding="utf-8")
    done = _kwa(tmp_path, "report", "validation", "--format", "docx", "--format", "pdf")
    assert done.returncode == 0, done.stdout + done.stderr
    assert word_cells(Document(str(out / "validation.docx")).tables[0]) == [["File"], ["a.csv"]]
    assert (out / "validation.pdf").read_bytes().startswith(b"%PDF")
