"""Which community sessions had no risk assessment current on their date: one rule, used by the ingest warnings
and by the reports (metrics.sessions.offsite_without_ra).

An assessment applies to a community session when
- the session names it (``risk_assessment_id``), or
- it is the pupil's own, or school-wide (no ``student_id``), and its activity and venue are each blank (any) or
  the session's (spelling compared loosely).

It is current from ``assessed_on`` to ``review_by``; one with no review date holds for
``risk_assessments.months_current_without_review_date`` months (settings.yaml): an assessment nobody reviews is
not current for ever. A session is covered when any applicable assessment is current on its date.

It lives in the ingest stage because ingest warns with it and the metrics may import from ingest, not the
other way round (docs/architecture.md).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kwanalytics.ingest.parsing import map_distinct
from kwanalytics.settings import fold

#: Folded spellings of the community setting (the pinned vocabulary maps them all to "community" at ingest; a
#: frame built by hand may still hold another).
COMMUNITY = {"community", "offsite", "outinthecommunity", "communityvisit"}
COLUMNS = ["session_id", "student_id", "date", "activity", "venue", "risk_assessment_id", "reason"]
#: With ``assessment=True``: the assessment the reason names (blank when none applies) and the day it stopped being
#: current (blank when it was made after the session, or none applies), so the sessions one lapsed assessment
#: leaves uncovered can be said once (validation.html).
ASSESSMENT_COLUMNS = ["ra_id", "ra_until"]
_RA_COLUMNS = ["ra_id", "student_id", "activity", "venue", "assessed_on", "review_by"]


def folded(series: pd.Series) -> pd.Series:
    """Each value folded for comparing (settings.fold: case and spacing); a missing one is ""."""
    return map_distinct(series, fold).fillna("")


def as_days(series) -> pd.Series:
    """Dates or date-times as the day they fall on (datetime64[us]); an unreadable one is NaT."""
    return pd.to_datetime(series, errors="coerce").dt.normalize().astype("datetime64[us]")


def _covers(ra_value: pd.Series, session_value: pd.Series) -> pd.Series:
    """An assessment's activity (or venue) covers a session when it is blank (any) or the same, loosely spelt."""
    a, s = folded(ra_value), folded(session_value)
    return (a == "") | (a == s)


def _with(frame: pd.DataFrame | None, columns: list[str]) -> pd.DataFrame:
    frame = frame if frame is not None else pd.DataFrame()
    return pd.DataFrame({c: frame[c] if c in frame else pd.Series(np.nan, index=frame.index, dtype=object)
                         for c in columns})


def community_sessions_without_ra(sessions: pd.DataFrame | None, risk_assessments: pd.DataFrame | None,
                                  months_current_without_review_date: int, assessment: bool = False) -> pd.DataFrame:
    """Community sessions with no applicable risk assessment current on their date, each with the reason in
    plain words (the nearest miss among the assessments that would apply). Columns ``COLUMNS`` (and
    ``ASSESSMENT_COLUMNS`` when ``assessment``), by date."""
    columns = COLUMNS + ASSESSMENT_COLUMNS if assessment else COLUMNS
    s = _with(sessions, ["session_id", "student_id", "date", "setting", "activity", "venue", "risk_assessment_id"])
    s = s[folded(s["setting"]).isin(COMMUNITY).to_numpy()].drop(columns="setting")
    if s.empty:
        return pd.DataFrame(columns=columns)
    s["date"] = as_days(s["date"])
    s["_pos"] = np.arange(len(s))
    ra = _with(risk_assessments, _RA_COLUMNS)
    # ids compare as text whatever a frame built by hand holds (an all-blank column reads as float)
    for frame, cols in ((s, ["student_id", "risk_assessment_id"]), (ra, ["ra_id", "student_id"])):
        for col in cols:
            frame[col] = frame[col].astype("string")
    ra["assessed_on"], ra["review_by"] = as_days(ra["assessed_on"]), as_days(ra["review_by"])
    ra = ra.dropna(subset=["assessed_on"])
    held = ra["assessed_on"] + pd.DateOffset(months=int(months_current_without_review_date))
    ra["until"] = ra["review_by"].fillna(held.astype("datetime64[us]"))

    keep = ["_pos", "date", "ra_id", "assessed_on", "review_by", "until"]
    named = s[["_pos", "date", "risk_assessment_id"]].merge(ra.drop(columns=["student_id", "activity", "venue"]),
                                                            left_on="risk_assessment_id", right_on="ra_id")
    own = s[["_pos", "date", "student_id", "activity", "venue"]].merge(
        ra.dropna(subset=["student_id"]), on="student_id", suffixes=("", "_ra"))
    school_wide = s[["_pos", "date", "activity", "venue"]].merge(
        ra[ra["student_id"].isna()].drop(columns="student_id"), how="cross", suffixes=("", "_ra"))
    matched = [m[_covers(m["activity_ra"], m["activity"]) & _covers(m["venue_ra"], m["venue"])] if len(m) else m
               for m in (own, school_wide)]
    cand = pd.concat([m[keep] for m in (named, *matched)], ignore_index=True)
    current = (cand["assessed_on"] <= cand["date"]) & (cand["date"] <= cand["until"])
    gaps = s[~s["_pos"].isin(set(cand.loc[current, "_pos"]))].copy()
    if gaps.empty:
        return pd.DataFrame(columns=columns)

    reasons, named_ra, until = {}, {}, {}
    for pos, g in cand[cand["_pos"].isin(gaps["_pos"])].groupby("_pos"):
        lapsed = g[g["assessed_on"] <= g["date"]].sort_values("until")
        if len(lapsed):
            r = lapsed.iloc[-1]
            until[pos] = r["until"]
            reasons[pos] = (f"risk assessment {r['ra_id']} was due for review on {r['until']:%d/%m/%Y}"
                            if pd.notna(r["review_by"]) else
                            f"risk assessment {r['ra_id']} has no review date and held for "
                            f"{months_current_without_review_date} months, to {r['until']:%d/%m/%Y}")
        else:
            r = g.sort_values("assessed_on").iloc[0]
            reasons[pos] = f"risk assessment {r['ra_id']} was only made on {r['assessed_on']:%d/%m/%Y}"
        named_ra[pos] = r["ra_id"]
    gaps["reason"] = gaps["_pos"].map(reasons).astype(object)
    named_missing = gaps["risk_assessment_id"].notna() & ~gaps["risk_assessment_id"].isin(ra["ra_id"])
    gaps.loc[named_missing & gaps["reason"].isna(), "reason"] = (
        "names risk assessment " + gaps["risk_assessment_id"].astype(str) + ", which is not in the records")
    gaps["reason"] = gaps["reason"].fillna("no risk assessment recorded for this pupil and activity")
    gaps["ra_id"] = gaps["_pos"].map(named_ra).astype(object)
    gaps.loc[named_missing & gaps["ra_id"].isna(), "ra_id"] = gaps["risk_assessment_id"]
    gaps["ra_until"] = gaps["_pos"].map(until).astype("datetime64[us]")
    return gaps.sort_values(["date", "session_id"], kind="stable")[columns].reset_index(drop=True)
