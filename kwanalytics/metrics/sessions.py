"""Key-work sessions, budgets and risk assessments: hours, activities, engagement, spend and safety gaps.

Pure functions over the canonical tables (docs/design.md, "Canonical tables"). Session ``setting`` and ``format`` are
pinned vocabularies, so after ingest they hold "on-site"/"community" and "one-to-one"/"small-group"; the functions
still compare spellings loosely (``settings.fold``) so that a frame built by hand reads the same.
"""

from __future__ import annotations

import re
import numpy as np
import pandas as pd

from kwanalytics.ingest.risk_assessments import COMMUNITY, community_sessions_without_ra
from kwanalytics.ingest.risk_assessments import as_days as _dates
from kwanalytics.ingest.risk_assessments import folded as _folded
from kwanalytics.metrics.trends import theil_sen_slope
from kwanalytics.settings import Settings, fold, load_settings

SUMMARY_COLUMNS = [
    "student_id", "sessions", "hours", "hours_on_site", "hours_community", "one_to_one", "small_group",
    "mean_engagement", "engagement_trend", "activities", "skills_english", "skills_maths", "skills_social",
]
BUDGET_COLUMNS = ["budget_id", "scope", "scope_id", "period_start", "period_end", "amount_gbp", "spent_gbp",
                  "remaining_gbp"]

_ON_SITE = {"onsite", "insch", "inschool", "school"}
_ONE_TO_ONE = {"onetoone", "11", "1to1", "individual"}
_SMALL_GROUP = {"smallgroup", "group", "groupwork"}
# Words a key worker writes for each embedded skill ("English; maths; social", "literacy", "numeracy", ...).
SKILL_WORDS = {
    "english": r"\b(?:english|literacy|reading|writing|spelling|phonics)\b",
    "maths": r"\b(?:maths?|mathematics|numeracy|money|counting|time telling)\b",
    "social": r"\b(?:social|communication|turn[- ]taking|teamwork)\b",
}
TOP_ACTIVITIES = 3
MIN_TREND_SESSIONS = 3


def _num(frame: pd.DataFrame, col: str) -> pd.Series:
    """A numeric column as float (NaN where missing or absent)."""
    if col not in frame:
        return pd.Series(np.nan, index=frame.index, dtype=float)
    return pd.to_numeric(frame[col], errors="coerce").astype(float)


def _theil_sen_per_10(y: np.ndarray) -> float:
    """The Theil-Sen slope per 10 sessions (metrics/trends.py); NaN with too few sessions, 0 when flat."""
    if len(y) < MIN_TREND_SESSIONS:
        return np.nan
    return theil_sen_slope(y) * 10


def _engagement_trends(rated: pd.DataFrame) -> pd.Series:
    """``_theil_sen_per_10`` of each pupil's engagement; ``rated`` is sorted by pupil, then date."""
    if rated.empty:
        return pd.Series(dtype=float)
    codes, pupils = pd.factorize(rated["student_id"])
    parts = np.split(rated["engagement"].to_numpy(dtype=float), np.flatnonzero(np.diff(codes)) + 1)
    return pd.Series([_theil_sen_per_10(y) for y in parts], index=pupils)


