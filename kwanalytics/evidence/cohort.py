"""Tables and figures for the cohort report (the AHT) and the patterns report (the BEST co-ordinator).

Cohort outputs name no pupil: ids are salted pseudonyms (privacy.pseudonym, salt from the workspace) and any group
of fewer pupils than settings.min_group_size is suppressed (privacy.suppress_small_groups), following the ICO's
anonymisation guidance on small cell counts. The patterns report is for staff who act on it, so it keeps the
school's own pupil ids (never names).

Each section is computed on its own: one that fails is left out with a note, not the whole report.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from kwanalytics.evidence import charts
from kwanalytics.calendar import data_period, weekly_counts
from kwanalytics.evidence.display import format_value
from kwanalytics.metrics.impact import FEWER, verdict_counts

WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]


@dataclass
class Section:
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    figures: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    summary: list[str] = field(default_factory=list)

    def run(self, key: str, fn) -> None:
        from kwanalytics.evidence.pupil import run_section

        run_section(key, fn, self.tables, self.notes)

    def finish(self) -> "Section":
        self.figures = {k: v for k, v in self.figures.items() if v is not None}
        return self


def _pseudo(ids: pd.Series, salt: bytes) -> pd.Series:
    from kwanalytics.evidence.privacy import pseudonym

    return ids.map(lambda s: pseudonym(s, salt) if isinstance(s, str) else s)


def pupil_school_days(tables: dict, calendar, start, end) -> pd.Series:
    """Each pupil's school days on roll inside the data's period ``start``..``end``: from the admission date (else
    the period's start) to the leaving date (else its end). Not the span of the pupil's own records, which would
    make a pupil with two incidents a week apart look on roll for a week."""
    students = tables.get("students")
    if start is None or end is None or students is None or students.empty:
        return pd.Series(dtype="int64")
    students = students.drop_duplicates("student_id")
    admitted = (pd.to_datetime(students["admitted_on"]) if "admitted_on" in students
                else pd.Series(pd.NaT, index=students.index))
    left = pd.to_datetime(students["left_on"]) if "left_on" in students else pd.Series(pd.NaT, index=students.index)
    first = admitted.where(admitted > start, start).fillna(start)
    last = left.where(left < end, end).fillna(end)
    lo = calendar.days.searchsorted(pd.DatetimeIndex(first).astype("datetime64[us]"), "left")
    hi = calendar.days.searchsorted(pd.DatetimeIndex(last).astype("datetime64[us]"), "right")
    return pd.Series((hi - lo).clip(min=0), index=students["student_id"].to_numpy())


def targets_met(outcomes: pd.Series, settings) -> pd.Series:
    """Whether each recorded outcome says the targets were met: it contains one of settings.yaml
    ``outcomes.targets_met``, in any case (a blank outcome does not)."""
    phrases = [p.casefold() for p in settings.school.outcomes.targets_met]
    text = outcomes.astype("string").str.casefold().fillna("")
    return text.map(lambda t: any(p in t for p in phrases)).astype(bool)


def recorded_outcomes(interventions: pd.DataFrame, settings, as_of=None) -> pd.DataFrame:
    """Per programme: ``completed`` enrolments (ended by ``as_of``) and how many of them staff recorded as
    ``targets_met`` (their recorded outcome contains one of settings.yaml ``outcomes.targets_met``, any case)."""
    ended = pd.to_datetime(interventions["ended_on"])
    done = interventions.loc[ended.notna() & ((ended <= pd.Timestamp(as_of)) if as_of is not None else True)]
    g = done.assign(_met=targets_met(done["exit_outcome"], settings).to_numpy()).groupby("programme")
    return pd.DataFrame({"completed": g.size(), "targets_met": g["_met"].sum()}).reset_index()


def provision_by_programme(tables: dict, calendar, settings, since, until) -> pd.DataFrame:
    """Per programme, the hours its enrolments' plans promised over ``since``..``until`` (``planned_hours``: only
    enrolments whose plan states hours a week) and the share of those hours the sessions delivered
    (``delivered_share``); blank where no enrolment states a plan, never 0. Hours are about the programme, not a
    pupil, so, like spend, they are not suppressed."""
    from kwanalytics.metrics.sessions import planned_vs_delivered

    columns = ["programme", "planned_hours", "delivered_share"]
    enrolments = tables.get("interventions")
    if enrolments is None or enrolments.empty:
        return pd.DataFrame(columns=columns)
    each = planned_vs_delivered(enrolments, tables.get("sessions"), calendar, settings, since, until)
    stated = each.loc[each["planned_hours"].notna()]
    g = stated.groupby("programme")
    per = pd.DataFrame({"planned_hours": g["planned_hours"].sum(), "delivered": g["delivered_hours"].sum()})
    per["delivered_share"] = (per["delivered"] / per["planned_hours"]).where(per["planned_hours"] > 0)
    return per.reset_index()[columns]


def with_budget_only_programmes(programmes: pd.DataFrame, tables: dict, settings) -> pd.DataFrame:
    """``programmes`` plus a row (0 pupils) for each programme that has a budget line but no enrolment yet."""
    budget = tables.get("budget")
    if budget is None or budget.empty or "budget_gbp" not in programmes:
        return programmes
    from kwanalytics.metrics.sessions import budget_lines

    lines = budget_lines(budget, settings)
    rows = lines.loc[lines["scope"] == "programme"]
    amounts = rows["amount_gbp"].groupby(rows["scope_id"]).sum()
    missing = amounts.loc[~amounts.index.isin(programmes["programme"])]
    if missing.empty:
        return programmes
    extra = pd.DataFrame({"programme": missing.index, "pupils": 0, "budget_gbp": missing.to_numpy()})
    return pd.concat([programmes, extra], ignore_index=True).sort_values("programme", ignore_index=True)


def cohort_sections(tables: dict, settings, calendar, salt: bytes, as_of=None) -> Section:
    """Impact per programme, target attainment, incidents per school week, cost per programme and per pupil."""
    from kwanalytics.evidence.privacy import suppress_partitions, suppress_small_groups

    out = Section()
    k = settings.min_group_size
    incidents = tables["incidents"]
    start, end = data_period(tables, as_of)
    enrol = pd.DataFrame()

    def programmes():
        nonlocal enrol
        from kwanalytics.metrics.impact import enrolment_impact, programme_impact

        enrol = enrolment_impact(tables, calendar, settings, as_of=as_of)
        prog = programme_impact(enrol, tables, settings, as_of=as_of, calendar=calendar)
        prog = with_budget_only_programmes(prog, tables, settings)
        prog = prog.merge(recorded_outcomes(tables["interventions"], settings, as_of), on="programme", how="left")
        for col in ("completed", "targets_met"):
            prog[col] = prog[col].fillna(0).astype("Int64")
        if {"cost_gbp", "budget_gbp"} <= set(prog.columns):
            prog["spend_share"] = prog["cost_gbp"] / prog["budget_gbp"].where(prog["budget_gbp"] > 0)
        # spend against a budget is about a programme, not a pupil: an overspent programme stays visible
        money = {"sessions", "session_hours", "cost_gbp", "budget_gbp", "spend_share"}
        blank = [c for c in prog.columns if c not in money | {"pupils", "suppressed"}
                 and pd.api.types.is_numeric_dtype(prog[c]) and not pd.api.types.is_bool_dtype(prog[c])]
        out.tables["programmes"] = suppress_small_groups(prog, count_col="pupils", min_size=k, blank=blank)
        shown = enrol.assign(pupil=_pseudo(enrol["student_id"], salt))
        cols = [c for c in ["pupil", "programme", "started_on", "ended_on", "baseline_rate", "intervention_rate",
                            "rate_ratio", "rate_ratio_ci_low", "rate_ratio_ci_high", "verdict", "adjusted_rate_ratio",
                            "adjusted_ci_low", "adjusted_ci_high", "adjusted_verdict"] if c in shown]
        counts = shown.groupby("programme")["student_id"].transform("nunique")
        out.tables["enrolments"] = shown.loc[counts >= k, cols].reset_index(drop=True)
        hidden = int((counts < k).sum())
        if hidden:
            out.notes.append(f"{hidden} enrolment(s) in programmes with fewer than {k} pupils are not listed "
                             "one by one, so that no pupil can be recognised.")
        med = out.tables["programmes"]
        if len(med) and "suppressed" in med and med["suppressed"].fillna(False).astype(bool).all():
            out.summary.append(f"Every programme has fewer than {k} pupils so far, so figures per programme are "
                               "suppressed; the verdicts across all programmes together are shown instead.")
        if enrol["student_id"].nunique() >= k and "verdict" in enrol:
            verdicts = (enrol["verdict"].fillna("not measured").value_counts()
                        .rename_axis("verdict").reset_index(name="enrolments"))
            verdicts["pupils"] = verdicts["verdict"].map(enrol.groupby(enrol["verdict"].fillna("not measured"))
                                                         ["student_id"].nunique())
            listed = enrol.loc[(counts >= k).to_numpy()]
            listed_pupils = listed.groupby(listed["verdict"].fillna("not measured"))["student_id"].nunique()
            # a verdict's pupils already listed one by one below cannot be hidden by blanking its count
            out.tables["verdicts"] = suppress_partitions(
                verdicts, verdicts["verdict"].map(listed_pupils).fillna(0), count_col="pupils", min_size=k)
        if "adjusted_rate_ratio" in med:
            out.figures["programme_rate_ratio"] = charts.bars(
                med.dropna(subset=["adjusted_rate_ratio"]), "programme", "adjusted_rate_ratio",
                "Pooled change in incident rate per programme, beyond the change in pupils in no programme "
                "(1 = no change, below 1 = fewer incidents)",
                error_low="adjusted_ci_low", error_high="adjusted_ci_high",
                reference=1.0, y_title="adjusted rate ratio (during / before)")
        # One forest plot per programme shown pupil by pupil (the same small-group rule as the enrolments table).
        listed = shown.loc[counts >= k]
        pooled = med.set_index("programme") if "programme" in med else pd.DataFrame()
        for programme, rows in listed.groupby("programme", sort=True):
            if programme in pooled.index:
                out.figures[f"forest: {programme}"] = charts.forest(
                    rows, pooled.loc[programme], f"{programme}: each enrolment and the pooled estimate")
        if len(enrol) and "verdict" in enrol:
            out.summary.append(f"{len(enrol)} enrolments in {enrol['programme'].nunique()} programmes were "
                               "measured against each pupil's own baseline before the programme, and against "
                               "pupils in no programme over the same school days (the adjusted figures).")
            out.summary.append("The adjusted figures take out what changed for everyone at the same time (a "
                               "calmer spring, a new behaviour policy); they cannot take out what is special to the "
                               "pupils chosen: pupils are often enrolled after a bad spell, and some fall back "
                               "towards their usual level without help.")

    def attainment():
        from kwanalytics.metrics.targets import tscores

        ts = tscores(tables["targets"], tables["target_ratings"], settings.term_dates, as_of=as_of)
        ts = ts.loc[ts["area"] != "All areas"] if "area" in ts else ts
        agg = (ts.dropna(subset=["tscore"]).groupby(["term", "area"], as_index=False)
               .agg(pupils=("student_id", "nunique"), mean_tscore=("tscore", "mean"),
                    at_or_above_50=("tscore", lambda s: float((s >= 50).mean()))))
        agg["mean_tscore"] = agg["mean_tscore"].round(1)
        agg["at_or_above_50"] = (agg["at_or_above_50"] * 100).round(0)
        agg = agg.rename(columns={"at_or_above_50": "percent_at_or_above_50"})
        out.tables["attainment"] = suppress_small_groups(agg, count_col="pupils", min_size=k)
        shown = out.tables["attainment"].dropna(subset=["mean_tscore"])
        if len(shown):
            out.figures["attainment"] = charts.tscore_bars(shown.rename(columns={"mean_tscore": "tscore"}))

    def weekly():
        # the data's own period: term dates for years without records would add weeks of nothing
        w = weekly_counts(incidents, calendar, start, end) if start is not None else weekly_counts(
            incidents.iloc[:0], calendar, None, as_of).iloc[:0]
        out.tables["incidents_weekly"] = w
        out.figures["incidents_weekly"] = charts.weekly_incidents(w, "Incidents per school week, whole cohort")
        if len(incidents):
            out.summary.append(f"{len(incidents)} incidents were recorded for {incidents['student_id'].nunique()} "
                               f"pupils over {int(w['school_days'].sum())} school days.")

    def breakdowns():
        students = tables["students"]
        inside = incidents
        if end is not None:
            inside = incidents.loc[pd.to_datetime(incidents["occurred_at"]) < end + pd.Timedelta(days=1)]
        per = inside.groupby("student_id").size()
        s = students.assign(incidents=students["student_id"].map(per).fillna(0).astype(int),
                            school_days=students["student_id"].map(pupil_school_days(tables, calendar, start, end))
                            .fillna(0))
        rows = []
        for col, label in (("primary_need", "area of need"), ("year_group", "year group")):
            g = (s.assign(group=s[col].fillna("not recorded")).groupby("group", as_index=False)
                 .agg(pupils=("student_id", "nunique"), incidents=("incidents", "sum"),
                      pupil_school_days=("school_days", "sum")))
            # each pupil's own school days on roll in the data's period, so a late joiner is not diluted
            g["incidents_per_pupil_per_school_day"] = (g["incidents"] / g["pupil_school_days"]
                                                       .where(g["pupil_school_days"] > 0))
            g = g.drop(columns=["pupil_school_days"])
            g.insert(0, "breakdown", label)
            rows.append(g)
        table = pd.concat(rows, ignore_index=True)
        out.tables["breakdowns"] = suppress_small_groups(table, count_col="pupils", min_size=k)
        out.tables["breakdowns"].attrs["decimals"] = {"incidents_per_pupil_per_school_day": 3}

    def costs():
        sessions = tables["sessions"]
        if sessions.empty:
            out.tables["cost_per_pupil"] = pd.DataFrame()
            return
        s = sessions.assign(hours=sessions["duration_minutes"].astype("Float64").fillna(0) / 60,
                            cost=sessions["cost_gbp"].astype("Float64").fillna(0))
        per = s.groupby("student_id", as_index=False).agg(sessions=("session_id", "count"),
                                                          hours=("hours", "sum"), cost_gbp=("cost", "sum"))
        per["hours"] = per["hours"].astype(float)
        per["cost_gbp"] = per["cost_gbp"].astype(float)
        per.insert(0, "pupil", _pseudo(per["student_id"], salt))
        out.tables["cost_per_pupil"] = per.drop(columns=["student_id"]).sort_values("cost_gbp", ascending=False,
                                                                                   ignore_index=True)
        out.summary.append(f"Key-work sessions cost {format_value(per['cost_gbp'].sum(), 'money')} in all, a median "
                           f"of {format_value(per['cost_gbp'].median(), 'money')} per pupil.")

    def cost_by_programme():
        prog = out.tables.get("programmes")
        if prog is None or prog.empty:
            out.tables["cost_by_programme"] = pd.DataFrame()
            return
        improved = (enrol.loc[enrol["verdict"] == FEWER].groupby("programme")["student_id"].nunique()
                    if len(enrol) else pd.Series(dtype="int64"))
        table = prog[[c for c in ("programme", "pupils", "sessions", "session_hours", "cost_gbp", "budget_gbp",
                                  "spend_share", "suppressed") if c in prog]].copy()
        # cost per pupil whose incidents clearly fell: blank where the programme's pupils are suppressed
        n = table["programme"].map(improved).astype("Float64")
        table["cost_per_pupil_improved"] = (table["cost_gbp"] / n.where(n > 0)).astype(float).where(
            ~table["suppressed"].fillna(False).astype(bool))
        table = table.merge(provision_by_programme(tables, calendar, settings, start, end), on="programme",
                            how="left")
        out.tables["cost_by_programme"] = table.drop(columns=["suppressed"])
        over = table.loc[table["spend_share"].astype(float) > 1, "programme"] if "spend_share" in table else []
        if len(over):
            out.summary.append("Spent more than the budget: " + ", ".join(over) + ".")

    def effect_by_group():
        """Verdict counts per area of need and year group, each group suppressed below the smallest size."""
        if enrol.empty:
            out.tables["effect_by_group"] = pd.DataFrame()
            return
        students = tables["students"].drop_duplicates("student_id").set_index("student_id")
        rows = []
        for col, label in (("primary_need", "area of need"), ("year_group", "year group")):
            group = enrol["student_id"].map(students[col]).fillna("not recorded")
            g = enrol.assign(group=group.to_numpy()).groupby("group")
            part = pd.concat([pd.DataFrame({"enrolments": g.size(), "pupils": g["student_id"].nunique()}),
                              verdict_counts(g)], axis=1)
            part = part.reset_index().rename(columns={"index": "group"})
            part.insert(0, "breakdown", label)
            rows.append(part)
        out.tables["effect_by_group"] = suppress_small_groups(pd.concat(rows, ignore_index=True),
                                                              count_col="pupils", min_size=k)

    for key, fn in (("programmes", programmes), ("attainment", attainment), ("incidents_weekly", weekly),
                    ("breakdowns", breakdowns), ("cost_per_pupil", costs), ("cost_by_programme", cost_by_programme),
                    ("effect_by_group", effect_by_group)):
        out.run(key, fn)
    return out.finish()


def _span(start, end) -> str:
    start = pd.Timestamp(start)
    if pd.isna(end):
        return f"since {start.day} {start:%b %Y}"
    end = pd.Timestamp(end)
    return f"{start:%b}–{end:%b %Y}" if start.year == end.year else f"{start:%b %Y}–{end:%b %Y}"


def programme_history(interventions: pd.DataFrame, as_of) -> pd.Series:
    """Per pupil, their programmes in plain words, current first: "Zones of Regulation (now, since 3 Feb 2026);
    Social Skills Group (Jan–Apr 2026: Completed: targets met)"."""
    if interventions is None or interventions.empty:
        return pd.Series(dtype="string")
    e = interventions.assign(_start=pd.to_datetime(interventions["started_on"]),
                             _end=pd.to_datetime(interventions["ended_on"]))
    e = e.loc[e["_start"] <= pd.Timestamp(as_of)]
    current = e["_end"].isna() | (e["_end"] >= pd.Timestamp(as_of))
    outcome = e["exit_outcome"].astype("string").str.strip().replace("", pd.NA).fillna("no outcome recorded")
    text = pd.Series(
        [f"{p} (now, {_span(s_, pd.NaT)})" if now else f"{p} ({_span(s_, e_)}: {o})"
         for p, s_, e_, now, o in zip(e["programme"], e["_start"], e["_end"], current, outcome)], index=e.index)
    order = e.assign(_text=text, _now=current).sort_values(["student_id", "_now", "_start"],
                                                           ascending=[True, False, False])
    return order.groupby("student_id")["_text"].agg("; ".join)


