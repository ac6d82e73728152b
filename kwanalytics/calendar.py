"""The school calendar: which days are school days, so that every rate is per school day.

A half-term holiday has no incidents because there is no school, not because a pupil improved; counting
per school day keeps holidays out of every rate, window and trend.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

#: Weekday runs with no activity at all at least this long are taken for holidays when inferring a calendar.
HOLIDAY_MIN_WEEKDAYS = 5


@dataclass(frozen=True)
class SchoolCalendar:
    """Sorted school days (midnight timestamps) and a sentence saying where they came from."""

    days: pd.DatetimeIndex
    source: str

    def __post_init__(self):
        days = pd.DatetimeIndex(self.days).normalize().unique().sort_values()
        object.__setattr__(self, "days", days.astype("datetime64[us]"))

    def __len__(self) -> int:
        return len(self.days)

    def between(self, start, end) -> pd.DatetimeIndex:
        """School days from ``start`` to ``end``, both included."""
        start, end = pd.Timestamp(start).normalize(), pd.Timestamp(end).normalize()
        lo, hi = self.days.searchsorted(start, "left"), self.days.searchsorted(end, "right")
        return self.days[lo:hi]

    def before(self, date, n: int) -> pd.DatetimeIndex:
        """The ``n`` school days just before ``date`` (fewer when the calendar starts later)."""
        hi = self.days.searchsorted(pd.Timestamp(date).normalize(), "left")
        return self.days[max(0, hi - n):hi]

    def ordinal(self, dates) -> np.ndarray:
        """Each date's position among school days; a non-school day takes the next school day's position.

        Differences of ordinals count school days, so "3 incidents within 10 school days" is
        ``ordinal[i + 2] - ordinal[i] < 10`` whatever holidays lie between.
        """
        values = pd.DatetimeIndex(pd.to_datetime(pd.Series(dates)).dt.normalize())
        return self.days.searchsorted(values, "left")

    def is_school_day(self, dates) -> np.ndarray:
        values = pd.DatetimeIndex(pd.to_datetime(pd.Series(dates)).dt.normalize())
        return values.isin(self.days)

    def weeks(self, start=None, end=None) -> pd.DataFrame:
        """School weeks (Monday dates) in range with their number of school days; weeks with none are left out."""
        days = self.days if start is None and end is None else self.between(
            start if start is not None else self.days.min(), end if end is not None else self.days.max())
        week = days.to_period("W-SUN").start_time.astype("datetime64[us]")
        out = pd.Series(1, index=week).groupby(level=0).sum()
        return pd.DataFrame({"week_start": out.index, "school_days": out.to_numpy()})


def week_start(dates) -> pd.Series:
    """The Monday of each date's week, as a midnight timestamp."""
    s = pd.to_datetime(pd.Series(dates))
    return (s.dt.normalize() - pd.to_timedelta(s.dt.day_of_week, unit="D")).astype("datetime64[us]")


def weekly_counts(incidents: pd.DataFrame, calendar, since=None, until=None) -> pd.DataFrame:
    """Incidents per school week (every school week in range, zeros included) with its school days."""
    weeks = calendar.weeks(since, until)
    counts = week_start(incidents["occurred_at"]).value_counts() if len(incidents) else pd.Series(dtype=int)
    weeks["incidents"] = weeks["week_start"].map(counts).fillna(0).astype(int)
    return weeks


#: The dated column of each table that says when the school's records run (its data period).
RECORD_DATES = {"incidents": "occurred_at", "sessions": "date", "target_ratings": "rated_on", "contacts": "date"}


def data_period(tables: dict, as_of=None) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
    """The data's own period: the first and last day of any dated record (incidents, sessions, ratings, contacts),
    the end cut at ``as_of`` when given; (None, None) when nothing is dated.

    Term dates often span more years than the records (a school lists past and coming years' terms), so counting
    school days over the whole calendar would divide a year's incidents by three years of days.
    """
    first, last = None, None
    for name, col in RECORD_DATES.items():
        frame = tables.get(name)
        if frame is None or not len(frame) or col not in frame:
            continue
        when = pd.to_datetime(frame[col]).dropna()
        if len(when):
            lo, hi = when.min().normalize(), when.max().normalize()
            first = lo if first is None else min(first, lo)
            last = hi if last is None else max(last, hi)
    if as_of is not None and last is not None:
        # the records run up to as_of: its quiet last days are days of the period too
        last = min(last, pd.Timestamp(as_of).normalize())
        if last < first:
            return None, None
    return first, last


def from_term_dates(term_dates: dict, source: str = "term dates") -> SchoolCalendar:
    """School days are the weekdays inside each term, less the listed closures (bank holidays, INSET)."""
    days = []
    for term in term_dates.get("terms") or []:
        days.append(pd.bdate_range(pd.Timestamp(term["start"]), pd.Timestamp(term["end"])))
    index = days[0].append(days[1:]) if days else pd.DatetimeIndex([])
    closures = pd.DatetimeIndex([pd.Timestamp(d) for d in term_dates.get("closures") or []])
    return SchoolCalendar(index.difference(closures), source)


def inferred(activity_dates, source: str | None = None) -> SchoolCalendar:
    """Weekdays between the first and last activity, less runs of 5+ weekdays with no activity (holidays)."""
    dates = pd.DatetimeIndex(pd.to_datetime(pd.Series(activity_dates)).dropna().dt.normalize().unique())
    if dates.empty:
        return SchoolCalendar(pd.DatetimeIndex([]), source or "no calendar: no dated activity")
    weekdays = pd.bdate_range(dates.min(), dates.max())
    active = weekdays.isin(dates)
    run_id = np.cumsum(active)  # weekdays since the last active day share an id
    quiet = pd.Series(~active).groupby(run_id).transform("sum").to_numpy()
    keep = active | (quiet < HOLIDAY_MIN_WEEKDAYS)
    return SchoolCalendar(weekdays[keep], source or
                          "inferred from the weekdays with recorded activity (no term dates covered the data)")


def school_calendar(term_dates: dict, activity_dates, source: str = "the school's term dates") -> SchoolCalendar:
    """The school's term dates when they cover the data's span, otherwise a calendar inferred from the data."""
    dates = pd.to_datetime(pd.Series(activity_dates)).dropna()
    if term_dates.get("terms"):
        cal = from_term_dates(term_dates, source)
        if dates.empty or (len(cal) and cal.days.min() <= dates.min() and dates.max() <= cal.days.max()
                           + pd.Timedelta(days=7)):
            return cal
    return inferred(dates)


def calendar_for(tables: dict, settings) -> SchoolCalendar:
    """The calendar for a workspace's tables: term dates when they cover the incidents and sessions."""
    dates = []
    if "incidents" in tables and len(tables["incidents"]):
        dates.append(pd.to_datetime(tables["incidents"]["occurred_at"]))
    if "sessions" in tables and len(tables["sessions"]):
        dates.append(pd.to_datetime(tables["sessions"]["date"]))
    activity = pd.concat(dates, ignore_index=True) if dates else pd.Series([], dtype="datetime64[us]")
    source = settings.sources.get("term_dates.yaml")
    return school_calendar(settings.term_dates, activity,
                           f"the school's term dates ({source.name})" if source else "the school's term dates")
