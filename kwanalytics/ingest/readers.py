"""Reading an export file into a frame of text cells, whatever the file: CSV in UTF-8 (with or without BOM),
UTF-16 or cp1252 (Excel on Windows), CRLF line ends, blank lines, or an .xlsx workbook.

Every cell comes back as text (NaN where the row had no cell at all), so that each column can be parsed with a
message of its own (see ``parsing``). Row numbers are kept as a spreadsheet shows them: the header is row 1, the
first data row is row 2, and blank lines keep their numbers but are not rows.
"""

from __future__ import annotations

import csv
import hashlib
import io
import warnings
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path

import numpy as np
import pandas as pd


class UnreadableFile(Exception):
    """The file cannot be read as a table at all; ``str()`` says why and what to do."""


@dataclass
class RawExport:
    """One export's text cells. ``header`` is the header row as typed; ``cells`` has one column per header cell
    (named by position: 0, 1, ...), one row per data row; ``rows`` the spreadsheet row number of each."""

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


def _sniff_delimiter(first_line: str) -> str:
    counts = {d: first_line.count(d) for d in (",", ";", "\t", "|")}
    best = max(counts, key=counts.get)
    return best if counts[best] > 0 else ","


def read_csv_text(text: str, path: Path, recognise=None, utf8: bytes | None = None
                  ) -> tuple[list[str], pd.DataFrame, np.ndarray, dict]:
    """Split CSV text into a header and text cells, vectorised (pandas' C parser), falling back to Python's csv
    module only when a row has more cells than the header (those rows are returned as ``ragged``). ``utf8``:
    the same text as UTF-8 bytes, when the file already was (saves encoding it again for Arrow)."""
    if "\x00" in text:
        text, utf8 = text.replace("\x00", ""), None  # the bytes still hold the NULs: encode the cleaned text
    first = text.lstrip("\r\n").split("\n", 1)[0]
    sep = _sniff_delimiter(first)
    try:
        frame = _read_with_arrow(utf8 if utf8 is not None else text.encode("utf-8"), sep
                                 ) if len(text) > ARROW_MIN_CHARS else None
        if frame is None:
            frame = pd.read_csv(io.StringIO(text), sep=sep, header=None, dtype=str, keep_default_na=False,
                                skip_blank_lines=False, engine="c", quotechar='"', index_col=False)
        ragged = {}
    except (pd.errors.ParserError, ValueError, csv.Error):
        frame, ragged = _read_with_csv_module(text, sep)
    except pd.errors.EmptyDataError:
        raise UnreadableFile(f"{path.name} is empty. Export it again, or remove it from data/raw.") from None
    _mark_blank_lines(frame, text, sep)
    return _split_header(frame, ragged, path, recognise)


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


def _read_with_csv_module(text: str, sep: str) -> tuple[pd.DataFrame, dict[int, list[str]]]:
    """The slow, forgiving path: each record as the csv module splits it; extra cells are kept aside."""
    records = list(csv.reader(io.StringIO(text, newline=""), delimiter=sep))
    # The header's width is the usual width: a title line above it is shorter, a broken row longer.
    lengths = pd.Series([len(r) for r in records if any(c.strip() for c in r)], dtype="int64")
    width = int(lengths.mode().max()) if len(lengths) else 0
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


HEADER_SEARCH_ROWS = 10  # exports sometimes print a title or a date above the header row


def _header_at(frame: pd.DataFrame, i: int) -> list[str]:
    header = ["" if pd.isna(v) else str(v).strip() for v in frame.iloc[i]]
    while header and header[-1] == "":
        header.pop()
    return header


def _split_header(frame: pd.DataFrame, ragged: dict, path: Path, recognise=None):
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
        h = next((i for i in nonblank[1:HEADER_SEARCH_ROWS] if recognise(_header_at(frame, i))), h)
    header = _header_at(frame, h)
    keep = nonblank[nonblank > h]
    width = max(len(header), 1)
    contiguous = len(keep) == len(frame) - h - 1  # no blank line below the header: a slice, not a copy by rows
    cells = (frame.iloc[h + 1:, :width] if contiguous else frame.iloc[keep, :width]).reset_index(drop=True)
    cells.columns = range(cells.shape[1])
    rows = keep + 1  # as a spreadsheet numbers them: the first line is row 1 (usually the header)
    rag = {int(i + 1): v for i, v in ragged.items() if i > h}
    # Cells past the header's width that hold something: the row does not fit its header.
    if frame.shape[1] > len(header) and len(header):
        extra = frame.iloc[keep, len(header):]
        filled = extra.astype("str").apply(lambda c: c.str.strip().ne("")).astype(bool)
        has_extra = extra.notna() & filled
        for pos in np.flatnonzero(has_extra.any(axis=1).to_numpy()):
            rag[int(rows[pos])] = [("" if pd.isna(v) else str(v)) for v in frame.iloc[keep[pos]]]
    return header, cells, np.asarray(rows, dtype=np.int64), rag


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


