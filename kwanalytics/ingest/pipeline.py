"""`kwa ingest` and `kwa validate`: every export under data/raw into the processed store, losing nothing.

Stages (docs/design.md, "The flow"): ``readers`` turns each file into text cells; ``profiles`` recognises its
(profile, table) from the header row; ``parsing`` types each column; ``validate`` checks the contract, the
vocabularies and the rules between tables. Every input row then ends in exactly one place:

* accepted -> data/processed/<table>.parquet (merged with stored rows whose key no file provides now),
* rejected -> data/processed/rejected/<table>.csv with the file, the row as a spreadsheet numbers it (header = 1),
  the original cells and the reason (column, value, what was expected, how to fix),
* an exact duplicate of an accepted row (same key, same content): counted, stored once,
* skipped: rows a profile says are not this table's (Class Charts praise points are not incidents), and rows
  below the header that hold no record (blank padding, a total or footer line, a template's example row),
  each counted under its reason.

so that for every file (each sheet of a workbook: a part of its own) rows_read = accepted + rejected +
duplicates + skipped. Every file under data/raw is named in the summary: read, or refused with the reason. The same key with different
content is two versions of a record: the newer export's is kept and the older counted as skipped (replaced), each
listed in validation.html; an export's date is the one it states about itself ("Exported on ...", "Report date:
...") else the file's modification time. Two versions in one file, or in exports of the same minute, are a
conflict: the later row (in file name order) is rejected, naming both places.
"""

from __future__ import annotations

import json
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from kwanalytics import audit
from kwanalytics.schema.contracts import TABLES, empty_frame
from kwanalytics.errors import KwaError, WorkspaceError
from kwanalytics.ingest.habits import decide_date_order, decide_decimal, everyday_datetime
from kwanalytics.ingest.parsing import map_distinct, parse_column
from kwanalytics.ingest.people import name_key, name_keys, restore_zeros, split_names
from kwanalytics.schema.profiles import Recognition, TableMapping, load_profiles, recognise, select_profiles
from kwanalytics.ingest.readers import EXCEL_ERRORS, NO_RECORDS, NO_RECORDS_ROW, RawExport, UnreadableFile, read_parts
from kwanalytics.ingest.template_marks import EXAMPLE_REASON, NOT_DATA_REASON, Marks, read_marks
from kwanalytics.safety import to_safe_csv
from kwanalytics.ingest.risk_assessments import community_sessions_without_ra
from kwanalytics.settings import fold, load_settings
from kwanalytics.store import atomic_write, atomic_write_text, processed_dir, raw_dir, read_table, reports_dir, write_table
from kwanalytics.ingest.validate import (Problems, VocabularyNote, derive_period, isin, parse_problems,
                       schema_problems, spread, vocabulary_problems)


MAX_REPLACED_LISTED = 200  # per file in the summary; validation.html lists the same


@dataclass
class FileResult:
    """One file's accounting; a workbook has one per sheet read (``sheet`` set), each with its own counts."""

    path: str
    table: str | None = None
    profile: str | None = None
    rows_read: int = 0
    accepted: int = 0
    rejected: int = 0
    duplicates: int = 0
    skipped: int = 0
    warnings: list[str] = field(default_factory=list)
    error: str | None = None  # set when the file could not be read at all
    sha256: str | None = None  # of the bytes read (the audit log's)
    sheet: str | None = None
    read_as: str = ""
    header_row: int | None = None
    skipped_because: dict[str, int] = field(default_factory=dict)  # reason -> rows
    exported_at: pd.Timestamp | None = None  # when the export was made: newer versions of a record win
    exported_from: str = ""  # "stated in the export" or "the file's modification time"
    replaced: list[dict] = field(default_factory=list)  # this file's rows a newer export's version replaced
    split: list[dict] = field(default_factory=list)  # rows naming several pupils, each read as one per pupil
    duplicate_rows: list[dict] = field(default_factory=list)  # key, row, copy_of: where the copy kept is
    left_alone: bool = False  # a system file (Thumbs.db) or a lone Excel lock note: named, not read

    @property
    def status(self) -> str:
        return "refused" if self.error else "left alone" if self.left_alone else "read"

    @property
    def name(self) -> str:
        """The file, and the sheet for a workbook's part: how the terminal and the report name it."""
        return f"{self.path} [{self.sheet}]" if self.sheet else self.path

    def skip(self, reason: str, rows: int) -> None:
        if rows:
            self.skipped += rows
            self.skipped_because[reason] = self.skipped_because.get(reason, 0) + rows

    def summary(self) -> dict:
        return {"path": self.path, **({"sheet": self.sheet} if self.sheet else {}), "status": self.status,
                "read_as": self.read_as, "table": self.table, "profile": self.profile,
                **({"header_row": self.header_row} if self.header_row else {}), "rows_read": self.rows_read,
                "accepted": self.accepted, "rejected": self.rejected, "duplicates": self.duplicates,
                "skipped": self.skipped, "skipped_because": dict(self.skipped_because),
                **({"exported_at": f"{self.exported_at:%Y-%m-%d %H:%M}", "exported_at_from": self.exported_from}
                   if self.exported_at is not None else {}),
                **({"replaced": self.replaced[:MAX_REPLACED_LISTED]} if self.replaced else {}),
                **({"split": self.split[:MAX_REPLACED_LISTED]} if self.split else {}),
                **({"duplicate_rows": self.duplicate_rows[:MAX_REPLACED_LISTED]} if self.duplicate_rows else {}),
                "warnings": list(self.warnings), **({"error": self.error} if self.error else {})}


@dataclass
class IngestResult:
    exit_code: int
    files: list[FileResult]
    tables: dict[str, int] = field(default_factory=dict)  # table -> rows stored after the merge
    rejected: dict[str, pd.DataFrame] = field(default_factory=dict)
    vocabulary: list[VocabularyNote] = field(default_factory=list)
    warnings: list[dict] = field(default_factory=list)  # accepted rows with a warning: file, row, message

    @property
    def summary(self) -> dict:
        return {"files": [f.summary() for f in self.files], "exit_code": self.exit_code}

    @property
    def versions(self) -> list[dict]:
        """Each record held by more than one export in different versions: the version kept (the newer
        export's) and the one it replaced, for validation.html."""
        return [{"table": f.table, "key": r["key"], "kept": r["kept"],
                 "replaced": f"{f.name} row {r['row']}" + (f" (exported {f.exported_at:%d/%m/%Y %H:%M}, "
                                                           f"{f.exported_from})" if f.exported_at is not None else "")}
                for f in self.files for r in f.replaced]

    @property
    def duplicate_rows(self) -> list[dict]:
        """Each exact copy of a row (stored once) with where the copy kept is, for validation.html; ``more`` per
        file counts the copies past those listed."""
        return [{"table": f.table, "file": f.name, "total": f.duplicates, "rows": f.duplicate_rows}
                for f in self.files if f.duplicates]


