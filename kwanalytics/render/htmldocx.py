"""Any report as an editable Word document, built FROM THE REPORT'S HTML: headings, paragraphs, tables and charts
in the order the page shows them. So every report (pupil, cohort, patterns, validation) has its Word file, and the
Word file cannot say anything the HTML does not.

Tables become real Word tables (header row repeated on each page, rows never split, numbers right-aligned); a
table the page marks ``kwa-wide`` (evidence/display.py) gets a landscape page of its own. Charts become PNG
pictures drawn by the page's own plotly.js in the batch's Chromium (render/browser.py, ``Plotly.toImage``),
in page order.

Sources: python-docx documentation (https://python-docx.readthedocs.io/) and the WordprocessingML spec (ECMA-376
part 1) through the helpers of render/wordstyle.py.
"""

from __future__ import annotations

import re
from html import unescape
from html.parser import HTMLParser
from io import BytesIO
from pathlib import Path

from docx import Document
from docx.enum.section import WD_ORIENT, WD_SECTION
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Cm, Pt

from kwanalytics.render.wordstyle import (CONTENT_WIDTH_CM, HEADER_SHADE, MARGIN_CM, PAGE_HEIGHT_CM,
                                          PAGE_WIDTH_CM, SHADE, column_widths, no_split, page_number_footer,
                                          repeat_header, shade, xml_safe)
from kwanalytics.store import atomic_write

_SKIP = {"script", "style", "head", "title", "button", "svg"}
# Paragraphs the page sets in a shaded box (render/assets/base.css): the summary and "How to read this".
_BOXED = ("kwa-summary", "kwa-how-to-read")
_NUMBER = re.compile(r"^[-+£<>≤≥∞–\s]*[\d.,]+\s*%?$|^–$")


class _Blocks(HTMLParser):
    """The page as a list of blocks: (heading, level, text), (para, text, css), (item, text), (table, rows,
    wide), (chart, index)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.blocks: list[tuple] = []
        self._skip = 0
        self._text: list[str] | None = None
        self._kind: tuple | None = None
        self._classes: list[str] = []  # the class attribute of every open div
        self._table: list[list[tuple[str, bool]]] | None = None
        self._cell: list[str] | None = None
        self._charts = 0

    def _css(self) -> str:
        return " ".join(self._classes)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        css = attrs.get("class") or ""
        if tag in _SKIP:
            self._skip += 1
            return
        if self._skip:
            return
        if tag == "div":
            self._classes.append(css)
            if "plotly-graph-div" in css.split():
                self.blocks.append(("chart", self._charts))
                self._charts += 1
        elif tag == "a" and "anchor-link" in css:
            self._skip += 1
        elif tag in ("h1", "h2", "h3", "h4"):
            self._start(("heading", int(tag[1])))
        elif tag in ("p", "pre") and self._table is None:
            self._start(("para", f"{self._css()} {css}"))
        elif tag == "li" and self._table is None:
            self._start(("item",))
        elif tag == "table":
            self._table = []
        elif tag == "tr" and self._table is not None:
            self._table.append([])
        elif tag in ("td", "th") and self._table is not None:
            self._cell = []
        elif tag == "br":
            self._data("\n")

    def _start(self, kind):
        self._flush()
        self._kind, self._text = kind, []

    def _flush(self):
        if self._kind is not None and self._text is not None:
            text = re.sub(r"[ \t\r\f\v]+", " ", "".join(self._text)).strip()
            if text:
                self.blocks.append((*self._kind[:1], *self._kind[1:], text) if self._kind[0] != "para"
                                   else ("para", text, self._kind[1]))
        self._kind, self._text = None, None

    def handle_endtag(self, tag):
        if tag in _SKIP:
            self._skip = max(0, self._skip - 1)
            return
        if self._skip:
            if tag == "a":
                self._skip -= 1
            return
        if tag == "div" and self._classes:
            self._classes.pop()
        elif tag in ("h1", "h2", "h3", "h4", "p", "pre", "li"):
            self._flush()
        elif tag in ("td", "th") and self._cell is not None and self._table:
            self._table[-1].append((re.sub(r"\s+", " ", "".join(self._cell)).strip(), tag == "th"))
            self._cell = None
        elif tag == "table" and self._table is not None:
            rows = [r for r in self._table if r]
            if rows:
                self.blocks.append(("table", rows, "kwa-wide" in self._css().split()))
            self._table = None

    def _data(self, data):
        if self._cell is not None:
            self._cell.append(data)
        elif self._text is not None:
            self._text.append(data)

    def handle_data(self, data):
        if not self._skip:
            self._data(data)


def blocks(html: str) -> list[tuple]:
    """The report's content blocks, in page order (tests compare a Word file against these)."""
    parser = _Blocks()
    parser.feed(html)
    parser.close()
    parser._flush()
    return parser.blocks


def _boxed(css: str) -> str | None:
    """The boxed kind (``_BOXED``) a paragraph's classes put it in, if any."""
    return next((kind for kind in css.split() if kind in _BOXED), None)


