"""Recognising the example row of a workbook made by `kwa template` (issue 18), from outside the row itself.

The template marks its example row with a hidden defined name scoped to its sheet (``EXAMPLE_NAME``). Excel
copies a sheet's own names with the sheet, so a key worker who copies the sheet (one a week, one a pupil)
gets the mark on the copy's example row too; one who copies the example's values into the rows below gets
real entries, because nothing about the values says "example". Calamine does not read defined names, so
they are read here from the workbook's own XML (xl/workbook.xml in the .xlsx zip).
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path
from xml.etree import ElementTree

EXAMPLE_NAME = "kwa_example_row"
EXAMPLE_REASON = "the template's example row (marked by the template, not an entry)"

_NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
_ROWS = re.compile(r"\$?[A-Z]{1,3}\$?(\d+)(?::\$?[A-Z]{1,3}\$?(\d+))?$")


def example_rows(path: Path) -> dict[str, set[int]]:
    """Sheet name -> the spreadsheet row numbers its example mark covers; {} for any other workbook (or one
    that cannot be opened: the reader says why)."""
    try:
        with zipfile.ZipFile(path) as book:
            xml = book.read("xl/workbook.xml")
    except (OSError, KeyError, zipfile.BadZipFile):
        return {}
    if EXAMPLE_NAME.encode() not in xml:  # nearly every workbook: no XML parsed at all
        return {}
    try:
        root = ElementTree.fromstring(xml)
    except ElementTree.ParseError:
        return {}
    sheets = [s.get("name") for s in root.iterfind("m:sheets/m:sheet", _NS)]
    out: dict[str, set[int]] = {}
    for name in root.iterfind("m:definedNames/m:definedName", _NS):
        if name.get("name") != EXAMPLE_NAME or name.get("localSheetId") is None:
            continue
        index = int(name.get("localSheetId"))
        ref = (name.text or "").rsplit("!", 1)[-1]
        rows = _ROWS.match(ref.strip())
        if rows is None or not 0 <= index < len(sheets):  # e.g. #REF! once the key worker deleted the row
            continue
        first = int(rows.group(1))
        last = int(rows.group(2) or first)
        out.setdefault(sheets[index], set()).update(range(first, last + 1))
    return out