@dataclass
class Batch:
    """One file's rows for one table, parsed: the typed frame plus where each row came from."""

    result: FileResult
    export: RawExport
    mapping: TableMapping
    frame: pd.DataFrame  # canonical columns, typed
    rows: np.ndarray  # spreadsheet row numbers
    problems: Problems
    original: pd.DataFrame  # the original cells, named by header
    extra: dict = field(default_factory=dict)


# ------------------------------------------------------------------------------------------------ finding files

def find_exports(workspace) -> tuple[list[Path], dict[Path, str]]:
    """Every file under data/raw (recursive, sorted; hidden ones aside), and notes for files left alone (Excel
    lock files). Each is read, or refused with its reason: nothing there is passed over without a word."""
    root = raw_dir(workspace)
    notes: dict[Path, str] = {}
    if not root.is_dir():
        return [], notes
    files = []
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if not path.is_file():
            continue
        if path.name.startswith("~$"):
            real = path.with_name(path.name[2:])
            notes[real] = (f"{real.name} seems to be open in Excel (its lock file {path.name} is next to it): "
                           "save and close it before ingesting, or the export may be incomplete.")
            continue
        if any(part.startswith(".") for part in rel.parts):
            continue
        if path.name.lower() in SYSTEM_FILES:
            notes[path] = (f"{path.name} is {SYSTEM_FILES[path.name.lower()]}, not an export: left alone.")
            continue
        if path.stem.lower() == "readme" and path.suffix.lower() in FOLDER_NOTES:
            notes[path] = f"{path.name} is a note about this folder, not an export: left alone."
            continue
        files.append(path)
    return files, notes


# Files an operating system leaves in any folder: named in the summary, never read or refused.
SYSTEM_FILES = {"thumbs.db": "a file Windows keeps for picture thumbnails", "desktop.ini": "a Windows folder setting",
                "ehthumbs.db": "a file Windows keeps for thumbnails"}
# A README beside the exports (the workspace ships data/raw/README.md) explains the folder: named, never read.
FOLDER_NOTES = {".md", ".txt", ""}


# ------------------------------------------------------------------------------------------------ one file

def _parse_batch(export: RawExport, rec: Recognition, result: FileResult, settings,
                 known_students: pd.DataFrame | None) -> Batch:
    mapping = rec.mapping
    table = TABLES[mapping.table]
    by_name = "student_name" in rec.columns.values() and "student_id" not in rec.columns.values() \
        and known_students is not None
    split = np.zeros(len(export.cells), dtype=bool)
    if by_name:
        lookup, ambiguous = name_keys(known_students)
        pos = next(p for p, c in rec.columns.items() if c == "student_name")
        if pos in export.cells:
            before = len(export.cells)
            export.cells, export.rows, split, done = split_names(export.cells, export.rows, pos, lookup, ambiguous)
            if done:  # one incident for each pupil named: the accounting counts each as a row read
                result.rows_read += len(export.cells) - before
                result.split = [{"row": r, "pupils": names} for r, names in done]
                shown = "; ".join(f"row {r}: {', '.join(names)}" for r, names in done[:5])
                result.warnings.append(f"{len(done)} row(s) name several pupils and were recorded as one "
                                       f"{mapping.table.rstrip('s')} for each ({shown}"
                                       + (", ..." if len(done) > 5 else "") + "); each copy's id is the "
                                       "row's id and the pupil's")
    n = len(export.cells)
    header = export.header
    original = export.cells.iloc[:, : len(header)].copy()
    original.columns = _unique_names(header)
    problems = Problems(n)
    # cells present under each mapped column
    cells = {name: export.cells[pos].reset_index(drop=True) if pos in export.cells else pd.Series(np.nan, index=range(n))
             for pos, name in rec.columns.items()}
    base = empty_frame(mapping.table)
    columns = {}
    skip_null = {}
    signed_skip = np.zeros(n, dtype=bool)
    broken = _excel_errors(original, problems)
    _join_merged_datetime(export, rec, cells, table)
    # decided once for the file, from all of it (ingest/habits.py)
    decimal = decide_decimal([cells[c] for c in cells if c in table.columns and table.columns[c].kind
                              in ("int", "float")], mapping.decimal)
    order = decide_date_order([cells[c] for c in cells if c in table.columns and table.columns[c].kind
                               in ("date", "datetime")], mapping.date_order)
    result.warnings.extend(d.said for d in (decimal, order) if d.said)
    for name, col in table.columns.items():
        if name not in cells:
            columns[name] = pd.Series(index=pd.RangeIndex(n), dtype=base[name].dtype)  # all missing
            continue
        raw = cells[name]
        pos = next(p for p, c in rec.columns.items() if c == name)
        if pos in broken:  # the error is the row's reason: not a second one about the same cell's type
            raw = raw.where(~broken[pos])
        if mapping.transforms.get(name) == "with_time" and "time" in cells:
            raw = with_time(raw, cells["time"])
        if mapping.transforms.get(name) == "signed" and col.kind in ("int", "float"):
            sign = parse_column(raw, "float").values
            if (sign < 0).any():  # a signed scale: the positives are not incidents, the negatives' size is read
                signed_skip |= (sign > 0).fillna(False).to_numpy(dtype=bool)
                raw = raw.astype("str").str.strip().str.lstrip("-")
        if mapping.transforms.get(name) == "abs" and col.kind in ("int", "float"):
            raw = raw.astype("str").str.strip().str.lstrip("+-")
        if mapping.transforms.get(name) == "listed":  # "S0001 – Callum Stevens" from a template's dropdown
            raw = map_distinct(raw, listed_id)
            if name == "student_id" and known_students is not None:
                raw = typed_names(raw, known_students)
        if name in mapping.values:
            table_values = mapping.values[name]
            raw = map_distinct(raw, lambda v: table_values.get(fold(v), v))
        parsed = parse_column(raw, col.kind, day_first=order.value == "day_first", decimal=decimal.value,
                              timezone=settings.school.school_day.timezone)
        values = parsed.values.set_axis(range(n))
        columns[name] = values.astype("datetime64[us]") if col.kind in ("date", "datetime") else values
        parse_problems(raw, col, parsed.bad, problems)
        skip_null[name] = parsed.bad.to_numpy() | broken.get(pos, False)
    # built once (no all-empty frame filled column by column) and without copying: copy-on-write protects them
    frame = pd.DataFrame(columns, index=pd.RangeIndex(n), copy=False)
    extra = {name: cells[name] for name in mapping.extra if name in cells}
    extra |= {f"raw {name}": cells[name] for name in mapping.skip_above if name in cells}  # before any transform
    # rows with more cells than the header: the row is shifted, so no cell can be trusted
    if export.ragged:
        rag = np.isin(export.rows, np.fromiter(export.ragged, dtype=np.int64))
        problems.add(rag, f"the row has more cells than the header ({len(header)} columns): a comma or a line "
                     "break inside a cell may be unquoted. Fix the row in the export and run ingest again.")
    # pupil found by name when the export has no pupil id (Class Charts, CPOMS)
    if "student_name" in extra and by_name:
        names = extra["student_name"].astype("str").str.strip()
        folded = map_distinct(names, name_key)
        frame["student_id"] = folded.map(lookup).astype("str")
        amb = isin(folded, list(ambiguous))
        unknown = names.notna().to_numpy() & frame["student_id"].isna().to_numpy() & ~amb
        problems.add_each(amb, names, "student: ", " is the name of more than one pupil in the students table. "
                          "Add a pupil id column to the export (or make the names unique).")
        problems.add_each(unknown, names, "student: no pupil called ", " in the students table. Check the "
                          "spelling, or add the pupil to the students export.")
        skip_null["student_id"] = amb | unknown
        if split.any() and table.key in cells:  # the split row's id, made the pupil's own: stable across runs
            key = frame[table.key]
            frame[table.key] = key.where(~split, key.astype("str") + "-" + frame["student_id"].astype("str"))
    # period from the time of day when the export gives none
    if mapping.table == "incidents" and frame["period"].isna().any():
        frame["period"] = frame["period"].where(frame["period"].notna(), derive_period(frame["occurred_at"], settings))
    # rules inside one row: an enrolment ends on or after it starts; a pupil leaves on or after admission
    for table, start, end, what in (("interventions", "started_on", "ended_on", "an enrolment ends on or after it starts"),
                                    ("students", "admitted_on", "left_on", "a pupil leaves on or after admission")):
        if mapping.table != table:
            continue
        backwards = (frame[end] < frame[start]).fillna(False).to_numpy()
        problems.add(backwards, f"{end}: " + "'" + frame[end].dt.strftime("%d/%m/%Y").fillna("") + "' is "
                     f"before {start} '" + frame[start].dt.strftime("%d/%m/%Y").fillna("") + f"': {what}. "
                     "Correct the dates in the export.")
    result.warnings.extend(export.notes)
    return Batch(result, export, mapping, frame, export.rows, problems, original,
                 extra | {"skip_null": skip_null, "signed_skip": signed_skip})