def pupils_by_urgency(watch: pd.DataFrame, view: pd.DataFrame, tables: dict, since, as_of) -> pd.DataFrame:
    """One row per pupil on the watchlist for the BEST meeting, most urgent first: a pattern new since the last
    meeting, then escalating, then physical incidents since the meeting; with the pupil's name, year, key worker,
    patterns in plain words and programmes now and before with their recorded outcomes."""
    if watch.empty:
        return pd.DataFrame()
    students = tables["students"].drop_duplicates("student_id").set_index("student_id")
    incidents = tables["incidents"]
    when = pd.to_datetime(incidents["occurred_at"])
    recent = incidents.loc[(when >= pd.Timestamp(since)) & (when < pd.Timestamp(as_of) + pd.Timedelta(days=1))]
    physical = recent.loc[recent["physical_intervention"].fillna(False).astype(bool)].groupby("student_id").size()
    new = view.loc[view["status"].astype("string") == "new"].groupby("student_id")["pattern"].agg(
        lambda p: ", ".join(sorted(set(p)))) if "status" in view and len(view) else pd.Series(dtype="string")
    g = watch.groupby("student_id")
    out = pd.DataFrame({"patterns": g["pattern"].agg(lambda p: ", ".join(sorted(set(p)))),
                        "incidents": g["incidents"].max()})
    ids = out.index.to_series()
    out.insert(0, "name", ids.map(students["display_name"]) if "display_name" in students else pd.NA)
    out.insert(1, "year", ids.map(students["year_group"]) if "year_group" in students else pd.NA)
    out.insert(2, "key_worker", ids.map(students["key_worker"]) if "key_worker" in students else pd.NA)
    out["new_since_meeting"] = ids.map(new).astype("string")
    out["escalating"] = out["patterns"].str.contains("escalation")
    out["physical_since_meeting"] = ids.map(physical).fillna(0).astype(int)
    out["programmes"] = ids.map(programme_history(tables.get("interventions"), as_of)).astype("string")
    out = out.assign(_new=out["new_since_meeting"].notna()).sort_values(
        ["_new", "escalating", "physical_since_meeting", "incidents"], ascending=False).drop(columns="_new")
    return out.reset_index()


