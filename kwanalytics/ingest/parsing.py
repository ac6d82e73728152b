"""Turning exported text into typed values: UK day-first and ISO dates, yes/no booleans, numbers, times.

``parse_column`` works on a whole column at once (pandas' parsers with explicit formats, each tried on what the
previous one left, over the column's distinct values only): ingest must keep up with a trust's exports
(issue 7: 200,000 rows a second), so there is no Python loop per row on this path. A cell that does not parse is
reported, never guessed: "03/02/2025" is 3 February (UK day-first), "31/02/2025" is not a date.

Two things are decided per file, not per cell (``habits``): the decimal separator (a semicolon export with
"1.950,00" is European: every number of the file is read so) and the date order (month-first only when some
value of the file makes sense no other way, or the profile says so). What is left after the usual formats is
tried as everyday writing, once per distinct value: "9.30am", "2.15pm", "09.30", "2 Dec 2025", "Wed 02/12/2026",
ISO with T and Z.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d/%m/%y", "%d-%m-%Y", "%d.%m.%Y", "%Y/%m/%d")
DATETIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M",
                    "%d/%m/%Y %H:%M", "%d/%m/%Y %H:%M:%S", "%d/%m/%y %H:%M", "%d-%m-%Y %H:%M",
                    "%d.%m.%Y %H:%M", "%Y-%m-%dT%H:%M:%S.%f", "%Y-%m-%d %H:%M:%S.%f")
TRUE = {"yes", "y", "true", "t", "1", "ticked", "x"}
FALSE = {"no", "n", "false", "f", "0", "unticked"}

EXPECTED = {
    "date": "a date such as 03/02/2025 (day first) or 2025-02-03",
    "datetime": "a date and time such as 03/02/2025 14:30 or 2025-02-03 14:30",
    "time": "a time such as 09:30",
    "int": "a whole number",
    "float": "a number such as 12.50",
    "bool": "yes or no (also Y/N, true/false, 1/0)",
}


def month_first(formats) -> tuple[str, ...]:
    """The same formats with day and month the other way round (a US export)."""
    return tuple(f.replace("%d", "\0").replace("%m", "%d").replace("\0", "%m") if not f.startswith("%Y") else f
                 for f in formats)


def parse_date_text(text: str) -> date | None:
    """One date typed by a person: ISO (2026-07-22) or UK day-first (22/07/2026); None when it is not one."""
    parsed = parse_column(pd.Series([str(text)]), "date").values
    value = parsed.iloc[0]
    return None if pd.isna(value) else value.date()


@dataclass
class Parsed:
    """A parsed column: ``values`` in the canonical dtype (NA where empty or bad) and ``bad``, True where the
    cell held something that is not a value of this kind (the cell is then reported)."""

    values: pd.Series
    bad: pd.Series


def clean_text(cells: pd.Series) -> pd.Series:
    """Trimmed text; empty cells become missing (NaN)."""
    # On the Arrow array itself: pandas' .str.strip and .where each add a pass and a copy, which at a trust's
    # size is a tenth of ingest.
    if cells.dtype != "str":
        cells = cells.astype("str")
    arrow = cells.array.__arrow_array__()
    trimmed = pc.utf8_trim_whitespace(arrow)
    trimmed = pc.if_else(pc.equal(trimmed, ""), pa.scalar(None, trimmed.type), trimmed)
    return pd.Series(pd.array(trimmed, dtype="str"), index=cells.index)


def _datetimes(text: pd.Series, formats) -> pd.Series:
    result = pd.Series(pd.NaT, index=text.index, dtype="datetime64[us]")
    todo = text.notna()
    # The format that fits a sample goes first, so a whole export in one format is parsed in one pass; the
    # formats are tried on the sample only until one fits all of it (usually the first or second).
    sample = text[todo].iloc[:200]
    if len(sample):
        hits = {}
        for f in formats:
            hits[f] = pd.to_datetime(sample, format=f, errors="coerce").notna().sum()
            if hits[f] == len(sample):
                break
        formats = sorted(formats, key=lambda f: -hits.get(f, 0))
    for fmt in formats:
        if not todo.any():
            break
        got = pd.to_datetime(text[todo], format=fmt, errors="coerce")
        ok = got.notna()
        if ok.any():
            result[ok[ok].index] = got[ok].astype("datetime64[us]")
            todo[ok[ok].index] = False
    return result


def _parse_dates(text: pd.Series, kind: str, day_first: bool = True, timezone: str | None = None) -> pd.Series:
    dates, datetimes = (DATE_FORMATS, DATETIME_FORMATS) if day_first else (month_first(DATE_FORMATS),
                                                                            month_first(DATETIME_FORMATS))
    formats = dates + datetimes if kind == "date" else datetimes + dates
    if kind == "datetime" and len(text) > 1000:
        parsed = _split_datetimes(text, dates)
        rest = parsed.isna() & text.notna()
        if rest.any():
            parsed[rest] = _datetimes(text[rest], formats)
    else:
        parsed = _datetimes(text, formats)
    rest = parsed.isna() & text.notna()
    if rest.any():  # everyday writing, once per distinct value left (usually none)
        from kwanalytics.ingest.habits import everyday_datetime

        read = map_distinct(text[rest], lambda v: everyday_datetime(v, day_first, timezone))
        parsed[rest] = read.astype("datetime64[us]")
    return parsed.dt.normalize() if kind == "date" else parsed


def _split_datetimes(text: pd.Series, dates=DATE_FORMATS) -> pd.Series:
    """Date and time parsed apart ("06/10/2025" and "10:05"): a year of incidents has ~200 distinct dates and
    ~600 distinct times but ~100,000 distinct date-times, so this parses far fewer strings."""
    text = text.astype("str")
    where = text.str.find(" ")
    cut = where[where > 0]
    if cut.empty:
        return pd.Series(pd.NaT, index=text.index, dtype="datetime64[us]")
    at = int(cut.mode().iloc[0])  # an export writes its date-times one way: cut them all at the same place
    day = _by_distinct(text.str.slice(0, at).where(where == at), lambda u: _datetimes(u, dates))
    clock = text.str.slice(at + 1).str.strip()
    clock = clock.where(clock.str.len() != 4, "0" + clock)  # 9:15 -> 09:15
    t = _by_distinct(clock, lambda u: _datetimes(u, ("%H:%M", "%H:%M:%S")))
    offset = t - t.dt.normalize()
    return (day + offset).astype("datetime64[us]")


def _by_distinct(text: pd.Series, convert) -> pd.Series:
    codes, uniques = pd.factorize(text, use_na_sentinel=True)
    converted = convert(pd.Series(uniques, dtype=object)).to_numpy(dtype="datetime64[us]")
    out = np.append(converted, np.datetime64("NaT"))[np.where(codes < 0, len(uniques), codes)]
    return pd.Series(out, index=text.index, dtype="datetime64[us]")


# A number as an export writes it, with "." or "," as its decimal point: the other mark may only group thousands
# (1,950.00 or 1.950,00); "9,00" in an English file is not 900, it is not a number there.
_NUMBER = {".": r"^[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d*)?$|^[+-]?\.\d+$",
           ",": r"^[+-]?(?:\d{1,3}(?:\.\d{3})+|\d+)(?:,\d*)?$|^[+-]?,\d+$"}


def _numbers(text: pd.Series, decimal: str = ".") -> pd.Series:
    cleaned = text.str.replace(r"[£€\s]", "", regex=True).str.replace(r"^\((.*)\)$", r"-\1", regex=True)
    ok = cleaned.str.match(_NUMBER[decimal]).fillna(False).astype(bool)
    group = "," if decimal == "." else "."
    cleaned = cleaned.str.replace(group, "", regex=False)
    if decimal == ",":
        cleaned = cleaned.str.replace(",", ".", regex=False)
    number = pd.to_numeric(cleaned.where(ok), errors="coerce")
    # what the strict form refuses but a plain parse reads (1e3, inf) is left to pandas, as before
    rest = ~ok & text.notna()
    if rest.any():
        number[rest] = pd.to_numeric(text[rest].str.strip(), errors="coerce")
    return number


def map_distinct(values: pd.Series, func) -> pd.Series:
    """``func`` applied to each distinct non-missing value once, spread back over the rows (NaN stays NaN)."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    mapped = np.array([func(u) for u in uniques] + [None], dtype=object)
    return pd.Series(mapped[codes], index=values.index, dtype=object)


