"""Printing result tables in the terminal (rich) or as CSV that is safe to open in a spreadsheet."""

from __future__ import annotations

import sys

import pandas as pd
from rich.console import Console
from rich.table import Table

from kwanalytics.safety import to_safe_csv


def print_frame(frame: pd.DataFrame, fmt: str, title: str, console: Console) -> None:
    """Write ``frame`` to standard output as a rich table (``fmt="table"``) or CSV (``fmt="csv"``)."""
    if fmt == "csv":
        to_safe_csv(frame, sys.stdout)
        return
    from rich.markup import escape

    from kwanalytics.evidence.display import column_kind, display_frame

    shown = display_frame(frame)
    table = Table(title=title, show_lines=False, title_justify="left")
    for i, col in enumerate(frame.columns):
        numeric = column_kind(col, frame.iloc[:, i]) not in ("text", "date", "flag")
        table.add_column(escape(str(shown.columns[i])), justify="right" if numeric else "left", overflow="fold")
    for row in shown.itertuples(index=False):
        table.add_row(*[escape(v) for v in row])
    console.print(table)
    if frame.empty:
        console.print("(nothing to show)")


def with_interval(frame: pd.DataFrame, estimate: str, low: str, high: str, name: str) -> pd.DataFrame:
    """``frame`` with a text column ``name`` reading "0.14 (0.03–0.55)" from three number columns (for a line
    with the key figures); the three columns are dropped. A frame without them is returned as it was."""
    if not {estimate, low, high} <= set(frame.columns):
        return frame
    from kwanalytics.evidence.display import format_value

    def text(row) -> str:
        est, lo, hi = (format_value(row[c], "decimal") for c in (estimate, low, high))
        return est if lo == "–" and hi == "–" else f"{est} ({lo}–{hi})"

    shown = frame.copy()
    shown.insert(list(frame.columns).index(estimate), name, [text(r) for _, r in frame.iterrows()])
    return shown.drop(columns=[estimate, low, high])


def print_compact(frame: pd.DataFrame, title: str, console: Console, line: list[str],
                  beneath: list[str] | None = None) -> None:
    """A table for an 80-column terminal: one line a row with the ``line`` columns (the key figures, headed once),
    then the ``beneath`` columns (default: every other column) wrapped under it as "Label: value", indented.
    Columns named here but missing from ``frame`` are skipped; every row of ``frame`` is printed."""
    from kwanalytics.evidence.display import column_kind, format_value, header

    width = max(40, console.width or 80)
    line = [c for c in line if c in frame.columns]
    beneath = [c for c in (beneath if beneath is not None else frame.columns) if c in frame.columns
               and c not in line]
    kinds = {c: column_kind(c, frame[c]) for c in frame.columns}
    cells = {c: [format_value(v, kinds[c]) for v in frame[c].tolist()] for c in line}
    widths = {c: max([len(header(c))] + [len(v) for v in cells[c]]) for c in line}
    # Shrink the widest text column until the line fits (its cells are then cut with "…").
    while sum(widths.values()) + 2 * (len(line) - 1) > width and line:
        widest = max((c for c in line if kinds[c] in ("text",)), key=lambda c: widths[c], default=None)
        if widest is None or widths[widest] <= 8:
            break
        widths[widest] -= 1
    right = {c: kinds[c] not in ("text", "date", "flag") for c in line}

    def row_text(values: dict) -> str:
        parts = []
        for c in line:
            text = values[c]
            if len(text) > widths[c]:
                text = text[: widths[c] - 1] + "…"
            parts.append(text.rjust(widths[c]) if right[c] else text.ljust(widths[c]))
        return "  ".join(parts).rstrip()

    console.print(title, style="bold", highlight=False, markup=False, soft_wrap=False)
    if frame.empty:
        console.print("(nothing to show)", markup=False)
        return
    console.print(row_text({c: header(c) for c in line}), style="bold", markup=False, highlight=False)
    for i in range(len(frame)):
        console.print(row_text({c: cells[c][i] for c in line}), markup=False, highlight=False, soft_wrap=True)
        # long texts (evidence, next step) each get their own lines; short figures share lines, "; " between
        short: list[str] = []
        for c in beneath:
            value = format_value(frame[c].iloc[i], kinds[c]).strip()
            if value in ("–", ""):
                continue
            if len(value) > 30:
                _wrapped(console, f"{header(c)}: {value}", width)
            else:
                short.append(f"{header(c)}: {value}")
        if short:
            _wrapped(console, "; ".join(short), width)


def _wrapped(console: Console, text: str, width: int) -> None:
    import textwrap

    for piece in textwrap.wrap(text, width=width - 4, break_long_words=True, break_on_hyphens=False):
        console.print("    " + piece, markup=False, highlight=False, soft_wrap=True)