def session_summary(sessions: pd.DataFrame) -> pd.DataFrame:
    """Per pupil: sessions, hours (on site and in the community), 1:1 and small-group counts, engagement, activities,
    and how many sessions embedded English, maths and social skills.

    ``engagement_trend`` is the Theil-Sen slope (scipy.stats.theilslopes; Sen 1968) of engagement (1..5) against the
    session's position in date order, per 10 sessions: +1 means engagement rose one point over ten sessions. It
    needs at least 3 rated sessions (NaN otherwise) and shrugs off the odd bad day, unlike a least-squares line.
    ``activities`` names the most frequent activities with their counts, e.g. "Cooking (5), Café visit (3)".
    ``skills_*`` count sessions whose ``skills`` text mentions the skill (see ``SKILL_WORDS``).
    """
    if sessions is None or sessions.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in SUMMARY_COLUMNS})
    s = sessions.copy()
    s["_date"] = _dates(s["date"])
    hours = _num(s, "duration_minutes") / 60
    setting = _folded(s["setting"]) if "setting" in s else pd.Series("", index=s.index)
    fmt = _folded(s["format"]) if "format" in s else pd.Series("", index=s.index)
    skills = s["skills"].fillna("").astype(str).str.lower() if "skills" in s else pd.Series("", index=s.index)
    frame = pd.DataFrame({
        "student_id": s["student_id"],
        "hours": hours,
        "hours_on_site": hours.where(setting.isin(_ON_SITE)),
        "hours_community": hours.where(setting.isin(COMMUNITY)),
        "one_to_one": fmt.isin(_ONE_TO_ONE).astype(int),
        "small_group": fmt.isin(_SMALL_GROUP).astype(int),
        "engagement": _num(s, "engagement"),
        **{f"skills_{k}": skills.str.contains(pattern, regex=True).astype(int) for k, pattern in SKILL_WORDS.items()},
    })
    g = frame.groupby("student_id", sort=True)
    out = pd.DataFrame({
        "sessions": g.size(),
        "hours": g["hours"].sum(min_count=1).fillna(0.0),
        "hours_on_site": g["hours_on_site"].sum().fillna(0.0),
        "hours_community": g["hours_community"].sum().fillna(0.0),
        "one_to_one": g["one_to_one"].sum(),
        "small_group": g["small_group"].sum(),
        "mean_engagement": g["engagement"].mean(),
    })
    rated = s.assign(engagement=frame["engagement"]).dropna(subset=["engagement"]).sort_values(
        ["student_id", "_date", "session_id"], kind="stable")
    out["engagement_trend"] = _engagement_trends(rated).reindex(out.index)
    if "activity" in s:
        counts = s.dropna(subset=["activity"]).groupby(["student_id", "activity"]).size().rename("n").reset_index()
        counts = counts.sort_values(["student_id", "n", "activity"], ascending=[True, False, True])
        top = counts.groupby("student_id").head(TOP_ACTIVITIES)
        out["activities"] = (top["activity"] + " (" + top["n"].astype(str) + ")").groupby(top["student_id"]).agg(
            ", ".join).reindex(out.index)
    else:
        out["activities"] = np.nan
    for k in SKILL_WORDS:
        out[f"skills_{k}"] = g[f"skills_{k}"].sum()
    return out.reset_index()[SUMMARY_COLUMNS]


#: Budget scopes from the most specific to the least: a session is charged to the first that pays for it.
SCOPE_ORDER = ("student", "programme", "general")


def budget_lines(budget: pd.DataFrame, settings: Settings) -> pd.DataFrame:
    """The budget with its scope normalised, the one way every reader does it: ``scope`` in the school's
    spelling of "student", "programme" or "general" (budget_scopes vocabulary; blank is general) and, for a
    programme line, ``scope_id`` as the programme's canonical name (programmes vocabulary)."""
    b = budget.copy()
    for col in ("scope", "scope_id", "period_start", "period_end"):
        if col not in b:
            b[col] = np.nan
    scopes, programmes = settings.vocabularies["budget_scopes"], settings.vocabularies["programmes"]
    b["scope"] = b["scope"].map(lambda v: (scopes.canonical(v) or str(v).strip()) if pd.notna(v) else "general")
    programme = b["scope"].eq("programme") & b["scope_id"].notna()
    b["scope_id"] = b["scope_id"].astype(object)
    b.loc[programme, "scope_id"] = [programmes.canonical(v) or str(v).strip() for v in b.loc[programme, "scope_id"]]
    b["period_start"], b["period_end"] = _dates(b["period_start"]), _dates(b["period_end"])
    b["amount_gbp"] = pd.to_numeric(b["amount_gbp"], errors="coerce").astype(float)
    return b


