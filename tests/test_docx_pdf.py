"""The evidence pack as a Word document (docpack.write_docx) and the HTML report printed to PDF (pdf.print_pdf).

The packs here are built by hand from small synthetic frames, so every figure in them is known in advance.
The browser-driven tests (chart pictures, PDF) need Debian's chromium and poppler's pdftoppm; they are skipped,
with that reason, on a machine without them.
"""

from __future__ import annotations

import html
import html.parser
import os
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

from kwanalytics.evidence import charts
from kwanalytics.render import docpack
from kwanalytics.errors import WorkspaceError
from kwanalytics.render.pdf import print_pdf
from kwanalytics.evidence.pupil import SECTIONS, EvidencePack

HAVE_CHROMIUM = any(shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome"))
HAVE_PDFTOPPM = shutil.which("pdftoppm") is not None
needs_browser = pytest.mark.skipif(not HAVE_CHROMIUM, reason="chromium is not installed (make browser)")
ASSETS = Path(docpack.__file__).with_name("assets")
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


def empty_pack() -> EvidencePack:
    """A pupil with no targets, no sessions and no incidents (what pupil.evidence_pack gives such a pupil)."""
    tables = {key: pd.DataFrame() for key in ("targets", "tscores", "sessions", "activities", "patterns",
                                              "interventions", "restorative", "contacts")}
    tables["incidents_weekly"] = _weekly().assign(incidents=0)
    tables["budget"] = pd.DataFrame({"item": ["Sessions in this period"], "amount_gbp": [0.0]})
    return EvidencePack(student_id="S002", name="S002", since=pd.Timestamp("2025-09-01"),
                        until=pd.Timestamp("2026-01-31"), calendar_source="term dates",
                        summary=["This evidence pack covers S002 from 01 September 2025 to 31 January 2026.",
                                 "No EHCP or ILP targets are recorded for this pupil.",
                                 "No incidents were recorded in this period."],
                        tables=tables, figures={}, notes=[])


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


def html_cells(frame: pd.DataFrame) -> list[list[str]]:
    parser = _TableParser()
    parser.feed(charts.table_html(frame))
    return parser.rows


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

@pytest.fixture(scope="module")
def full_docx(tmp_path_factory):
    if not HAVE_CHROMIUM:
        pytest.skip("chromium is not installed (make browser): chart pictures need it")
    pack = full_pack()
    path = docpack.write_docx(pack, tmp_path_factory.mktemp("docx") / "students" / "S001.docx")
    return pack, path


def test_docx_has_every_section_heading_in_order(full_docx):
    pack, path = full_docx
    doc = Document(str(path))
    h1 = [p.text for p in doc.paragraphs if p.style.name == "Heading 1"]
    # one heading per section of pupil.SECTIONS, the list the HTML notebook also reads
    expected = ["Summary", *(section.heading for section in SECTIONS)]
    assert h1[:len(expected)] == expected
    assert "What this can and cannot show" in h1  # the pack's notes
    title = [p.text for p in doc.paragraphs if p.style.name == "Title"]
    assert title == ["Evidence pack: Alex Example (S001)"]
    text = "\n".join(p.text for p in doc.paragraphs)
    for sentence in pack.summary + pack.notes:
        assert sentence in text
    assert "Records from 1 September 2025 to 31 January 2026." in text


def test_docx_how_to_read_box_is_a_shaded_one_cell_table(full_docx):
    _, path = full_docx
    box = Document(str(path)).tables[0]
    assert (len(box.rows), len(box.columns)) == (1, 1)
    assert box.cell(0, 0).paragraphs[0].text == "How to read this"
    assert "-2 to +2" in box.cell(0, 0).text
    fills = box.cell(0, 0)._tc.xpath("./w:tcPr/w:shd/@w:fill")
    assert fills == [docpack.SHADE]


def test_docx_tables_show_the_same_figures_as_the_html_report(full_docx):
    pack, path = full_docx
    word_tables = [word_cells(t) for t in Document(str(path)).tables[1:]]
    assert len(word_tables) == len(pack.tables)  # one Word table per pack table, none empty here
    for key, frame in pack.tables.items():
        assert html_cells(frame) in word_tables, key
    # hand-checked cells: thousands separator and 2 decimals, day-first dates, Int64 without decimals
    budget = word_cells(Document(str(path)).tables[-1])
    assert budget == [["Item", "Amount"], ["Sessions in this period", "£1,234.50"], ["Budget B1", "£2,000.00"]]
    weekly = html_cells(pack.tables["incidents_weekly"])
    assert weekly[0] == ["Week start", "School days", "Incidents"]
    assert weekly[1] == ["08 Sep 2025", "5", "4"]
    ivs = html_cells(pack.tables["interventions"])
    assert ivs[1][ivs[0].index("Rate ratio")] == "0.14"
    assert ivs[1][ivs[0].index("Ended on")] == "–"  # still running: a dash, not "NaT"
    # free text kept exactly (curly quotes, pound sign), and Word escapes it itself
    assert "Mum says “mornings are hard”; cost £4" in word_cells(Document(str(path)).tables[-2])[1]


def test_docx_has_one_picture_per_chart_drawn_by_plotly_js_in_chromium(full_docx):
    pack, path = full_docx
    doc = Document(str(path))
    assert len(doc.inline_shapes) == len(pack.figures) == 5
    for shape in doc.inline_shapes:
        blob = doc.part.related_parts[shape._inline.graphic.graphicData.pic.blipFill.blip.embed].blob
        w, h = png_size(blob)
        assert w == docpack.CHART_WIDTH_PX * docpack.CHART_SCALE
        assert h >= 260 * docpack.CHART_SCALE
        assert len(blob) > 20_000  # a drawn chart, not an empty canvas (an empty 1800x680 PNG is ~10 kB)
    alt_texts = [shape._inline.docPr.get("descr") for shape in doc.inline_shapes]
    assert alt_texts == [fig.layout.title.text for fig in (pack.figures[k] for k in
                         ("gas", "tscores", "engagement", "activities", "incidents_weekly"))]


def test_docx_is_private_and_written_atomically(full_docx, tmp_path):
    _, path = full_docx
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["S001.docx"]  # no .part file left behind


def test_pupil_with_no_targets_and_no_incidents_gets_a_sensible_docx(tmp_path):
    pack = empty_pack()
    path = docpack.write_docx(pack, tmp_path / "S002.docx")  # no charts: no browser needed
    doc = Document(str(path))
    text = "\n".join(p.text for p in doc.paragraphs)
    assert [p.text for p in doc.paragraphs if p.style.name == "Title"] == ["Evidence pack: Pupil S002"]
    for sentence in ("No targets are recorded for this pupil.", "No incidents were recorded in this period.",
                     "No sessions were recorded in this period.", "No programme ran in this period.",
                     "No contacts were recorded in this period.", "No T-scores yet: no target has been rated."):
        assert sentence in text
    assert all(section.empty in text for section in SECTIONS if section.key != "budget")
    assert len(doc.inline_shapes) == 0
    # weeks that all hold 0 incidents make a sentence (as in the HTML), not a table of zeros; the £0.00 budget
    # line is still a table
    assert [word_cells(t) for t in doc.tables[1:]] == [[["Item", "Amount"], ["Sessions in this period", "£0.00"]]]


def test_a_section_that_failed_says_so_instead_of_claiming_nothing_happened(tmp_path):
    pack = empty_pack()
    pack.notes.append("The patterns section could not be prepared (ValueError: no periods).")
    text = "\n".join(p.text for p in Document(str(docpack.write_docx(pack, tmp_path / "S002.docx"))).paragraphs)
    assert "No repeated pattern was found." not in text
    assert text.count("The patterns section could not be prepared (ValueError: no periods).") == 2  # there + notes


def test_a_chart_that_cannot_be_drawn_is_said_in_words_not_dropped(tmp_path, monkeypatch):
    pack = full_pack()
    monkeypatch.setattr(docpack, "chart_images", lambda figures: {k: None for k in figures})
    doc = Document(str(docpack.write_docx(pack, tmp_path / "S001.docx")))
    text = "\n".join(p.text for p in doc.paragraphs)
    assert text.count("could not be drawn as a picture") == 5
    assert len(doc.inline_shapes) == 0


def test_hostile_free_text_is_kept_as_plain_text_and_control_characters_dropped(tmp_path):
    pack = empty_pack()
    pack.tables["contacts"] = pd.DataFrame({
        "date": pd.to_datetime(["2025-09-20"]), "party": ["parent/carer"], "method": ["email"],
        "purpose": ["=cmd|' /C calc'!A0"],
        "summary": ["<script>alert(1)</script> form\x0cfeed and NUL\x00 & <b>bold</b>"]})
    pack.summary.append("A sentence with a vertical tab\x0b inside.")
    doc = Document(str(docpack.write_docx(pack, tmp_path / "S002.docx")))
    contacts = next(word_cells(t) for t in doc.tables if word_cells(t)[0][0] == "Date")
    assert contacts[1][3:] == ["=cmd|' /C calc'!A0", "<script>alert(1)</script> formfeed and NUL & <b>bold</b>"]
    assert "A sentence with a vertical tab inside." in [p.text for p in doc.paragraphs]


def test_missing_browser_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("KWA_CHROMIUM", str(tmp_path / "no-such-chromium"))
    with pytest.raises(WorkspaceError, match="KWA_CHROMIUM"):
        docpack.write_docx(full_pack(), tmp_path / "S001.docx")
    assert not (tmp_path / "S001.docx").exists()
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


# ------------------------------------------------------------------------------------------ the real pack

def _frame(table: str, rows: list[dict]) -> pd.DataFrame:
    """Rows typed as store.read_table gives them (contracts.empty_frame's dtypes)."""
    from kwanalytics.schema.contracts import empty_frame

    empty = empty_frame(table)
    frame = pd.DataFrame(rows, columns=empty.columns)
    return frame.astype(empty.dtypes.to_dict()) if rows else empty


def synthetic_tables() -> dict[str, pd.DataFrame]:
    """Two pupils: S001 (Alex Example) with a term of records, S002 (Sam Other) with none at all."""
    mondays = pd.date_range("2025-09-08", "2025-12-15", freq="W-MON")
    incidents = [{"incident_id": f"I{i}", "student_id": "S001", "occurred_at": d + pd.Timedelta(hours=9),
                  "period": "Period 1", "location": "Classroom", "category": "Dysregulation", "severity": 2,
                  "antecedent": "Transition", "restorative_conversation": i % 3 == 0,
                  "consequence": "Sensory room", "notes": "Upset after Sam Other took his seat" if i == 0 else "Calm later"}
                 for i, d in enumerate(mondays[:9])]
    sessions = [{"session_id": f"K{i}", "student_id": "S001", "date": d + pd.Timedelta(days=2),
                 "duration_minutes": 60, "format": "one-to-one", "setting": "community" if i % 2 else "on-site",
                 "activity": "Café trip" if i % 2 else "Lego therapy", "engagement": 2 + i % 4, "cost_gbp": 25.0}
                for i, d in enumerate(mondays)]
    return {
        "students": _frame("students", [
            {"student_id": "S001", "display_name": "Alex Example", "year_group": "Year 8", "ehcp": True},
            {"student_id": "S002", "display_name": "Sam Other", "year_group": "Year 9", "ehcp": True}]),
        "targets": _frame("targets", [
            {"target_id": "T1", "student_id": "S001", "area": "Social, Emotional and Mental Health",
             "description": "Uses a calm-down strategy", "set_on": pd.Timestamp("2025-09-03"), "weight": 1.0},
            {"target_id": "T2", "student_id": "S001", "area": "Communication and Interaction",
             "description": "Asks an adult for help", "set_on": pd.Timestamp("2025-09-03"), "weight": 1.0}]),
        "target_ratings": _frame("target_ratings", [
            {"rating_id": f"R{i}", "target_id": t, "student_id": "S001", "rated_on": pd.Timestamp(d), "gas_score": g}
            for i, (t, d, g) in enumerate([("T1", "2025-09-15", -2), ("T1", "2025-11-10", -1), ("T1", "2025-12-15", 0),
                                           ("T2", "2025-09-15", -1), ("T2", "2025-12-15", 1)])]),
        "sessions": _frame("sessions", sessions),
        "incidents": _frame("incidents", incidents),
        "interventions": _frame("interventions", [
            {"enrolment_id": "E1", "student_id": "S001", "programme": "Zones of Regulation",
             "started_on": pd.Timestamp("2025-11-03")}]),
        "contacts": _frame("contacts", [
            {"contact_id": "C1", "student_id": "S001", "date": pd.Timestamp("2025-10-01"), "party": "parent/carer",
             "method": "phone", "purpose": "Update", "summary": "Mum pleased with the café trips"}]),
        "budget": _frame("budget", [
            {"budget_id": "B1", "scope": "student", "scope_id": "S001", "period_start": pd.Timestamp("2025-09-01"),
             "period_end": pd.Timestamp("2026-08-31"), "amount_gbp": 1500.0}]),
        "risk_assessments": _frame("risk_assessments", []),
    }


@needs_browser
def test_real_evidence_packs_for_a_busy_and_an_empty_pupil(tmp_path):
    from kwanalytics.evidence.pupil import evidence_pack
    from kwanalytics.settings import load_settings

    tables, settings = synthetic_tables(), load_settings(None)
    with docpack.chart_session():  # a batch: one browser draws the charts of every pack
        browser = docpack._SESSION[0]
        with docpack.chart_session():  # nested (a caller already opened one): reused, not closed
            pass
        assert docpack._SESSION == [browser] and browser.proc is not None
        busy = evidence_pack(tables, settings, "S001", since="2025-09-01", until="2025-12-19")
        empty = evidence_pack(tables, settings, "S002", since="2025-09-01", until="2025-12-19")
        paths = {p.student_id: docpack.write_docx(p, tmp_path / f"{p.student_id}.docx") for p in (busy, empty)}
    assert docpack._SESSION == [] and browser.proc is None  # closed at the end of the batch
    docs = {sid: Document(str(p)) for sid, p in paths.items()}
    texts = {sid: "\n".join([p.text for p in d.paragraphs] + [c.text for t in d.tables for r in t.rows for c in r.cells])
             for sid, d in docs.items()}
    # the busy pupil: every non-empty pack table is a Word table with the HTML report's cells, every chart a picture
    word = [word_cells(t) for t in docs["S001"].tables[1:]]
    for key, frame in busy.tables.items():
        if len(frame):
            assert html_cells(frame) in word, key
    assert len(docs["S001"].inline_shapes) == len(busy.figures) >= 1
    assert "Evidence pack: Alex Example (S001)" in texts["S001"]
    # the pupil with nothing recorded still gets every heading and plain sentences, no pictures
    assert len(docs["S002"].inline_shapes) == 0
    assert "No targets are recorded for this pupil." in texts["S002"]
    assert "Incidents per school week" in texts["S002"] and "Budget" in texts["S002"]
    # neither pack names the other pupil
    assert "Sam Other" not in texts["S001"] and "S002" not in texts["S001"]
    assert "Alex" not in texts["S002"] and "S001" not in texts["S002"]


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