def past_enrolments_note(entry: pd.DataFrame, interventions: pd.DataFrame, settings) -> pd.Series:
    """For each pupil meeting a programme's entry criteria: their ended enrolments in that programme in plain
    words, with a suggestion when none met its targets ("completed Zones of Regulation Feb–May 2026, no clear
    change: consider another programme")."""
    if entry.empty or interventions is None or interventions.empty:
        return pd.Series("", index=entry.index, dtype="string")
    done = interventions.loc[pd.to_datetime(interventions["ended_on"]).notna()]
    notes = []
    for sid, programme in zip(entry["student_id"], entry["programme"]):
        past = done.loc[(done["student_id"] == sid) & (done["programme"] == programme)]
        if past.empty:
            notes.append("")
            continue
        outcomes = past["exit_outcome"].astype("string").fillna("")
        parts = [f"completed {programme} {_span(r.started_on, r.ended_on)}"
                 + (f", {o.lower()}" if o else "") for r, o in zip(past.itertuples(), outcomes)]
        met = targets_met(outcomes, settings).any()
        notes.append("; ".join(parts) + ("" if met else ": consider another programme"))
    return pd.Series(notes, index=entry.index, dtype="string")


def hotspot_pupils(rows: pd.DataFrame, top: int = 5) -> str:
    """The pupils who make up a hotspot, most incidents first: "S0013 (8), S0027 (5) and 4 others"."""
    counts = rows["student_id"].value_counts()
    shown = ", ".join(f"{sid} ({n})" for sid, n in counts.head(top).items())
    return shown + (f" and {len(counts) - top} others" if len(counts) > top else "")