REPLACED = "an older version of a record that a newer export holds (the newer one is kept)"


def _export_minute(result: "FileResult") -> int:
    """When the file was exported, to the minute (files copied or written together tie, and keep name order)."""
    stamp = result.exported_at
    return -2**62 if stamp is None else int(pd.Timestamp(stamp).floor("min").value)


def exported_at(export: RawExport, path: Path, timezone: str) -> tuple[pd.Timestamp | None, str]:
    """The date the export states about itself (a title or footer line such as "Exported on 02/12/2025 09:30" or
    "Report date: 2 Dec 2025"), else the file's modification time; and which of the two it is."""
    lines = list(export.title) + [" ".join(c for c in f.cells if c) for f in export.furniture]
    for line in lines:
        m = STATED_DATE.search(line)
        if m:
            stamp = everyday_datetime(m.group(1).strip(" .,"), day_first=True, timezone=timezone)
            if pd.notna(stamp):
                return pd.Timestamp(stamp), "stated in the export"
            for candidate in DATE_IN_TEXT.findall(m.group(1)):
                stamp = everyday_datetime(candidate, day_first=True, timezone=timezone)
                if pd.notna(stamp):
                    return pd.Timestamp(stamp), "stated in the export"
    try:
        return pd.Timestamp(path.stat().st_mtime, unit="s", tz="UTC").tz_convert(timezone).tz_localize(None), \
            "the file's modification time"
    except OSError:
        return None, ""


STATED_DATE = re.compile(r"\b(?:exported|report\s+date|date\s+of\s+report|printed|generated|run\s+date|"
                         r"produced|created)\b(?:\s+(?:on|at|by\s+.*?\s+on))?\s*[:\-]?\s*(.+)$", re.IGNORECASE)
DATE_IN_TEXT = re.compile(r"\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2})?)?|\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}"
                          r"(?:\s+\d{1,2}[:.]\d{2})?|\d{1,2}\s+[A-Za-z]{3,9}\s+\d{4}(?:\s+\d{1,2}[:.]\d{2})?")


def _duplicate_headers(header: list[str], mapping) -> list[str]:
    """'two columns called 'Date' (columns C and F)' for each header spelling a mapped column that appears twice."""
    from openpyxl.utils import get_column_letter  # only when a header is doubled: not on ingest's start-up

    seen: dict[str, list[int]] = {}
    for pos, cell in enumerate(header):
        if cell.strip() and fold(cell) in mapping.headers:
            seen.setdefault(fold(cell), []).append(pos)
    return [f"{len(p)} columns called '{header[p[0]]}' (columns " + " and ".join(get_column_letter(i + 1) for i in p) + ")"
            for p in seen.values() if len(p) > 1]


def _says_no_records(export: RawExport) -> bool:
    """A report that found nothing: "No records found" under its title lines, and no header printed."""
    if len(export.cells) > NO_RECORDS_TITLE_LINES:
        return False
    if any(f.reason == NO_RECORDS_ROW for f in export.furniture):
        return True
    lines = [" ".join(export.header)] + [" ".join(str(c) for c in row if isinstance(c, str))
                                         for row in export.cells.itertuples(index=False)]
    return any(NO_RECORDS.match(line) for line in lines)


