"""Typing exported text: UK day-first and ISO dates, yes/no, numbers with £ and commas, times."""

from __future__ import annotations

import pandas as pd
import pytest

from kwanalytics.ingest.parsing import parse_column, parse_date_text
from kwanalytics.ingest.readers import decode
from kwanalytics.ingest.validate import derive_period
from kwanalytics.settings import load_settings


def test_dates_are_day_first_and_iso_and_31_february_is_not_a_date():
    p = parse_column(pd.Series(["03/02/2025", "2025-02-03", " 3/2/2025 ", "31/02/2025", "", None, "03.02.2025"]),
                     "date")
    assert p.values.tolist()[:3] == [pd.Timestamp("2025-02-03")] * 3
    assert p.values.iloc[6] == pd.Timestamp("2025-02-03")
    assert p.bad.tolist() == [False, False, False, True, False, False, False]  # empty is missing, not bad
    assert str(p.values.dtype) == "datetime64[us]"


def test_datetimes_uk_and_iso_with_and_without_seconds():
    p = parse_column(pd.Series(["06/10/2025 10:05", "2025-10-06 10:05:30", "2025-10-06T10:05", "yesterday"]),
                     "datetime")
    assert p.values.iloc[0] == pd.Timestamp("2025-10-06 10:05")
    assert p.values.iloc[1] == pd.Timestamp("2025-10-06 10:05:30")
    assert p.values.iloc[2] == pd.Timestamp("2025-10-06 10:05")
    assert p.bad.tolist() == [False, False, False, True]


@pytest.mark.parametrize("kind,cells,expected,bad", [
    ("bool", ["Yes", "n", "TRUE", "0", "maybe", ""], [True, False, True, False, None, None],
     [False, False, False, False, True, False]),
    ("int", ["3", " 4 ", "3.0", "3.5", "nine", ""], [3, 4, 3, None, None, None],
     [False, False, False, True, True, False]),
    ("float", ["£1,200.50", "12", "(5)", "x"], [1200.5, 12.0, -5.0, None], [False, False, False, True]),
    ("time", ["9:30", "14:05:00", "25:00"], ["09:30", "14:05", None], [False, False, True]),
])
def test_scalars(kind, cells, expected, bad):
    p = parse_column(pd.Series(cells), kind)
    got = [None if pd.isna(v) else v for v in p.values.tolist()]
    assert got == expected
    assert p.bad.tolist() == bad


def test_text_is_trimmed_and_empty_is_missing():
    p = parse_column(pd.Series(["  S001 ", "", "   ", None]), "id")
    assert p.values.iloc[0] == "S001" and p.values.iloc[1:].isna().all()


def test_parse_date_text():
    assert str(parse_date_text("22/07/2026")) == "2026-07-22"
    assert str(parse_date_text("2026-07-22")) == "2026-07-22"
    assert parse_date_text("31/02/2026") is None


def test_decode_utf8_bom_and_cp1252():
    text, enc = decode("\ufeffa,b\r\n£1,“x”\r\n".encode("utf-8"), None)
    assert enc == "utf-8-sig" and text.startswith("a,b")
    text, enc = decode("a\r\n£5 “quoted”\r\n".encode("cp1252"), None)
    assert enc == "cp1252" and "£5 “quoted”" in text


def test_period_from_time_of_day():
    settings = load_settings(None)
    times = pd.Series(pd.to_datetime(["2025-10-06 08:55", "2025-10-06 10:50", "2025-10-06 12:30",
                                      "2025-10-06 00:00", "2025-10-06 19:00"]))
    got = derive_period(times, settings).tolist()
    assert got[:3] == ["Period 1", "Break", "Lunch"]
    assert pd.isna(got[3]) and pd.isna(got[4])  # a date without a time, and after school hours