def _orient(doc, landscape: bool) -> float:
    """Start a new page in the orientation asked for; the width (cm) text may use on it."""
    section = doc.add_section(WD_SECTION.NEW_PAGE)
    section.orientation = WD_ORIENT.LANDSCAPE if landscape else WD_ORIENT.PORTRAIT
    long, short = Cm(PAGE_HEIGHT_CM), Cm(PAGE_WIDTH_CM)
    section.page_width, section.page_height = (long, short) if landscape else (short, long)
    return (PAGE_HEIGHT_CM if landscape else PAGE_WIDTH_CM) - 2 * MARGIN_CM


def _add_table(doc, rows: list[list[tuple[str, bool]]], width_cm: float) -> None:
    head = rows[0] if all(is_head for _, is_head in rows[0]) else None
    headers = [xml_safe(t) for t, _ in head] if head else []
    body = [[xml_safe(t) for t, _ in r] for r in (rows[1:] if head else rows)]
    cols = max(len(headers), *(len(r) for r in body)) if body else len(headers)
    headers = headers + [""] * (cols - len(headers)) if head else []
    body = [r + [""] * (cols - len(r)) for r in body]
    table = doc.add_table(rows=(1 if head else 0) + len(body), cols=cols)
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    widths = [Cm(w) for w in column_widths(headers or [""] * cols, body, 0.19 if cols > 6 else 0.21, width_cm)]
    for j, width in enumerate(widths):
        table.columns[j].width = width
    size = Pt(8) if cols > 6 else Pt(9)
    right = [bool(body) and all(_NUMBER.match(r[j]) or not r[j] for r in body) for j in range(cols)]
    start = 0
    if head:
        for j, text in enumerate(headers):
            cell = table.rows[0].cells[j]
            cell.width = widths[j]
            shade(cell, HEADER_SHADE)
            run = cell.paragraphs[0].add_run(text)
            run.bold = True
            run.font.size = size
        repeat_header(table.rows[0])
        start = 1
    for i, values in enumerate(body, start=start):
        row = table.rows[i]
        no_split(row)
        for j, text in enumerate(values):
            row.cells[j].width = widths[j]
            para = row.cells[j].paragraphs[0]
            if right[j]:
                para.alignment = WD_ALIGN_PARAGRAPH.RIGHT
            para.add_run(text).font.size = size


def build_document(html: str, title: str, charts: list[bytes | None] | None = None, footer: str = ""):
    """The python-docx Document of a report page; ``charts`` are its charts' PNG pictures in page order."""
    charts = list(charts or [])
    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Cm(PAGE_WIDTH_CM), Cm(PAGE_HEIGHT_CM)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Cm(MARGIN_CM))
    doc.styles["Normal"].font.name = "Arial"
    doc.styles["Normal"].font.size = Pt(10.5)
    doc.core_properties.title = xml_safe(title)
    doc.core_properties.author = "kwanalytics"
    doc.core_properties.comments = ""
    page_number_footer(section, xml_safe(footer or f"{title}: confidential"))
    width = CONTENT_WIDTH_CM
    box, boxed = None, None  # the shaded box that consecutive paragraphs of one boxed kind go into
    for block in blocks(html):
        kind = block[0]
        if not (kind == "para" and _boxed(block[2]) == boxed):
            box, boxed = None, None
        if kind == "heading":
            doc.add_heading(xml_safe(block[2]), level=0 if block[1] == 1 else block[1] - 1)
        elif kind == "para":
            text, css = xml_safe(block[1]), block[2]
            if _boxed(css):
                if box is None:
                    box, boxed = doc.add_table(rows=1, cols=1).rows[0].cells[0], _boxed(css)
                    shade(box, SHADE)
                    box.paragraphs[0].add_run(text)
                else:
                    box.add_paragraph(text)
            else:
                para = doc.add_paragraph(text)
                if "kwa-notes" in css or "kwa-empty" in css:
                    for run in para.runs:
                        run.font.size = Pt(9)
                        run.italic = "kwa-empty" in css
        elif kind == "item":
            doc.add_paragraph(xml_safe(block[1]), style="List Bullet")
        elif kind == "table":
            rows, wide = block[1], block[2]
            if wide:
                _add_table(doc, rows, _orient(doc, landscape=True))
                width = _orient(doc, landscape=False)
            else:
                _add_table(doc, rows, width)
            doc.add_paragraph()
        elif kind == "chart":
            png = charts[block[1]] if block[1] < len(charts) else None
            if png is None:
                doc.add_paragraph("This chart could not be drawn as a picture; it is in the HTML report.")
            else:
                shape = doc.add_picture(BytesIO(png), width=Cm(width))
                shape._inline.docPr.set("descr", f"Chart {block[1] + 1} of the report")
                doc.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER
    return doc


def write_docx(html_path, docx_path, browser, title: str) -> Path:
    """The report at ``html_path`` as a Word file at ``docx_path`` (atomically, owner-only), its chart pictures
    drawn in ``browser`` (a running render.browser.Browser)."""
    html_path = Path(html_path)
    html = html_path.read_text(encoding="utf-8")
    charts = browser.chart_pngs(html_path) if "Plotly.newPlot(" in html else []
    # the page's own title, as the PDF's footer and the browser tab show it (a pupil pack's names the pupil)
    named = re.search(r"<title>(.*?)</title>", html, re.S)
    title = " ".join(unescape(named.group(1)).split()) if named and named.group(1).strip() else title
    doc = build_document(html, title, charts)
    return atomic_write(Path(docx_path), lambda tmp: doc.save(str(tmp)))
