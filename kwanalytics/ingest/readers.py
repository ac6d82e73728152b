"""Reading an export file into a frame of text cells, whatever the file: CSV or tab-separated text in UTF-8
(with or without BOM), UTF-16 (Excel's "Unicode Text") or cp1252 (Excel on Windows), CRLF line ends, blank lines,
or a workbook (.xlsx, .xls, .xlsm, .ods), every sheet of it whose header a profile recognises.

Every cell comes back as text (NaN where the row had no cell at all), so that each column can be parsed with a
message of its own (see ``parsing``). Row numbers are kept as a spreadsheet shows them: the first line is row 1,
and blank lines keep their numbers but are not rows. The header is the first row a profile recognises, however
long the title block above it; rows below it that hold no record (blank padding, a total line, a footer, "No
records found") are set aside as ``furniture``, each with its reason, and counted as skipped (docs/design.md).
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path

import numpy as np
import pandas as pd


class UnreadableFile(Exception):
    """The file cannot be read as a table at all; ``str()`` says why and what to do."""


@dataclass(frozen=True)
class Furniture:
    """A row below the header that holds no record (a total line, a footer, blank padding, a template's example
    row): counted as skipped with its reason, never stored and never a rejection."""

    row: int  # as a spreadsheet numbers it
    reason: str
    cells: tuple[str, ...] = ()


@dataclass
class RawExport:
    """One export's text cells (one sheet of a workbook: a "part"). ``header`` is the header row as typed;
    ``cells`` has one column per header cell (named by position: 0, 1, ...), one row per data row; ``rows`` the
    spreadsheet row number of each; ``furniture`` the rows set aside; ``title`` the lines above the header."""

    path: Path
    header: list[str]
    cells: pd.DataFrame
    rows: np.ndarray
    sheet: str | None = None
    encoding: str | None = None
    notes: list[str] = field(default_factory=list)
    # Rows that could not be split into the header's cells (too many cells): row number -> original line.
    ragged: dict[int, list[str]] = field(default_factory=dict)
    sha256: str | None = None  # of the bytes read, for the audit log (hashed here, not read a second time)
    header_row: int = 1
    furniture: list[Furniture] = field(default_factory=list)
    title: list[str] = field(default_factory=list)
    read_as: str = ""  # how the file was read, in words ("CSV text, UTF-8", "Excel workbook, sheet 'Autumn'")
    separator: str | None = None  # of a text file

    @property
    def rows_read(self) -> int:
        """Data rows plus the furniture set aside below the header: every row the accounting must explain."""
        return len(self.cells) + len(self.furniture)

    def set_aside(self, rows, reason: str) -> int:
        """Move the data rows numbered ``rows`` (spreadsheet numbers) into ``furniture`` with ``reason`` (e.g. a
        template's example row); returns how many were moved."""
        hit = np.isin(self.rows, np.asarray(list(rows), dtype=np.int64))
        if not hit.any():
            return 0
        for pos in np.flatnonzero(hit):
            self.furniture.append(Furniture(int(self.rows[pos]), reason, _row_text(self.cells.iloc[pos])))
        keep = ~hit
        self.cells = self.cells[keep].reset_index(drop=True)
        self.rows = self.rows[keep]
        self.furniture.sort(key=lambda f: f.row)
        return int(hit.sum())


def _row_text(values) -> tuple[str, ...]:
    return tuple("" if (not isinstance(v, str) and pd.isna(v)) else str(v) for v in values)




ENCODINGS = ("utf-8", "cp1252", "latin-1")


def decode(data: bytes, path: Path) -> tuple[str, str]:
    """The file's text and the encoding it was in: UTF-8 (BOM or not), UTF-16 with a BOM, else cp1252."""
    if data.startswith(b"\xef\xbb\xbf"):
        try:
            return data[3:].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError:
            pass
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            raise UnreadableFile(f"{path.name} says it is UTF-16 text but is not. Export it again as CSV "
                                 "(UTF-8) or .xlsx.") from None
    utf16 = _utf16_without_bom(data)
    if utf16:
        try:
            return data.decode(utf16), utf16
        except UnicodeDecodeError:
            pass
    if b"\x00" in data[:65536]:
        raise UnreadableFile(f"{path.name} is not a text CSV file (it holds binary data). Export it again as "
                             "CSV or .xlsx, or remove it from data/raw.")
    for encoding in ENCODINGS[:2]:
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    # latin-1 decodes any bytes: a file that is not text at all then fails on its header instead.
    return data.decode("latin-1"), "latin-1"


def _utf16_without_bom(data: bytes) -> str | None:
    """'utf-16-le' or 'utf-16-be' when the bytes look like UTF-16 text without a BOM: in text that is mostly
    Latin letters, every other byte is zero, on the same side."""
    head = data[:4096]
    if len(head) < 4:
        return None
    half = len(head) // 2
    even, odd = head[0::2].count(0), head[1::2].count(0)
    if odd > 0.6 * half and even < 0.05 * half:
        return "utf-16-le"
    if even > 0.6 * half and odd < 0.05 * half:
        return "utf-16-be"
    return None


def _sniff_delimiter(head: str) -> str:
    """The separator used most in the file's first lines (a title line above the header may hold none)."""
    counts = {d: head.count(d) for d in (",", ";", "\t", "|")}
    best = max(counts, key=counts.get)
    return best if counts[best] > 0 else ","


def read_csv_text(text: str, path: Path, recognise=None, utf8: bytes | None = None
                  ) -> tuple[list[str], pd.DataFrame, np.ndarray, dict]:
    """Header, text cells, spreadsheet row numbers and ragged rows of CSV text (see ``split_text``)."""
    part = split_text(text, path, recognise, utf8)
    return part.header, part.cells, part.rows, part.ragged


def split_text(text: str, path: Path, recognise=None, utf8: bytes | None = None) -> RawExport:
    """Split CSV text into a header and text cells, vectorised (pandas' C parser), falling back to Python's csv
    module only when a row has more cells than the header (those rows are returned as ``ragged``). ``utf8``:
    the same text as UTF-8 bytes, when the file already was (saves encoding it again for Arrow)."""
    if "\x00" in text:
        text, utf8 = text.replace("\x00", ""), None  # the bytes still hold the NULs: encode the cleaned text
    sep = _sniff_delimiter("\n".join(text[:20_000].split("\n")[:50]))
    try:
        frame = _read_with_arrow(utf8 if utf8 is not None else text.encode("utf-8"), sep
                                 ) if len(text) > ARROW_MIN_CHARS else None
        if frame is None:
            frame = pd.read_csv(io.StringIO(text), sep=sep, header=None, dtype=str, keep_default_na=False,
                                skip_blank_lines=False, engine="c", quotechar='"', index_col=False)
        ragged = {}
    except (pd.errors.ParserError, ValueError, csv.Error):
        frame, ragged = _read_with_csv_module(text, sep, recognise)
    except pd.errors.EmptyDataError:
        raise UnreadableFile(f"{path.name} is empty. Export it again, or remove it from data/raw.") from None
    _mark_blank_lines(frame, text, sep)
    part = split(frame, ragged, path, recognise)
    part.separator = sep
    return part


ARROW_MIN_CHARS = 1_000_000  # below this the C parser is as fast and Arrow's start-up is not worth it


def _read_with_arrow(data: bytes, sep: str) -> pd.DataFrame | None:
    """A large, regular CSV read by Arrow's parser (about twice pandas' C parser here, and no second conversion
    to strings); None whenever the file is not perfectly regular (a blank line, a title line, a ragged row),
    so that the C parser and its exact row numbering take over."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    try:
        table = pacsv.read_csv(
            io.BytesIO(data),
            read_options=pacsv.ReadOptions(autogenerate_column_names=True, use_threads=True),
            parse_options=pacsv.ParseOptions(delimiter=sep, quote_char='"', double_quote=True,
                                              newlines_in_values=True, ignore_empty_lines=False),
            convert_options=pacsv.ConvertOptions(strings_can_be_null=False, quoted_strings_can_be_null=False,
                                                 column_types={f"f{i}": pa.string() for i in range(1024)},
                                                 auto_dict_encode=False,
                                                 check_utf8=False, include_missing_columns=False,
                                                 timestamp_parsers=[]))
    except (pa.ArrowInvalid, pa.ArrowException, ValueError):
        return None
    if any(not pa.types.is_string(f.type) for f in table.schema):  # wider than 1,024 columns: not an export
        return None
    frame = table.to_pandas()
    frame.columns = range(frame.shape[1])
    return frame


def _mark_blank_lines(frame: pd.DataFrame, text: str, sep: str) -> None:
    """pandas reads a blank line as a row of empty cells, like ",,,": tell them apart (rarely needed, so the
    csv module's record lengths are only consulted when some row is all empty). Blank lines become all-NaN."""
    if frame.shape[1] == 0 or frame.empty:
        return
    empty = _all_columns(frame, lambda col: (col.isna() | col.eq("")).to_numpy(dtype=bool, na_value=True))
    if not empty.any():
        return
    lengths = [len(r) for r in csv.reader(io.StringIO(text, newline=""), delimiter=sep)]
    if len(lengths) == len(frame):
        blank = empty & (np.array(lengths) <= 1)
    else:
        blank = empty
    frame.iloc[np.flatnonzero(blank), :] = np.nan


def _all_columns(frame: pd.DataFrame, test) -> np.ndarray:
    """Rows where ``test(column)`` holds in every column, looking at a column only for the rows still in question
    (in an export the first column is rarely empty, so this usually stops after one)."""
    rows = np.ones(len(frame), dtype=bool)
    for i in range(frame.shape[1]):
        if not rows.any():
            break
        where = np.flatnonzero(rows)
        col = frame.iloc[:, i]
        rows[where] = test(col if len(where) == len(frame) else col.iloc[where])
    return rows


def _read_with_csv_module(text: str, sep: str, recognise=None) -> tuple[pd.DataFrame, dict[int, list[str]]]:
    """The slow, forgiving path: each record as the csv module splits it; extra cells are kept aside."""
    records = list(csv.reader(io.StringIO(text, newline=""), delimiter=sep))
    # The width is the recognised header's; else the usual width: a title line above it is shorter, a broken
    # row longer.
    header = next((r for r in records[:TITLE_SEARCH_ROWS]
                   if recognise is not None and any(c.strip() for c in r) and recognise([c.strip() for c in r])),
                  None)
    lengths = pd.Series([len(r) for r in records if any(c.strip() for c in r)], dtype="int64")
    width = len(header) if header is not None else int(lengths.mode().max()) if len(lengths) else 0
    ragged = {}
    rows = []
    for i, rec in enumerate(records):
        if len(rec) > width:
            ragged[i] = rec
            rows.append(rec[:width])  # kept for the rejected file; the row is rejected as not fitting its header
        else:
            rows.append(rec + [np.nan] * (width - len(rec)) if rec else [np.nan] * width)
    frame = pd.DataFrame(rows, columns=range(width), dtype=object)
    return frame, ragged


TITLE_SEARCH_ROWS = 500  # a title block is a few lines, or a few dozen; past this a file has no known header


def _header_at(frame: pd.DataFrame, i: int) -> list[str]:
    header = ["" if pd.isna(v) else str(v).strip() for v in frame.iloc[i]]
    while header and header[-1] == "":
        header.pop()
    return header


# A line below the records that is not one: what reports print after their rows. Only the first non-empty cell
# is looked at, and only on rows with few cells filled, so a record whose notes begin "Total" stays a record.
FOOTER = re.compile(r"^\s*(?:(?:grand\s+|sub-?\s*)?totals?\b|count\b|number of\b|records?\s*:|rows?\s*:|"
                    r"page\s+\d+|printed\b|generated\b|exported\b|run\s+(?:on|by)\b|report\s+"
                    r"(?:generated|run|printed|date|ends?)\b|end of\b|\*+\s*end\b|confidential\b|"
                    r"source\s*:)", re.IGNORECASE)
NO_RECORDS = re.compile(r"^\s*(?:there\s+(?:are|were)\s+)?no\s+(?:matching\s+)?(?:records|data|results|rows|"
                        r"incidents|entries|items)(?:\s+(?:found|to\s+(?:display|show)|returned|available))?\b",
                        re.IGNORECASE)
EMPTY_ROW = "an empty row (blank padding below the records)"
FOOTER_ROW = "a total or footer line below the records, not a record"
NO_RECORDS_ROW = "the export says it found no records"


def _furniture_reason(cells: list[str], width: int) -> str | None:
    filled = [c for c in cells if c.strip()]
    if not filled:
        return EMPTY_ROW
    if len(filled) > max(2, width // 3):
        return None
    if NO_RECORDS.match(filled[0]):
        return NO_RECORDS_ROW
    return FOOTER_ROW if FOOTER.match(filled[0]) else None


def split(frame: pd.DataFrame, ragged: dict, path: Path, recognise=None) -> RawExport:
    """A frame of text cells (one per line of the file or row of the sheet) as an export: the header is the
    first row ``recognise`` accepts (the first non-blank row when none does), the lines above it its title,
    the rows below it the records, less the furniture (blank padding; a total, a footer or "No records found"
    after the last record)."""
    frame.columns = range(frame.shape[1])
    if frame.shape[1]:
        # A wholly blank line (no cells at all, or only spaces) is not a row; ",,," is a row with empty cells.
        first = frame.iloc[:, 0]
        truly_blank = (first.isna() | first.astype("str").str.strip().eq("")).to_numpy(dtype=bool, na_value=True)
        if truly_blank.any():
            truly_blank = truly_blank & _all_columns(frame.iloc[:, 1:], lambda col: col.isna().to_numpy(dtype=bool))
    else:
        truly_blank = np.ones(len(frame), dtype=bool)
    truly_blank = truly_blank & ~frame.index.isin(list(ragged))
    nonblank = np.flatnonzero(~truly_blank)
    if len(nonblank) == 0:
        raise UnreadableFile(f"{path.name} has no header row (the file is empty). Export it again, or remove it "
                             "from data/raw.")
    h = nonblank[0]
    if recognise is not None and not recognise(_header_at(frame, h)):
        h = next((i for i in nonblank[1:TITLE_SEARCH_ROWS] if recognise(_header_at(frame, i))), h)
    header = _header_at(frame, h)
    title = [" ".join(c for c in _header_at(frame, i) if c) for i in nonblank[nonblank < h]]
    keep = nonblank[nonblank > h]
    width = max(len(header), 1)
    furniture = _find_furniture(frame, keep, width, ragged)
    if furniture:
        keep = keep[~np.isin(keep, [i for i, _ in furniture])]
    contiguous = len(keep) == len(frame) - h - 1  # no blank line below the header: a slice, not a copy by rows
    cells = (frame.iloc[h + 1:, :width] if contiguous else frame.iloc[keep, :width]).reset_index(drop=True)
    cells.columns = range(cells.shape[1])
    rows = keep + 1  # as a spreadsheet numbers them: the first line is row 1 (usually the header)
    kept = set(keep.tolist()) if ragged else set()
    rag = {int(i + 1): v for i, v in ragged.items() if i in kept}
    # Cells past the header's width that hold something: the row does not fit its header.
    if frame.shape[1] > len(header) and len(header):
        extra = frame.iloc[keep, len(header):]
        filled = extra.astype("str").apply(lambda c: c.str.strip().ne("")).astype(bool)
        has_extra = extra.notna() & filled
        for pos in np.flatnonzero(has_extra.any(axis=1).to_numpy()):
            rag[int(rows[pos])] = [("" if pd.isna(v) else str(v)) for v in frame.iloc[keep[pos]]]
    return RawExport(path, header, cells, np.asarray(rows, dtype=np.int64), ragged=rag, header_row=int(h + 1),
                     title=title, furniture=[Furniture(int(i + 1), reason, _row_text(frame.iloc[i]))
                                             for i, reason in furniture])


def _find_furniture(frame: pd.DataFrame, keep: np.ndarray, width: int, ragged: dict) -> list[tuple[int, str]]:
    """(frame position, reason) of the rows below the header that hold no record: empty rows anywhere, and from
    the end upwards, total and footer lines until the last record."""
    if len(keep) == 0:
        return []
    # over every line (a slice, not a copy by rows of a large file), then read at the kept ones
    empty = _all_columns(frame.iloc[:, :width], lambda col: (col.isna() | col.astype("str").str.strip().eq(""))
                         .to_numpy(dtype=bool, na_value=True))[keep]
    # a row whose cells spill past the header is a broken record, not padding
    empty &= ~np.isin(keep, list(ragged))
    if frame.shape[1] > width:
        spill = frame.iloc[keep, width:]
        empty &= ~(spill.notna() & spill.astype("str").apply(lambda c: c.str.strip().ne(""))).any(axis=1).to_numpy()
    out = [(int(i), EMPTY_ROW) for i in keep[empty]]
    for pos in range(len(keep) - 1, -1, -1):
        if empty[pos]:
            continue
        i = int(keep[pos])
        if i in ragged:
            break
        reason = _furniture_reason(list(_row_text(frame.iloc[i])), width)
        if reason is None:
            break
        out.append((i, reason))
    return sorted(out)


def _cell_text(value) -> str | float:
    """An Excel cell as the text a person would have typed: dates ISO, whole numbers without '.0'."""
    if value is None:
        return np.nan
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d") if value.time() == time(0) else value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, time):
        return value.strftime("%H:%M")
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _sheet_text(rows) -> list[list]:
    """Every cell of a sheet as text, column by column (returned as a list of columns). Most columns hold only
    text, which is kept as it is; in the others each distinct value (dates and numbers repeat) is converted
    once."""
    rows = list(rows)
    width = max((len(r) for r in rows), default=0)
    if any(len(r) != width for r in rows):
        rows = [list(r) + [None] * (width - len(r)) for r in rows]
    columns = []
    for column in zip(*rows):
        if set(map(type, column)) <= {str}:
            columns.append(list(column))
            continue
        done: dict = {}
        texts = []
        for v in column:
            if type(v) is not str:
                key = (type(v), v)  # True == 1 == 1.0: the type keeps them apart
                t = done.get(key)
                if t is None:
                    t = done[key] = _cell_text(v)
                v = t
            texts.append(v)
        columns.append(texts)
    return columns


WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods")
# What Excel shows in a cell whose formula failed; calamine reads them as empty cells, so they are read from the
# sheet's XML and put back as this text (the pipeline rejects a row holding one: it is not a value, docs/design.md).
EXCEL_ERRORS = ("#REF!", "#VALUE!", "#N/A", "#DIV/0!", "#NAME?", "#NULL!", "#NUM!", "#SPILL!", "#CALC!",
                "#GETTING_DATA")


def read_workbook(path: Path, recognise=None) -> list[RawExport]:
    """Every sheet of a workbook whose header ``recognise(header) -> bool`` accepts, one part each, in the
    workbook's order; the first non-empty sheet when none is recognised (so that its header is reported). Sheets
    not read are named, with the reason, in the first part's ``notes``. ``recognise=None`` reads every sheet.

    Read with python-calamine (a Rust reader of .xlsx, .xls and .ods): about 100 times faster than openpyxl on
    a 12,000-row sheet (0.08 s against 7 s here), which matters for a trust's exports.
    """
    from python_calamine import CalamineWorkbook

    path = Path(path)
    try:
        book = CalamineWorkbook.from_path(str(path))
        names = list(book.sheet_names)
    except PermissionError:
        raise
    except Exception as exc:  # calamine raises its own types for a broken or half-copied file
        kind = "Excel 97-2003 workbook (.xls)" if path.suffix.lower() == ".xls" else "Excel workbook"
        raise UnreadableFile(f"{path.name} is not a complete {kind} ({type(exc).__name__}); it may be "
                             "half-copied or damaged, or only named like a workbook. Open it in Excel and save it "
                             "again as .xlsx, or export it as CSV.") from None
    suffix = path.suffix.lower()
    errors = (_error_cells(path, names) if suffix in (".xlsx", ".xlsm")
              else _xls_error_cells(path, names) if suffix == ".xls" else {})
    parts, first, not_read = [], None, {}
    for name in names:
        try:
            sheet = book.get_sheet_by_name(name)
            raw = sheet.to_python(skip_empty_area=False)
            merged = bool(getattr(sheet, "merged_cell_ranges", None))
        except Exception as exc:
            raise UnreadableFile(f"{path.name}: sheet '{name}' cannot be read ({type(exc).__name__}); "
                                 "the workbook may be half-copied. Copy or export it again.") from None
        for (r, c), text in errors.get(name, {}).items():
            if r < len(raw) and c < len(raw[r]) and raw[r][c] in ("", None):
                raw[r][c] = text
        columns = _sheet_text(raw)
        if not any(isinstance(v, str) and v.strip() for column in columns for v in column):
            not_read[name] = "empty"
            continue
        frame = pd.DataFrame(dict(enumerate(columns)), dtype=object).replace("", np.nan)
        try:
            part = split(frame, {}, path, recognise)
        except UnreadableFile:
            not_read[name] = "empty"
            continue
        part.sheet = name
        part.cells = part.cells.astype(object).where(part.cells.notna(), np.nan)
        part.notes.append(f"read sheet '{name}'")
        if merged:
            part.notes.append(f"sheet '{name}' has merged cells: only the top-left cell of each holds the value")
        if recognise is None or recognise(part.header):
            parts.append(part)
        else:
            first = first or part
            not_read[name] = "its header row matches no table"
    if not parts and first is not None:
        parts = [first]
        not_read.pop(first.sheet, None)
    if not parts:
        raise UnreadableFile(f"{path.name} has no sheet with any data. Export it again, or remove it from data/raw.")
    if not_read:
        parts[0].notes.append("other sheets not read: " + ", ".join(f"'{n}' ({why})" for n, why in not_read.items()))
    kind = {".xls": "Excel 97-2003 workbook (.xls)", ".ods": "OpenDocument spreadsheet (.ods)"}.get(
        path.suffix.lower(), "Excel workbook")
    for part in parts:
        part.read_as = f"{kind}, sheet '{part.sheet}'"
    return parts


def read_xlsx(path: Path, recognise=None) -> RawExport:
    """The first recognised sheet of a workbook (``read_workbook`` has them all)."""
    return read_workbook(path, recognise)[0]


_ERROR_CELL = re.compile(rb'<c\b([^>]*\bt="e"[^>]*)>(.*?)</c>', re.DOTALL)
_CELL_REF = re.compile(rb'\br="([A-Z]+)(\d+)"')
_VALUE = re.compile(rb"<v>([^<]*)</v>")


def _error_cells(path: Path, names: list[str]) -> dict[str, dict[tuple[int, int], str]]:
    """Sheet name -> {(row, column) from 0: the error Excel shows} for every error cell of an .xlsx. Read from
    the sheet's XML (a cell of type "e"); a sheet without one is only searched for the bytes 't="e"'."""
    import xml.etree.ElementTree as ET

    out: dict[str, dict[tuple[int, int], str]] = {}
    try:
        with zipfile.ZipFile(path) as z:
            ns = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
                  "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships"}
            book = ET.fromstring(z.read("xl/workbook.xml"))
            rels = ET.fromstring(z.read("xl/_rels/workbook.xml.rels"))
            targets = {r.get("Id"): r.get("Target", "") for r in rels}
            for sheet in book.iterfind("m:sheets/m:sheet", ns):
                name = sheet.get("name")
                target = targets.get(sheet.get(f"{{{ns['r']}}}id"), "")
                member = target.lstrip("/") if target.startswith("/") else "xl/" + target
                if name not in names or member not in z.namelist():
                    continue
                xml = z.read(member)
                if b't="e"' not in xml:
                    continue
                cells = {}
                for m in _ERROR_CELL.finditer(xml):
                    ref, value = _CELL_REF.search(m.group(1)), _VALUE.search(m.group(2))
                    if ref is None:
                        continue
                    col = 0
                    for ch in ref.group(1):
                        col = col * 26 + ch - 64
                    text = value.group(1).decode("utf-8", "replace") if value else "#N/A"
                    cells[(int(ref.group(2)) - 1, col - 1)] = text or "#N/A"
                out[name] = cells
    except (zipfile.BadZipFile, KeyError, ET.ParseError, OSError):
        return {}  # calamine has read the sheet already; without its XML the errors stay blank, as before
    return out


def _xls_error_cells(path: Path, names: list[str]) -> dict[str, dict[tuple[int, int], str]]:
    """The same for an old .xls: calamine reads an error cell as empty there too, and the BIFF records are not
    XML, so xlrd (the reference reader of .xls) finds them: a cell of type XL_CELL_ERROR, its code to the text
    Excel shows."""
    import xlrd

    out: dict[str, dict[tuple[int, int], str]] = {}
    try:
        book = xlrd.open_workbook(str(path), on_demand=True)
    except Exception:  # noqa: BLE001 - calamine has read the file; without xlrd's view the errors stay blank
        return out
    try:
        for name in book.sheet_names():
            if name not in names:
                continue
            sheet = book.sheet_by_name(name)
            cells = {(r, c): xlrd.error_text_from_code.get(sheet.cell_value(r, c), "#N/A")
                     for r in range(sheet.nrows) for c in range(sheet.row_len(r))
                     if sheet.cell_type(r, c) == xlrd.XL_CELL_ERROR}
            if cells:
                out[name] = cells
            book.unload_sheet(name)
    finally:
        book.release_resources()
    return out


def read_parts(path: Path, recognise=None) -> list[RawExport]:
    """Read one export file: a workbook's recognised sheets, or a text file (one part). ``UnreadableFile``
    (with what to do) when it cannot be read as a table."""
    path = Path(path)
    try:
        if path.suffix.lower() in WORKBOOK_SUFFIXES:
            parts = read_workbook(path, recognise)
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            for part in parts:
                part.sha256 = digest
            return parts
        with open(path, "rb") as fh:
            data = fh.read()
    except PermissionError:
        raise UnreadableFile(f"{path.name} cannot be opened: permission denied. Close it in Excel or any other "
                             "program, check who owns the file, and run the command again.") from None
    except IsADirectoryError:
        raise UnreadableFile(f"{path.name} is a folder, not a file.") from None
    except OSError as exc:
        raise UnreadableFile(f"{path.name} cannot be read ({exc.strerror or exc}). Copy it again and rerun.") from None
    not_text = _not_an_export(data, path)
    if not_text:
        raise UnreadableFile(not_text)
    text, encoding = decode(data, path)
    utf8 = memoryview(data)[3:] if encoding == "utf-8-sig" else data if encoding == "utf-8" else None
    part = split_text(text, path, recognise, utf8=utf8)
    part.encoding = encoding
    part.sha256 = hashlib.sha256(data).hexdigest()
    sep = {"\t": "tab-separated", ";": "semicolon-separated", "|": "bar-separated"}.get(part.separator, "CSV")
    part.read_as = f"{sep} text, {ENCODING_WORDS.get(encoding, encoding)}"
    return [part]


ENCODING_WORDS = {"utf-8": "UTF-8", "utf-8-sig": "UTF-8 with BOM", "utf-16": "UTF-16 (Excel's Unicode Text)",
                  "utf-16-le": "UTF-16 without BOM (Excel's Unicode Text)",
                  "utf-16-be": "UTF-16 without BOM (Excel's Unicode Text)",
                  "cp1252": "Windows-1252", "latin-1": "Latin-1"}

# Files that are plainly something else, by their first bytes: refused as "not an export", with what to do.
MAGIC = ((b"%PDF", "a PDF"), (b"PK\x03\x04", "a zip archive (a Word document, or a workbook named as text)"),
         (b"\xd0\xcf\x11\xe0", "an old Office document (an .xls or .doc named as text)"),
         (b"\x89PNG", "a PNG picture"), (b"\xff\xd8\xff", "a JPEG picture"), (b"{\\rtf", "an RTF document"))


def _not_an_export(data: bytes, path: Path) -> str | None:
    for magic, what in MAGIC:
        if data.startswith(magic):
            return (f"{path.name} is {what}, not an export: the workbench reads CSV or tab-separated text and Excel "
                    "workbooks. Export the report from the system as CSV or Excel, or remove this file from "
                    "data/raw.")
    return None