NO_RECORDS_TITLE_LINES = 20  # more lines than a title block above "No records found" is not an empty report


def _join_merged_datetime(export: RawExport, rec: Recognition, cells: dict, table) -> None:
    """A date-time header merged over a date column and a time column ("Incident Datetime" over two cells):
    the header cell after it is empty and its cells are times; each row's two cells are read as one."""
    for pos, name in rec.columns.items():
        col = table.columns.get(name)
        nxt = pos + 1
        if col is None or col.kind != "datetime" or nxt >= len(export.header) or export.header[nxt].strip():
            continue
        if nxt not in export.cells or nxt in rec.columns:
            continue
        times = export.cells[nxt].reset_index(drop=True)
        present = times.notna() & times.astype("str").str.strip().ne("")
        if not present.any():
            continue
        clock = times[present].astype("str").str.strip()
        looks = clock.str.match(r"^\d{1,2}[:.]\d{2}(?:[:.]\d{2})?(?:\s*[ap]\.?m\.?)?$", case=False)
        if not looks.all():
            continue
        day = cells[name].astype("str").str.strip()
        # a date read from Excel as midnight ("2025-10-06" or "... 00:00:00") takes the time beside it
        day = day.str.replace(r"\s+00:00(?::00)?$", "", regex=True)
        cells[name] = day.where(~present.to_numpy(), day + " " + times.astype("str").str.strip()).where(
            cells[name].notna())
        export.notes.append(f"'{export.header[pos]}' is written over two columns (a date and a time): "
                            "each row's date and time were read together")


def _excel_errors(original: pd.DataFrame, problems: Problems) -> dict[int, np.ndarray]:
    """Cells that show an Excel error (#REF!, #N/A, ...): each rejects its row naming the column and the error,
    never read as a blank or as text. Returns header position -> rows holding one."""
    out = {}
    for pos in range(original.shape[1]):
        col = original.iloc[:, pos]
        if col.dtype == "str":  # most columns hold no "#" at all: one fast pass on the Arrow array says so
            if not pc.any(pc.starts_with(col.array.__arrow_array__(), "#")).as_py():
                continue
            hit = isin(col, EXCEL_ERRORS)
        else:
            hit = col.isin(EXCEL_ERRORS).to_numpy(dtype=bool)
        if hit.any():
            out[pos] = hit
            problems.add_each(hit, col, f"{original.columns[pos]}: the cell shows Excel's error ",
                              " (a formula that failed), not a value. Correct the formula or type the value in "
                              "the spreadsheet, and export again.")
    return out


def with_time(dates: pd.Series, times: pd.Series) -> pd.Series:
    """SIMS' separate Date and Time cells as one date-and-time text ("06/10/2025" and "10:05" -> "06/10/2025
    10:05"); a date whose cell already carries a midnight time (Excel's date cells) loses it first, a date that
    carries its own time of day keeps it, and a row with no time keeps its date alone."""
    day = dates.astype("str").str.strip().str.replace(r"[ T]00:00(:00)?$", "", regex=True)
    clock = times.astype("str").str.strip()
    has = clock.notna() & clock.ne("") & day.notna() & ~day.str.contains(":", regex=False).fillna(False)
    return day.where(~has, day + " " + clock)


def listed_id(entry: str) -> str:
    """The id of an entry picked from a template's list, "S0001 – Callum Stevens" -> "S0001" (the text as it is
    when it has no " – ")."""
    return str(entry).split(" – ", 1)[0].strip()


def typed_names(ids: pd.Series, students: pd.DataFrame) -> pd.Series:
    """A pupil typed by name in a template's Pupil column ("Callum Stevens", "Stevens, Callum") instead of
    picked from its list, read as that pupil's id. An id stays as it is; a name that is no one's, or more than
    one pupil's, stays as typed and is refused as an unknown pupil, named with its row."""
    known = set(students["student_id"].astype("str"))
    lookup, ambiguous = name_keys(students)

    def one(text):
        text = str(text)
        key = name_key(text)
        return text if text in known or key in ambiguous else lookup.get(key, text)

    return map_distinct(ids, one)


def _unique_names(header: list[str]) -> list[str]:
    seen, out = {}, []
    for i, h in enumerate(header):
        name = h or f"column {i + 1}"
        if name in ("file", "row", "reason"):  # the rejected file's own columns
            name = f"{name} (export)"
        if name in seen:
            seen[name] += 1
            name = f"{name} ({seen[name]})"
        else:
            seen[name] = 1
        out.append(name)
    return out


def _derive_key(frame: pd.DataFrame, table: str) -> pd.Series:
    """A stable id from the row's content (Table.derive_key_from, or every column): same row, same id."""
    t = TABLES[table]
    cols = list(t.derive_key_from) or [c for c in frame.columns if c != t.key]
    hashed = pd.util.hash_pandas_object(pd.DataFrame({c: _as_text(frame[c]) for c in cols}), index=False)
    head = np.frombuffer(("".join(w[0] for w in table.split("_")).upper() + "-").encode("ascii"), dtype=np.uint8)
    # Every id is the prefix and 16 hex digits, so all of them are written into one buffer of fixed-width rows
    # that becomes an Arrow string array as it is (no Python string per row).
    n, width = len(hashed), len(head) + 16
    text = np.empty((n, width), dtype=np.uint8)
    text[:, : len(head)] = head
    text[:, len(head):] = np.frombuffer(hashed.to_numpy().astype(">u8").tobytes().hex().encode("ascii"),
                                        dtype=np.uint8).reshape(n, 16)
    offsets = np.arange(0, (n + 1) * width, width, dtype=np.int32)
    ids = pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(text))
    return pd.Series(pd.array(ids, dtype="str"), index=frame.index)


def _as_text(values: pd.Series) -> pd.Series:
    """``values.astype("str")``, but dates, whole numbers and yes/no formatted once per distinct value (a year
    of ratings has a few hundred dates): the same text, so a derived id never changes between runs or versions."""
    if values.dtype.kind != "M" and str(values.dtype) not in ("Int64", "boolean"):
        return values.astype("str")
    codes, uniques = pd.factorize(values, use_na_sentinel=True)  # a missing value stays missing
    return spread(codes, pd.Series(uniques).astype("str").tolist(), values.index)