def patterns_sections(tables: dict, settings, calendar, as_of=None, since=None) -> Section:
    """The view since the last meeting (``since``, default ``patterns.meeting_every_days`` before ``as_of``), then
    the watchlist with its evidence, hotspot heatmaps, escalations and entry/exit criteria."""
    out = Section()
    incidents = tables["incidents"]
    if as_of is not None:
        incidents = incidents.loc[pd.to_datetime(incidents["occurred_at"]) < pd.Timestamp(as_of) + pd.Timedelta(days=1)]

    def watch():
        from kwanalytics.evidence import patterns as meeting
        from kwanalytics.metrics.patterns import since_meeting, watchlist

        end = pd.Timestamp(as_of) if as_of is not None else pd.to_datetime(incidents["occurred_at"]).max()
        start = pd.Timestamp(since) if since is not None else meeting.last_meeting(end, settings)
        args = (incidents, tables["students"], tables["sessions"], calendar, settings)
        w = watchlist(*args, as_of=as_of, interventions=tables["interventions"])
        view = since_meeting(w, *args, since=start, as_of=as_of)  # the same list, not computed again
        status = view.set_index(["student_id", "pattern"])["status"]
        w["status"] = pd.Series([status.get(k, pd.NA) for k in zip(w["student_id"], w["pattern"])], index=w.index,
                                dtype="string")
        out.tables["urgency"] = pupils_by_urgency(w, view, tables, start, end)
        out.tables["since_kinds"] = meeting.kinds_since(view)
        out.tables["since_pupils"] = meeting.pupils_by_kind(view)
        out.summary.append(meeting.since_sentence(view, w, start))
        out.tables["watchlist"] = w.loc[w["pattern"] != "escalation"].reset_index(drop=True)
        out.tables["escalations"] = w.loc[w["pattern"] == "escalation"].reset_index(drop=True)
        out.summary.append(f"{w['student_id'].nunique()} pupils show {len(w)} repeated patterns "
                           f"({', '.join(f'{n} {p}' for p, n in w['pattern'].value_counts().items())})."
                           if len(w) else "No pupil shows a repeated pattern that passes the thresholds.")

    def hot():
        from kwanalytics.metrics.patterns import hotspots

        wp = hotspots(incidents, calendar, settings, by="weekday_period")
        out.tables["hotspots_weekday_period"] = wp
        periods = list(settings.periods["name"]) if len(settings.periods) else None
        stats = {"incidents", "expected", "ratio", "p_value", "flagged"}
        day_col, period_col = ([c for c in wp.columns if c not in stats] + ["weekday", "period"])[:2]
        out.figures["weekday_period"] = charts.heatmap(wp, day_col, period_col, "incidents",
                                                       "Incidents by weekday and period", x_order=WEEKDAYS,
                                                       y_order=periods)
        loc = hotspots(incidents, calendar, settings, by="location")
        out.tables["hotspots_location"] = loc
        loc_col = next((c for c in loc.columns if c not in stats), "location")
        out.figures["location"] = charts.bars(loc.sort_values("ratio", ascending=False), loc_col, "ratio",
                                              "Incidents by place against the time pupils spend there "
                                              "(1 = what the hours would give)", reference=1.0,
                                              y_title="incidents / expected from the hours")
        wp_hot = wp.loc[wp["flagged"].fillna(False).astype(bool)].copy()
        loc_hot = loc.loc[loc["flagged"].fillna(False).astype(bool)].copy()
        weekday = pd.to_datetime(incidents["occurred_at"]).dt.day_name()
        wp_hot["pupils"] = [hotspot_pupils(incidents.loc[(weekday == d) & (incidents["period"] == p)])
                            for d, p in zip(wp_hot[day_col].astype(str), wp_hot[period_col])]
        loc_hot["pupils"] = [hotspot_pupils(incidents.loc[incidents["location"] == place])
                             for place in loc_hot[loc_col]]
        out.tables["hotspots_flagged"] = pd.concat([wp_hot, loc_hot], ignore_index=True)

    def criteria():
        from kwanalytics.metrics.criteria import criteria_status

        c = criteria_status(incidents, tables["interventions"], calendar, settings, as_of=as_of)
        entry = c.loc[c["meets_entry"].fillna(False).astype(bool)
                      & ~c["enrolled"].fillna(False).astype(bool)].reset_index(drop=True)
        entry["before"] = past_enrolments_note(entry, tables["interventions"], settings)
        out.tables["entry"] = entry
        out.tables["exit"] = c.loc[c["meets_exit"].fillna(False).astype(bool)
                                   & c["enrolled"].fillna(False).astype(bool)].reset_index(drop=True)
        out.summary.append(f"{len(out.tables['entry'])} pupils meet a programme's entry criteria without being "
                           f"enrolled; {len(out.tables['exit'])} enrolled pupils meet its exit criteria.")

    for key, fn in (("watchlist", watch), ("hotspots", hot), ("criteria", criteria)):
        out.run(key, fn)
    return out.finish()
