"""Keeping hostile text inert: HTML escaping and spreadsheet-formula neutralising (OWASP CSV injection)."""

from __future__ import annotations

import html
import re

import pandas as pd

# OWASP: a cell starting with = + - @ tab or carriage return may run as a formula. A leading + or - that
# is simply a number ("-2", "+44 20 ...") is left alone: GAS scores and phone numbers are not attacks.
# Every page the workbench writes (the reports, validation.html) loads nothing from anywhere: only its own inline
# styles, scripts (plotly) and data: images.
REPORT_CSP = ("default-src 'none'; script-src 'unsafe-inline' 'unsafe-eval'; style-src 'unsafe-inline'; "
              "img-src data: blob:; font-src data:")

_FORMULA_START = re.compile(r"^[=@\t\r]|^[+-](?![\d.,\s]*$)")


def neutralise_formula(value):
    """Prefix a cell that a spreadsheet would run as a formula with a single quote, so it shows as text."""
    if isinstance(value, str) and _FORMULA_START.match(value):
        return "'" + value
    return value


def spreadsheet_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` with every text cell neutralised, ready to write as CSV or Excel."""
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(neutralise_formula, na_action="ignore")
    out.columns = [neutralise_formula(str(c)) for c in out.columns]
    return out


def to_safe_csv(frame: pd.DataFrame, target=None, **kwargs):
    """Write ``frame`` as CSV that is safe to open in a spreadsheet (returns the text when ``target`` is None).

    Cells are neutralised (``spreadsheet_safe``) and lines end in CRLF as RFC 4180 says. The CRLF matters: with
    "\n" line ends Python's csv writer leaves a cell holding a lone carriage return unquoted, and a spreadsheet
    then starts a new row there, so "note\r=cmd|..." would put a live formula at the start of a row.
    """
    kwargs.setdefault("index", False)
    return spreadsheet_safe(frame).to_csv(target, lineterminator="\r\n", **kwargs)


def escape(value) -> str:
    """Text made safe to put into HTML: shown as typed, never run."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    return html.escape(str(value), quote=True)
