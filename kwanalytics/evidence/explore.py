"""What notebooks/explore.ipynb shows: the processed tables sliced by pupil, programme and term (issue 18).

The notebook is for the AHT and the key worker to look around between reports. It stays thin (a parameters
cell, then calls): choosing the rows and counting them happens here, in pure functions from the workspace's
frames to frames, so that a test can reach every figure the notebook prints.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from kwanalytics.calendar import RECORD_DATES
from kwanalytics.errors import InputError
from kwanalytics.settings import fold

#: The tables a slice restricts by pupil only (they are not records of a day).
BY_PUPIL = ("students", "targets", "interventions")
#: What ``incidents_by`` can count by.
BY = {"category": "category", "period": "period", "location": "location", "weekday": None, "antecedent": "antecedent"}
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


@dataclass(frozen=True)
class Slice:
    """Which rows a view keeps: the pupils (None = every pupil), the period (None = open) and a title for it."""

    title: str
    students: tuple[str, ...] | None = None
    start: pd.Timestamp | None = None
    end: pd.Timestamp | None = None


def term_period(term_dates: dict, term: str | None) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
    """First and last day of ``term``: a term's name as in term_dates.yaml ("Spring 1 2026"), or a season and a
    year ("Spring 2026": both halves). None: no limit."""
    if term is None:
        return None, None
    terms = term_dates.get("terms") or []
    chosen = [t for t in terms if fold(t["name"]) == fold(term)]
    if not chosen:
        words = str(term).split()
        chosen = [t for t in terms if len(words) == 2 and t["name"].split()[0].lower() == words[0].lower()
                  and t["name"].split()[-1] == words[-1]]
    if not chosen:
        raise InputError(f"There is no term called '{term}' in term_dates.yaml. Terms: "
                         + ", ".join(t["name"] for t in terms) + " (or a season and a year, e.g. 'Autumn 2025').")
    return pd.Timestamp(min(t["start"] for t in chosen)), pd.Timestamp(max(t["end"] for t in chosen))


def programme_pupils(interventions: pd.DataFrame, programme: str, start=None, end=None) -> tuple[str, ...]:
    """Pupils enrolled in ``programme`` (any spelling of its name) at some time in the period, in id order."""
    rows = interventions[interventions["programme"].map(fold, na_action="ignore") == fold(programme)]
    if start is not None:
        rows = rows[rows["ended_on"].isna() | (rows["ended_on"] >= start)]
    if end is not None:
        rows = rows[rows["started_on"] <= end]
    return tuple(sorted(rows["student_id"].dropna().unique()))


def choose(tables: dict, term_dates: dict, student: str | None = None, programme: str | None = None,
           term: str | None = None) -> Slice:
    """The slice the notebook's parameters ask for: one pupil, a programme's pupils, or everyone; a term or all."""
    start, end = term_period(term_dates, term)
    students, words = None, []
    if student is not None:
        known = set(tables["students"]["student_id"])
        if known and student not in known:
            raise InputError(f"There is no pupil '{student}' in the students table.")
        students, words = (student,), [f"pupil {student}"]
    if programme is not None:
        enrolled = programme_pupils(tables["interventions"], programme, start, end)
        if not enrolled:
            named = sorted(tables["interventions"]["programme"].dropna().unique())
            raise InputError(f"No pupil is enrolled in '{programme}'" + (f" during {term}" if term else "")
                             + ". Programmes: " + ", ".join(named) + ".")
        students = enrolled if students is None else tuple(s for s in students if s in enrolled)
        words.append(f"the {len(enrolled)} pupils in {programme}")
    words = words or ["every pupil"]
    when = f"{term} ({start:%d/%m/%Y} to {end:%d/%m/%Y})" if term else "all dates"
    return Slice(", ".join(words) + ", " + when, students, start, end)


def slice_tables(tables: dict, view: Slice) -> dict[str, pd.DataFrame]:
    """Every table restricted to the slice: dated records (incidents, sessions, ratings, contacts) to its pupils and
    period; pupils, targets and enrolments to its pupils (an enrolment only if it overlaps the period)."""
    out = {}
    for name, frame in tables.items():
        keep = pd.Series(True, index=frame.index)
        if view.students is not None and "student_id" in frame:
            keep &= frame["student_id"].isin(view.students)
        when = RECORD_DATES.get(name)
        if when is not None:
            day = frame[when].dt.normalize()
            if view.start is not None:
                keep &= day >= view.start
            if view.end is not None:
                keep &= day <= view.end
        elif name == "interventions":
            if view.start is not None:
                keep &= frame["ended_on"].isna() | (frame["ended_on"] >= view.start)
            if view.end is not None:
                keep &= frame["started_on"] <= view.end
        out[name] = frame[keep.to_numpy(dtype=bool)].reset_index(drop=True)
    return out


def overview(sliced: dict) -> pd.DataFrame:
    """One row per pupil in the slice: incidents, sessions and their hours, mean engagement, ratings and the mean of
    each target's latest GAS rating, contacts. Pupils with nothing recorded show zeros."""
    students = sliced["students"]
    ids = pd.Index(students["student_id"], name="student_id")
    incidents, sessions = sliced["incidents"], sliced["sessions"]
    ratings, contacts = sliced["target_ratings"], sliced["contacts"]
    latest = ratings.sort_values("rated_on").groupby("target_id").tail(1)
    # a rating's pupil from its target when the ratings export did not say
    owner = sliced["targets"].set_index("target_id")["student_id"]
    latest = latest.assign(student_id=latest["student_id"].fillna(latest["target_id"].map(owner)))
    rated = ratings.assign(student_id=ratings["student_id"].fillna(ratings["target_id"].map(owner)))
    out = pd.DataFrame({
        "name": students.set_index("student_id")["display_name"].reindex(ids),
        "incidents": incidents.groupby("student_id").size().reindex(ids, fill_value=0),
        "sessions": sessions.groupby("student_id").size().reindex(ids, fill_value=0),
        "session_hours": (sessions.groupby("student_id")["duration_minutes"].sum() / 60).reindex(ids, fill_value=0),
        "mean_engagement": sessions.groupby("student_id")["engagement"].mean().reindex(ids),
        "ratings": rated.groupby("student_id").size().reindex(ids, fill_value=0),
        "latest_gas_mean": latest.groupby("student_id")["gas_score"].mean().reindex(ids),
        "contacts": contacts.groupby("student_id").size().reindex(ids, fill_value=0),
    })
    out["session_hours"] = out["session_hours"].astype(float).round(1)
    out["mean_engagement"] = out["mean_engagement"].astype(float).round(2)
    out["latest_gas_mean"] = out["latest_gas_mean"].astype(float).round(2)
    return out.reset_index()