def _content_hash(frame: pd.DataFrame) -> np.ndarray:
    return pd.util.hash_pandas_object(frame, index=False).to_numpy()


# ------------------------------------------------------------------------------------------------ the run

def run_ingest(workspace, profile: str | None = None, write: bool = True, rebuild: bool = False,
               console=None) -> IngestResult:
    """Read, validate and (``write``) store every export under WORKSPACE/data/raw; see the module docstring.

    Returns the per-file counts and the exit code: 0 every row accepted, 1 some rows rejected, 2 some file
    could not be read at all. The validation report is always written; ``write=False`` writes nothing else.
    """
    workspace = Path(workspace)
    settings = load_settings(workspace)
    mappings = select_profiles(load_profiles(settings), profile)
    files, lock_notes = find_exports(workspace)
    if not files and not lock_notes:
        raise WorkspaceError(f"There are no exports to read: {raw_dir(workspace)} holds no file. "
                             "Put your school's exports there (or run `kwa demo` for a synthetic school) and run "
                             "the command again.")
    root = raw_dir(workspace)
    results, exports = _read_exports(files, lock_notes, root, mappings, settings.school.school_day.timezone)

    stored = {t: (empty_frame(t) if rebuild else _read_stored(workspace, t)) for t in TABLES}
    accepted: dict[str, pd.DataFrame] = {}
    rejected: dict[str, list[pd.DataFrame]] = {t: [] for t in TABLES}
    vocab_notes: list[VocabularyNote] = []
    done, warnings = _settle_tables(exports, settings, stored, workspace, write)
    stored_rows = {}
    for table in TABLES:  # results in TABLES order, whatever order the threads finished in
        if done.get(table) is not None:
            accepted[table], rejected[table], notes, n = done[table]
            vocab_notes.extend(notes)
            if n is not None:
                stored_rows[table] = n

    code = 2 if any(r.error for r in results) else (1 if any(r.rejected for r in results) else 0)
    result = IngestResult(code, results, vocabulary=vocab_notes, warnings=warnings,
                          rejected={t: pd.concat(v, ignore_index=True) for t, v in rejected.items() if v})
    if write:
        result.tables.update(stored_rows)
        _store(workspace, accepted, result, rebuild)
        _write_summary(workspace, result)
        audit.record(workspace, "ingest", files=[{**r.summary(), "sha256": r.sha256 or _sha(root / r.path)}
                                                 for r in results],
                     exit_code=code, rebuild=rebuild)
    from kwanalytics.ingest.validation_report import write_validation_report

    write_validation_report(workspace, result)
    if console is not None:
        _print(console, result, workspace, write)
    return result


def _read_exports(files: list[Path], lock_notes: dict[Path, str], root: Path, mappings,
                  timezone: str) -> tuple[list, list]:
    """Every file read, two at a time, and each part recognised: the per-file results (read, refused or left
    alone) and the parts whose rows are to be parsed, with their recognition."""
    results: list[FileResult] = []
    exports: list[tuple[RawExport, Recognition, FileResult]] = []

    known_headers: dict[tuple, bool] = {}
    spellings = {h for m in mappings for h in m.headers}

    def fits(header: list[str]) -> bool:
        """Whether a profile recognises the header. Asked of every title line and, in a sheet that is no
        table (a workbook's lists), of many rows: a row with no known header spelling is none, and answers
        are remembered."""
        key = tuple(header)
        if key not in known_headers:
            known_headers[key] = any(fold(c) in spellings for c in header if c) and \
                recognise(header, mappings).mapping is not None
        return known_headers[key]

    def read(path):
        try:
            return read_parts(path, recognise=fits)
        except UnreadableFile as exc:
            return exc

    # Two files at a time: Arrow's CSV parser and the Excel reader do much of their work outside Python's lock.
    # Costliest first, so that the two threads finish together: a workbook costs about as much as a CSV fifty
    # times its size.
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {path: pool.submit(read, path) for path in sorted(files, key=_read_cost, reverse=True)}
        reads = [futures[path].result() for path in files]
    for path, parts in zip(files, reads):
        rel = str(path.relative_to(root))
        if isinstance(parts, UnreadableFile):
            result = FileResult(rel, error=str(parts))
            results.append(result)
            if path in lock_notes:
                result.warnings.append(lock_notes.pop(path))
            continue
        marks = read_marks(path) if path.suffix.lower() == ".xlsx" else Marks()
        instructions = [p.sheet for p in parts if p.sheet in marks.not_data]
        if instructions:  # a template's Instructions and Lists sheets are never records, whatever they say
            parts = [p for p in parts if p.sheet not in marks.not_data]
            note = "sheet(s) " + ", ".join(f"'{s}'" for s in instructions) + f" not read: {NOT_DATA_REASON}"
            if parts:
                parts[0].notes.append(note)
            else:
                results.append(FileResult(rel, warnings=[note]))
        for export in parts:
            result = FileResult(rel, sheet=export.sheet, read_as=export.read_as, sha256=export.sha256)
            results.append(result)
            if path in lock_notes:
                result.warnings.append(lock_notes.pop(path))
            rec = recognise(export.header, mappings)
            if _account_part(path, export, rec, result, marks, timezone):
                exports.append((export, rec, result))
    for path, note in lock_notes.items():  # files left alone (and lock files whose workbook is not there)
        results.append(FileResult(str(path.relative_to(root)), warnings=[note], left_alone=True))

    return results, exports


