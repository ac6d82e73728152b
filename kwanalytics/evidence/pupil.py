"""The annual-review evidence pack for one pupil: plain sentences, tables and figures, no file access.

``evidence_pack`` gathers what the pupil's annual review needs (SEND Code of Practice 2015, 9.166-9.185: the
review considers progress towards the EHCP outcomes) from the canonical tables: targets and their Goal Attainment
Scaling progress (targets.py), sessions (sessions.py), incidents per school week and the pupil's own patterns
(patterns.py), interventions and their measured effect (impact.py), restorative conversations, contacts with home
and agencies, and the budget spent. The HTML notebook and the Word pack (docpack.py) render the same pack.

Only this pupil's rows enter the pack (filtered first, before any analysis), and every free-text cell has other
pupils' names and ids redacted (privacy.redact_peers), so a pack cannot carry another pupil's data.
A section whose analysis fails is left out with a note saying so, rather than losing the whole pack.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from kwanalytics.evidence import charts
from kwanalytics.calendar import SchoolCalendar, calendar_for, data_period, weekly_counts

SECTIONS = ("targets", "tscores", "sessions", "activities", "incidents_weekly", "patterns", "interventions",
            "restorative", "contacts", "budget")


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


def _own(tables: dict, student_id: str) -> dict:
    """This pupil's rows of every table (budget rows scoped to the pupil); nothing of anyone else."""
    out = {}
    for name, frame in tables.items():
        if name == "budget":
            out[name] = frame.loc[(frame["scope"].astype("string").str.casefold() == "student")
                                  & (frame["scope_id"] == student_id)].copy()
        elif name == "risk_assessments":
            out[name] = frame.loc[frame["student_id"] == student_id].copy()
        elif "student_id" in frame:
            out[name] = frame.loc[frame["student_id"] == student_id].copy()
        else:
            out[name] = frame.copy()
    return out


def _window(frame: pd.DataFrame, col: str, since, until) -> pd.DataFrame:
    when = pd.to_datetime(frame[col])
    return frame.loc[(when >= since) & (when < until + pd.Timedelta(days=1))]


def _redactor(student_id: str, students: pd.DataFrame):
    try:
        from kwanalytics.evidence.privacy import redact_peers
    except ImportError:  # privacy not installed: nothing free-text may then be shown
        return lambda s: s.map(lambda v: "[not shown]" if isinstance(v, str) else v)
    return lambda s: redact_peers(s, student_id, students)


def _redact_columns(frame: pd.DataFrame, columns, redact) -> pd.DataFrame:
    for col in columns:
        if col in frame and len(frame):
            frame[col] = redact(frame[col].astype(object)).to_numpy()
    return frame


def _plural(n: int, word: str, plural: str | None = None) -> str:
    return f"{n} {word if n == 1 else (plural or word + 's')}"


def run_section(key: str, fn, tables: dict, notes: list) -> None:
    """Run one report section; if its analysis fails, say so in the report's notes and carry on, because one
    failing analysis must not lose the whole report (the failure is named, never hidden)."""
    try:
        fn()
    except Exception as exc:
        notes.append(f"The {key.replace('_', ' ')} section could not be prepared "
                     f"({type(exc).__name__}: {str(exc)[:160]}).")
        tables.setdefault(key, pd.DataFrame())


