"""The Excel workbook `kwa template KIND` writes for a key worker to fill in (issue 18), with openpyxl.

The contract ingest relies on: the first sheet has the header in row 1 and a filled example in row 2, marked as
the example by a hidden name scoped to that sheet (ingest/template_marks.py), never by its values; entries go
from row 3 down. Cells with a list (the school's vocabularies, the pupils, the targets) get an Excel dropdown
whose values sit on the Lists sheet; date, time and number cells get Excel's own validation and an input
message; an Instructions sheet says in plain words how to fill it in and hand it over.
"""

from __future__ import annotations

import io
from datetime import date, datetime, time
from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.packaging.custom import StringProperty
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation

from kwanalytics.errors import InputError
from kwanalytics.ingest.template_marks import EXAMPLE_NAME, NOT_DATA_NAME
from kwanalytics.safety import neutralise_formula
from kwanalytics.schema.profiles import load_profiles
from kwanalytics.settings import Settings
from kwanalytics.templates.kinds import KINDS, ROW_LISTS, YES_NO, Kind, choices, columns, prompt

LAST_ROW = 5000  # validation and formats reach this far down: years of entries for one key worker
SEPARATOR = " – "  # "S0001 – Callum Stevens": ingest keeps the id before it (the profile's `listed` transform)
FORMATS = {"date": "DD/MM/YYYY", "datetime": "DD/MM/YYYY HH:MM", "time": "HH:MM"}
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
EXAMPLE_FILL = PatternFill("solid", fgColor="F2F2F2")


def kind_of(name: str) -> Kind:
    try:
        return KINDS[name]
    except KeyError:
        raise InputError(f"There is no template called '{name}'. Choose one of: " + ", ".join(KINDS) + ".") from None


def pupil_entries(students: pd.DataFrame | None, on: date | None = None) -> list[str]:
    """"S0001 – Callum Stevens" for each pupil (the id alone when the name is not known), in id order; with ``on``,
    only the pupils still on roll that day (a pupil who has left is not offered)."""
    if students is None or students.empty:
        return []
    rows = students.sort_values("student_id")
    if on is not None and "left_on" in rows:
        rows = rows[rows["left_on"].isna() | (rows["left_on"] >= pd.Timestamp(on))]
    names = rows["display_name"] if "display_name" in rows else pd.Series(pd.NA, index=rows.index)
    return [str(sid) if pd.isna(name) else f"{sid}{SEPARATOR}{name}"
            for sid, name in zip(rows["student_id"], names)]


def target_entries(targets: pd.DataFrame | None) -> list[str]:
    """"T1 – the target's words, shortened" for each target, in id order."""
    if targets is None or targets.empty:
        return []
    rows = targets.sort_values("target_id")
    out = []
    for tid, sid, text in zip(rows["target_id"], rows["student_id"], rows["description"]):
        words = "" if pd.isna(text) else str(text)
        words = words if len(words) <= 60 else words[:57] + "..."
        out.append(f"{tid}{SEPARATOR}{sid}: {words}" if words else str(tid))
    return out


