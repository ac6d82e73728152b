"""The annual-review evidence pack for one pupil: plain sentences, tables and figures, no file access.

``evidence_pack`` gathers what the pupil's annual review needs (SEND Code of Practice 2015, 9.166-9.185: the
review considers progress towards the EHCP outcomes) from the canonical tables: who the pupil is, targets and their
Goal Attainment Scaling progress (targets.py), sessions and the hours given to each target (sessions.py), incidents
per school week, physical interventions, the pupil's patterns (the school-wide watchlist of patterns.py, filtered to
the pupil), programmes and their measured effect (impact.py, computed over the whole school), the provision planned
for each programme against the hours delivered (sessions.py), restorative
conversations, contacts with home and agencies, the budget spent, a full incident log and a technical note.

``SECTIONS`` is the one list of the pack's sections (key, heading, what to say when it is empty, charts, intro): the
HTML notebook (notebooks/student_report.ipynb) lays out the pack from it, and the Word and PDF packs are made from
that HTML (render/htmldocx.py, render/pdf.py).

Only this pupil's rows are shown, and every free-text cell has other pupils' names and ids redacted
(privacy.redact_peers), so a pack cannot carry another pupil's data. Figures that need the school's context (the
patterns, which compare the pupil with the school's mix; programme baselines) are computed on the whole school
and then filtered to the pupil, so the pack quotes the same figure as the patterns and cohort reports.
A section whose analysis fails is left out with a note saying so, rather than losing the whole pack.
Numbers are not rounded here: the one display formatter (evidence/display.py) rounds once, at display.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Callable

import pandas as pd

from kwanalytics.calendar import SchoolCalendar, calendar_for, data_period, weekly_counts
from kwanalytics.evidence import charts


@dataclass(frozen=True)
class Section:
    """One section of the pack: the table under ``key``, its heading, the sentence shown when it has no rows,
    the charts drawn above it and a few plain words saying what the reader sees."""

    key: str
    heading: str
    empty: str
    charts: tuple[str, ...] = ()
    intro: str = ""


#: The pack's sections in reading order. The notebook and the Word pack both read this list.
SECTIONS: tuple[Section, ...] = (
    Section("context", "About the pupil", "No details of the pupil are recorded.", (),
            "Who the pupil is, who works with them and when the next annual review is due."),
    Section("targets", "Targets and progress", "No targets are recorded for this pupil.", ("gas",),
            "Each target from the EHCP (an outcome of the plan) or the individual learning plan (ILP) is rated from "
            "-2 (much less progress than expected) to +2 (much more than expected); 0 means the expected outcome "
            "was reached. Ratings are judgements by the people who work with the pupil, not test scores."),
    Section("outcomes", "Each target in plain words", "No targets are recorded for this pupil.", (),
            "For each target: how it has gone, the evidence staff wrote with the latest rating and in the latest "
            "session that worked on it, and a next step to discuss at the review."),
    Section("tscores", "Progress per area, term by term", "No T-scores yet: no target has been rated.",
            ("tscores",),
            "The targets of an area combined into one score per term: 50 means the targets were met as expected, "
            "above 50 better than expected."),
    Section("target_hours", "Key-work time given to each target", "No session recorded which targets it worked on.",
            (), "Sessions record the targets they worked on; a session on two targets counts for both."),
    Section("sessions", "Key-work sessions", "No sessions were recorded in this period.", ("engagement",),
            "How much time the pupil spent with their key worker, where (on site or out in the community), and "
            "how engaged they were (1 = not engaged, 5 = fully engaged)."),
    Section("activities", "What the sessions were spent on", "No activities were recorded.", ("activities",)),
    Section("incidents_weekly", "Incidents per school week", "No incidents were recorded in this period.",
            ("incidents_weekly",),
            "Incidents are counted per school week: weeks of holiday are left out, so a half-term is not mistaken "
            "for an improvement. Fewer incidents can mean many things, and a short period can rise or fall by "
            "chance."),
    Section("patterns", "Repeated patterns", "No repeated pattern was found.", (),
            "Patterns the school's watchlist found in this pupil's incidents: a time, a place or a trigger that "
            "comes up again and again, incidents close together, or incidents becoming more serious."),
    Section("physical", "Physical interventions", "No physical intervention was recorded in this period.", (),
            "Each incident where staff used physical intervention (holding or guiding the pupil to keep them or "
            "others safe)."),
    Section("interventions", "Programmes and their effect", "No programme ran in this period.", (),
            "Each programme compared with the pupil's own incidents in the school weeks just before it started. "
            "Other things may have changed at the same time, and a programme often starts when things are at their "
            "worst: read these as signs, not proof."),
    Section("provision", "Planned and delivered provision", "No programme ran in this period.", (),
            "For each programme: the hours planned (hours a week in the plan times the school weeks it ran in this "
            "period, counted as school days divided by 5, so holidays plan nothing), the hours of key-work sessions "
            "that delivered it, and delivered as a share of planned. \"Not stated\" means no plan was recorded."),
    Section("restorative", "Restorative conversations", "No restorative conversation was recorded in this period.",
            (), "Conversations held with the pupil after an incident to put things right."),
    Section("contacts", "Contacts with home and agencies", "No contacts were recorded in this period."),
    Section("budget", "Budget", "No budget or cost is recorded for this pupil.", (),
            "Money set aside for this pupil and what the sessions in this period cost."),
    Section("incident_log", "Appendix: every incident in this period", "No incidents were recorded in this period."),
    Section("technical", "Technical note", "No statistical test is quoted in this pack.", (),
            "For staff: the statistics behind the patterns and the programmes' effects. A p-value is the chance "
            "of a pattern at least this strong if incidents fell at random; the interval is the range the true "
            "change in incidents plausibly lies in (95%)."),
)


def shows_nothing(key: str, frame: pd.DataFrame | None) -> bool:
    """True when a section's table has nothing to show: no rows, or (incidents per week) only weeks with no
    incident. The section then shows its empty sentence instead, in the HTML and the Word pack alike."""
    if frame is None or len(frame) == 0:
        return True
    if key == "incidents_weekly" and "incidents" in frame:
        return not pd.to_numeric(frame["incidents"], errors="coerce").fillna(0).any()
    return False


HOW_TO_READ = (
    "How to read this",
    (
        "This pack brings together the school's records for the period shown above: targets and how they are "
        "going, key-worker sessions, behaviour incidents, the programmes your child took part in, contacts with "
        "home, and money spent.",
        "Targets are scored from -2 to +2. 0 means the target was met as expected; +1 and +2 mean better than "
        "expected; -1 and -2 mean not yet. Incidents are counted per school week, so holidays do not look like "
        "good weeks.",
        "Numbers from one pupil are small. A change can come from many things, not only from what the school "
        "did. Please ask the key worker about anything that is unclear, and add your own views below.",
    ),
)
COMMENTS = ("Comments from home and school",
            "(Space for the pupil's, family's and staff's own words before the review meeting.)")

#: Statistics in a pattern's evidence ("(Mann-Kendall tau = 0.61)", "... with probability p = 0.002 (scan
#: statistic)."): kept for the technical note, left out of the words parents read.
_STAT_WORDS = r"(?:\bp\s*[=<]|\btau\b|Poisson|binomial|Theil-Sen|Mann-Kendall|scan statistic|probability|q\s*[=<])"
_STAT_BRACKETS = re.compile(r"\s*\([^()]*" + _STAT_WORDS + r"[^()]*\)", re.I)
_STATISTICS = re.compile(_STAT_WORDS, re.I)


def plain_words(evidence) -> str:
    """A pattern's evidence without its statistics: the parts that quote a test or a p-value are dropped."""
    if not isinstance(evidence, str):
        return evidence
    # sentences end with a full stop before a capital letter (decimals such as 0.3 do not end one)
    sentences = re.split(r"(?<=\.)\s+(?=[A-Z'])", _STAT_BRACKETS.sub("", evidence))
    return " ".join(part for part in sentences if not _STATISTICS.search(part)).strip()


