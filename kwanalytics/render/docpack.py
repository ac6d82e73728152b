"""The pupil evidence pack as an editable Word document (.docx), for annual reviews.

Built from the same ``pupil.EvidencePack`` as the HTML report (one source of truth: the tables and figures are
not recomputed here, only laid out). Tables become real Word tables that staff can edit before the meeting;
charts become PNG pictures drawn by plotly.js itself in the local Chromium (render/browser.py, ``Plotly.toImage``;
the page is a report page, so nothing is fetched from the network).

Sources: python-docx documentation (https://python-docx.readthedocs.io/), and the
WordprocessingML spec (ECMA-376 part 1, 17.4.33 ``w:shd`` shading, 17.4.49 ``w:tblHeader``) for the two bits of
table formatting python-docx has no API for.
"""

from __future__ import annotations

import contextlib
import math
import re
import tempfile
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

import pandas as pd
from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt

from kwanalytics.errors import WorkspaceError
from kwanalytics.evidence.pupil import COMMENTS, EMPTY_SENTENCES, HOW_TO_READ, SECTIONS, shows_nothing
from kwanalytics.evidence.pupil import HEADINGS as TABLE_TITLES
from kwanalytics.store import atomic_write

# ----------------------------------------------------------------------------------------------- layout

# The pack's sections, headings and empty sentences (pupil.SECTIONS): one list, shared with the HTML notebook.


def _is_empty(key: str, frame: pd.DataFrame) -> bool:
    return shows_nothing(key, frame)


PAGE_WIDTH_CM = 21.0  # A4
PAGE_HEIGHT_CM = 29.7
MARGIN_CM = 2.0
CONTENT_WIDTH_CM = PAGE_WIDTH_CM - 2 * MARGIN_CM
SHADE = "E8F1F8"  # pale blue box behind "How to read this"
HEADER_SHADE = "D9E2EC"

#: Pixel size of a chart picture when the figure does not set one; ``scale`` doubles it for sharp print.
CHART_WIDTH_PX = 900
CHART_HEIGHT_PX = 450
CHART_SCALE = 2

# ----------------------------------------------------------------------------------------------- cells