def budget_summary(tables: dict, settings: Settings | None = None) -> pd.DataFrame:
    """Spend against each designated budget row: the cost of the sessions charged to it.

    Each session is charged to ONE line, so the lines add up to what was spent and nothing counts twice: of the
    lines that could pay for it inside their period, the most specific (``SCOPE_ORDER``: the pupil's own line,
    then a line of a programme the session delivers, then a general line), then the one with the shorter period
    (an open side counts as endless), then the first listed. A programme line pays for the sessions delivering the
    programme (:func:`kwanalytics.metrics.impact.programme_sessions`: an enrolled pupil's sessions inside the
    enrolment whose activity is the programme). ``remaining_gbp`` is negative when a budget is overspent.
    ``settings`` gives the vocabularies (default: the shipped ones).
    """
    budget = tables.get("budget")
    if budget is None or budget.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in BUDGET_COLUMNS})
    settings = settings or load_settings(None)
    b = budget_lines(budget, settings)

    sessions = tables.get("sessions")
    if sessions is None or sessions.empty:
        sessions = pd.DataFrame(columns=["session_id", "student_id", "date", "cost_gbp"])
    ses = pd.DataFrame({"_session": np.arange(len(sessions)), "session_id": sessions["session_id"].to_numpy(),
                        "student_id": sessions["student_id"].to_numpy(),
                        "date": _dates(sessions["date"]).to_numpy(), "cost": _num(sessions, "cost_gbp").to_numpy()})
    from kwanalytics.metrics.impact import programme_sessions

    delivered = programme_sessions(sessions, tables.get("interventions"), settings)
    rows = b.assign(_row=np.arange(len(b)), _rank=b["scope"].map({s: i for i, s in enumerate(SCOPE_ORDER)}))
    candidates = [rows[rows["scope"] == "student"][["_row", "scope_id"]].merge(
        ses, left_on="scope_id", right_on="student_id")]
    if len(delivered):
        # a session delivers a programme once (programme_sessions keeps one row per session and programme)
        d = delivered[["session_id", "programme"]].merge(ses, on="session_id")
        candidates.append(rows[rows["scope"] == "programme"][["_row", "scope_id"]].merge(
            d, left_on="scope_id", right_on="programme"))
    candidates.append(rows[rows["scope"] == "general"][["_row"]].merge(ses, how="cross"))
    cand = pd.concat([c[["_row", "_session", "date", "cost"]] for c in candidates], ignore_index=True)
    cand = cand.merge(rows[["_row", "_rank", "period_start", "period_end"]], on="_row")
    inside = ((cand["period_start"].isna() | (cand["date"] >= cand["period_start"]))
              & (cand["period_end"].isna() | (cand["date"] <= cand["period_end"])))
    cand = cand[inside]
    span = (cand["period_end"] - cand["period_start"]).dt.days.astype(float).fillna(np.inf)
    charged = (cand.assign(_span=span).sort_values(["_session", "_rank", "_span", "_row"], kind="stable")
               .drop_duplicates("_session"))
    spent = charged.groupby("_row")["cost"].sum()
    b["spent_gbp"] = spent.reindex(np.arange(len(b))).fillna(0.0).to_numpy()
    b["remaining_gbp"] = b["amount_gbp"] - b["spent_gbp"]
    return b[BUDGET_COLUMNS].reset_index(drop=True)


def offsite_without_ra(sessions: pd.DataFrame, risk_assessments: pd.DataFrame,
                       settings: Settings | None = None) -> pd.DataFrame:
    """Community sessions with no risk assessment current on their date, each with the reason in plain words:
    the one rule of :func:`kwanalytics.ingest.risk_assessments.community_sessions_without_ra` (the ingest
    warnings use it too), with the school's ``risk_assessments`` settings (default: the shipped ones).
    Returns session_id, student_id, date, activity, venue, risk_assessment_id, reason; sorted by date."""
    settings = settings or load_settings(None)
    return community_sessions_without_ra(sessions, risk_assessments,
                                         settings.school.risk_assessments.months_current_without_review_date)


def _categories(text) -> set[str]:
    if pd.isna(text):
        return set()
    return {fold(part) for part in re.split(r"[;,\n]", str(text)) if part.strip()}


def outdated_risk_assessments(incidents: pd.DataFrame, risk_assessments: pd.DataFrame) -> pd.DataFrame:
    """Pupils whose latest risk assessment predates a new kind of behaviour.

    For each pupil's latest assessment (by ``assessed_on``), the behaviour categories whose first incident came
    after that date and that ``behaviours_covered`` does not list (spelling compared loosely). One row per pupil:
    student_id, ra_id, assessed_on, new_categories ("; "-joined in order of first appearance), first_seen (the
    earliest of them). Assessments without a pupil are general and left out.
    """
    cols = ["student_id", "ra_id", "assessed_on", "new_categories", "first_seen"]
    if incidents is None or incidents.empty or risk_assessments is None or risk_assessments.empty:
        return pd.DataFrame(columns=cols)
    ra = risk_assessments.dropna(subset=["student_id"]).copy()
    ra["assessed_on"] = _dates(ra["assessed_on"])
    ra = ra.sort_values(["student_id", "assessed_on", "ra_id"]).groupby("student_id").tail(1)
    if "behaviours_covered" not in ra:
        ra["behaviours_covered"] = np.nan
    inc = incidents.dropna(subset=["category"]).assign(_date=lambda f: _dates(f["occurred_at"]))
    first = inc.groupby(["student_id", "category"], as_index=False)["_date"].min()
    m = first.merge(ra[["student_id", "ra_id", "assessed_on", "behaviours_covered"]], on="student_id")
    m = m[m["_date"] > m["assessed_on"]]
    covered = m["behaviours_covered"].map(_categories)
    m = m[[fold(c) not in cov for c, cov in zip(m["category"], covered)]]
    if m.empty:
        return pd.DataFrame(columns=cols)
    m = m.sort_values(["student_id", "_date", "category"])
    out = m.groupby("student_id").agg(ra_id=("ra_id", "first"), assessed_on=("assessed_on", "first"),
                                      new_categories=("category", "; ".join), first_seen=("_date", "min"))
    return out.reset_index()[cols]


