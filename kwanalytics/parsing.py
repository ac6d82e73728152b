"""Turning exported text into typed values: UK day-first and ISO dates, yes/no booleans, numbers, times."""

from __future__ import annotations

from datetime import date

import pandas as pd


def parse_date_text(text: str) -> date | None:
    """One date typed by a person: ISO (2026-07-22) or UK day-first (22/07/2026); None when it is not one."""
    text = str(text).strip()
    for fmt in ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%d/%m/%y"):
        try:
            return pd.to_datetime(text, format=fmt).date()
        except (ValueError, TypeError):
            continue
    return None
