"""The one display formatter: how every value in a report table, a Word table or the terminal reads.

A reader sees "–" for a missing value (never ``<NA>``, ``nan`` or ``NaT``), ratios to 2 decimals, money as
£1,234.50, percentages whole (25%), counts with thousands separators (1,234), dates as 03 Sep 2025 and yes/no for
true/false. Which columns are money or percentages is read from the column name, the way the canonical tables
and the evidence tables name them (docs/design.md):

- money: ``cost``, ``budget``, ``spend``, ``spent`` or ``gbp`` in the name (``cost_gbp``, ``cost_per_pupil``);
- percentages held as 0-100: the name ends in ``_pct`` or ``percent``/``percentage``;
- percentages held as a fraction 0-1: the name ends in ``share`` (shown times 100);
- p-values (``p_value``, ``p``, and the watchlist's ``q_value``): 3 decimals, "< 0.001" below that (2 decimals
  would print 0.00 for a strong pattern);
- any other number with a fraction: 2 decimals; a whole-number column: a count.

``display_frame`` is used by the HTML tables (``table_html``), which the Word tables copy cell for cell
(render/htmldocx.py), and by the terminal (output.py), so the three cannot drift apart.
"""

from __future__ import annotations

import datetime as dt
import html
import math
import re

import pandas as pd

from kwanalytics.safety import escape

#: What a reader sees for a missing value.
MISSING = "–"

_MONEY = re.compile(r"(^|_)(cost|costs|budget|spend|spent|gbp)(_|$)")
_PERCENT = re.compile(r"(_pct|percent|percentage)$")
_SHARE = re.compile(r"(^|_)share$")
_P_VALUE = re.compile(r"^(p|p_value|q_value|p_adjusted|p_value_adjusted)$")

#: Estimated characters of an A4 portrait line of table text (10 pt on 17 cm); a table wider than this is
#: printed and written to Word on a landscape page. Page geometry, not a school's choice.
PORTRAIT_LINE_CHARS = 110
#: A cell wraps at about this many characters, so a long note does not make its table "wide" on its own.
WRAP_CHARS = 28


def is_missing(value) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, (list, tuple, dict, set, str)):
        return False
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def column_kind(name, series: pd.Series | None = None) -> str:
    """How a column is shown: money, percent, share, p_value, date, flag, count, decimal or text."""
    key = str(name).strip().lower().replace(" ", "_")
    if series is not None and (pd.api.types.is_datetime64_any_dtype(series)):
        return "date"
    if series is not None and _is_flag(series):
        return "flag"
    numeric = series is None or pd.api.types.is_numeric_dtype(series)
    if numeric and _P_VALUE.search(key):
        return "p_value"
    # a share or percentage of money ("spend_share": cost / budget) is a share, not an amount
    if numeric and _PERCENT.search(key):
        return "percent"
    if numeric and _SHARE.search(key):
        return "share"
    if numeric and _MONEY.search(key):
        return "money"
    if series is None:
        return "text"
    if pd.api.types.is_integer_dtype(series):
        return "count"
    if pd.api.types.is_float_dtype(series):
        values = series.dropna()
        whole = len(values) > 0 and bool((values == values.round()).all())
        return "count" if whole and not _decimal_name(key) else "decimal"
    if series.dtype == object:
        values = series.dropna()
        if len(values) and values.map(lambda v: isinstance(v, (pd.Timestamp, dt.date))).all():
            return "date"
    return "text"


def _decimal_name(key: str) -> bool:
    # A rate, mean or score is a decimal even when every value in this table happens to be whole.
    return bool(re.search(r"(rate|ratio|mean|median|score|hours|nap|tau|effect|average|per_)", key))


def _is_flag(series: pd.Series) -> bool:
    if pd.api.types.is_bool_dtype(series):
        return True
    if series.dtype != object or not series.notna().any():
        return False
    return series.map(lambda v: is_missing(v) or isinstance(v, bool)).all()


def format_value(value, kind: str = "text") -> str:
    """One value as a reader sees it (see the module's docstring for the rules)."""
    if is_missing(value):
        return MISSING
    if kind == "flag" or isinstance(value, bool):
        return "yes" if value else "no"
    if kind == "date" or isinstance(value, (pd.Timestamp, dt.datetime, dt.date)):
        try:
            return pd.Timestamp(value).strftime("%d %b %Y")
        except (TypeError, ValueError):
            return str(value)
    if isinstance(value, str) or kind == "text":
        return _number(value, "decimal") if isinstance(value, float) else str(value)
    return _number(value, kind)