PROVISION_COLUMNS = ["enrolment_id", "student_id", "programme", "started_on", "ended_on", "school_days",
                     "planned_hours_per_week", "planned_hours", "sessions", "delivered_hours", "delivered_share"]


def planned_vs_delivered(interventions: pd.DataFrame, sessions: pd.DataFrame | None, calendar, settings: Settings,
                         since, until) -> pd.DataFrame:
    """Planned against delivered provision per enrolment, over the part of ``since``..``until`` (both included)
    that the enrolment ran (an open enrolment runs to ``until``).

    ``planned_hours`` is ``planned_hours_per_week`` times the school weeks it ran, counted as the calendar's school
    days in that part divided by 5, so a half-term holiday plans no hours. ``delivered_hours`` sums the durations of
    the sessions that deliver the programme in that part, matched by the one rule for that
    (:func:`kwanalytics.metrics.impact.programme_sessions`). A plan left blank (or no such column) is not stated:
    ``planned_hours`` and ``delivered_share`` are then missing, never 0. Columns: ``PROVISION_COLUMNS``.
    """
    from kwanalytics.metrics.impact import programme_sessions

    if interventions is None or interventions.empty:
        return pd.DataFrame(columns=PROVISION_COLUMNS)
    since, until = pd.Timestamp(since).normalize(), pd.Timestamp(until).normalize()
    enr = interventions.drop_duplicates("enrolment_id").copy()
    started = pd.to_datetime(enr["started_on"]).dt.normalize()
    ended = pd.to_datetime(enr["ended_on"]).dt.normalize()
    ran = (started <= until) & (ended.isna() | (ended >= since))
    enr, started, ended = enr[ran], started[ran], ended[ran]
    first = started.where(started > since, since)
    last = ended.fillna(until).where(ended.fillna(until) < until, until)
    enr["school_days"] = [len(calendar.between(a, b)) for a, b in zip(first, last)]
    planned = (pd.to_numeric(enr["planned_hours_per_week"], errors="coerce") if "planned_hours_per_week" in enr
               else pd.Series(np.nan, index=enr.index)).astype(float)
    enr["planned_hours_per_week"] = planned
    enr["planned_hours"] = planned * enr["school_days"] / 5
    delivered = programme_sessions(sessions, enr, settings, as_of=until)
    if len(delivered):
        when = pd.to_datetime(delivered["date"]).dt.normalize()
        window = delivered["enrolment_id"].map(dict(zip(enr["enrolment_id"], first)))
        delivered = delivered[(when >= window) & (when <= until)]
        per = delivered.assign(minutes=pd.to_numeric(delivered["duration_minutes"], errors="coerce").fillna(0)) \
            .groupby("enrolment_id").agg(sessions=("session_id", "nunique"), minutes=("minutes", "sum"))
    else:
        per = pd.DataFrame({"sessions": pd.Series(dtype=int), "minutes": pd.Series(dtype=float)})
    enr["sessions"] = enr["enrolment_id"].map(per["sessions"]).fillna(0).astype(int)
    enr["delivered_hours"] = enr["enrolment_id"].map(per["minutes"]).fillna(0).astype(float) / 60
    enr["delivered_share"] = (enr["delivered_hours"] / enr["planned_hours"]).where(enr["planned_hours"] > 0)
    return enr.sort_values(["started_on", "enrolment_id"])[PROVISION_COLUMNS].reset_index(drop=True)