def read_xlsx(path: Path, recognise=None) -> RawExport:
    """The first sheet with a recognised header (``recognise(header) -> bool``), else the first non-empty one.

    Read with python-calamine (a Rust reader of Excel files): about 100 times faster than openpyxl on a
    12,000-row sheet (0.08 s against 7 s here), which matters for a trust's exports.
    """
    from python_calamine import CalamineWorkbook

    try:
        book = CalamineWorkbook.from_path(str(path))
        names = list(book.sheet_names)
    except PermissionError:
        raise
    except Exception as exc:  # calamine raises its own types for a broken or half-copied zip
        raise UnreadableFile(f"{path.name} is not a complete Excel workbook ({type(exc).__name__}); it may be "
                             "half-copied or damaged. Open it in Excel and save it again as .xlsx, or export "
                             "it as CSV.") from None
    candidates = []
    merged = {}
    for name in names:
        try:
            sheet = book.get_sheet_by_name(name)
            columns = _sheet_text(sheet.to_python(skip_empty_area=False))
            merged[name] = bool(getattr(sheet, "merged_cell_ranges", None))
        except Exception as exc:
            raise UnreadableFile(f"{path.name}: sheet '{name}' cannot be read ({type(exc).__name__}); "
                                 "the workbook may be half-copied. Copy or export it again.") from None
        if not any(isinstance(v, str) and v.strip() for column in columns for v in column):
            continue
        frame = pd.DataFrame(dict(enumerate(columns)), dtype=object).replace("", np.nan)
        try:
            header, cells, rows, rag = _split_header(frame, {}, path, recognise)
        except UnreadableFile:
            continue
        candidates.append((name, header, cells, rows, rag))
        if recognise is None or recognise(header):
            break
    if not candidates:
        raise UnreadableFile(f"{path.name} has no sheet with any data. Export it again, or remove it from data/raw.")
    chosen = candidates[-1] if recognise is not None and recognise(candidates[-1][1]) else candidates[0]
    title, header, cells, rows, rag = chosen
    notes = [f"read sheet '{title}'"]
    others = [n for n in names if n != title]
    if others:
        notes.append("other sheets not read: " + ", ".join(f"'{n}'" for n in others))
    if merged.get(title):
        notes.append(f"sheet '{title}' has merged cells: only the top-left cell of each holds the value")
    cells = cells.astype(object).where(cells.notna(), np.nan)
    return RawExport(path, header, cells, rows, sheet=title, notes=notes, ragged=rag)


def read_export(path: Path, recognise=None) -> RawExport:
    """Read one .csv or .xlsx export; ``UnreadableFile`` (with what to do) when it cannot be read as a table."""
    path = Path(path)
    try:
        if path.suffix.lower() == ".xlsx":
            export = read_xlsx(path, recognise)
            export.sha256 = hashlib.sha256(path.read_bytes()).hexdigest()
            return export
        with open(path, "rb") as fh:
            data = fh.read()
    except PermissionError:
        raise UnreadableFile(f"{path.name} cannot be opened: permission denied. Close it in Excel or any other "
                             "program, check who owns the file, and run the command again.") from None
    except IsADirectoryError:
        raise UnreadableFile(f"{path.name} is a folder, not a file.") from None
    except OSError as exc:
        raise UnreadableFile(f"{path.name} cannot be read ({exc.strerror or exc}). Copy it again and rerun.") from None
    text, encoding = decode(data, path)
    utf8 = memoryview(data)[3:] if encoding == "utf-8-sig" else data if encoding == "utf-8" else None
    header, cells, rows, ragged = read_csv_text(text, path, recognise, utf8=utf8)
    return RawExport(path, header, cells, rows, encoding=encoding, ragged=ragged,
                     sha256=hashlib.sha256(data).hexdigest())