def build_template(kind_name: str, settings: Settings, students: pd.DataFrame | None = None,
                   targets: pd.DataFrame | None = None, example_day: date | None = None) -> Workbook:
    """The template workbook for ``kind_name`` (one of ``KINDS``), its lists from ``settings``' vocabularies
    and the stored ``students`` and ``targets`` tables (a kind without them gets no pupil or target list)."""
    kind = kind_of(kind_name)
    mapping = next((m for m in load_profiles(settings).get("template", []) if m.table == kind.table), None)
    if mapping is None:
        raise InputError(f"The template profile has no '{kind.table}' table: restore "
                         "schemas/profiles/template.yaml from the repository.")
    cols = columns(kind, mapping.labels)
    example_day = example_day or date.today()

    wb = Workbook()
    sheet = wb.active
    sheet.title = kind.sheet
    instructions = wb.create_sheet("Instructions")
    lists_sheet = wb.create_sheet("Lists")

    # The lists, one column each on the Lists sheet: only those this kind uses.
    lists: dict[str, list[str]] = {}
    for _, col in cols:
        if col.name == "student_id":
            lists.setdefault(ROW_LISTS["student_id"], pupil_entries(students, on=example_day))
        elif col.name == "target_id":
            lists.setdefault(ROW_LISTS["target_id"], target_entries(targets))
        elif col.vocabulary and col.vocabulary in settings.vocabularies:
            lists.setdefault(col.vocabulary, choices(settings.vocabularies, col.vocabulary))
        elif col.kind == "bool":
            lists.setdefault("yes_no", list(YES_NO))
    where: dict[str, str] = {}
    for i, (name, values) in enumerate(lists.items(), start=1):
        letter = get_column_letter(i)
        lists_sheet.cell(1, i, name).font = Font(bold=True)
        for r, value in enumerate(values, start=2):
            lists_sheet.cell(r, i, neutralise_formula(value))
        lists_sheet.column_dimensions[letter].width = max([len(name)] + [len(v) for v in values]) + 2
        if values:
            where[name] = f"{quote_sheetname(lists_sheet.title)}!${letter}$2:${letter}${len(values) + 1}"

    # Header, then the example row.
    for i, (label, col) in enumerate(cols, start=1):
        cell = sheet.cell(1, i, label)
        cell.font, cell.fill = Font(bold=True), HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        letter = get_column_letter(i)
        sheet.column_dimensions[letter].width = max(14, min(40, len(label) + 4))
        list_name = _list_name(col, lists)
        value = _example(kind, col, lists.get(list_name) if list_name else None, example_day)
        example = sheet.cell(2, i, value)
        example.fill = EXAMPLE_FILL
        if col.kind in FORMATS:
            example.number_format = FORMATS[col.kind]
            # the column's own format, so that a typed 03/02/2026 shows as a date in any row (no empty cells)
            sheet.column_dimensions[letter].number_format = FORMATS[col.kind]
        validation = _validation(kind, col, where.get(list_name) if list_name else None, settings)
        if validation is not None:
            sheet.add_data_validation(validation)
            validation.add(f"{letter}2:{letter}{LAST_ROW}")
    sheet.freeze_panes = "A2"
    last = get_column_letter(len(cols))
    # The example's mark: a hidden name scoped to this sheet, so that a copy of the sheet carries its own.
    sheet.defined_names[EXAMPLE_NAME] = DefinedName(
        EXAMPLE_NAME, attr_text=f"{quote_sheetname(sheet.title)}!$A$2:${last}$2", hidden=True,
        comment="kwanalytics: this row is the template's example and is never stored")
    for other in (instructions, lists_sheet):  # ingest reads every sheet whose header fits a table: not these
        other.defined_names[NOT_DATA_NAME] = DefinedName(NOT_DATA_NAME, attr_text=f"{quote_sheetname(other.title)}!$A$1",
                                                         hidden=True, comment="kwanalytics: not entries")
    wb.custom_doc_props.append(StringProperty(name="kwanalytics template", value=kind.name))
    wb.properties.creator = "kwanalytics"
    wb.properties.title = f"kwanalytics {kind.name} template"

    _write_instructions(instructions, kind, cols, lists)
    return wb


def _list_name(col, lists) -> str | None:
    if col.name in ROW_LISTS:
        return ROW_LISTS[col.name]
    if col.vocabulary and col.vocabulary in lists:
        return col.vocabulary
    if col.kind == "bool":
        return "yes_no"
    return None


def _example(kind: Kind, col, values: list[str] | None, day: date):
    if col.name == "target_id" and kind.table == "targets":
        return "T1"
    if values:
        return values[0]
    if col.name in kind.example:
        return kind.example[col.name]
    if col.kind == "date":
        return day
    if col.kind == "datetime":
        return datetime.combine(day, time(10, 15))
    if col.name in ROW_LISTS:
        return "S0001" if col.name == "student_id" else "T1"
    return None


def _validation(kind: Kind, col, source: str | None, settings: Settings) -> DataValidation | None:
    title = col.name.replace("_", " ")[:32]
    message = prompt(kind.table, col)
    if source is not None:
        # An unpinned vocabulary accepts other words (ingest reports them); a pinned one, a pupil or a target
        # must come from the list.
        strict = col.name in ROW_LISTS or col.kind == "bool" or (
            col.vocabulary is not None and settings.vocabularies[col.vocabulary].pinned)
        dv = DataValidation(type="list", formula1=f"={source}", allow_blank=True,
                            errorStyle="stop" if strict else "warning",
                            error="Pick a value from the list." if strict else
                            "This is not in the school's list. Keep it only if you mean a new choice.",
                            errorTitle="Not in the list")
    elif col.kind in ("date", "datetime"):
        dv = DataValidation(type="date", operator="between", formula1="DATE(2000,1,1)", formula2="DATE(2100,12,31)",
                            allow_blank=True, error=message, errorTitle="Not a date")
    elif col.kind == "time":
        dv = DataValidation(type="time", operator="between", formula1="0", formula2="0.999988425925926",
                            allow_blank=True, error=message, errorTitle="Not a time")
    elif col.kind in ("int", "float"):
        low = col.checks.get("greater_than_or_equal_to")
        high = col.checks.get("less_than_or_equal_to")
        kind_word = "whole" if col.kind == "int" else "decimal"
        if low is not None and high is not None:
            dv = DataValidation(type=kind_word, operator="between", formula1=f"{low:g}", formula2=f"{high:g}")
        elif low is not None:
            dv = DataValidation(type=kind_word, operator="greaterThanOrEqual", formula1=f"{low:g}")
        else:
            dv = DataValidation(type=kind_word, operator="between", formula1="-1E+15", formula2="1E+15")
        dv.allow_blank, dv.error, dv.errorTitle = True, message, "Not a number"
    elif message:
        dv = DataValidation(type=None, allow_blank=True)  # no check, only the input message
    else:
        return None
    dv.showInputMessage = True
    dv.showErrorMessage = source is not None or col.kind not in ("text", "id", "category")
    dv.promptTitle, dv.prompt = title, message
    return dv


