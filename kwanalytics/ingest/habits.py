"""How people and systems really write numbers, dates and times in exports (issue 19, docs/design.md).

Two decisions are made once per file, from every value of it, never cell by cell:

* the decimal separator: "," when the file's numbers only make sense so ("9,00", "1.950,00", "650,75") and
  none only makes sense with "."; a profile may state it (``decimal``);
* the date order: month-first when some date of the file only makes sense so (a 13 or more in the middle,
  "12/13/2025") and none only makes sense day-first; when every date is ambiguous the UK's day-first stands,
  as documented; a profile may state it (``date_order``).

Then ``everyday_time`` and ``everyday_datetime`` read what the usual formats left, one distinct value at a time:
"9.30am", "2.15pm", "9:30 AM", "09.30"; "2 Dec 2025", "Wed 02/12/2026", "Wednesday 2 December 2025 14:30";
ISO 8601 with "T" and "Z" or an offset (turned into the school's clock: ``school_day.timezone`` in
settings.yaml).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from kwanalytics.ingest.parsing import DATE_FORMATS, month_first

_TIME = re.compile(r"^\s*(\d{1,2})(?:[.:](\d{2}))?(?:[.:](\d{2}))?\s*([ap])\.?\s*m\.?\s*$", re.IGNORECASE)
_DOTTED = re.compile(r"^\s*(\d{1,2})[.:](\d{2})(?:[.:](\d{2}))?\s*$")
_WEEKDAY = re.compile(r"^\s*(?:mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun)[a-z]*\.?,?\s+", re.IGNORECASE)
_TRAILING_TIME = re.compile(r"^(.*?\S)[\sT,]+(\d{1,2}(?:[.:]\d{2}){0,2}\s*(?:[ap]\.?\s*m\.?)?)$", re.IGNORECASE)
_NAMED = ("%d %b %Y", "%d %B %Y", "%d-%b-%Y", "%d-%b-%y", "%d %b %y", "%d %B %y", "%b %d %Y", "%B %d %Y",
          "%d/%b/%Y", "%d.%b.%Y")
_MONTH_FIRST = month_first(DATE_FORMATS)
_ISO_ZONE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})$", re.IGNORECASE)


def everyday_time(text) -> str | None:
    """"HH:MM" for a time written as people do (9.30am, 2.15pm, 12pm, 9:30 AM, 09.30), else None."""
    if not isinstance(text, str):
        return None
    m = _TIME.match(text)
    if m:
        hour, minute = int(m.group(1)), int(m.group(2) or 0)
        if not 1 <= hour <= 12 or minute > 59:
            return None
        hour = hour % 12 + (12 if m.group(4).lower() == "p" else 0)
        return f"{hour:02d}:{minute:02d}"
    m = _DOTTED.match(text)
    if m and int(m.group(1)) < 24 and int(m.group(2)) < 60:
        return f"{int(m.group(1)):02d}:{m.group(2)}"
    return None


def _date(text: str, day_first: bool):
    text = _WEEKDAY.sub("", text.strip()).replace(",", " ")
    text = re.sub(r"(\d)(?:st|nd|rd|th)\b", r"\1", re.sub(r"\s+", " ", text)).strip()
    numeric = DATE_FORMATS if day_first else _MONTH_FIRST
    for fmt in _NAMED + numeric:
        try:
            return pd.to_datetime(text, format=fmt)
        except (ValueError, TypeError):
            continue
    return None


def everyday_datetime(text, day_first: bool = True, timezone: str | None = None):
    """A date, or a date and time, as people and systems write them; NaT when it is neither.

    An ISO time written in UTC ("Z") or with an offset is stored as the time on the school's wall clock
    (``timezone``, from settings.yaml), which is what every rate, period and chart means; without a timezone it
    cannot be placed and is NaT."""
    if not isinstance(text, str) or not text.strip():
        return pd.NaT
    text = text.strip()
    if _ISO_ZONE.match(text):
        stamp = pd.to_datetime(text, utc=True, errors="coerce")
        if pd.isna(stamp) or timezone is None:
            return pd.NaT
        return stamp.tz_convert(timezone).tz_localize(None)
    day = _date(text, day_first)
    if day is not None:
        return day
    m = _TRAILING_TIME.match(text)
    if m:
        clock = everyday_time(m.group(2))
        day = _date(m.group(1), day_first)
        if clock and day is not None:
            return day + pd.Timedelta(hours=int(clock[:2]), minutes=int(clock[3:5]))
    return pd.NaT


# ------------------------------------------------------------------------------------------------ per file

_COMMA_ONLY = re.compile(r"^[+-]?[£€]?\s?(?:\d{1,3}(?:\.\d{3})+,\d+|\d+,\d{1,2}|\d+,\d{4,}|\d{1,3}(?:\.\d{3}){2,})$")
_POINT_ONLY = re.compile(r"^[+-]?[£€]?\s?(?:\d{1,3}(?:,\d{3})+\.\d+|\d+\.\d{1,2}|\d+\.\d{4,}|\d{1,3}(?:,\d{3}){2,})$")


@dataclass(frozen=True)
class Decision:
    value: str  # "." or "," for a decimal; "day_first" or "month_first" for a date order
    said: str | None = None  # what the summary says about it, when it is not the usual


def _first_of_each(columns: list[pd.Series], sort, strip: bool = False) -> tuple:
    """The first value, over the columns' distinct values, of each of the two kinds ``sort(values)`` picks out
    (None where a kind has none): a habit is decided by values that can be read only one way."""
    first = [None, None]
    for col in columns:
        text = col.dropna().astype("str")
        values = pd.Series(pd.unique(text.str.strip() if strip else text), dtype=object)
        if values.empty:
            continue
        for i, found in enumerate(sort(values)):
            if first[i] is None and not found.empty:
                first[i] = found.iloc[0]
    return tuple(first)


def _comma_or_point(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    return values[values.str.match(_COMMA_ONLY.pattern)], values[values.str.match(_POINT_ONLY.pattern)]


def _day_or_month_first(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    # Arrow's regex over the distinct values (a year of incidents has ~100,000 distinct date-times)
    found = pc.extract_regex(pa.array(values.tolist(), type=pa.string()),
                             r"^\s*(?:[A-Za-z]+\.?,?\s+)?(?P<a>\d{1,2})[/.-](?P<b>\d{1,2})[/.-]\d{2,4}")
    first = pd.to_numeric(pd.Series(pc.struct_field(found, [0]).to_pandas()), errors="coerce")
    second = pd.to_numeric(pd.Series(pc.struct_field(found, [1]).to_pandas()), errors="coerce")
    return values[(first > 12) & (second <= 12)], values[(second > 12) & (first <= 12)]


def decide_decimal(columns: list[pd.Series], stated: str | None = None) -> Decision:
    """The file's decimal separator from the text of its number columns (see the module docstring)."""
    if stated in (".", ","):
        return Decision(stated, None if stated == "." else "numbers read with a decimal comma (the profile says so)")
    comma, point = _first_of_each(columns, _comma_or_point, strip=True)
    if comma is not None and point is None:
        return Decision(",", f"numbers read with a decimal comma: '{comma}' only makes sense so "
                             "(the file's numbers are written the European way)")
    return Decision(".")


def decide_date_order(columns: list[pd.Series], stated: str | None = None) -> Decision:
    """The file's date order from every date of it (see the module docstring)."""
    if stated in ("day_first", "month_first"):
        return Decision(stated, None if stated == "day_first" else "dates read month first (the profile says so)")
    day_only, month_only = _first_of_each(columns, _day_or_month_first)
    if month_only is not None and day_only is None:
        return Decision("month_first", f"dates read month first (US order): '{month_only}' only makes sense so, "
                                       "and no date of the file only makes sense day first")
    return Decision("day_first")
