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
