"""The tables behind `kwa impact` and `kwa watchlist`: a workspace's metrics with a title that says what they cover."""

from __future__ import annotations

import pandas as pd

from kwanalytics.errors import InputError
from kwanalytics.metrics.impact import (POOLING_METHOD, REPORT_COLUMNS, _impact_settings, default_as_of,
                                        enrolment_impact, programme_impact)
from kwanalytics.metrics.patterns import watchlist
from kwanalytics.workspace import load_workspace


#: The terminal table per programme: the pooled estimates and the costs (every column: ``--format csv``).
PROGRAMME_TABLE_COLUMNS = ["programme", "enrolments", "pupils", "rate_ratio", "rate_ratio_ci_low",
                           "rate_ratio_ci_high", "adjusted_rate_ratio", "adjusted_ci_low", "adjusted_ci_high",
                           "comparison_pupils", "heterogeneity_i2", "cost_per_pupil", "cost_per_hour",
                           "cost_per_incident_avoided"]


def terminal_columns(frame: pd.DataFrame, by: str) -> pd.DataFrame:
    """What fits a terminal: per programme the headline columns, per enrolment all of them."""
    return frame[PROGRAMME_TABLE_COLUMNS] if by == "programme" else frame


def impact_report(workspace, as_of=None, by: str = "enrolment") -> tuple[pd.DataFrame, str]:
    """The table behind ``kwa impact``: per enrolment (the main columns) or per programme, with a title that
    says which calendar the school days came from and the date counted up to."""
    if by not in ("enrolment", "programme"):
        raise InputError(f"--by {by!r} is not known. Use --by enrolment or --by programme.")
    ws = load_workspace(workspace)
    tables, settings, calendar = ws.tables, ws.settings, ws.calendar
    as_of = pd.Timestamp(as_of).normalize() if as_of is not None else default_as_of(tables)
    enrolments = enrolment_impact(tables, calendar, settings, as_of=as_of)
    baseline_n, min_days, min_incidents = _impact_settings(settings)
    where = (f"up to {as_of:%Y-%m-%d}; school days from {calendar.source}; baseline up to {baseline_n} school days "
             f"before each start; 95% quasi-Poisson intervals on weekly counts; adjusted = against pupils in no programme "
             f"over the same school days; \"too little data\" below {min_days} school days in "
             f"a window or {min_incidents} incidents in all")
    if by == "programme":
        return (programme_impact(enrolments, tables, settings, as_of=as_of, calendar=calendar),
                f"Impact per programme ({where}; pooled by {POOLING_METHOD})")
    return enrolments[REPORT_COLUMNS], f"Impact per enrolment ({where})"


def watchlist_report(workspace, as_of=None, since=None) -> tuple[pd.DataFrame, str]:
    """The watchlist of a workspace, for `kwa watchlist`; with ``since``, what is new or continuing since then."""
    ws = load_workspace(workspace, ["incidents", "interventions", "students", "sessions"])
    incidents = ws.tables["incidents"]
    frame = watchlist(incidents, ws.tables["students"], ws.tables["sessions"], ws.calendar, ws.settings,
                      as_of=as_of, since=since, interventions=ws.tables["interventions"])
    last = pd.to_datetime(incidents["occurred_at"]).max() if len(incidents) else None
    when = pd.Timestamp(as_of) if as_of is not None else last
    title = (f"Watchlist: {frame['student_id'].nunique()} pupils, {len(frame)} patterns"
             + (f", up to {when:%d/%m/%Y}" if when is not None and not pd.isna(when) else "")
             + (f"; with incidents since {pd.Timestamp(since):%d/%m/%Y} "
                f"({int((frame['status'] == 'new').sum())} new)" if since is not None else "")
             + f"; false discovery rate {ws.settings.school.patterns.false_discovery_rate:.0%}"
             + f"; school days from {ws.calendar.source}")
    for col in ("first_seen", "last_seen"):
        frame[col] = pd.to_datetime(frame[col]).dt.strftime("%Y-%m-%d")
    return frame, title
