"""Programme entry and exit criteria: who meets a programme's entry criteria, which enrolled pupils meet its exit.

Criteria live in schemas/settings.yaml under ``programmes``, one entry per programme, each a count of incidents of
some categories within a number of school days ("3 or more incidents of physical aggression within 20 school days";
exit: "at most 0 within 30 school days"). Windows count school days, so a holiday neither helps nor hurts.
"""

from __future__ import annotations

import pandas as pd

from kwanalytics.calendar import SchoolCalendar
from kwanalytics.ingest.parsing import map_distinct
from kwanalytics.settings import fold

COLUMNS = ["student_id", "programme", "enrolment_id", "enrolled", "meets_entry", "meets_exit", "evidence"]


def _window_counts(incidents: pd.DataFrame, calendar: SchoolCalendar, as_of: pd.Timestamp, categories,
                   school_days: int) -> tuple[pd.Series, pd.Timestamp]:
    """Incidents of ``categories`` per pupil in the last ``school_days`` school days up to ``as_of``."""
    days = calendar.between(calendar.days.min(), as_of) if len(calendar) else pd.DatetimeIndex([])
    start = days[-school_days] if len(days) >= school_days else (days[0] if len(days) else as_of)
    wanted = {fold(c) for c in categories or []}
    cat = map_distinct(incidents["category"], fold)
    when = pd.to_datetime(incidents["occurred_at"]).dt.normalize()
    mask = (when >= start) & (when <= as_of)
    if wanted:
        mask &= cat.isin(wanted).fillna(False)
    return incidents.loc[mask].groupby("student_id").size(), start


def _describe(categories) -> str:
    cats = list(categories or [])
    if not cats:
        return "incidents"
    return "incidents of " + (", ".join(c.lower() for c in cats[:-1]) + " or " if len(cats) > 1 else "") + cats[-1].lower()


def criteria_status(incidents: pd.DataFrame, interventions: pd.DataFrame | None, calendar: SchoolCalendar,
                    settings, as_of=None) -> pd.DataFrame:
    """One row per pupil and programme where the pupil meets the entry criteria or is enrolled (open on ``as_of``).

    ``meets_entry``: not enrolled in the programme now and at least ``entry.at_least`` incidents of the entry
    categories in the last ``entry.within_school_days`` school days. ``meets_exit``: enrolled, the enrolment has
    run at least ``exit.within_school_days`` school days (an earlier judgement would be premature), and at most
    ``exit.at_most`` incidents of the exit categories in that many school days.
    """
    programmes = settings.school.programmes
    incidents = incidents if incidents is not None else pd.DataFrame(columns=["student_id", "occurred_at", "category"])
    if as_of is None:
        dates = pd.to_datetime(incidents["occurred_at"]) if len(incidents) else pd.Series(dtype="datetime64[us]")
        as_of = dates.max() if len(dates) else pd.Timestamp.today()
    as_of = pd.Timestamp(as_of).normalize()
    enrol = interventions if interventions is not None and len(interventions) else None
    rows = []
    for programme, rule in programmes.items():
        entry, exit_ = rule.entry, rule.exit
        open_now = pd.DataFrame(columns=["enrolment_id", "student_id", "started_on"])
        if enrol is not None:
            started = pd.to_datetime(enrol["started_on"])
            ended = pd.to_datetime(enrol["ended_on"])
            same = map_distinct(enrol["programme"], fold) == fold(programme)
            open_now = enrol.loc[same.fillna(False) & (started <= as_of) & (ended.isna() | (ended >= as_of)),
                                 ["enrolment_id", "student_id", "started_on"]]
        enrolled = set(open_now["student_id"])
        if entry:
            k = entry.within_school_days
            counts, start = _window_counts(incidents, calendar, as_of, entry.categories, k)
            hit = counts[counts >= entry.at_least]
            for sid, n in hit.items():
                if sid in enrolled:
                    continue
                rows.append({"student_id": sid, "programme": programme, "enrolment_id": pd.NA, "enrolled": False,
                             "meets_entry": True, "meets_exit": False,
                             "evidence": f"{n} {_describe(entry.categories)} in the last {k} school days "
                                         f"({start:%d/%m/%Y} to {as_of:%d/%m/%Y}); entry needs "
                                         f"{entry.at_least} or more."})
        if len(open_now):
            k = exit_.within_school_days if exit_ else 0
            counts, start = (_window_counts(incidents, calendar, as_of, exit_.categories, k)
                             if exit_ else (pd.Series(dtype=int), as_of))
            for r in open_now.itertuples(index=False):
                n = int(counts.get(r.student_id, 0))
                ran = len(calendar.between(r.started_on, as_of)) if len(calendar) else 0
                meets = bool(exit_) and ran >= k and n <= exit_.at_most
                if not exit_:
                    why = "No exit criteria are set for this programme in settings.yaml."
                elif ran < k:
                    why = (f"Enrolled {pd.Timestamp(r.started_on):%d/%m/%Y}: {ran} school days so far, too early to "
                           f"judge the exit criteria ({k} school days).")
                else:
                    why = (f"{n} {_describe(exit_.categories)} in the last {k} school days "
                           f"({start:%d/%m/%Y} to {as_of:%d/%m/%Y}); exit needs at most {exit_.at_most}.")
                rows.append({"student_id": r.student_id, "programme": programme, "enrolment_id": r.enrolment_id,
                             "enrolled": True, "meets_entry": False, "meets_exit": meets, "evidence": why})
    out = pd.DataFrame(rows, columns=COLUMNS)
    return out.sort_values(["programme", "student_id"], kind="stable").reset_index(drop=True)
