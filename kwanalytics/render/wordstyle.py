"""The look of every Word file (render/htmldocx.py): A4 page geometry, shading, table rows and column widths, the
page-number footer, and the text Word can hold.

Sources: python-docx documentation (https://python-docx.readthedocs.io/), and the WordprocessingML spec (ECMA-376
part 1: 17.4.33 ``w:shd`` shading, 17.4.49 ``w:tblHeader``, 17.4.6 ``w:cantSplit``, 17.16.19 ``w:fldSimple``) for
the bits python-docx has no API for.
"""

from __future__ import annotations

import re

from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Pt

PAGE_WIDTH_CM = 21.0  # A4
PAGE_HEIGHT_CM = 29.7
MARGIN_CM = 2.0
CONTENT_WIDTH_CM = PAGE_WIDTH_CM - 2 * MARGIN_CM
SHADE = "E8F1F8"  # pale blue box behind the boxed paragraphs of a page (summary, "How to read this")
HEADER_SHADE = "D9E2EC"

# XML 1.0 forbids most control characters (and lone surrogates); an export's free text can hold them
# (a pasted form feed, a stray NUL), and python-docx would refuse the whole document.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_safe(text) -> str:
    """``text`` as a string Word can hold: characters XML cannot carry are dropped."""
    return _NOT_XML.sub("", str(text))


def shade(cell, fill: str) -> None:
    tc_pr = cell._tc.get_or_add_tcPr()
    shd = OxmlElement("w:shd")
    shd.set(qn("w:val"), "clear")
    shd.set(qn("w:color"), "auto")
    shd.set(qn("w:fill"), fill)
    tc_pr.append(shd)


def repeat_header(row) -> None:
    """Repeat ``row`` at the top of every page the table runs onto."""
    tr_pr = row._tr.get_or_add_trPr()
    el = OxmlElement("w:tblHeader")
    el.set(qn("w:val"), "true")
    tr_pr.append(el)


def no_split(row) -> None:
    """Keep ``row`` whole on one page."""
    tr_pr = row._tr.get_or_add_trPr()
    el = OxmlElement("w:cantSplit")
    el.set(qn("w:val"), "true")
    tr_pr.append(el)


def page_number_footer(section, text: str) -> None:
    """``text`` and "Page n of N" at the foot of every page, as the PDF's footer says it (render/browser.py):
    Word fills in the PAGE and NUMPAGES fields when it lays the document out."""
    para = section.footer.paragraphs[0]
    para.alignment = WD_ALIGN_PARAGRAPH.CENTER
    for piece in (f"{text} · Page ", "PAGE", " of ", "NUMPAGES"):
        if piece.isupper():
            _field(para, piece)
        else:
            para.add_run(piece).font.size = Pt(8)


def _field(para, instruction: str) -> None:
    fld = OxmlElement("w:fldSimple")
    fld.set(qn("w:instr"), instruction)
    inner = OxmlElement("w:r")
    r_pr = OxmlElement("w:rPr")
    size = OxmlElement("w:sz")
    size.set(qn("w:val"), "16")  # half-points: 8 pt, as the text beside it
    r_pr.append(size)
    inner.append(r_pr)
    t = OxmlElement("w:t")
    t.text = "1"  # shown until Word lays the pages out
    inner.append(t)
    fld.append(inner)
    para._p.append(fld)


def column_widths(headers: list[str], body: list[list[str]], char_cm: float, width_cm: float) -> list[float]:
    """Column widths (cm) sharing ``width_cm``. When every cell fits on one line, columns are widened in
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
    if sum(target) <= width_cm:  # everything fits on one line: widen all columns alike
        return [t * width_cm / sum(target) for t in target]
    spare = width_cm - sum(minimum)
    if spare <= 0:  # too many columns for the page: shrink all alike
        return [w * width_cm / sum(minimum) for w in minimum]
    total = sum(wanted)
    return [m + (spare * w / total if total else spare / len(minimum)) for m, w in zip(minimum, wanted)]