def parse_column(cells: pd.Series, kind: str, day_first: bool = True, decimal: str = ".",
                 timezone: str | None = None) -> Parsed:
    """Parse one column of text cells as ``kind`` (the contracts' kinds: id, text, category, time, date,
    datetime, int, float, bool); ``day_first`` and ``decimal`` as decided for the file (``habits``); ``timezone``
    the school's clock, for ISO times written in UTC or with an offset (settings.yaml ``school_day.timezone``)."""
    if kind in ("id", "text", "category"):
        text = clean_text(cells)
        return Parsed(text, pd.Series(False, index=text.index))
    if kind == "datetime":  # parsed as date and time apart, over the whole (Arrow-backed) column
        text = clean_text(cells)
        values = _parse_dates(text, kind, day_first, timezone)
        return Parsed(values, text.notna() & values.isna())
    # Trim and parse each distinct value once (an export repeats its severities, dates and yes/no's many times
    # over): " 3" and "3" are two distinct cells that parse the same.
    codes, uniques = pd.factorize(cells, use_na_sentinel=True)
    distinct = clean_text(pd.Series(uniques, dtype="str")).to_numpy(dtype=object, na_value=np.nan)
    parsed = _parse_distinct(pd.Series(distinct, dtype=object), kind, day_first, decimal, timezone)
    take = np.where(codes < 0, len(uniques), codes)
    values = pd.concat([parsed.values, pd.Series([None], dtype=object).astype(parsed.values.dtype)],
                       ignore_index=True).take(take).set_axis(cells.index)
    bad = np.append(parsed.bad.to_numpy(dtype=bool), False)[take]
    return Parsed(values, pd.Series(bad, index=cells.index))


