"""Recognising the example row of a workbook made by `kwa template` (issue 18), from outside the row itself.

The template marks its example row with a hidden defined name scoped to its sheet (``EXAMPLE_NAME``), and its
Instructions and Lists sheets with another (``NOT_DATA_NAME``), so that ingest, which reads every sheet whose
header matches a table, never takes the instructions for records. Excel
copies a sheet's own names with the sheet, so a key worker who copies the sheet (one a week, one a pupil)
gets the mark on the copy's example row too; one who copies the example's values into the rows below gets
real entries, because nothing about the values says "example". Calamine does not read defined names, so
they are read here from the workbook's own XML (xl/workbook.xml in the .xlsx zip).
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree

EXAMPLE_NAME = "kwa_example_row"
EXAMPLE_REASON = "the template's example row (marked by the template, not an entry)"
NOT_DATA_NAME = "kwa_not_data"
NOT_DATA_REASON = "the template's instructions and lists, not entries"

_NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
_ROWS = re.compile(r"\$?[A-Z]{1,3}\$?(\d+)(?::\$?[A-Z]{1,3}\$?(\d+))?$")


@dataclass(frozen=True)
class Marks:
    """What a template workbook says about itself: sheet -> its example rows, and the sheets that are not data."""

    examples: dict[str, set[int]] = field(default_factory=dict)
    not_data: frozenset[str] = frozenset()


def read_marks(path: Path) -> Marks:
    """The template's marks in the workbook at ``path``; no marks for any other workbook (or one that cannot be
    opened: the reader says why)."""
    try:
        with zipfile.ZipFile(path) as book:
            xml = book.read("xl/workbook.xml")
    except (OSError, KeyError, zipfile.BadZipFile):
        return Marks()
    if b"kwa_" not in xml:  # nearly every workbook: no XML parsed at all
        return Marks()
    try:
        root = ElementTree.fromstring(xml)
    except ElementTree.ParseError:
        return Marks()
    sheets = [s.get("name") for s in root.iterfind("m:sheets/m:sheet", _NS)]
    examples: dict[str, set[int]] = {}
    not_data = set()
    for name in root.iterfind("m:definedNames/m:definedName", _NS):
        local = name.get("localSheetId")
        if local is None or not local.isdigit() or not 0 <= int(local) < len(sheets):
            continue
        sheet = sheets[int(local)]
        if name.get("name") == NOT_DATA_NAME:
            not_data.add(sheet)
        elif name.get("name") == EXAMPLE_NAME:
            rows = _ROWS.match((name.text or "").rsplit("!", 1)[-1].strip())
            if rows is None:  # e.g. #REF! once the key worker deleted the row
                continue
            first = int(rows.group(1))
            examples.setdefault(sheet, set()).update(range(first, int(rows.group(2) or first) + 1))
    return Marks(examples, frozenset(not_data))


def example_rows(path: Path) -> dict[str, set[int]]:
    """Sheet name -> the spreadsheet row numbers its example mark covers."""
    return read_marks(path).examples
