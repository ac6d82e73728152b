"""The pupil evidence pack as a Word document (built from its HTML page: render/htmldocx.py) and the HTML report
printed to PDF (pdf.print_pdf).

The PDF packs here are built by hand from small synthetic frames, so every figure in them is known in advance; the
Word packs are rendered from the synthetic workspace of tests/conftest.py, as `kwa report student` renders them.
The browser-driven tests (chart pictures, PDF) need Debian's chromium and poppler's pdftoppm; they are skipped,
with that reason, on a machine without them.
"""

from __future__ import annotations

import html
import html.parser
import shutil
import stat
import struct
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import plotly
import pytest
from docx import Document
from docx.oxml.ns import qn

from kwanalytics.evidence import charts
from kwanalytics.render import htmldocx
from kwanalytics.errors import WorkspaceError
from kwanalytics.render.pdf import print_pdf
from kwanalytics.evidence.pupil import COMMENTS, HOW_TO_READ, SECTIONS, EvidencePack
from kwanalytics.render.reports import page
from kwanalytics.render.wordstyle import SHADE

HAVE_CHROMIUM = any(shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome"))
HAVE_PDFTOPPM = shutil.which("pdftoppm") is not None
needs_browser = pytest.mark.skipif(not HAVE_CHROMIUM, reason="chromium is not installed (make browser)")
ASSETS = Path(htmldocx.__file__).with_name("assets")
CHART_BLUE = (0x00, 0x72, 0xB2)  # charts.COLOURS[0], used by no text or border in the report


# ------------------------------------------------------------------------------------------ synthetic packs

def _weekly() -> pd.DataFrame:
    weeks = pd.date_range("2025-09-08", periods=8, freq="7D")
    return pd.DataFrame({"week_start": weeks, "school_days": [5, 5, 5, 5, 5, 0, 5, 4],
                         "incidents": [4, 3, 5, 2, 1, 0, 1, 0]})


def _ratings() -> pd.DataFrame:
    return pd.DataFrame({"target_id": ["T1", "T1", "T1", "T2", "T2"],
                         "rated_on": pd.to_datetime(["2025-09-15", "2025-11-10", "2026-01-12",
                                                     "2025-09-15", "2026-01-12"]),
                         "gas_score": pd.array([-2, -1, 0, -1, 1], dtype="Int64")})


def full_pack() -> EvidencePack:
    targets = pd.DataFrame({
        "area": ["SEMH", "Communication and Interaction"],
        "description": ["Uses a calm-down strategy when upset", "Asks for help with a sentence"],
        "ratings": pd.array([3, 2], dtype="Int64"),
        "first_score": pd.array([-2, -1], dtype="Int64"),
        "latest_score": pd.array([0, 1], dtype="Int64"),
        "latest_rated_on": pd.to_datetime(["2026-01-12", "2026-01-12"]),
        "change": [2.0, 2.0],
        "trajectory": ["improving", "improving"],
        "on_track": pd.array([True, True], dtype="boolean"),
    })
    tscores = pd.DataFrame({"term": ["Autumn 2025", "Autumn 2025", "Spring 2026"],
                            "area": ["SEMH", "All areas", "All areas"],
                            "targets": pd.array([1, 2, 2], dtype="Int64"), "tscore": [35.0, 38.47, 57.69]})
    sessions = pd.DataFrame({"date": pd.to_datetime(["2025-09-10", "2025-09-17", "2025-10-01", "2025-10-08"]),
                             "engagement": pd.array([2, 3, 4, 4], dtype="Int64"),
                             "setting": ["on-site", "community", "community", "on-site"],
                             "activity": ["Lego therapy", "Café trip", "Café trip", "Cooking"]})
    activities = pd.DataFrame({"activity": ["Café trip", "Lego therapy", "Cooking"],
                               "setting": ["community", "on-site", "on-site"],
                               "sessions": pd.array([2, 1, 1], dtype="Int64"), "hours": [3.0, 1.0, 0.75]})
    interventions = pd.DataFrame({"programme": ["Zones of Regulation"], "started_on": pd.to_datetime(["2025-10-06"]),
                                  "ended_on": pd.to_datetime([pd.NaT]), "baseline_incidents": pd.array([14], "Int64"),
                                  "baseline_rate": [0.7], "intervention_incidents": pd.array([2], "Int64"),
                                  "intervention_rate": [0.0952], "rate_ratio": [0.136],
                                  "rate_ratio_ci_low": [0.031], "rate_ratio_ci_high": [0.598],
                                  "verdict": ["improved clearly"]})
    tables = {
        "targets": targets, "tscores": tscores,
        "sessions": pd.DataFrame({"measure": ["Sessions", "Hours in total"], "value": ["4", "4.8"]}),
        "activities": activities,
        "incidents_weekly": _weekly(),
        "patterns": pd.DataFrame({"pattern": ["time"], "evidence": ["5 of 16 incidents on Monday, Period 1"],
                                  "first_seen": pd.to_datetime(["2025-09-08"]),
                                  "last_seen": pd.to_datetime(["2025-10-06"]),
                                  "incidents": pd.array([5], "Int64"), "next_step": ["Plan a soft start"],
                                  "p_value": [0.0123]}),
        "interventions": interventions,
        "restorative": pd.DataFrame({"date": pd.to_datetime(["2025-09-09"]), "incident": ["Dysregulation"],
                                     "what happened next": ["Time in the sensory room"], "notes": ["Calm after 10 min"]}),
        "contacts": pd.DataFrame({"date": pd.to_datetime(["2025-09-20"]), "party": ["parent/carer"],
                                  "method": ["phone"], "purpose": ["Update"],
                                  "summary": ["Mum says “mornings are hard”; cost £4"]}),
        "budget": pd.DataFrame({"item": ["Sessions in this period", "Budget B1"], "amount_gbp": [1234.5, 2000.0]}),
    }
    figures = {"incidents_weekly": charts.weekly_incidents(_weekly()),
               "gas": charts.gas_over_time(_ratings(), pd.DataFrame({"target_id": ["T1", "T2"],
                                                                     "description": ["Calm", "Help"]})),
               "tscores": charts.tscore_bars(tscores),
               "engagement": charts.engagement_over_time(sessions),
               "activities": charts.hours_by_activity(activities)}
    return EvidencePack(student_id="S001", name="Alex Example", since=pd.Timestamp("2025-09-01"),
                        until=pd.Timestamp("2026-01-31"), calendar_source="schemas/term_dates.yaml",
                        summary=["This evidence pack covers Alex Example from 01 September 2025 to 31 January 2026.",
                                 "16 incidents were recorded over 39 school days (0.41 per school day)."],
                        tables=tables, figures=figures,
                        notes=["One pupil's records: no comparison group."])


# ------------------------------------------------------------------------------------------ helpers

class _TableParser(html.parser.HTMLParser):
    """Header and body cell text of the first <table> in an HTML snippet (what the HTML report shows)."""

    def __init__(self):
        super().__init__()
        self.rows, self._row, self._cell = [], None, None

    def handle_starttag(self, tag, attrs):
        if tag == "tr":
            self._row = []
        elif tag in ("td", "th"):
            self._cell = ""

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._row is not None:
            self._row.append(self._cell.strip())
            self._cell = None
        elif tag == "tr":
            self.rows.append(self._row)
            self._row = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell += data


def word_cells(table) -> list[list[str]]:
    return [[cell.text for cell in row.cells] for row in table.rows]


def png_size(blob: bytes) -> tuple[int, int]:
    assert blob[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", blob[16:24])


def read_ppm(path: Path) -> np.ndarray:
    """A binary PPM (P6) page from pdftoppm as an (height, width, 3) array."""
    data = path.read_bytes()
    parts, pos = [], 0
    while len(parts) < 4:  # magic, width, height, maxval, separated by whitespace (no comments from pdftoppm)
        while data[pos:pos + 1].isspace():
            pos += 1
        end = pos
        while not data[end:end + 1].isspace():
            end += 1
        parts.append(data[pos:end])
        pos = end
    assert parts[0] == b"P6" and parts[3] == b"255"
    w, h = int(parts[1]), int(parts[2])
    return np.frombuffer(data[pos + 1:pos + 1 + w * h * 3], dtype=np.uint8).reshape(h, w, 3)


def blue_pixels(page: np.ndarray) -> int:
    """Pixels within a small distance of the charts' first colour (bars and lines; no text uses it)."""
    return int((np.abs(page.astype(int) - np.array(CHART_BLUE)).sum(axis=2) < 60).sum())


# ------------------------------------------------------------------------------------------ Word
# The Word pack is made the way `kwa report student --format docx` makes it: the notebook renders the pupil's HTML
# page, and render/htmldocx.py builds the Word file from that page (render_reports, formats html + docx).

def _page_tables(page_html: str) -> list[list[list[str]]]:
    parser = _AllTables()
    parser.feed(page_html)
    return parser.tables


def _boxes(doc) -> list:
    """The one-cell shaded tables of a Word file (htmldocx's boxes), in order."""
    return [t for t in doc.tables if (len(t.rows), len(t.columns)) == (1, 1)
            and t.cell(0, 0)._tc.xpath("./w:tcPr/w:shd/@w:fill") == [SHADE]]


def _all_text(doc) -> str:
    return "\n".join([p.text for p in doc.paragraphs] + [c.text for t in doc.tables for r in t.rows for c in r.cells])


@pytest.fixture(scope="module")
def word_packs(tmp_path_factory):
    """S001 (Alice Smith, a busy pupil) and S005 (Erin Walsh: no incidents, and here no targets either) as HTML and
    Word, rendered in one batch."""
    if not HAVE_CHROMIUM:
        pytest.skip("chromium is not installed (make browser): chart pictures need it")
    from conftest import build_workspace

    from kwanalytics.render.reports import render_reports
    from kwanalytics.store import read_table, write_table

    ws = tmp_path_factory.mktemp("docx_ws")
    build_workspace(ws)
    for table in ("targets", "target_ratings"):
        frame = read_table(ws, table)
        write_table(ws, table, frame[frame["student_id"] != "S005"].reset_index(drop=True))
    assert render_reports(ws, "student", students=["S001", "S005"], formats=("html", "docx")) == []
    out = ws / "reports" / "students"
    return {sid: (out / f"{sid}.html", out / f"{sid}.docx") for sid in ("S001", "S005")}


@pytest.mark.browser
@pytest.mark.slow  # shares one rendered batch (a warm kernel, two pupils): about 20 s
@pytest.mark.xdist_group("docx")
def test_docx_has_every_section_heading_of_the_pack_in_order(word_packs):
    for sid, name in (("S001", "Alice Smith"), ("S005", "Erin Walsh")):
        doc = Document(str(word_packs[sid][1]))
        assert [p.text for p in doc.paragraphs if p.style.name == "Title"] == [
            f"Annual review evidence pack: {name}"]
        h1 = [p.text for p in doc.paragraphs if p.style.name == "Heading 1"]
        # pupil.SECTIONS, the list the notebook lays the page out from, in its order, framed as the page frames it
        assert h1 == [HOW_TO_READ[0], *(section.heading for section in SECTIONS), COMMENTS[0],
                      "About this report"], sid


@pytest.mark.browser
@pytest.mark.slow  # shares one rendered batch (a warm kernel, two pupils): about 20 s
@pytest.mark.xdist_group("docx")
def test_docx_how_to_read_this_is_a_shaded_box_as_the_summary_is(word_packs):
    html_path, path = word_packs["S001"]
    doc = Document(str(path))
    summary, how_to_read = _boxes(doc)
    assert [p.text for p in how_to_read.cell(0, 0).paragraphs] == list(HOW_TO_READ[1])
    assert summary.cell(0, 0).paragraphs[0].text.startswith("This evidence pack covers Alice Smith")
    # the box follows its heading: the body holds the heading paragraph, then the box's table
    body = list(doc.element.body.iterchildren())
    heading = next(p for p in doc.paragraphs if p.text == HOW_TO_READ[0])
    assert body[body.index(heading._p) + 1] is how_to_read._tbl
    assert 'class="kwa-how-to-read"' in html_path.read_text(encoding="utf-8")  # the page marks it a box too


def _opened(word_packs):
    """Each pupil's Word pack, opened, with the text of the HTML page it was made from."""
    for sid in ("S001", "S005"):
        html_path, path = word_packs[sid]
        yield sid, html_path.read_text(encoding="utf-8"), Document(str(path))


@pytest.mark.browser
@pytest.mark.slow  # shares one rendered batch (a warm kernel, two pupils): about 20 s
@pytest.mark.xdist_group("docx")
def test_docx_tables_are_the_html_tables_cell_for_cell(word_packs):
    for sid, page, doc in _opened(word_packs):
        boxes = {id(t._tbl) for t in _boxes(doc)}
        word = [word_cells(t) for t in doc.tables if id(t._tbl) not in boxes]
        page_tables = _page_tables(page)
        assert page_tables and word == page_tables, sid  # every table, in order, nothing added or lost
    # hand-worked: S001 had 16 sessions at £25.00 in the period, against its £1,500 pupil budget
    tables = [word_cells(t) for t in Document(str(word_packs["S001"][1])).tables]
    budget = [t for t in tables if t[0] == ["Item", "Amount"]]
    assert budget == [[["Item", "Amount"], ["Sessions in this period", "£400.00"],
                       ["Budget B-S001 (01 Sep 2025 to 31 Aug 2026)", "£1,500.00"]]]


@pytest.mark.browser
@pytest.mark.slow  # shares one rendered batch (a warm kernel, two pupils): about 20 s
@pytest.mark.xdist_group("docx")
def test_docx_has_one_picture_per_chart_of_the_page(word_packs):
    for sid, page, doc in _opened(word_packs):
        charts_on_page = page.count('class="plotly-graph-div"')
        assert len(doc.inline_shapes) == charts_on_page, sid
        for n, shape in enumerate(doc.inline_shapes, start=1):
            blob = doc.part.related_parts[shape._inline.graphic.graphicData.pic.blipFill.blip.embed].blob
            w, h = png_size(blob)
            assert w >= 1200 and h >= 400  # drawn at twice the page's size, for print
            assert len(blob) > 20_000  # a drawn chart, not an empty canvas
            assert shape._inline.docPr.get("descr") == f"Chart {n} of the report"
    assert len(Document(str(word_packs["S001"][1])).inline_shapes) >= 3


@pytest.mark.browser
@pytest.mark.slow  # shares one rendered batch (a warm kernel, two pupils): about 20 s
@pytest.mark.xdist_group("docx")
def test_docx_is_private_and_written_atomically(word_packs):
    for sid in ("S001", "S005"):
        path = word_packs[sid][1]
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    names = sorted(p.name for p in word_packs["S001"][1].parent.iterdir())
    assert names == ["S001.docx", "S001.html", "S005.docx", "S005.html"]  # no .part file left behind


@pytest.mark.browser
@pytest.mark.slow  # shares one rendered batch (a warm kernel, two pupils): about 20 s
@pytest.mark.xdist_group("docx")
def test_pupil_with_no_targets_and_no_incidents_gets_a_sensible_docx(word_packs):
    doc = Document(str(word_packs["S005"][1]))
    text = _all_text(doc)
    by_key = {section.key: section for section in SECTIONS}
    for key in ("targets", "tscores", "incidents_weekly", "patterns"):
        assert by_key[key].empty in text, key
    assert "No incidents were recorded" in text
    # neither pack names the other pupil, nor the pupils named in the notes (redacted in the HTML, so in Word)
    busy = _all_text(Document(str(word_packs["S001"][1])))
    assert "Erin" not in busy and "Ben Jones" not in busy and "S002" not in busy
    assert "Alice" not in text and "S001" not in text


def test_a_section_that_failed_says_so_instead_of_claiming_nothing_happened():
    failed = "The patterns section could not be prepared (ValueError: no periods)."
    body = "<h1>Annual review evidence pack: Sam</h1>"
    for section in SECTIONS:  # as the notebook lays the sections out
        body += f"<h2>{html.escape(section.heading)}</h2>"
        body += charts.table_html(None, failed if section.key == "patterns" else section.empty)
    doc = htmldocx.build_document(page(body, "Pack"), "Pack")
    texts = [p.text for p in doc.paragraphs]
    patterns = next(s.heading for s in SECTIONS if s.key == "patterns")
    assert texts[texts.index(patterns) + 1] == failed
    assert next(s.empty for s in SECTIONS if s.key == "patterns") not in texts
    assert texts.count(failed) == 1


@pytest.mark.browser
@pytest.mark.slow  # shares one rendered batch (a warm kernel, two pupils): about 20 s
@pytest.mark.xdist_group("docx")
def test_a_chart_that_cannot_be_drawn_is_said_in_words_not_dropped(word_packs, tmp_path):
    html_path, _ = word_packs["S001"]
    count = html_path.read_text(encoding="utf-8").count('class="plotly-graph-div"')

    class NoPictures:  # a browser whose charts all fail to draw
        def chart_pngs(self, path):
            return [None] * count

    doc = Document(str(htmldocx.write_docx(html_path, tmp_path / "S001.docx", NoPictures(), "Pack")))
    text = "\n".join(p.text for p in doc.paragraphs)
    assert count >= 3 and text.count("could not be drawn as a picture") == count
    assert len(doc.inline_shapes) == 0


def test_hostile_free_text_is_kept_as_plain_text_and_control_characters_dropped():
    contacts = pd.DataFrame({
        "date": pd.to_datetime(["2025-09-20"]), "party": ["parent/carer"], "method": ["email"],
        "purpose": ["=cmd|' /C calc'!A0"],
        "summary": ["<script>alert(1)</script> form\x0cfeed and NUL\x00 & <b>bold</b>"]})
    body = ('<div class="kwa-summary"><p>A sentence with a vertical tab\x0b inside.</p></div>'
            + charts.table_html(contacts))
    doc = htmldocx.build_document(page(body, "Pack"), "Pack")
    table = word_cells(doc.tables[1])
    assert table[1][3:] == ["=cmd|' /C calc'!A0", "<script>alert(1)</script> form feed and NUL & <b>bold</b>"]
    assert doc.tables[0].cell(0, 0).text == "A sentence with a vertical tab inside."


def test_missing_browser_is_a_clear_error(tmp_path, monkeypatch):
    from kwanalytics.render.reports import render_reports

    monkeypatch.setenv("KWA_CHROMIUM", str(tmp_path / "no-such-chromium"))
    out = tmp_path / "reports"
    out.mkdir()
    (out / "validation.html").write_text(page("<h1>Validation</h1><p>x</p>", "Validation"), encoding="utf-8")
    failures = render_reports(tmp_path, "validation", formats=("docx",))
    assert len(failures) == 1 and "KWA_CHROMIUM" in failures[0][1], failures
    assert not (out / "validation.docx").exists() and not list(out.glob(".*"))
    (tmp_path / "r.html").write_text("<p>x</p>")
    with pytest.raises(WorkspaceError, match="KWA_CHROMIUM"):
        print_pdf(tmp_path / "r.html", tmp_path / "r.pdf")


# ------------------------------------------------------------------------------------------ PDF

def report_html(pack: EvidencePack, draw: bool = True) -> str:
    """A pupil page put together the way the HTML report is: plotly.js embedded once, the report CSS, each
    chart as charts.figure_html, each table as charts.table_html. ``draw=False`` leaves plotly.js out, so the
    chart divs stay empty: the same page with no charts drawn."""
    js = (Path(plotly.__file__).parent / "package_data" / "plotly.min.js").read_text() if draw else ""
    css = "\n".join(p.read_text() for p in sorted(ASSETS.glob("*.css")))
    body = [f"<h1>Evidence pack: {html.escape(pack.name)}</h1>"]
    for key, fig in pack.figures.items():
        body.append(f"<h2>{html.escape(key)}</h2><div class='kwa-chart'>{charts.figure_html(fig)}</div>")
    for key, frame in pack.tables.items():
        body.append(f"<h2>{html.escape(key)}</h2>{charts.table_html(frame)}")
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><style>{css}</style>"
            f"<script>{js}</script></head><body>{''.join(body)}</body></html>")


@pytest.fixture(scope="module")
def printed(tmp_path_factory):
    if not (HAVE_CHROMIUM and HAVE_PDFTOPPM):
        pytest.skip("chromium and pdftoppm are needed to print and look at PDFs (make browser)")
    out = tmp_path_factory.mktemp("pdf")
    pack = full_pack()
    pages = {}
    for name, draw in (("drawn", True), ("blank", False)):
        (out / f"{name}.html").write_text(report_html(pack, draw), encoding="utf-8")
        pdf = print_pdf(out / f"{name}.html", out / f"{name}.pdf")
        subprocess.run(["pdftoppm", "-r", "50", str(pdf), str(out / name)], check=True)
        pages[name] = [read_ppm(p) for p in sorted(out.glob(f"{name}-*.ppm"))]
    return out, pages


def test_pdf_is_private_a4_and_replaced_atomically(printed):
    out, pages = printed
    pdf = out / "drawn.pdf"
    assert pdf.read_bytes()[:5] == b"%PDF-"
    assert stat.S_IMODE(pdf.stat().st_mode) == 0o600
    assert not list(out.glob(".*.part"))
    h, w, _ = pages["drawn"][0].shape
    assert w in (413, 414) and h == 585  # A4 (210 x 297 mm) at 50 dpi (US Letter would be 425 x 550)


def test_pdf_shows_the_charts_drawn(printed):
    _, pages = printed
    drawn = [blue_pixels(p) for p in pages["drawn"]]
    blank = [blue_pixels(p) for p in pages["blank"]]
    # Without plotly.js the chart divs stay empty; what blue is left is the report's own styling (headings).
    assert sum(blank) < 1_000
    assert sum(drawn) > sum(blank) + 2_000  # five charts with blue bars, lines and markers
    # and the bars of the weekly chart stand on the first page, under the first heading
    assert drawn[0] > blank[0] + 300


@pytest.mark.skipif(not (HAVE_CHROMIUM and HAVE_PDFTOPPM), reason="chromium and pdftoppm are needed")
def test_print_css_moves_a_chart_to_the_next_page_rather_than_cut_it(tmp_path):
    import plotly.graph_objects as go

    js = (Path(plotly.__file__).parent / "package_data" / "plotly.min.js").read_text()
    fig = go.Figure(go.Bar(x=["a", "b", "c"], y=[5, 5, 5], marker_color="#0072B2"))
    fig.update_layout(height=340, margin=dict(t=10, b=30), template="plotly_white")
    # ~900 px of text first: an A4 page holds about 1,000 px, so the 340 px chart would straddle the break
    filler = "".join(f"<p style='margin:0;height:30px'>Line {i}</p>" for i in range(30))

    def pages_with_blue(css: str) -> list[int]:
        page = (f"<html><head><style>{css}</style><script>{js}</script></head><body>{filler}"
                f"{charts.figure_html(fig)}</body></html>")
        name = "with" if css else "without"
        (tmp_path / f"{name}.html").write_text(page, encoding="utf-8")
        print_pdf(tmp_path / f"{name}.html", tmp_path / f"{name}.pdf")
        subprocess.run(["pdftoppm", "-r", "50", str(tmp_path / f"{name}.pdf"), str(tmp_path / name)], check=True)
        return [i for i, p in enumerate(sorted(tmp_path.glob(f"{name}-*.ppm"))) if blue_pixels(read_ppm(p)) > 50]

    assert len(pages_with_blue("")) == 2  # no print rules: the bars are cut across two pages
    assert pages_with_blue((ASSETS / "print.css").read_text()) == [1]  # print.css: whole, on page 2


def test_pdf_of_a_missing_report_is_a_clear_error(tmp_path):
    with pytest.raises(WorkspaceError, match="does not exist"):
        print_pdf(tmp_path / "nope.html", tmp_path / "nope.pdf")


# ------------------------------------------------------------------------------------------ through `kwa report`

class _AllTables(_TableParser):
    """Every <table> of a whole HTML report, each as its rows of cell text."""

    def __init__(self):
        super().__init__()
        self.tables, self._current = [], None

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self._current = []
        super().handle_starttag(tag, attrs)

    def handle_endtag(self, tag):
        super().handle_endtag(tag)
        if tag == "tr" and self._current is not None:
            self._current.append(self.rows.pop())
        elif tag == "table" and self._current is not None:
            self.tables.append(self._current)
            self._current = None


@pytest.mark.browser
@pytest.mark.slow  # a warm kernel, two pupils, three formats: about 20 s
@pytest.mark.skipif(not (HAVE_CHROMIUM and HAVE_PDFTOPPM), reason="chromium and pdftoppm are needed")
def test_render_reports_writes_word_and_pdf_with_the_html_reports_figures(tmp_path):
    from conftest import build_workspace

    from kwanalytics.render.reports import render_reports

    build_workspace(tmp_path)
    failures = render_reports(tmp_path, "student", students=["S001", "S005"], formats=("html", "docx", "pdf"))
    assert failures == []
    out = tmp_path / "reports" / "students"
    for sid in ("S001", "S005"):
        for suffix in (".html", ".docx", ".pdf"):
            assert stat.S_IMODE((out / f"{sid}{suffix}").stat().st_mode) == 0o600, (sid, suffix)
        # one source of truth: every table of the HTML report is in the Word document, cell for cell
        parser = _AllTables()
        parser.feed((out / f"{sid}.html").read_text(encoding="utf-8"))
        word = [word_cells(t) for t in Document(str(out / f"{sid}.docx")).tables[1:]]
        assert parser.tables, sid
        for table in parser.tables:
            assert table in word, (sid, table[0])
    # S001 has incidents, sessions and targets: its charts are pictures in Word and drawn in the PDF
    assert len(Document(str(out / "S001.docx")).inline_shapes) >= 3
    subprocess.run(["pdftoppm", "-r", "50", str(out / "S001.pdf"), str(tmp_path / "page")], check=True)
    assert sum(blue_pixels(read_ppm(p)) for p in tmp_path.glob("page-*.ppm")) > 2_000
    # every printed page says whose pack it is and which page of how many (a loose page still says whose)
    from kwanalytics.render.reports import first_heading

    heading = first_heading((out / "S001.html").read_text(encoding="utf-8"))
    assert heading and heading.startswith("Annual review evidence pack: ")
    text = subprocess.run(["pdftotext", "-layout", str(out / "S001.pdf"), "-"], capture_output=True, text=True,
                          check=True).stdout
    pages = [p for p in text.split("\f") if p.strip()]
    assert len(pages) >= 2
    for number, page_text in enumerate(pages, start=1):
        squeezed = " ".join(page_text.split())
        assert heading in squeezed and f"Page {number} of {len(pages)}" in squeezed, number
    # and the Word file's every page says the same: the pupil's name, then Word's own page and page-count fields
    for section in Document(str(out / "S001.docx")).sections:
        foot = section.footer
        assert foot.paragraphs[0].text.startswith(f"{heading}: confidential · Page ")
        fields = [f.get(qn("w:instr")) for f in foot._element.iter(qn("w:fldSimple"))]
        assert fields == ["PAGE", "NUMPAGES"]


@pytest.mark.skipif(not HAVE_CHROMIUM, reason="chromium is needed (make browser)")
def test_word_pictures_then_pdf_load_the_page_once_and_a_changed_page_is_loaded_again(printed, tmp_path):
    from kwanalytics.render.browser import Browser

    out, _ = printed
    page = tmp_path / "drawn.html"  # a copy: this test changes it
    page.write_text((out / "drawn.html").read_text(encoding="utf-8"), encoding="utf-8")
    with Browser() as browser:
        navigations = []
        call = browser.call

        def counting(method, *args, **kwargs):
            if method == "Page.navigate":
                navigations.append(method)
            return call(method, *args, **kwargs)

        browser.call = counting
        pictures = browser.chart_pngs(page)
        assert pictures and all(pictures)
        loaded = len(navigations)  # 1 (2 when a fresh browser's first tab dies and is made again)
        assert browser.pdf(page).startswith(b"%PDF")
        assert len(navigations) == loaded  # Word's pictures, then the PDF of the same drawn page
        assert browser.chart_pngs(page)  # after a print the page is laid out for paper: loaded afresh
        assert len(navigations) == loaded + 1
        page.write_text(page.read_text(encoding="utf-8") + "<!-- changed -->", encoding="utf-8")
        assert browser.pdf(page).startswith(b"%PDF")  # the file changed: loaded again
        assert len(navigations) == loaded + 2