def _parse_distinct(text: pd.Series, kind: str, day_first: bool = True, decimal: str = ".",
                    timezone: str | None = None) -> Parsed:
    present = text.notna()
    if kind in ("date", "datetime"):
        values = _parse_dates(text, kind, day_first, timezone)
    elif kind == "time":
        t = pd.to_datetime(text.str.replace(r"^(\d):", r"0\1:", regex=True), format="%H:%M", errors="coerce")
        rest = t.isna() & present
        if rest.any():
            t[rest] = pd.to_datetime(text[rest], format="%H:%M:%S", errors="coerce")
        rest = t.isna() & present
        if rest.any():  # 9.30am, 2.15pm, 9:30 AM, 09.30
            from kwanalytics.ingest.habits import everyday_time

            t[rest] = pd.to_datetime(text[rest].map(everyday_time), format="%H:%M", errors="coerce")
        values = t.dt.strftime("%H:%M").astype("str")
    elif kind == "int":
        num = _numbers(text, decimal)
        whole = num.notna() & np.isfinite(num) & (num == np.round(num)) & (num.abs() < 2**62)
        values = num.where(whole).astype("Float64").astype("Int64")
    elif kind == "float":
        num = _numbers(text, decimal)
        values = num.where(np.isfinite(num)).astype("float64")
    elif kind == "bool":
        folded = text.str.lower()
        values = pd.Series(pd.NA, index=text.index, dtype="boolean")
        values[folded.isin(TRUE)] = True
        values[folded.isin(FALSE)] = False
    else:
        raise ValueError(f"unknown column kind {kind!r}")
    bad = present & values.isna()
    return Parsed(values, bad)