def display_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with every cell as the HTML report shows it: the same function, so Word and HTML cannot drift."""
    from kwanalytics.evidence.display import display_frame as shared

    return shared(frame)


# XML 1.0 forbids most control characters (and lone surrogates); an export's free text can hold them
# (a pasted form feed, a stray NUL), and python-docx would refuse the whole document.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_safe(text) -> str:
    """``text`` as a string Word can hold: characters XML cannot carry are dropped."""
    return _NOT_XML.sub("", str(text))


def _text(value) -> str:
    if value is None or value is pd.NA or value is pd.NaT:
        return ""
    if isinstance(value, float) and math.isnan(value):
        return ""
    return xml_safe(value)


def table_cells(frame: pd.DataFrame) -> tuple[list[str], list[list[str]]]:
    """Header and body text of ``frame`` exactly as the Word table shows them (tests compare against this)."""
    shown = display_frame(frame)
    body = [[_text(v) for v in row] for row in shown.itertuples(index=False)]
    return [xml_safe(c) for c in shown.columns], body


def header_text(key) -> str:
    """A key such as ``incidents_weekly`` in plain words: ``Incidents weekly``."""
    return str(key).replace("_", " ").capitalize()


# ----------------------------------------------------------------------------------------------- charts


_SESSION: list = []  # the Browser of an open chart_session


@contextlib.contextmanager
def chart_session():
    """Keep one Chromium open for all chart pictures made inside the ``with`` block (a batch of packs).

    Without it each ``write_docx`` opens and closes its own Chromium (a second or two).
    """
    from kwanalytics.render.browser import Browser

    if _SESSION:  # a caller already opened one: reuse it, leave it open
        yield
        return
    browser = Browser().start()
    _SESSION.append(browser)
    try:
        yield
    finally:
        _SESSION.clear()
        browser.close()


def chart_images(figures: dict) -> dict[str, bytes | None]:
    """PNG bytes for each plotly figure, drawn by plotly.js in the local Chromium (render/browser.py): one page
    holds every figure, each exported with ``Plotly.toImage`` at CHART_WIDTH_PX x its own height, x CHART_SCALE.

    A figure that cannot be drawn maps to ``None`` (the document then says so in words).
    """
    if not figures:
        return {}
    from kwanalytics.evidence.charts import figure_html, traces
    from kwanalytics.render.browser import Browser, BrowserError
    from kwanalytics.render.reports import page

    body = "".join(f'<div class="kwa-chart" data-kwa-traces="{traces(fig)}">{figure_html(fig)}</div>'
                   for fig in figures.values())
    with tempfile.TemporaryDirectory(prefix="kwa-charts-") as tmp:  # mkdtemp: owner-only
        path = Path(tmp) / "charts.html"
        path.write_text(page(body, "charts"), encoding="utf-8")
        try:
            if _SESSION:
                pngs = _SESSION[0].chart_pngs(path, scale=CHART_SCALE, width=CHART_WIDTH_PX)
            else:
                with Browser() as browser:
                    pngs = browser.chart_pngs(path, scale=CHART_SCALE, width=CHART_WIDTH_PX)
        except BrowserError:
            raise
        except OSError as exc:
            raise WorkspaceError(f"Charts could not be drawn for the Word report: Chromium failed to start "
                                 f"({type(exc).__name__}: {str(exc)[:200]}). Check that `chromium --version` "
                                 "works, or make the HTML report instead.") from None
    pngs = list(pngs) + [None] * (len(figures) - len(pngs))
    return {name: png or None for name, png in zip(figures, pngs)}


def _figure_title(fig, key: str) -> str:
    try:
        text = fig.layout.title.text
    except AttributeError:
        text = None
    return text or header_text(key)


# ----------------------------------------------------------------------------------------------- docx bits


def _shade(cell, fill: str) -> None:
    tc_pr = cell._tc.get_or_add_tcPr()
    shd = OxmlElement("w:shd")
    shd.set(qn("w:val"), "clear")
    shd.set(qn("w:color"), "auto")
    shd.set(qn("w:fill"), fill)
    tc_pr.append(shd)


def _repeat_header(row) -> None:
    tr_pr = row._tr.get_or_add_trPr()
    el = OxmlElement("w:tblHeader")
    el.set(qn("w:val"), "true")
    tr_pr.append(el)


def _no_split(row) -> None:
    tr_pr = row._tr.get_or_add_trPr()
    el = OxmlElement("w:cantSplit")
    el.set(qn("w:val"), "true")
    tr_pr.append(el)


def _page_number_footer(section, text: str) -> None:
    para = section.footer.paragraphs[0]
    para.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = para.add_run(f"{text} · page ")
    run.font.size = Pt(8)
    fld = OxmlElement("w:fldSimple")
    fld.set(qn("w:instr"), "PAGE")
    inner = OxmlElement("w:r")
    r_pr = OxmlElement("w:rPr")
    size = OxmlElement("w:sz")
    size.set(qn("w:val"), "16")  # half-points: 8 pt, as the text before it
    r_pr.append(size)
    inner.append(r_pr)
    t = OxmlElement("w:t")
    t.text = "1"
    inner.append(t)
    fld.append(inner)
    para._p.append(fld)


def _how_to_read_box(doc) -> None:
    title, paragraphs = HOW_TO_READ
    box = doc.add_table(rows=1, cols=1)
    box.alignment = WD_TABLE_ALIGNMENT.CENTER
    cell = box.rows[0].cells[0]
    _shade(cell, SHADE)
    first = cell.paragraphs[0]
    run = first.add_run(title)
    run.bold = True
    run.font.size = Pt(12)
    for text in paragraphs:
        p = cell.add_paragraph(text)
        p.paragraph_format.space_after = Pt(4)
    doc.add_paragraph()


def _numeric(frame: pd.DataFrame, col) -> bool:
    return pd.api.types.is_numeric_dtype(frame[col]) and not pd.api.types.is_bool_dtype(frame[col])


def _column_widths(headers: list[str], body: list[list[str]], char_cm: float) -> list[float]:
    """Column widths (cm) sharing the text width. When every cell fits on one line, columns are widened in
    proportion; otherwise every column first gets room for its longest word (so no word is broken in two) and
    what is left goes to the columns with the most text (descriptions, notes). Word would otherwise give
    every column the same width."""
    pad = 0.3  # cell margins, cm
    minimum, wanted = [], []
    for j, head in enumerate(headers):
        words = head.split() + [w for row in body for w in row[j].split()]
        longest = min(18, max((len(w) for w in words), default=1))
        minimum.append(max(longest, 3) * char_cm + pad)
        typical = sum(len(row[j]) for row in body) / max(1, len(body))
        wanted.append(max(0.0, min(80.0, typical) * char_cm + pad - minimum[-1]))
    target = [m + w for m, w in zip(minimum, wanted)]
    if sum(target) <= CONTENT_WIDTH_CM:  # everything fits on one line: widen all columns alike
        return [t * CONTENT_WIDTH_CM / sum(target) for t in target]
    spare = CONTENT_WIDTH_CM - sum(minimum)
    if spare <= 0:  # too many columns for the page: shrink all alike
        return [w * CONTENT_WIDTH_CM / sum(minimum) for w in minimum]
    total = sum(wanted)
    return [m + (spare * w / total if total else spare / len(minimum)) for m, w in zip(minimum, wanted)]


def _add_frame(doc, frame: pd.DataFrame) -> None:
    headers, body = table_cells(frame)
    table = doc.add_table(rows=1 + len(body), cols=len(headers))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    right = [_numeric(frame, c) for c in frame.columns]
    widths = [Cm(w) for w in _column_widths(headers, body, 0.19 if len(headers) > 6 else 0.21)]
    table.autofit = False
    for j, width in enumerate(widths):  # the grid (LibreOffice reads this) and each cell (Word reads that)
        table.columns[j].width = width
    size = Pt(8) if len(headers) > 6 else Pt(9)
    for j, text in enumerate(headers):
        cell = table.rows[0].cells[j]
        cell.width = widths[j]
        _shade(cell, HEADER_SHADE)
        run = cell.paragraphs[0].add_run(text)
        run.bold = True
        run.font.size = size
    _repeat_header(table.rows[0])
    for i, values in enumerate(body, start=1):
        row = table.rows[i]
        _no_split(row)
        for j, text in enumerate(values):
            row.cells[j].width = widths[j]
            para = row.cells[j].paragraphs[0]
            if right[j]:
                para.alignment = WD_ALIGN_PARAGRAPH.RIGHT
            para.add_run(text).font.size = size


def _add_chart(doc, key: str, fig, png: bytes | None) -> None:
    title = xml_safe(_figure_title(fig, key))
    if png is None:
        doc.add_paragraph(f"The chart “{title}” could not be drawn as a picture; it is in the HTML report.")
        return
    # The chart's title is drawn inside the picture; it is also the picture's alternative text (screen readers).
    shape = doc.add_picture(BytesIO(png), width=Cm(CONTENT_WIDTH_CM))
    shape._inline.docPr.set("descr", title)
    shape._inline.docPr.set("title", title)
    doc.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER


def _date(value) -> str:
    if value is None or pd.isna(value):
        return "the start of the records"
    ts = pd.Timestamp(value)
    return f"{ts.day} {ts:%B %Y}"


# ----------------------------------------------------------------------------------------------- the document


def build_document(pack, images: dict[str, bytes | None] | None = None):
    """The python-docx Document for ``pack`` (an ``EvidencePack``); ``images`` are the chart pictures by key
    (made with ``chart_images`` when not given)."""
    figures = dict(getattr(pack, "figures", None) or {})
    tables = dict(getattr(pack, "tables", None) or {})
    if images is None:
        images = chart_images(figures)

    doc = Document()
    section = doc.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Cm(PAGE_WIDTH_CM), Cm(PAGE_HEIGHT_CM)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Cm(MARGIN_CM))
    doc.styles["Normal"].font.name = "Arial"
    doc.styles["Normal"].font.size = Pt(10.5)

    name = pack.name if isinstance(pack.name, str) and pack.name.strip() not in ("", str(pack.student_id)) else None
    who = xml_safe(f"{name} ({pack.student_id})" if name else f"Pupil {pack.student_id}")
    doc.core_properties.title = f"Evidence pack: {who}"
    doc.core_properties.author = "kwanalytics"
    doc.core_properties.comments = ""
    _page_number_footer(section, xml_safe(f"Evidence pack for {pack.student_id}: confidential"))

    doc.add_heading(f"Evidence pack: {who}", level=0)
    period = doc.add_paragraph(f"Records from {_date(pack.since)} to {_date(pack.until)}.")
    period.runs[0].bold = True
    if getattr(pack, "calendar_source", None):
        doc.add_paragraph(xml_safe(f"School days counted from: {pack.calendar_source}."))
    _how_to_read_box(doc)

    notes = [str(n) for n in (getattr(pack, "notes", None) or []) if str(n).strip()]

    def empty_sentence(key: str) -> str:
        # pupil.evidence_pack leaves a failed section's table empty and says why in a note: repeat that note
        # here rather than claim that nothing was recorded.
        failed = [n for n in notes if n.startswith(f"The {key.replace('_', ' ')} section could not be prepared")]
        return xml_safe(failed[0]) if failed else EMPTY_SENTENCES.get(key, "Nothing was recorded in this period.")

    doc.add_heading("Summary", level=1)
    sentences = [s for s in (pack.summary or []) if str(s).strip()]
    if not sentences:
        doc.add_paragraph("There are no records for this pupil in this period.")
    for sentence in sentences:
        doc.add_paragraph(xml_safe(sentence), style="List Bullet")

    drawn = set()
    for sec in SECTIONS:
        doc.add_heading(sec.heading, level=1)
        if sec.intro:
            doc.add_paragraph(sec.intro).paragraph_format.keep_with_next = True
        for key in sec.charts:
            if key in figures:
                _add_chart(doc, key, figures[key], images.get(key))
                drawn.add(key)
        frame = tables.get(sec.key)
        if frame is None or _is_empty(sec.key, frame):
            doc.add_paragraph(empty_sentence(sec.key))
        else:
            _add_frame(doc, frame)

    # Tables or charts the pack holds beyond the known sections are not dropped.
    known = {sec.key for sec in SECTIONS}
    extra_tables = [k for k in tables if k not in known]
    extra_charts = [k for k in figures if k not in drawn]
    if extra_tables or extra_charts:
        doc.add_heading("More", level=1)
        for key in extra_charts:
            _add_chart(doc, key, figures[key], images.get(key))
        for key in extra_tables:
            doc.add_heading(TABLE_TITLES.get(key, header_text(key)), level=2)
            frame = tables[key]
            if len(frame) == 0:
                doc.add_paragraph(empty_sentence(key))
            else:
                _add_frame(doc, frame)

    if notes:
        doc.add_heading("What this can and cannot show", level=1)
        for note in notes:
            doc.add_paragraph(xml_safe(note), style="List Bullet")

    doc.add_heading(COMMENTS[0], level=1)
    doc.add_paragraph(COMMENTS[1])
    return doc


def write_docx(pack, path) -> Path:
    """Write ``pack`` (a ``pupil.EvidencePack``) as a Word document at ``path``: atomically, owner-only (0600)."""
    doc = build_document(pack)
    return atomic_write(Path(path), lambda tmp: doc.save(str(tmp)))
