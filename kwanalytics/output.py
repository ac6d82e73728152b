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
    table = Table(title=title, show_lines=False, title_justify="left")
    for col in frame.columns:
        numeric = pd.api.types.is_numeric_dtype(frame[col])
        table.add_column(str(col), justify="right" if numeric else "left", overflow="fold")
    for row in frame.itertuples(index=False):
        table.add_row(*[_cell(v) for v in row])
    console.print(table)
    if frame.empty:
        console.print("(nothing to show)")


def _cell(value) -> str:
    from rich.markup import escape

    if value is None or (not isinstance(value, (list, tuple, str)) and pd.isna(value)):
        return ""
    if isinstance(value, float):
        return f"{value:.2f}"
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d")
    return escape(str(value))
