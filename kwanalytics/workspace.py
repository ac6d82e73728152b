"""Loading a workspace happens here and nowhere else: its settings, its stored tables and its school calendar."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from kwanalytics.calendar import SchoolCalendar, calendar_for
from kwanalytics.settings import Settings, load_settings
from kwanalytics.store import load_tables


@dataclass(frozen=True)
class Workspace:
    """One school's workspace as the metrics and reports see it."""

    path: Path
    settings: Settings
    tables: dict[str, pd.DataFrame]
    calendar: SchoolCalendar


def load_workspace(path: str | Path, tables: list[str] | None = None) -> Workspace:
    """The workspace at ``path``: every stored table (or those named), the settings and the calendar they imply."""
    settings = load_settings(path)
    frames = load_tables(path, tables)
    return Workspace(Path(path), settings, frames, calendar_for(frames, settings))