def _number(value, kind: str) -> str:
    try:
        x = float(value)
    except (TypeError, ValueError):
        return str(value)
    if math.isinf(x):
        return "∞" if x > 0 else "-∞"
    if kind == "money":
        return f"-£{-x:,.2f}" if x < 0 else f"£{x:,.2f}"
    if kind == "percent":
        return f"{x:,.0f}%"
    if kind == "share":
        return f"{100 * x:,.0f}%"
    if kind == "p_value":
        return "< 0.001" if 0 <= x < 0.001 else f"{x:.3f}"
    if kind == "count":
        return f"{x:,.0f}"
    return f"{x:,.2f}"


#: The statistics' own names, as the literature writes them (the other words of a column name stay plain).
TERMS = {"nap": "NAP", "tau u": "Tau-U", "i2": "I²", "tau2": "tau²", "gas": "GAS", "tscore": "T-score", "ci": "CI"}
_TERM_WORDS = re.compile(r"\b(" + "|".join(sorted(map(re.escape, TERMS), key=len, reverse=True)) + r")\b")


def header(name) -> str:
    """A column name in plain words: "first_score" -> "First score", "cost_gbp" -> "Cost" (the £ is in the
    cells), "heterogeneity_i2" -> "Heterogeneity I²", "nap" -> "NAP"; "SEMH" kept as written."""
    text = re.sub(r"_gbp$", "", str(name)).replace("_", " ").strip()
    text = _TERM_WORDS.sub(lambda m: TERMS[m.group(1)], text)
    return text[:1].upper() + text[1:]


def display_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with every cell as a string a reader sees and the column names in plain words.

    ``frame.attrs["decimals"]`` ({column: places}) shows a decimal column to other than 2 places (a rate per pupil
    per school day, 0.084, would read 0.08): the figure is still rounded once, here."""
    shown = pd.DataFrame(index=range(len(frame)))
    names = []
    places = frame.attrs.get("decimals") or {}
    for i, col in enumerate(frame.columns):
        series = frame.iloc[:, i]
        kind = column_kind(col, series)
        if kind == "decimal" and col in places:
            shown[i] = [MISSING if is_missing(v) else f"{float(v):,.{int(places[col])}f}" for v in series.tolist()]
        else:
            shown[i] = [format_value(v, kind) for v in series.tolist()]
        names.append(header(col))
    shown.columns = names
    return shown


def is_wide(shown: pd.DataFrame) -> bool:
    """True when a displayed table will not fit an A4 portrait line (printed and in Word it goes landscape)."""
    width = 0
    for i, col in enumerate(shown.columns):
        cells = [len(str(col))] + [len(str(v)) for v in shown.iloc[:, i].tolist()]
        width += min(max(cells), WRAP_CHARS) + 2
    return width > PORTRAIT_LINE_CHARS


def table_html(frame: pd.DataFrame | None, empty: str = "Nothing recorded.") -> str:
    """An escaped HTML table in a wrapper that scrolls sideways on a narrow screen; a table too wide for a
    portrait page is marked ``kwa-wide`` (print.css puts it on a landscape page)."""
    if frame is None or frame.empty:
        return f'<p class="kwa-empty">{escape(empty)}</p>'
    shown = display_frame(frame)
    css = "kwa-table-wrap kwa-wide" if is_wide(shown) else "kwa-table-wrap"
    # Written by hand rather than DataFrame.to_html: no line break, indent or style per cell, which at 3,000
    # pupils was a tenth of the patterns report (docs/benchmarks.md).
    # Cell text, never an attribute, so quotes need no escaping (an antecedent 'Told no' stays 9 characters).
    head = "".join(f"<th>{html.escape(str(col), quote=False)}</th>" for col in shown.columns)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(v), quote=False)}</td>" for v in row) + "</tr>"
                   for row in shown.itertuples(index=False, name=None))
    return (f'<div class="{css}"><table class="kwa-table"><thead><tr>{head}</tr></thead>'
            f"<tbody>{body}</tbody></table></div>")