def evidence_pack(tables: dict, settings, student_id: str, since=None, until=None,
                  calendar: SchoolCalendar | None = None) -> EvidencePack:
    """Everything the annual review needs for ``student_id`` between ``since`` and ``until`` (both included)."""
    student_id = str(student_id)
    students = tables["students"]
    row = students.loc[students["student_id"] == student_id]
    if row.empty:
        from kwanalytics.errors import InputError

        raise InputError(f"There is no pupil with id {student_id!r} in the students table. Check the id "
                         "(ids are case-sensitive) or re-run `kwa ingest`.")
    name = row["display_name"].iloc[0] if "display_name" in row else None
    name = name if isinstance(name, str) and name.strip() else student_id
    calendar = calendar if calendar is not None else calendar_for(tables, settings)
    d_since, d_until = default_period(tables, student_id)
    since = pd.Timestamp(since) if since is not None else d_since
    until = pd.Timestamp(until) if until is not None else d_until
    own = _own(tables, student_id)
    redact = _redactor(student_id, students)
    pack = EvidencePack(student_id, name, since, until, calendar.source)
    period = f"{since:%d %B %Y} to {until:%d %B %Y}"

    def section(key, fn):
        run_section(key, fn, pack.tables, pack.notes)

    # ---- targets and GAS
    targets = own["targets"]
    ratings = own["target_ratings"]
    ratings = ratings.loc[ratings["target_id"].isin(targets["target_id"])]
    ratings_upto = ratings.loc[pd.to_datetime(ratings["rated_on"]) < until + pd.Timedelta(days=1)]

    def do_targets():
        from kwanalytics.metrics.targets import target_progress, tscores

        progress = target_progress(targets, ratings_upto, as_of=until)
        progress = _redact_columns(progress.copy(), ["description"], redact)
        keep = [c for c in ["area", "description", "ratings", "first_score", "latest_score", "latest_rated_on",
                            "change", "trajectory", "on_track", "review_on"] if c in progress]
        pack.tables["targets"] = progress[keep].reset_index(drop=True)
        ts = tscores(targets, ratings_upto, settings.term_dates, as_of=until)
        # One row per term, one column per area (and "All areas"): compact for parents to read.
        if len(ts):
            wide = ts.pivot_table(index=["term_start", "term"], columns="area", values="tscore", aggfunc="first")
            wide = wide.round(1).reset_index().drop(columns=["term_start"])
            wide.columns.name = None
            pack.tables["tscores"] = wide
        else:
            pack.tables["tscores"] = pd.DataFrame()
        pack.figures["tscores"] = charts.tscore_bars(ts)
        pack.figures["gas"] = charts.gas_over_time(_window(ratings_upto, "rated_on", since, until),
                                                   _redact_columns(targets.copy(), ["description"], redact))
        rated = progress.loc[progress.get("trajectory", pd.Series(dtype=str)) != "not rated"] if len(progress) else progress
        if targets.empty:
            pack.summary.append("No EHCP or ILP targets are recorded for this pupil.")
        else:
            improving = int((progress["trajectory"] == "improving").sum()) if "trajectory" in progress else 0
            on_track = int(progress["on_track"].fillna(False).astype(bool).sum()) if "on_track" in progress else 0
            pack.summary.append(
                f"{_plural(len(targets), 'target')} are being worked on; {len(rated)} have been rated, "
                f"{improving} of them are improving and {on_track} are at or above the expected level.")

    section("targets", do_targets)

    # ---- sessions
    sessions = _window(own["sessions"], "date", since, until)
    sessions = _redact_columns(sessions.copy(), ["notes"], redact)

    def do_activities():
        if sessions.empty:
            pack.summary.append("No key-work sessions were recorded in this period.")
            return
        minutes = sessions["duration_minutes"].astype("Float64").fillna(0)
        acts = (sessions.assign(hours=minutes / 60, activity=sessions["activity"].fillna("not recorded"),
                                setting=sessions["setting"].fillna("not recorded"))
                .groupby(["activity", "setting"], as_index=False)
                .agg(sessions=("session_id", "count"), hours=("hours", "sum")))
        acts["hours"] = acts["hours"].astype(float).round(1)
        pack.tables["activities"] = acts.sort_values("hours", ascending=False).reset_index(drop=True)
        pack.figures["activities"] = charts.hours_by_activity(pack.tables["activities"])
        pack.figures["engagement"] = charts.engagement_over_time(sessions)
        hours = float(minutes.sum()) / 60
        community = float(minutes[sessions["setting"].astype("string").str.casefold().eq("community")
                                  .fillna(False).to_numpy()].sum()) / 60
        eng = sessions["engagement"].astype("Float64").mean()
        line = (f"{_plural(len(sessions), 'key-work session')} took place ({hours:.1f} hours, "
                f"{community:.1f} of them out in the community)")
        line += f"; average engagement was {eng:.1f} out of 5." if pd.notna(eng) else "."
        pack.summary.append(line)

    def do_sessions():
        if sessions.empty:
            return
        from kwanalytics.metrics.sessions import session_summary

        summary = session_summary(sessions)
        if "student_id" in summary:
            summary = summary.loc[summary["student_id"] == student_id].drop(columns=["student_id"])
        labels = {"sessions": "Sessions", "hours": "Hours in total", "hours_on_site": "Hours on site",
                  "hours_community": "Hours in the community", "one_to_one": "One-to-one sessions",
                  "small_group": "Small-group sessions", "mean_engagement": "Average engagement (1-5)",
                  "engagement_trend": "Change in engagement per 10 sessions", "activities": "Main activities",
                  "skills_english": "Sessions with English", "skills_maths": "Sessions with maths",
                  "skills_social": "Sessions with social skills"}
        values = summary.iloc[0] if len(summary) else pd.Series([pd.NA] * summary.shape[1], dtype=object)
        pack.tables["sessions"] = pd.DataFrame(
            {"measure": [labels.get(c, c.replace("_", " ")) for c in summary.columns],
             "value": [("" if pd.isna(v) else (f"{v:.1f}" if isinstance(v, float) else str(v)))
                       for v in values]})

    section("activities", do_activities)
    section("sessions", do_sessions)

    # ---- incidents
    incidents_all = own["incidents"]
    incidents = _window(incidents_all, "occurred_at", since, until)

    def do_incidents():
        weekly = weekly_counts(incidents, calendar, since, until)
        if incidents.empty:
            pack.tables["incidents_weekly"] = weekly
            pack.summary.append("No incidents were recorded in this period.")
            return
        pack.tables["incidents_weekly"] = weekly
        pack.figures["incidents_weekly"] = charts.weekly_incidents(weekly)
        days = len(calendar.between(since, until))
        rate = len(incidents) / days if days else float("nan")
        top = incidents["category"].value_counts()
        line = (f"{_plural(len(incidents), 'incident')} were recorded over {_plural(days, 'school day')} "
                f"({rate:.2f} per school day); the most common was {top.index[0].lower()} ({top.iloc[0]}).")
        half = len(weekly) // 2
        if half >= 4:
            first = weekly["incidents"].iloc[:half].sum() / max(1, weekly["school_days"].iloc[:half].sum())
            second = weekly["incidents"].iloc[half:].sum() / max(1, weekly["school_days"].iloc[half:].sum())
            if first > 0 and second < 0.75 * first:
                line += " Incidents were less frequent in the second half of the period than in the first."
            elif second > 1.25 * max(first, 1e-9):
                line += " Incidents were more frequent in the second half of the period than in the first."
        pack.summary.append(line)

    section("incidents_weekly", do_incidents)

    def do_patterns():
        from kwanalytics.metrics.patterns import watchlist

        found = watchlist(incidents, own["students"], own["sessions"], calendar, settings, as_of=until,
                          interventions=own["interventions"])
        found = found.loc[found["student_id"] == student_id].drop(columns=["student_id"])
        found = _redact_columns(found.copy(), ["evidence", "next_step"], redact)
        pack.tables["patterns"] = found.reset_index(drop=True)
        if len(found):
            pack.summary.append("Repeated patterns were found: " + ", ".join(sorted(set(found["pattern"]))) + ".")

    section("patterns", do_patterns)

    def do_interventions():
        enrol = own["interventions"]
        started = pd.to_datetime(enrol["started_on"])
        ended = pd.to_datetime(enrol["ended_on"])
        enrol = enrol.loc[(started <= until) & (ended.isna() | (ended >= since))]
        if enrol.empty:
            pack.tables["interventions"] = pd.DataFrame()
            return
        from kwanalytics.metrics.impact import enrolment_impact, records_start

        mine = dict(own, interventions=enrol)
        # the school's records start, not this pupil's first incident, bounds the baseline (as in the cohort view)
        impact = enrolment_impact(mine, calendar, settings, as_of=until, data_start=records_start(tables))
        keep = [c for c in ["programme", "started_on", "ended_on", "baseline_incidents", "baseline_rate",
                            "intervention_incidents", "intervention_rate", "rate_ratio", "rate_ratio_ci_low",
                            "rate_ratio_ci_high", "verdict"] if c in impact]
        pack.tables["interventions"] = impact[keep].reset_index(drop=True)
        pack.summary.append(f"{_plural(len(impact), 'intervention')} ran in this period: "
                            + "; ".join(f"{r.programme} ({r.verdict})" for r in impact.itertuples()) + ".")

    section("interventions", do_interventions)

    def do_restorative():
        rc = incidents.loc[incidents["restorative_conversation"].fillna(False).astype(bool)]
        out = pd.DataFrame({"date": pd.to_datetime(rc["occurred_at"]).dt.normalize(), "incident": rc["category"],
                            "what happened next": rc["consequence"], "notes": rc["notes"]})
        pack.tables["restorative"] = _redact_columns(out, ["what happened next", "notes"], redact).reset_index(drop=True)

    section("restorative", do_restorative)

    def do_contacts():
        c = _window(own["contacts"], "date", since, until)
        out = c[["date", "party", "method", "purpose", "summary"]].sort_values("date").copy()
        pack.tables["contacts"] = _redact_columns(out, ["purpose", "summary"], redact).reset_index(drop=True)
        if len(out):
            parties = out["party"].dropna().value_counts()
            pack.summary.append(f"There {'was' if len(out) == 1 else 'were'} {_plural(len(out), 'contact')} with "
                                "home and agencies" + (f", most often with {parties.index[0]}." if len(parties)
                                                       else "."))

    section("contacts", do_contacts)

    def do_budget():
        b = own["budget"]
        cost = float(sessions["cost_gbp"].astype("Float64").fillna(0).sum())
        rows = [{"item": f"Sessions in this period", "amount_gbp": cost}]
        for r in b.itertuples():
            rows.append({"item": f"Budget {r.budget_id}"
                                 + (f" ({r.period_start:%d %b %Y} to {r.period_end:%d %b %Y})"
                                    if pd.notna(r.period_start) and pd.notna(r.period_end) else ""),
                         "amount_gbp": float(r.amount_gbp)})
        pack.tables["budget"] = pd.DataFrame(rows)
        if cost:
            pack.summary.append(f"Sessions in this period cost £{cost:,.2f}"
                                + (f" from a pupil budget of £{b['amount_gbp'].sum():,.2f}." if len(b) else "."))

    section("budget", do_budget)

    for key in SECTIONS:
        pack.tables.setdefault(key, pd.DataFrame())
    pack.figures = {k: v for k, v in pack.figures.items() if v is not None}
    pack.summary.insert(0, f"This evidence pack covers {name} from {period}.")
    pack.summary = pack.summary[:6]
    return pack