@dataclass
class EvidencePack:
    student_id: str
    name: str
    since: pd.Timestamp
    until: pd.Timestamp
    calendar_source: str
    summary: list[str] = field(default_factory=list)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    figures: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


@dataclass
class _Context:
    """What every section builder reads: the pupil's own rows, the period, and the school-wide inputs."""

    student_id: str
    tables: dict            # the whole school (for school-wide figures, filtered afterwards)
    own: dict               # this pupil's rows of every table
    settings: object
    calendar: SchoolCalendar
    since: pd.Timestamp
    until: pd.Timestamp
    redact: Callable
    pack: EvidencePack
    cache: dict = field(default_factory=dict)

    def window(self, name: str, col: str) -> pd.DataFrame:
        return _window(self.own[name], col, self.since, self.until)


def default_period(tables: dict, student_id: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    """Since the last annual review (the next review date minus one year) or the start of the data, until the
    data's last date (calendar.data_period: the whole school's records, so every pack ends on the same day)."""
    start, end = data_period(tables)
    today = pd.Timestamp.today().normalize()
    end = end if end is not None else today
    start = start if start is not None else end - pd.DateOffset(years=1)
    since = start
    students = tables.get("students")
    if students is not None and len(students):
        row = students.loc[students["student_id"] == student_id]
        if len(row) and "annual_review_due" in row and pd.notna(row["annual_review_due"].iloc[0]):
            last_review = pd.Timestamp(row["annual_review_due"].iloc[0]) - pd.DateOffset(years=1)
            if start <= last_review < end:
                since = last_review
    return pd.Timestamp(since), pd.Timestamp(end)


def _own(tables: dict, student_id: str, settings) -> dict:
    """This pupil's rows of every table (budget rows scoped to the pupil); nothing of anyone else."""
    out = {}
    for name, frame in tables.items():
        if name == "budget":
            from kwanalytics.metrics.sessions import budget_lines

            lines = budget_lines(frame, settings)
            out[name] = lines.loc[(lines["scope"] == "student") & (lines["scope_id"] == student_id)].copy()
        elif "student_id" in frame:
            out[name] = frame.loc[frame["student_id"] == student_id].copy()
        else:
            out[name] = frame.copy()
    return out


def _window(frame: pd.DataFrame, col: str, since, until) -> pd.DataFrame:
    when = pd.to_datetime(frame[col])
    return frame.loc[(when >= since) & (when < until + pd.Timedelta(days=1))]


def _redactor(student_id: str, students: pd.DataFrame):
    from kwanalytics.evidence.privacy import peer_redactor

    return peer_redactor(student_id, students)


def _redact_columns(frame: pd.DataFrame, columns, redact) -> pd.DataFrame:
    for col in columns:
        if col in frame and len(frame):
            frame[col] = redact(frame[col].astype(object)).to_numpy()
    return frame


def _plural(n: int, word: str, plural: str | None = None) -> str:
    return f"{n} {word if n == 1 else (plural or word + 's')}"


def _hours(value: float) -> str:
    from kwanalytics.evidence.display import format_value

    return format_value(float(value), "decimal")


def run_section(key: str, fn, tables: dict, notes: list) -> None:
    """Run one report section; if its analysis fails, say so in the report's notes and carry on, because one
    failing analysis must not lose the whole report (the failure is named, never hidden)."""
    try:
        fn()
    except Exception as exc:
        notes.append(f"The {key.replace('_', ' ')} section could not be prepared "
                     f"({type(exc).__name__}: {str(exc)[:160]}).")
        tables.setdefault(key, pd.DataFrame())


# ------------------------------------------------------------------------------------------ the school's figures

#: School-wide figures kept between packs: (what, school fingerprint, date) -> frame. One school at a time.
_SCHOOL: dict = {}


def _fingerprint(frame: pd.DataFrame | None) -> str:
    if frame is None or frame.empty:
        return "empty"
    digest = hashlib.sha256(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return f"{len(frame)}:{digest.hexdigest()[:16]}"


def _school_key(tables: dict, calendar: SchoolCalendar, settings, names, known: dict | None = None) -> tuple:
    """What the school-wide figures depend on. ``known``: fingerprints already taken of these same tables (a
    pack asks for the watchlist and the programme impact, which share four tables: hashed once, not twice)."""
    known = {} if known is None else known
    for n in names:
        if n not in known:
            known[n] = _fingerprint(tables.get(n))
    return (tuple(known[n] for n in names), repr(settings.config), len(calendar), calendar.source)


def _kept(what: str, key: tuple, compute: Callable[[], pd.DataFrame]) -> pd.DataFrame:
    full = (what, *key)
    if full not in _SCHOOL:
        if len(_SCHOOL) > 8:  # a batch renders one workspace at a few dates at most
            _SCHOOL.clear()
        _SCHOOL[full] = compute()
    return _SCHOOL[full].copy()


def school_watchlist(tables: dict, calendar: SchoolCalendar, settings, as_of=None,
                     fingerprints: dict | None = None) -> pd.DataFrame:
    """The school-wide watchlist (metrics.patterns.watchlist) up to ``as_of``: the same list the patterns report
    shows, so a pupil's pack quotes the same patterns, expected shares and p-values. Computed once per school,
    settings and date, and kept: a batch of packs does not repeat it for each pupil."""
    from kwanalytics.metrics.patterns import watchlist

    key = (*_school_key(tables, calendar, settings, ("incidents", "interventions", "students", "sessions"),
                        fingerprints), str(as_of))
    return _kept("watchlist", key, lambda: watchlist(tables["incidents"], tables["students"], tables["sessions"],
                                                     calendar, settings, as_of=as_of,
                                                     interventions=tables.get("interventions")))


def school_enrolment_impact(tables: dict, calendar: SchoolCalendar, settings, as_of=None,
                            fingerprints: dict | None = None) -> pd.DataFrame:
    """Every enrolment's impact (metrics.impact.enrolment_impact) over the whole school up to ``as_of``: the
    figures the cohort report shows, kept between packs like the watchlist."""
    from kwanalytics.metrics.impact import enrolment_impact

    names = ("interventions", "incidents", "sessions", "target_ratings", "targets", "students")
    key = (*_school_key(tables, calendar, settings, names, fingerprints), str(as_of))
    return _kept("impact", key, lambda: enrolment_impact(tables, calendar, settings, as_of=as_of))


# ------------------------------------------------------------------------------------------ the sections

def _context_section(ctx: _Context) -> None:
    students = ctx.own["students"]
    row = students.iloc[0] if len(students) else pd.Series(dtype=object)
    ehcp = row.get("ehcp")
    items = [("Year group", row.get("year_group")), ("Main area of need", row.get("primary_need")),
             ("EHCP", None if ehcp is None or pd.isna(ehcp) else ("yes" if bool(ehcp) else "no")),
             ("Key worker", row.get("key_worker")), ("Next annual review", row.get("annual_review_due")),
             ("On roll since", row.get("admitted_on"))]
    shown = [(k, v) for k, v in items if v is not None and not (not isinstance(v, str) and pd.isna(v))]
    ctx.pack.tables["context"] = pd.DataFrame(
        {"detail": [k for k, _ in shown],
         "value": [f"{v.day} {v:%B %Y}" if isinstance(v, pd.Timestamp) else str(v) for _, v in shown]})


def _targets_section(ctx: _Context) -> None:
    from kwanalytics.metrics.targets import target_progress, tscores

    targets = ctx.own["targets"]
    ratings = ctx.own["target_ratings"]
    ratings = ratings.loc[ratings["target_id"].isin(targets["target_id"])]
    ratings_upto = ratings.loc[pd.to_datetime(ratings["rated_on"]) < ctx.until + pd.Timedelta(days=1)]
    progress = target_progress(targets, ratings_upto, as_of=ctx.until)
    progress = _redact_columns(progress.copy(), ["description"], ctx.redact)
    kind = targets.drop_duplicates("target_id").set_index("target_id")["source"] if "source" in targets else None
    if kind is not None and len(progress):
        progress.insert(0, "kind", progress["target_id"].map(kind).to_numpy())
    keep = [c for c in ["kind", "area", "description", "ratings", "first_score", "latest_score", "latest_rated_on",
                        "change", "trajectory", "on_track", "review_on"] if c in progress]
    ctx.pack.tables["targets"] = progress[keep].reset_index(drop=True)
    ts = tscores(targets, ratings_upto, ctx.settings.term_dates, as_of=ctx.until)
    # One row per term, one column per area (and "All areas"): compact for parents to read.
    if len(ts):
        wide = ts.pivot_table(index=["term_start", "term"], columns="area", values="tscore", aggfunc="first")
        wide = wide.reset_index().drop(columns=["term_start"])
        wide.columns.name = None
        ctx.pack.tables["tscores"] = wide
    else:
        ctx.pack.tables["tscores"] = pd.DataFrame()
    ctx.pack.figures["tscores"] = charts.tscore_bars(ts)
    ctx.pack.figures["gas"] = charts.gas_over_time(_window(ratings_upto, "rated_on", ctx.since, ctx.until),
                                                   _redact_columns(targets.copy(), ["description"], ctx.redact))
    if targets.empty:
        ctx.pack.summary.append("No EHCP or ILP targets are recorded for this pupil.")
        return
    rated = progress.loc[progress["trajectory"] != "not rated"] if len(progress) else progress
    improving = int((progress["trajectory"] == "improving").sum())
    on_track = int(progress["on_track"].fillna(False).astype(bool).sum())
    ctx.pack.summary.append(
        f"{_plural(len(targets), 'target')} are being worked on; {len(rated)} have been rated, "
        f"{improving} of them are improving and {on_track} are at or above the expected level.")


#: A next step to discuss, by how a target has gone (target_progress's trajectory and on_track).
NEXT_STEPS = {
    "met": "Keep the support that is working; consider a more ambitious target at the review.",
    "improving": "Keep going: progress is being made towards the expected level.",
    "declining": "Review the support for this target with the pupil and family.",
    "steady": "Agree at the review what would help this target move.",
    "not rated": "Rate this target before the review, so that its progress can be seen.",
}


def _score(value) -> str:
    return "–" if pd.isna(value) else f"{int(value):+d}".replace("+0", "0")


def _outcomes_section(ctx: _Context) -> None:
    """A row per target in plain words: how it went, the evidence that supports it and a proposed next step."""
    from kwanalytics.metrics.targets import target_progress

    targets = ctx.own["targets"]
    if targets.empty:
        ctx.pack.tables["outcomes"] = pd.DataFrame()
        return
    ratings = ctx.own["target_ratings"]
    ratings = ratings.loc[pd.to_datetime(ratings["rated_on"]) < ctx.until + pd.Timedelta(days=1)]
    progress = target_progress(targets, ratings, as_of=ctx.until).set_index("target_id")
    latest = ratings.sort_values("rated_on").drop_duplicates("target_id", keep="last").set_index("target_id")
    sessions = _sessions(ctx)
    worked = (sessions.assign(target_id=sessions["targets_addressed"].astype("string").str.split(r"\s*;\s*"))
              .explode("target_id").dropna(subset=["notes"]).sort_values("date")
              .drop_duplicates("target_id", keep="last").set_index("target_id")
              if len(sessions) and "targets_addressed" in sessions else pd.DataFrame(columns=["notes", "date"]))
    rows = []
    for t in targets.drop_duplicates("target_id").itertuples():
        p = progress.loc[t.target_id]
        kind = {"EHCP": "EHCP outcome", "ILP": "ILP target"}.get(str(getattr(t, "source", "")), "Target")
        if p["trajectory"] == "not rated":
            how, state = "Not rated yet.", "not rated"
        else:
            met = bool(p["on_track"]) if pd.notna(p["on_track"]) and p["latest_score"] >= 0 else False
            how = (f"Rated {_plural(int(p['ratings']), 'time')}, from {_score(p['first_score'])} to "
                   f"{_score(p['latest_score'])} ({p['trajectory']})"
                   + ("; at or above the expected level." if met else "."))
            state = "met" if met else (p["trajectory"] if p["trajectory"] in NEXT_STEPS else "steady")
        evidence = latest["evidence"].get(t.target_id) if "evidence" in latest else None
        note = worked["notes"].get(t.target_id) if len(worked) else None
        when = worked["date"].get(t.target_id) if len(worked) else None
        rows.append({"target": f"{kind} ({t.area}): {t.description}" if isinstance(t.description, str)
                     else f"{kind} ({t.area})",
                     "how it has gone": how,
                     "rating evidence": evidence if isinstance(evidence, str) else None,
                     "latest session note": (f"{pd.Timestamp(when):%d %b %Y}: {note}" if isinstance(note, str)
                                             else None),
                     "next step": NEXT_STEPS[state]})
    out = pd.DataFrame(rows)
    ctx.pack.tables["outcomes"] = _redact_columns(out, ["target", "rating evidence"], ctx.redact)


def _sessions(ctx: _Context) -> pd.DataFrame:
    if "sessions" not in ctx.cache:
        ctx.cache["sessions"] = _redact_columns(ctx.window("sessions", "date").copy(), ["notes"], ctx.redact)
    return ctx.cache["sessions"]


def _target_hours_section(ctx: _Context) -> None:
    """Hours per target from the sessions' ``targets_addressed`` (target ids separated by ';')."""
    sessions, targets = _sessions(ctx), ctx.own["targets"]
    if sessions.empty or targets.empty or "targets_addressed" not in sessions:
        ctx.pack.tables["target_hours"] = pd.DataFrame()
        return
    worked = sessions.assign(target_id=sessions["targets_addressed"].astype("string").str.split(r"\s*;\s*"))
    worked = worked.explode("target_id")
    worked["target_id"] = worked["target_id"].astype("string").str.strip()
    worked = worked.loc[worked["target_id"].isin(targets["target_id"])]
    minutes = worked["duration_minutes"].astype("Float64").fillna(0)
    per = (worked.assign(minutes=minutes).groupby("target_id", as_index=False)
           .agg(sessions=("session_id", "nunique"), minutes=("minutes", "sum")))
    described = targets.drop_duplicates("target_id")
    out = described[["target_id"] + [c for c in ("source", "area", "description") if c in described]].merge(
        per, on="target_id", how="left")
    out["sessions"] = out["sessions"].fillna(0).astype(int)
    out["hours"] = out["minutes"].fillna(0).astype(float) / 60
    out = _redact_columns(out.rename(columns={"source": "kind"}), ["description"], ctx.redact)
    ctx.pack.tables["target_hours"] = out.drop(columns=["target_id", "minutes"]).reset_index(drop=True)


def _activities_section(ctx: _Context) -> None:
    sessions = _sessions(ctx)
    if sessions.empty:
        ctx.pack.summary.append("No key-work sessions were recorded in this period.")
        return
    minutes = sessions["duration_minutes"].astype("Float64").fillna(0)
    acts = (sessions.assign(hours=(minutes / 60).astype(float), activity=sessions["activity"].fillna("not recorded"),
                            setting=sessions["setting"].fillna("not recorded"))
            .groupby(["activity", "setting"], as_index=False)
            .agg(sessions=("session_id", "count"), hours=("hours", "sum")))
    ctx.pack.tables["activities"] = acts.sort_values("hours", ascending=False).reset_index(drop=True)
    ctx.pack.figures["activities"] = charts.hours_by_activity(ctx.pack.tables["activities"])
    ctx.pack.figures["engagement"] = charts.engagement_over_time(sessions)
    hours = float(minutes.sum()) / 60
    community = float(minutes[sessions["setting"].astype("string").str.casefold().eq("community")
                              .fillna(False).to_numpy()].sum()) / 60
    eng = sessions["engagement"].astype("Float64").mean()
    line = (f"{_plural(len(sessions), 'key-work session')} took place ({_hours(hours)} hours, "
            f"{_hours(community)} of them out in the community)")
    line += f"; average engagement was {eng:.1f} out of 5." if pd.notna(eng) else "."
    ctx.pack.summary.append(line)


#: How the pack's sessions table names session_summary's measures.
SESSION_MEASURES = {"sessions": "Sessions", "hours": "Hours in total", "hours_on_site": "Hours on site",
                    "hours_community": "Hours in the community", "one_to_one": "One-to-one sessions",
                    "small_group": "Small-group sessions", "mean_engagement": "Average engagement (1-5)",
                    "engagement_trend": "Change in engagement per 10 sessions", "activities": "Main activities",
                    "skills_english": "Sessions with English", "skills_maths": "Sessions with maths",
                    "skills_social": "Sessions with social skills"}


def _sessions_section(ctx: _Context) -> None:
    from kwanalytics.evidence.display import column_kind, format_value
    from kwanalytics.metrics.sessions import session_summary

    sessions = _sessions(ctx)
    if sessions.empty:
        return
    summary = session_summary(sessions)
    summary = summary.loc[summary["student_id"] == ctx.student_id].drop(columns=["student_id"])
    values = summary.iloc[0]
    # one value per row, each shown as its own column would be (counts whole, hours and means 2 dp)
    ctx.pack.tables["sessions"] = pd.DataFrame(
        {"measure": [SESSION_MEASURES.get(c, c.replace("_", " ")) for c in summary.columns],
         "value": [format_value(v, column_kind(c, summary[c])) for c, v in values.items()]})


def _incidents(ctx: _Context) -> pd.DataFrame:
    return ctx.window("incidents", "occurred_at")


def half_period_trend(weekly: pd.DataFrame, trend) -> str:
    """A sentence comparing the incident rate per school day of the period's second half with its first half:
    "less frequent" below ``fewer_below`` times the first half's rate, "more frequent" above ``more_above``
    times it, nothing in between or with fewer than ``min_weeks_each_half`` school weeks in each half
    (settings.yaml ``pupil_pack.trend``)."""
    half = len(weekly) // 2
    if half < trend.min_weeks_each_half:
        return ""
    first = weekly["incidents"].iloc[:half].sum() / max(1, weekly["school_days"].iloc[:half].sum())
    second = weekly["incidents"].iloc[half:].sum() / max(1, weekly["school_days"].iloc[half:].sum())
    if first > 0 and second < trend.fewer_below * first:
        return " Incidents were less frequent in the second half of the period than in the first."
    if second > trend.more_above * max(first, 1e-9):
        return " Incidents were more frequent in the second half of the period than in the first."
    return ""


def _incidents_section(ctx: _Context) -> None:
    incidents = _incidents(ctx)
    weekly = weekly_counts(incidents, ctx.calendar, ctx.since, ctx.until)
    ctx.pack.tables["incidents_weekly"] = weekly
    if incidents.empty:
        ctx.pack.summary.append("No incidents were recorded in this period.")
        return
    ctx.pack.figures["incidents_weekly"] = charts.weekly_incidents(weekly)
    days = len(ctx.calendar.between(ctx.since, ctx.until))
    rate = len(incidents) / days if days else float("nan")
    top = incidents["category"].value_counts()
    line = (f"{_plural(len(incidents), 'incident')} were recorded over {_plural(days, 'school day')} "
            f"({rate:.2f} per school day); the most common was {top.index[0].lower()} ({top.iloc[0]}).")
    physical = int(incidents["physical_intervention"].fillna(False).astype(bool).sum())
    if physical:
        line += f" Staff used physical intervention {_plural(physical, 'time')}."
    line += half_period_trend(weekly, ctx.settings.school.pupil_pack.trend)
    ctx.pack.summary.append(line)


def _patterns_section(ctx: _Context) -> None:
    found = school_watchlist(ctx.tables, ctx.calendar, ctx.settings, as_of=ctx.until,
                             fingerprints=ctx.cache.setdefault("fingerprints", {}))
    found = found.loc[found["student_id"] == ctx.student_id].drop(columns=["student_id"])
    # the pack's period: a pattern seen only before it is not this review's evidence
    found = found.loc[pd.to_datetime(found["last_seen"]) >= ctx.since]
    found = _redact_columns(found.copy(), ["evidence", "next_step"], ctx.redact).reset_index(drop=True)
    ctx.cache["patterns_full"] = found  # with p- and q-values, for the technical note
    plain = found.assign(evidence=found["evidence"].map(plain_words))
    ctx.pack.tables["patterns"] = plain.drop(columns=[c for c in ("p_value", "q_value") if c in plain])
    if len(found):
        ctx.pack.summary.append("The school's watchlist found repeated patterns: "
                                + ", ".join(sorted(set(found["pattern"]))) + ".")


def _physical_section(ctx: _Context) -> None:
    incidents = _incidents(ctx)
    held = incidents.loc[incidents["physical_intervention"].fillna(False).astype(bool)]
    out = pd.DataFrame({"date": pd.to_datetime(held["occurred_at"]), "incident": held["category"],
                        "place": held["location"], "severity": held["severity"], "notes": held["notes"]})
    ctx.pack.tables["physical"] = _redact_columns(out.sort_values("date"), ["notes"], ctx.redact).reset_index(drop=True)


def _interventions_section(ctx: _Context) -> None:
    enrol = ctx.own["interventions"]
    started, ended = pd.to_datetime(enrol["started_on"]), pd.to_datetime(enrol["ended_on"])
    mine = enrol.loc[(started <= ctx.until) & (ended.isna() | (ended >= ctx.since)), "enrolment_id"]
    if mine.empty:
        ctx.pack.tables["interventions"] = pd.DataFrame()
        return
    # the whole school's enrolments, then this pupil's: the same figures as the cohort report
    impact = school_enrolment_impact(ctx.tables, ctx.calendar, ctx.settings, as_of=ctx.until,
                                     fingerprints=ctx.cache.setdefault("fingerprints", {}))
    impact = impact.loc[impact["enrolment_id"].isin(mine)].reset_index(drop=True)
    outcome = enrol.drop_duplicates("enrolment_id").set_index("enrolment_id")["exit_outcome"]
    shown = impact.assign(outcome=_redact_columns(
        pd.DataFrame({"o": impact["enrolment_id"].map(outcome)}), ["o"], ctx.redact)["o"].to_numpy())
    shown["incidents_per_week_before"] = shown["baseline_rate"].astype(float) * 5
    shown["incidents_per_week_during"] = shown["intervention_rate"].astype(float) * 5
    ctx.pack.tables["interventions"] = shown[["programme", "started_on", "ended_on", "incidents_per_week_before",
                                              "incidents_per_week_during", "verdict", "outcome"]]
    ctx.cache["interventions_full"] = impact[[c for c in (
        "programme", "started_on", "baseline_school_days", "baseline_incidents", "intervention_school_days",
        "intervention_incidents", "rate_ratio", "rate_ratio_ci_low", "rate_ratio_ci_high", "interval_method")
        if c in impact]]
    ctx.pack.summary.append(f"{_plural(len(impact), 'programme')} ran in this period: "
                            + "; ".join(f"{r.programme} ({r.verdict})" for r in impact.itertuples()) + ".")


#: What the pack says where an enrolment records no planned provision (a blank is not a plan of 0 hours).
NOT_STATED = "not stated"


def _provision_section(ctx: _Context) -> None:
    from kwanalytics.evidence.display import format_value
    from kwanalytics.metrics.sessions import planned_vs_delivered

    found = planned_vs_delivered(ctx.own["interventions"], ctx.own.get("sessions"), ctx.calendar, ctx.settings,
                                 ctx.since, ctx.until)
    stated = found["planned_hours"].notna()
    shown = found.drop(columns=["enrolment_id", "student_id"])
    for col in ("planned_hours_per_week", "planned_hours"):
        shown[col] = shown[col].astype(object).where(stated, NOT_STATED)
    ctx.pack.tables["provision"] = shown
    if stated.any():
        planned, delivered = found.loc[stated, "planned_hours"].sum(), found.loc[stated, "delivered_hours"].sum()
        line = (f"Programmes with a plan had {_hours(planned)} hours planned in this period and {_hours(delivered)} "
                "delivered" + (f" ({format_value(delivered / planned, 'share')})." if planned > 0 else "."))
        if (~stated).any():
            line += f" The plan of {_plural(int((~stated).sum()), 'programme')} is not stated."
        ctx.pack.summary.append(line)


def _restorative_section(ctx: _Context) -> None:
    incidents = _incidents(ctx)
    rc = incidents.loc[incidents["restorative_conversation"].fillna(False).astype(bool)]
    # the conversation, not the sanction: what was decided as a consequence belongs to the incident log
    out = pd.DataFrame({"date": pd.to_datetime(rc["occurred_at"]).dt.normalize(), "after": rc["category"],
                        "notes": rc["notes"]})
    ctx.pack.tables["restorative"] = _redact_columns(out, ["notes"], ctx.redact).reset_index(drop=True)


def _contacts_section(ctx: _Context) -> None:
    c = ctx.window("contacts", "date")
    out = c[["date", "party", "method", "purpose", "summary"]].sort_values("date").copy()
    ctx.pack.tables["contacts"] = _redact_columns(out, ["purpose", "summary"], ctx.redact).reset_index(drop=True)
    if len(out):
        parties = out["party"].dropna().value_counts()
        ctx.pack.summary.append(f"There {'was' if len(out) == 1 else 'were'} {_plural(len(out), 'contact')} with "
                                "home and agencies" + (f", most often with {parties.index[0]}." if len(parties)
                                                       else "."))


def _budget_section(ctx: _Context) -> None:
    from kwanalytics.evidence.display import format_value

    b = ctx.own["budget"]
    cost = float(_sessions(ctx)["cost_gbp"].astype("Float64").fillna(0).sum())
    rows = [{"item": "Sessions in this period", "amount_gbp": cost}]
    for r in b.itertuples():
        rows.append({"item": f"Budget {r.budget_id}"
                             + (f" ({r.period_start:%d %b %Y} to {r.period_end:%d %b %Y})"
                                if pd.notna(r.period_start) and pd.notna(r.period_end) else ""),
                     "amount_gbp": float(r.amount_gbp)})
    ctx.pack.tables["budget"] = pd.DataFrame(rows)
    if cost:
        ctx.pack.summary.append(f"Sessions in this period cost {format_value(cost, 'money')}"
                                + (f" from a pupil budget of {format_value(float(b['amount_gbp'].sum()), 'money')}."
                                   if len(b) else "."))


def _incident_log_section(ctx: _Context) -> None:
    incidents = _incidents(ctx).sort_values("occurred_at")
    cols = [c for c in ("occurred_at", "category", "location", "period", "severity", "antecedent", "behaviour",
                        "consequence", "physical_intervention", "restorative_conversation", "notes") if c in incidents]
    out = incidents[cols].rename(columns={"occurred_at": "when", "consequence": "what happened next"})
    ctx.pack.tables["incident_log"] = _redact_columns(out.copy(), ["behaviour", "what happened next", "notes"],
                                                      ctx.redact).reset_index(drop=True)


def _technical_section(ctx: _Context) -> None:
    parts = []
    patterns = ctx.cache.get("patterns_full")
    if patterns is not None and len(patterns):
        cols = [c for c in ("pattern", "evidence", "p_value", "q_value") if c in patterns]
        parts.append(patterns[cols].assign(about="pattern").rename(columns={"pattern": "what", "evidence": "detail"}))
    enrol = ctx.cache.get("interventions_full")
    if enrol is not None and len(enrol):
        detail = enrol.apply(lambda r: (f"{r['baseline_incidents']} incidents in {r['baseline_school_days']} school "
                                        f"days before, {r['intervention_incidents']} in "
                                        f"{r['intervention_school_days']} during"), axis=1)
        parts.append(pd.DataFrame({"about": "programme", "what": enrol["programme"], "detail": detail,
                                   "rate_ratio": enrol["rate_ratio"], "interval_low": enrol["rate_ratio_ci_low"],
                                   "interval_high": enrol["rate_ratio_ci_high"]}))
    out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    if len(out):
        out = out[["about", "what", "detail"] + [c for c in out.columns if c not in ("about", "what", "detail")]]
    ctx.pack.tables["technical"] = out


#: The builders in the order they run (the technical note last: it reads what the others found).
BUILDERS: tuple[tuple[str, Callable[[_Context], None]], ...] = (
    ("context", _context_section), ("targets", _targets_section), ("outcomes", _outcomes_section),
    ("activities", _activities_section),
    ("sessions", _sessions_section), ("target_hours", _target_hours_section),
    ("incidents_weekly", _incidents_section), ("patterns", _patterns_section), ("physical", _physical_section),
    ("interventions", _interventions_section), ("provision", _provision_section),
    ("restorative", _restorative_section),
    ("contacts", _contacts_section), ("budget", _budget_section), ("incident_log", _incident_log_section),
    ("technical", _technical_section),
)


def _pupil_name(students: pd.DataFrame, student_id: str) -> str:
    row = students.loc[students["student_id"] == student_id]
    if row.empty:
        from kwanalytics.errors import InputError

        raise InputError(f"There is no pupil with id {student_id!r} in the students table. Check the id "
                         "(ids are case-sensitive) or re-run `kwa ingest`.")
    name = row["display_name"].iloc[0] if "display_name" in row else None
    return name if isinstance(name, str) and name.strip() else student_id


def evidence_pack(tables: dict, settings, student_id: str, since=None, until=None,
                  calendar: SchoolCalendar | None = None) -> EvidencePack:
    """Everything the annual review needs for ``student_id`` between ``since`` and ``until`` (both included);
    the school-wide figures it quotes (watchlist, programme impact) are computed once per school and kept."""
    student_id = str(student_id)
    name = _pupil_name(tables["students"], student_id)
    calendar = calendar if calendar is not None else calendar_for(tables, settings)
    d_since, d_until = default_period(tables, student_id)
    since = pd.Timestamp(since) if since is not None else d_since
    until = pd.Timestamp(until) if until is not None else d_until
    pack = EvidencePack(student_id, name, since, until, calendar.source)
    ctx = _Context(student_id, tables, _own(tables, student_id, settings), settings, calendar, since, until,
                   _redactor(student_id, tables["students"]), pack)
    for key, build in BUILDERS:
        run_section(key, lambda: build(ctx), pack.tables, pack.notes)
    for section in SECTIONS:
        pack.tables.setdefault(section.key, pd.DataFrame())
    pack.figures = {k: v for k, v in pack.figures.items() if v is not None}
    pack.summary.insert(0, f"This evidence pack covers {name} from {since:%d %B %Y} to {until:%d %B %Y}.")
    return pack