def _account_part(path: Path, export: RawExport, rec: Recognition, result: FileResult, marks: Marks,
                  timezone: str) -> bool:
    """Account for one part of a file (a sheet, or the whole text file): an empty export read as such, an
    unknown or doubled header refused with what to do, else its rows and furniture counted. True when its rows
    are to be parsed."""
    if rec.mapping is None and _says_no_records(export):
        # "No records found" under a title and no header: an empty export, read, with nothing in it
        result.rows_read = export.rows_read
        for f in export.furniture:
            result.skip(f.reason, 1)
        result.skip(NO_RECORDS_ROW, len(export.cells))
        result.warnings.append(f"{path.name}: the export says it found no records; nothing to store")
        return False
    if rec.mapping is None:
        shown = ", ".join(f"'{h}'" for h in export.header[:12] if h) or "(nothing)"
        closest = (f" It looks most like a {rec.closest.table} export ({rec.closest.profile} profile) but has "
                   "no " + ", ".join(rec.missing) + " column." if rec.closest is not None and rec.missing
                   else "")
        where = f"{path.name}, sheet '{export.sheet}'" if export.sheet else path.name
        result.error = (f"{where}: the header row ({shown}) does not match any known export.{closest} "
                        "Rename the header cells to the names in schemas/profiles/generic.yaml, or add the "
                        "spellings to a profile there.")
        result.warnings.extend(export.notes)
        return False
    twice = _duplicate_headers(export.header, rec.mapping)
    if twice:
        where = f"{path.name}, sheet '{export.sheet}'" if export.sheet else path.name
        result.error = (f"{where}: the header row (row {export.header_row}) has " + "; ".join(twice)
                        + ". Which one holds the values cannot be known: rename or remove one of them in "
                        "the export and run ingest again.")
        result.warnings.extend(export.notes)
        return False
    result.table, result.profile = rec.mapping.table, rec.mapping.profile
    result.header_row = export.header_row
    result.exported_at, result.exported_from = exported_at(export, path, timezone)
    if export.sheet is not None:  # a template's example row, known from the workbook, not from its values
        export.set_aside(marks.examples.get(export.sheet, ()), EXAMPLE_REASON)
    result.rows_read = export.rows_read
    for f in export.furniture:
        result.skip(f.reason, 1)
    return True


def _settle_tables(exports: list, settings, stored: dict, workspace: Path, write: bool) -> tuple[dict, list]:
    """Parse, settle and (``write``) store every table, the tables each one's rules look up settled first:
    {table: (accepted, rejected, vocabulary notes, rows stored) or None}, and the session warnings."""
    batches: dict[str, list[Batch]] = {t: [] for t in TABLES}

    def table_done(table, known: dict):
        """Parse, settle and (``write``) store one table; ``known``: the tables its rules look up, settled."""
        for export, rec, result in exports:
            if rec.mapping.table == table:
                batches[table].append(_parse_batch(export, rec, result, settings, _current(stored, known, "students")))
        if not batches[table]:
            return None
        settled = _settle(table, batches[table], settings, stored, known)
        # Stored as soon as it is settled, while the other thread is still parsing: nothing later changes it.
        return settled + (_store_table(workspace, table, stored, settled[0]) if write else None,)

    # Pupils first: every other table looks them up. Then the rest two at a time (Arrow's work runs outside
    # Python's lock), largest first; ratings look targets up, so they come straight after them.
    done = {"students": table_done("students", {})}
    known = {"students": done["students"][0]} if done["students"] else {}
    order = ["sessions", "targets", "risk_assessments"] + [
        t for t in TABLES if t not in ("students", "sessions", "targets", "risk_assessments")]
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {}
        for table in order:
            if table == "target_ratings":
                def ratings(targets=futures["targets"]):
                    settled = targets.result()
                    return table_done("target_ratings", known | ({"targets": settled[0]} if settled else {}))

                futures[table] = pool.submit(ratings)
            else:
                futures[table] = pool.submit(table_done, table, known)

        def warnings_job():  # submitted last, so every table it waits for is already being settled
            settled = {t: futures[t].result() for t in ("sessions", "risk_assessments")}
            return _warnings({t: d[0] for t, d in settled.items() if d is not None}, stored, batches, settings)

        warned = pool.submit(warnings_job)
        done.update({t: f.result() for t, f in futures.items()})
        warnings = warned.result()
    return done, warnings


def _read_cost(path: Path) -> int:
    try:
        size = path.stat().st_size
    except OSError:
        return 0
    return size * 50 if path.suffix.lower() == ".xlsx" else size


def _sha(path: Path) -> str | None:
    try:
        return audit.file_sha256(path)
    except OSError:
        return None


def _read_stored(workspace, table: str) -> pd.DataFrame:
    try:
        return read_table(workspace, table)
    except KwaError:
        return empty_frame(table)  # a damaged table is rebuilt from the exports (the message said so)


