"""Each pupil's own time on roll: the school days a pupil could have had an incident or a session.

Every pupil-level rate and test counts these days, not the school's whole date range, so that a pupil who joined
in the spring is not measured against an autumn in which they were not there.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kwanalytics.calendar import SchoolCalendar

ROLL_COLUMNS = ["student_id", "first_day", "last_day", "school_days", "dated_by"]


def _activity(frame: pd.DataFrame | None, column: str) -> pd.DataFrame:
    if frame is None or frame.empty or column not in frame:
        return pd.DataFrame({"student_id": pd.Series([], dtype="str"), "day": pd.Series([], dtype="datetime64[us]")})
    day = pd.to_datetime(frame[column]).dt.normalize()
    return pd.DataFrame({"student_id": frame["student_id"], "day": day}).dropna()


def time_on_roll(students: pd.DataFrame | None, incidents: pd.DataFrame | None, sessions: pd.DataFrame | None,
                 calendar: SchoolCalendar) -> pd.DataFrame:
    """One row per pupil: first_day and last_day on roll and the school days between them (both included).

    From the students table's ``admitted_on`` where given, else the first day the pupil appears in incidents or
    sessions; to ``left_on`` where given, else (a pupil with an admission date and no leaving date is still on
    roll) the calendar's last school day, else the last day the pupil appears. Callers clip to their own as-of
    date. ``dated_by`` says which: "admission and leaving dates", "admission date", "leaving date" or "activity".
    """
    activity = pd.concat([_activity(incidents, "occurred_at"), _activity(sessions, "date")], ignore_index=True)
    seen = activity.groupby("student_id")["day"].agg(["min", "max"])
    ids = pd.Index(seen.index)
    if students is not None and not students.empty:
        ids = ids.union(pd.Index(students["student_id"].dropna().unique()))
    out = pd.DataFrame(index=ids.rename("student_id"))
    out["first_day"] = seen["min"].reindex(ids)
    out["last_day"] = seen["max"].reindex(ids)
    admitted = left = pd.Series(pd.NaT, index=ids, dtype="datetime64[us]")
    if students is not None and not students.empty:
        by_id = students.drop_duplicates("student_id").set_index("student_id")
        if "admitted_on" in by_id:
            admitted = pd.to_datetime(by_id["admitted_on"]).reindex(ids)
        if "left_on" in by_id:
            left = pd.to_datetime(by_id["left_on"]).reindex(ids)
    out["first_day"] = admitted.where(admitted.notna(), out["first_day"]).to_numpy()
    on_roll = admitted.notna() & left.isna()
    if len(calendar):
        left = left.where(~on_roll, calendar.days.max())
    out["last_day"] = left.where(left.notna(), out["last_day"]).to_numpy()
    out["first_day"] = pd.to_datetime(out["first_day"]).astype("datetime64[us]")
    out["last_day"] = pd.to_datetime(out["last_day"]).astype("datetime64[us]")
    days = calendar.days
    lo = days.searchsorted(out["first_day"].to_numpy(), "left")
    hi = days.searchsorted(out["last_day"].to_numpy(), "right")
    known = out["first_day"].notna().to_numpy() & out["last_day"].notna().to_numpy()
    out["school_days"] = np.where(known, np.maximum(hi - lo, 0), 0).astype("int64")
    has_adm, has_left = admitted.notna().to_numpy(), (left.notna() & ~on_roll).to_numpy()
    out["dated_by"] = np.select([has_adm & has_left, has_adm, has_left], ["admission and leaving dates",
                                "admission date", "leaving date"], "activity")
    return out.reset_index()[ROLL_COLUMNS]
