"""The patterns report's opening view for the weekly BEST meeting: what is new since the last one, on one screen.

The watchlist (metrics/patterns.py) gives every pupil x pattern row; the meeting needs first who has a pattern with
incidents since the last meeting and whether it is new, then the evidence. The period between meetings is
``patterns.meeting_every_days`` in schemas/settings.yaml; ``kwa report patterns --since DATE`` names the last
meeting's date instead.
"""

from __future__ import annotations

import re

import pandas as pd

from kwanalytics.metrics.patterns import KINDS, NEXT_STEPS, PROGRAMME_NOTES

#: How the next steps' legend names each kind's own dates, time, place, behaviour or antecedent: the row's
#: evidence says which.
_WHAT = {"cluster": "the dates of the cluster", "trigger": "that antecedent", "behaviour": "that behaviour",
         "time": "at that time", "place": "that place"}
_NOTE = re.compile("|".join(re.escape(" " + words) for words in PROGRAMME_NOTES))


def last_meeting(as_of, settings) -> pd.Timestamp:
    """The last meeting's date, ``patterns.meeting_every_days`` days before ``as_of`` (its incidents count as
    since the meeting: it may have been in the morning)."""
    days = settings.school.patterns.meeting_every_days
    return pd.Timestamp(as_of).normalize() - pd.Timedelta(days=days)


def kinds_since(view: pd.DataFrame) -> pd.DataFrame:
    """Per pattern kind: pupils with it new since the meeting, continuing, and all (every kind, zeros included)."""
    counts = (view.groupby(["pattern", "status"])["student_id"].nunique().unstack("status")
              if len(view) else pd.DataFrame())
    out = pd.DataFrame(index=pd.Index(KINDS, name="pattern"))
    for status in ("new", "continuing"):
        out[status] = counts[status].reindex(out.index).fillna(0).astype(int) if status in counts else 0
    out["pupils"] = out["new"] + out["continuing"]
    return out.reset_index()


def pupils_by_kind(view: pd.DataFrame) -> pd.DataFrame:
    """One row per pupil with a pattern since the meeting, one column per kind ("new", "continuing" or blank),
    pupils with something new first, then those with the most kinds."""
    if view.empty:
        return pd.DataFrame(columns=["student_id", *KINDS])
    grid = view.pivot_table(index="student_id", columns="pattern", values="status", aggfunc="first")
    grid = grid.reindex(columns=list(KINDS)).astype("string").fillna("")
    new = (grid == "new").sum(axis=1)
    kinds = (grid != "").sum(axis=1)
    order = pd.DataFrame({"new": new, "kinds": kinds}).sort_values(["new", "kinds"], ascending=False, kind="stable")
    grid = grid.loc[order.index]
    grid.columns.name = None
    return grid.reset_index()


def since_sentence(view: pd.DataFrame, full: pd.DataFrame, since: pd.Timestamp) -> str:
    new = view.loc[view["status"] == "new", "student_id"].nunique()
    return (f"Since {since:%d/%m/%Y}: {view['student_id'].nunique()} pupils have a pattern with incidents in that "
            f"time, {new} of them with a pattern that is new; {full['student_id'].nunique()} pupils are on the "
            f"whole watchlist ({len(full)} patterns).")


def next_steps_legend(frame: pd.DataFrame) -> pd.DataFrame:
    """The next step of each pattern kind in ``frame``, said once: at 3,000 pupils the same sentence on each of
    2,000 rows was a third of the patterns report (docs/benchmarks.md)."""
    kinds = [k for k in KINDS if frame is not None and k in set(frame["pattern"])]
    return pd.DataFrame({"pattern": kinds, "next_step": [NEXT_STEPS[k].format(what=_WHAT.get(k, "")) for k in kinds]})


def programme_notes(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` (watchlist rows) with ``next_step`` replaced by what the pupil's programmes add to it
    (``programmes``, blank when nothing): the rest of the step is the kind's, in ``next_steps_legend``."""
    if frame is None or frame.empty:
        return frame
    notes = []
    for step in frame["next_step"].astype("string").fillna(""):
        found = _NOTE.search(step)
        notes.append(step[found.start() + 1:] if found else "")
    out = frame.copy()
    out.insert(list(out.columns).index("next_step"), "programmes", pd.array(notes, dtype="string"))
    return out.drop(columns="next_step")


def dates_said_once(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` without ``first_seen`` and ``last_seen``, for watchlist rows whose evidence already gives both
    dates (every kind but escalation: "first 06/10/2025, last 04/06/2026", a cluster's "(... to ...)")."""
    if frame is None or frame.empty:
        return frame
    return frame.drop(columns=["first_seen", "last_seen"], errors="ignore")


def criteria_shown(frame: pd.DataFrame, *constant: str) -> pd.DataFrame:
    """A criteria table without the columns its heading already states (``enrolled`` on "Meet entry criteria,
    not enrolled")."""
    if frame is None or frame.empty:
        return frame
    return frame.drop(columns=list(constant), errors="ignore")