def incidents_by(incidents: pd.DataFrame, by: str) -> pd.DataFrame:
    """Incidents counted by category, period, location, antecedent or weekday, most first (weekdays in order);
    an empty cell counts as "not recorded"."""
    if by not in BY:
        raise InputError(f"Incidents can be counted by {', '.join(BY)}, not '{by}'.")
    if by == "weekday":
        key = incidents["occurred_at"].dt.day_name()
    else:
        key = incidents[BY[by]].astype(object).where(incidents[BY[by]].notna(), "not recorded")
    counts = key.value_counts().rename_axis(by).reset_index(name="incidents")
    if by == "weekday":
        order = {d: i for i, d in enumerate(WEEKDAYS)}
        return counts.sort_values(by, key=lambda s: s.map(order)).reset_index(drop=True)
    return counts.sort_values(["incidents", by], ascending=[False, True]).reset_index(drop=True)


def sessions_by(sessions: pd.DataFrame, by: str = "activity") -> pd.DataFrame:
    """Sessions and their hours by activity, setting or format, most hours first."""
    if by not in ("activity", "setting", "format"):
        raise InputError(f"Sessions can be counted by activity, setting or format, not '{by}'.")
    key = sessions[by].astype(object).where(sessions[by].notna(), "not recorded")
    grouped = sessions.assign(**{by: key}).groupby(by)
    out = pd.DataFrame({"sessions": grouped.size(), "hours": grouped["duration_minutes"].sum() / 60})
    out["hours"] = out["hours"].astype(float).round(1)
    return out.reset_index().sort_values(["hours", by], ascending=[False, True]).reset_index(drop=True)