def _settle(table: str, batches: list[Batch], settings, stored, accepted):
    """Validate the table's batches together: contract, vocabulary, pupils and targets known, keys unique."""
    t = TABLES[table]
    frames, notes = [], []
    for b in batches:
        if b.mapping.skip or b.mapping.skip_above or b.extra["signed_skip"].any():
            skip = b.extra["signed_skip"].copy()
            for col, values in b.mapping.skip.items():
                src = b.extra.get(col)
                if src is not None:
                    skip |= isin(map_distinct(src, fold), list(values))
            for col, limit in b.mapping.skip_above.items():
                src = b.extra.get(f"raw {col}")
                if src is not None:
                    skip |= (parse_column(src, "float").values > limit).fillna(False).to_numpy(dtype=bool)
            b.extra["skip"] = skip
            b.result.skip(b.mapping.skip_reason, int(skip.sum()))
        # the key: derived from the row's content when the export has no key column (or, for a key that is not
        # required, an empty cell)
        missing_key = b.frame[t.key].isna()
        if t.key not in b.mapping.match(b.export.header).values() or not t.columns[t.key].required:
            if missing_key.any():
                b.frame.loc[missing_key, t.key] = _derive_key(b.frame, table)[missing_key]
        schema_problems(table, b.frame, b.problems, b.extra["skip_null"])
        where = (lambda i, b=b: f"{b.result.path} row {b.rows[i]}")  # built only for the rows a note names
        notes.extend(vocabulary_problems(table, b.frame, settings, b.problems, where, b.mapping.transforms))
        frames.append(b)
    # rules between tables
    students = _known(stored, accepted, "students", "student_id")
    targets = _known(stored, accepted, "targets", "target_id")
    for b in frames:
        if table != "students" and "student_id" in b.frame and students is not None:
            unknown = b.frame["student_id"].notna().to_numpy() & ~isin(b.frame["student_id"], students)
            zeros = restore_zeros(b.frame.loc[unknown, "student_id"], students) if unknown.any() else {}
            if zeros:  # "1234" for "001234": a spreadsheet read the id as a number and dropped its zeros
                fixed = b.frame["student_id"].map(zeros)
                hit = unknown & fixed.notna().to_numpy()
                b.frame.loc[hit, "student_id"] = fixed[hit]
                unknown &= ~hit
                shown = ", ".join(f"'{k}' as '{v}'" for k, v in list(zeros.items())[:5])
                b.result.warnings.append(f"{int(hit.sum())} row(s) give a pupil id that lost its leading zeros, "
                                         f"matched to the one pupil it can mean ({shown}). Format the id column "
                                         "as text in the spreadsheet so the zeros stay.")
            if unknown.any():
                b.problems.add_each(unknown, b.frame["student_id"], "student_id: ", " is not a pupil in the students "
                                    "table. Check the id, or add the pupil to the students export.")
        if table == "target_ratings" and targets is not None:
            unknown = b.frame["target_id"].notna().to_numpy() & ~isin(b.frame["target_id"], targets)
            if unknown.any():
                b.problems.add_each(unknown, b.frame["target_id"], "target_id: ", " is not a target in the targets "
                                    "table. Check the id, or add the target to the targets export.")
    # keys: exact duplicates are counted; an older export's version is replaced; other conflicts rejected naming
    # both places (first file/row wins)
    # Newer exports first, so that the newer version of a record is the one kept (ties keep file name order)
    newest_first = sorted(range(len(frames)), key=lambda i: -_export_minute(frames[i].result))
    parts = []
    for i in newest_first:
        b = frames[i]
        skip = b.extra.get("skip", np.zeros(len(b.frame), dtype=bool))
        ok = ~b.problems.mask() & ~skip
        part = b.frame if ok.all() else b.frame[ok]  # usually every row is fine: no copy by rows then
        parts.append(part.assign(__batch=i, __pos=np.flatnonzero(ok)))
    good = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0].reset_index(drop=True)
    cols = list(t.columns)
    # Keys that strictly increase (an export sorted by its id, the usual case) are all distinct: no factorize.
    if _ascending(good[t.key], strictly=True):
        codes = np.arange(len(good))
        first, repeated = np.ones(len(codes), dtype=bool), np.zeros(len(codes), dtype=bool)
    else:
        # One factorize of the key serves every question below. Codes are numbered in order of first
        # appearance, so a row is its key's first exactly when its code is one more than any code before it.
        codes = pd.factorize(good[t.key], use_na_sentinel=False)[0]
        first = np.ones(len(codes), dtype=bool)
        if len(codes):
            first[1:] = codes[1:] > np.maximum.accumulate(codes)[:-1]
        # content is compared only where a key repeats (hashing every row would cost seconds at a trust's size)
        repeated = np.bincount(codes, minlength=1)[codes] > 1 if len(codes) else first
    same = np.zeros(len(codes), dtype=bool)
    if repeated.any():
        pairs = pd.DataFrame({"key": codes[repeated], "hash": _content_hash(good.loc[repeated, cols])})
        same[repeated] = pairs.duplicated(keep="first").to_numpy()
    same &= ~first
    conflict = ~first & ~same
    if conflict.any():
        firsts = good[first].set_index(t.key, drop=False)
        for idx in np.flatnonzero(conflict):
            row = good.iloc[idx]
            orig = firsts.loc[row[t.key]]
            fb, tb = frames[int(orig["__batch"])], frames[int(row["__batch"])]
            differs = [c for c in cols if not (pd.isna(row[c]) and pd.isna(orig[c])) and str(row[c]) != str(orig[c])]
            here = f"{fb.result.name} row {int(fb.rows[int(orig['__pos'])])}"
            if _export_minute(fb.result) > _export_minute(tb.result):  # an older export's version: replaced
                pos = int(row["__pos"])
                tb.result.skip(REPLACED, 1)
                tb.result.replaced.append({"key": str(row[t.key]), "row": int(tb.rows[pos]), "kept": here,
                                           "differ": differs[:4]})
                continue
            tb.problems.add(np.arange(len(tb.frame)) == int(row["__pos"]),
                            f"{t.key}: '{row[t.key]}' is already used by {here} with different content "
                            f"({', '.join(differs[:4])} differ). Keep one of the two rows, or give this one its own id.")
    for i, b in enumerate(frames):
        in_b = good["__batch"].to_numpy() == i
        b.result.duplicates = int((same & in_b).sum())
    if same.any():
        _locate_duplicates(good, codes, first, same, frames, t.key)
    accepted_frame = (good[cols] if first.all() else good.loc[first, cols]).reset_index(drop=True)
    # rows rejected, with their original cells and reasons
    rej = []
    for b in frames:
        mask = b.problems.mask()
        skip = b.extra.get("skip", np.zeros(len(b.frame), dtype=bool))
        mask &= ~skip
        b.result.rejected = int(mask.sum())
        b.result.accepted = b.result.rows_read - b.result.rejected - b.result.duplicates - b.result.skipped
        if mask.any():
            idx = np.flatnonzero(mask)
            out = b.original.iloc[idx].reset_index(drop=True).astype(object)
            out.insert(0, "row", b.rows[idx])
            out.insert(0, "file", b.result.path)
            out["reason"] = ["; ".join(b.problems.reasons[i]) for i in idx.tolist()]
            rej.append(out)
    return accepted_frame, rej, notes


def _locate_duplicates(good, codes, first, same, frames, key) -> None:
    """Each exact copy's row beside the row of the copy kept (file and row as the spreadsheet numbers them), so the
    data manager can delete the extra one at source. Listed up to MAX_REPLACED_LISTED per file; all are counted."""
    # codes are numbered in order of first appearance: the n-th first row is code n's
    batch, pos = good["__batch"].to_numpy(), good["__pos"].to_numpy()
    pairs = pd.DataFrame({"dup": np.flatnonzero(same), "orig": np.flatnonzero(first)[codes[same]]})
    # a file exported twice makes every row a copy: only the rows listed are turned into text
    pairs = pairs.groupby(batch[pairs["dup"]], sort=False).head(MAX_REPLACED_LISTED)
    keys = good[key].to_numpy()
    for dup, orig in zip(pairs["dup"].tolist(), pairs["orig"].tolist()):
        tb = frames[int(batch[dup])].result
        fb = frames[int(batch[orig])]
        tb.duplicate_rows.append({"key": str(keys[dup]), "row": int(frames[int(batch[dup])].rows[int(pos[dup])]),
                                  "copy_of": f"{fb.result.name} row {int(fb.rows[int(pos[orig])])}"})