def _write_instructions(sheet, kind: Kind, cols, lists: dict[str, list[str]]) -> None:
    first = kind.sheet
    lines = [
        (f"How to fill in this {kind.name} workbook", True),
        (f"One row on the '{first}' sheet is {kind.one_row}.", False),
        ("Row 1 holds the column names: leave them as they are.", False),
        ("Row 2 is an example. kwanalytics knows it is the example and never stores it, so you can leave it or "
         "delete it. Type your own entries from row 3 down.", False),
        ("Copying the example's values into a row below is fine: that row is then a real entry.", False),
        ("Where a cell has a list, click the cell and then its arrow to pick. Dates are typed like 03/02/2026, "
         "times like 09:30. A message appears when you click a cell to say what it needs.", False),
        (f"You can copy the '{first}' sheet (right-click its tab, Move or Copy) to keep one a week or one a "
         "pupil: every copy is read.", False),
        ("When you have finished, save the file as .xlsx and put it in the data/raw folder, then run "
         "kwa ingest. Rows with a problem are listed in reports/validation.html, with what to fix; the rest are "
         "stored.", False),
        ("Adding more rows later and running kwa ingest again is fine: rows already stored are not stored twice.",
         False),
        ("The Lists sheet holds the choices for the dropdowns, from the school's vocabularies.yaml and the pupils "
         "on record. To change them, edit vocabularies.yaml (or ingest the students export) and make a new "
         "template with kwa template.", False),
        ("", False),
        ("What each column needs", True),
    ]
    if not lists.get(ROW_LISTS["student_id"], [1]):
        lines.insert(4, ("This template was made without a list of pupils: type each pupil's id. Make it again "
                         "with kwa template --workspace <folder> once the students export has been ingested to get "
                         "a dropdown of pupils.", False))
    for r, (text, bold) in enumerate(lines, start=1):
        cell = sheet.cell(r, 1, text)
        cell.font = Font(bold=bold, size=13 if bold and r == 1 else 11)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    r = len(lines) + 1
    for label, col in cols:
        needs = prompt(kind.table, col) or "Free text."
        sheet.cell(r, 1, f"{label}: {needs}" + (" Required." if col.required else "")).alignment = \
            Alignment(wrap_text=True)
        r += 1
    sheet.column_dimensions["A"].width = 110


def template_bytes(wb: Workbook) -> bytes:
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def write_template(kind_name: str, out, workspace, today: date | None = None) -> tuple[Path, int]:
    """`kwa template`: the workbook for ``kind_name`` written to ``out``, its lists from the workspace (its
    vocabularies, its stored pupils and targets). Returns the path written and how many pupils it lists."""
    from kwanalytics.store import atomic_write
    from kwanalytics.workspace import load_workspace

    kind = kind_of(kind_name)
    out = Path(out)
    if out.suffix.lower() != ".xlsx":
        raise InputError(f"--out {out}: the template is an Excel workbook, so its name must end in .xlsx "
                         f"(e.g. --out {out.with_suffix('.xlsx').name}).")
    if out.is_dir():
        raise InputError(f"--out {out} is a folder: give a file name ending in .xlsx.")
    ws = load_workspace(workspace, tables=["students", "targets"])
    wb = build_template(kind.name, ws.settings, ws.tables["students"], ws.tables["targets"], today)
    data = template_bytes(wb)
    try:
        atomic_write(out, lambda tmp: Path(tmp).write_bytes(data))
    except OSError as exc:
        raise InputError(f"--out {out} cannot be written ({exc.strerror or exc}). Check that the folder exists "
                         "and that you may write there, and close the file if it is open in Excel.") from None
    return out, len(pupil_entries(ws.tables["students"], on=today))