def _current(stored, accepted, table) -> pd.DataFrame:
    """The table as it will be stored: this run's rows, plus stored rows whose key no export provides now."""
    old = stored[table]
    if table not in accepted:
        return old
    if old.empty:
        return accepted[table]
    new = accepted[table]
    key = TABLES[table].key
    keep = old[~isin(old[key], new[key])]
    return pd.concat([keep, new], ignore_index=True) if len(keep) else new


def _known(stored, accepted, table, key):
    """Ids known from this run and the store; None when there is no such table at all (the rule cannot apply)."""
    ids = _current(stored, accepted, table)[key]
    return None if ids.empty else pd.Index(ids.dropna().unique())


def _warnings(accepted, stored, batches, settings) -> list[dict]:
    """Accepted rows worth a look: a community session with no risk assessment current on its date (the one rule
    of ingest/risk_assessments.py, which the reports use too)."""
    if "sessions" not in accepted:
        return []
    months = settings.school.risk_assessments.months_current_without_review_date
    gaps = community_sessions_without_ra(accepted["sessions"], _current(stored, accepted, "risk_assessments"),
                                         months, assessment=True)
    uncovered = set(gaps["session_id"])
    origin = {}
    for b in batches.get("sessions", []):
        hit = b.frame["session_id"].isin(uncovered).to_numpy()
        for sid, r in zip(b.frame["session_id"].to_numpy()[hit], np.asarray(b.rows)[hit]):
            origin.setdefault(sid, f"{b.result.path} row {r}")
    return [{"table": "sessions", "where": origin.get(row.session_id, "stored"), "column": "risk_assessment_id",
             "value": row.risk_assessment_id,
             "message": f"community session {row.session_id} on {row.date:%d/%m/%Y} has no risk assessment current "
                        f"on its date ({row.reason}). The session is kept; add or renew the risk assessment.",
             # the parts validation.html groups by: one line per assessment, with its sessions
             "session_id": row.session_id, "student_id": row.student_id, "date": row.date,
             "activity": row.activity, "venue": row.venue, "ra_id": row.ra_id, "ra_until": row.ra_until,
             "reason": row.reason}
            for row in gaps.itertuples(index=False)]


# ------------------------------------------------------------------------------------------------ writing

def _store_table(workspace, table: str, stored, new: pd.DataFrame) -> int:
    """Write the table as it will be stored (this run's rows and the stored rows no export replaced), sorted
    by key; returns its row count."""
    key = TABLES[table].key
    merged = _current(stored, {table: new}, table)
    base = empty_frame(table)
    merged = merged[list(base.columns)]
    differ = {c: d for c, d in base.dtypes.items() if merged[c].dtype != d}  # usually none: no copy then
    if differ:
        merged = merged.astype(differ)
    if not _ascending(merged[key]):  # exports usually come sorted by their id already
        merged = merged.sort_values(key, kind="stable")
    write_table(workspace, table, merged.reset_index(drop=True))
    return len(merged)


def _store(workspace, accepted, result: IngestResult, rebuild: bool) -> None:
    """After the tables (``_store_table``): drop tables no export provides on a rebuild; the rejected rows."""
    if rebuild:
        for table in TABLES:
            if table not in accepted:
                path = processed_dir(workspace) / f"{table}.parquet"
                path.unlink(missing_ok=True)
    folder = processed_dir(workspace) / "rejected"
    for table in TABLES:
        path = folder / f"{table}.csv"
        frame = result.rejected.get(table)
        if frame is not None and len(frame):
            atomic_write(path, lambda tmp, f=frame: to_safe_csv(f, tmp, encoding="utf-8-sig"))
        elif path.exists() and table in accepted:
            path.unlink()  # this run's exports of the table had no rejections: an old list would mislead


def _ascending(values: pd.Series, strictly: bool = False) -> bool:
    """The values never decrease (ties allowed unless ``strictly``) and none is missing. For text, compared on
    the Arrow array: pandas' own check converts every string to a Python object first, twenty times slower at
    a trust's size."""
    if values.isna().any():
        return False
    if len(values) < 2:
        return True
    if values.dtype == "str":
        arrow = values.array.__arrow_array__()
        compare = pc.less if strictly else pc.less_equal
        return bool(pc.all(compare(arrow[:-1], arrow[1:])).as_py())
    return bool(values.is_monotonic_increasing and (not strictly or values.is_unique))


def _write_summary(workspace, result: IngestResult) -> None:
    atomic_write_text(processed_dir(workspace) / "ingest_summary.json",
                      json.dumps(result.summary, indent=2, ensure_ascii=False, default=str) + "\n")


def _print(console, result: IngestResult, workspace, write: bool) -> None:
    from rich.markup import escape
    from rich.table import Table

    from rich import box

    table = Table(title="Ingest" if write else "Validate (nothing written)", box=box.SIMPLE_HEAD,
                  caption="read = ok (accepted) + rej (rejected) + dup (exact duplicates) + skip (skipped)")
    table.add_column("file", overflow="fold", min_width=12)  # a long name wraps rather than losing its end
    for col in ("table", "profile"):
        table.add_column(col, overflow="fold")
    for col in ("read", "ok", "rej", "dup", "skip"):
        table.add_column(col, justify="right", no_wrap=True)
    for r in result.files:
        table.add_row(escape(r.name), r.table or "[red]not read[/]", r.profile or "", str(r.rows_read),
                      str(r.accepted), str(r.rejected), str(r.duplicates), str(r.skipped))
    console.print(table)
    for r in result.files:
        if r.error:
            console.print(f"[bold red]{escape(r.name)} could not be read:[/] {escape(r.error)}", highlight=False)
    # every skipped row said in words, not only counted (the profile's own rule, e.g. praise points, included)
    for r in result.files:
        for reason, n in r.skipped_because.items():
            console.print(f"{escape(r.name)}: {n} row(s) skipped: {escape(reason)}", highlight=False)
    report = reports_dir(workspace) / "validation.html"
    if any(r.rejected for r in result.files) or result.vocabulary or result.warnings:
        console.print(f"What was wrong and how to fix it: {report}", highlight=False)
    if write:
        console.print(f"Processed tables: {processed_dir(workspace)}", highlight=False)
