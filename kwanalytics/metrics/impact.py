"""Impact of interventions: incidents before and during each pupil's enrolment in a programme, and per programme.

For each enrolment two windows of school days are compared (DESIGN.md: "rates are per school day"):

- the **baseline**: up to ``impact.baseline_school_days`` (settings.yaml, default 30) school days just before the
  enrolment started, never earlier than the data's first school day;
- the **intervention window**: from the start to the enrolment's end, or to ``as_of`` while it is still open
  (default ``as_of``: the latest incident or session date in the data).

Incidents are counted per school day from the school calendar, so a half-term holiday inside a window neither
lowers nor raises a rate. The rate ratio (intervention rate / baseline rate) comes with an exact conditional
Poisson 95% interval; NAP and Tau-U (Parker & Vannest 2009; Parker et al. 2011, via :mod:`kwanalytics.metrics.effect_sizes`)
are computed on weekly rates. The verdict says only what the interval supports; nothing here has a control group,
and pupils are often enrolled just after a bad spell, so some fall is expected from regression to the mean alone.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from kwanalytics.calendar import SchoolCalendar, week_start
from kwanalytics.settings import Settings, fold

TOO_LITTLE = "too little data"
FEWER = "clearly fewer incidents"
MORE = "clearly more incidents"
NO_CLEAR = "no clear change"
VERDICTS = (FEWER, NO_CLEAR, MORE, TOO_LITTLE)

ENROLMENT_COLUMNS = [
    "enrolment_id", "student_id", "programme", "started_on", "ended_on", "baseline_start", "baseline_school_days",
    "intervention_school_days", "baseline_incidents", "intervention_incidents", "baseline_rate",
    "intervention_rate", "rate_ratio", "rate_ratio_ci_low", "rate_ratio_ci_high", "nap", "tau_u",
    "baseline_severity", "intervention_severity", "baseline_gas", "intervention_gas", "baseline_engagement",
    "intervention_engagement", "verdict",
]
PROGRAMME_COLUMNS = [
    "programme", "pupils", "median_rate_ratio", "improved_clearly", "no_clear_change", "worse_clearly",
    "too_little_data", "exit_criteria_met", "sessions", "session_hours", "cost_gbp", "budget_gbp",
    "cost_per_pupil", "cost_per_hour",
]
REPORT_COLUMNS = [
    "enrolment_id", "student_id", "programme", "started_on", "baseline_school_days", "intervention_school_days",
    "baseline_incidents", "intervention_incidents", "rate_ratio", "rate_ratio_ci_low", "rate_ratio_ci_high", "nap",
    "tau_u", "verdict",
]


# --------------------------------------------------------------------------------------------------------------
# Rate ratio


def rate_ratio_ci(events_treatment, days_treatment, events_baseline, days_baseline, confidence: float = 0.95):
    """Rate ratio (treatment rate / baseline rate) with an exact conditional Poisson interval, vectorised.

    Conditioning on the total ``n = a + b`` events, the treatment count ``a`` is Binomial(n, p) with
    ``p = RR d_t / (RR d_t + d_b)``; the Clopper-Pearson interval for ``p`` maps onto the ratio as
    ``RR = p / (1 - p) * d_b / d_t``. This is R's ``poisson.test(c(a, b), c(d_t, d_b))`` (which uses
    ``binom.test``); the R documentation's example 11/800 vs 21/3011 gives 1.971 (0.858 to 4.277).
    Zeros: no treatment events gives a ratio of 0 with lower limit 0; no baseline events gives an infinite
    ratio and upper limit; no events at all or no days in a window gives NaN throughout.

    Returns three float arrays: estimate, ci_low, ci_high.
    """
    a = np.asarray(events_treatment, dtype=float)
    b = np.asarray(events_baseline, dtype=float)
    dt = np.asarray(days_treatment, dtype=float)
    db = np.asarray(days_baseline, dtype=float)
    n = a + b
    alpha = 1 - confidence
    defined = (n > 0) & (dt > 0) & (db > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        # Clopper-Pearson limits from the beta distribution; the limit is 0 (or 1) when a = 0 (or a = n).
        p_low = np.where(a > 0, stats.beta.ppf(alpha / 2, a, n - a + 1), 0.0)
        p_high = np.where(a < n, stats.beta.ppf(1 - alpha / 2, a + 1, n - a), 1.0)
        scale = db / dt
        low = p_low / (1 - p_low) * scale
        high = np.where(p_high < 1, p_high / (1 - p_high), np.inf) * scale
        est = np.where(b > 0, (a / dt) / (b / db), np.inf)
    nan = np.full(a.shape, np.nan)
    return np.where(defined, est, nan), np.where(defined, low, nan), np.where(defined, high, nan)


def verdict(baseline_days, intervention_days, incidents_total, ci_low, ci_high, min_school_days: int = 10,
            min_incidents: int = 3) -> np.ndarray:
    """Plain-words verdict per enrolment, claiming a change only when the whole 95% interval is on one side of 1."""
    bd, idays = np.asarray(baseline_days), np.asarray(intervention_days)
    total = np.asarray(incidents_total)
    low, high = np.asarray(ci_low, dtype=float), np.asarray(ci_high, dtype=float)
    little = (bd < min_school_days) | (idays < min_school_days) | (total < min_incidents) | np.isnan(low)
    out = np.where(high < 1, FEWER, np.where(low > 1, MORE, NO_CLEAR)).astype(object)
    out[little] = TOO_LITTLE
    return out


# --------------------------------------------------------------------------------------------------------------
# Helpers


def _impact_settings(settings: Settings) -> tuple[int, int, int]:
    cfg = (settings.config or {}).get("impact") or {}
    return (int(cfg.get("baseline_school_days", 30)), int(cfg.get("min_school_days", 10)),
            int(cfg.get("min_incidents", 3)))


def _dates(series) -> pd.Series:
    return pd.to_datetime(series, errors="coerce").dt.normalize().astype("datetime64[us]")


def _activity_dates(tables: dict) -> pd.Series:
    parts = []
    inc = tables.get("incidents")
    if inc is not None and len(inc):
        parts.append(_dates(inc["occurred_at"]))
    ses = tables.get("sessions")
    if ses is not None and len(ses):
        parts.append(_dates(ses["date"]))
    if not parts:
        return pd.Series([], dtype="datetime64[us]")
    return pd.concat(parts, ignore_index=True).dropna()


def records_start(tables: dict) -> pd.Timestamp | None:
    """The earliest incident or session date in ``tables`` (None when there is none): where the records begin.

    Pass it as ``enrolment_impact(..., data_start=records_start(all_tables))`` when computing one pupil's impact
    from that pupil's rows, so that the baseline is the same as in the cohort view.
    """
    dates = _activity_dates(tables)
    return dates.min() if len(dates) else None


def default_as_of(tables: dict) -> pd.Timestamp:
    """The latest incident or session date; today when the workspace holds neither."""
    dates = _activity_dates(tables)
    return dates.max() if len(dates) else pd.Timestamp.today().normalize()


def _windows(interventions: pd.DataFrame, calendar: SchoolCalendar, tables: dict, baseline_n: int,
             as_of: pd.Timestamp, data_start=None) -> pd.DataFrame:
    """One row per enrolment started by ``as_of``, with both windows as school-day positions and dates."""
    enr = interventions.copy()
    enr["started_on"] = _dates(enr["started_on"])
    enr["ended_on"] = _dates(enr["ended_on"]) if "ended_on" in enr else pd.NaT
    enr = enr[enr["started_on"].notna() & (enr["started_on"] <= as_of)].reset_index(drop=True)
    days = calendar.days
    end = enr["ended_on"].where(enr["ended_on"].notna() & (enr["ended_on"] < as_of), as_of)
    enr["window_end"] = end.astype("datetime64[us]")
    if data_start is not None:
        first_data = pd.Timestamp(data_start).normalize()
    else:
        activity = _activity_dates(tables)
        first_data = activity.min() if len(activity) else enr["started_on"].min()
    data_lo = days.searchsorted(first_data, "left") if pd.notna(first_data) else 0
    s_idx = days.searchsorted(enr["started_on"].to_numpy(), "left")
    e_idx = days.searchsorted(enr["window_end"].to_numpy(), "right")
    b_lo = np.maximum(s_idx - baseline_n, data_lo)
    enr["b_lo"], enr["s_idx"], enr["e_idx"] = b_lo, s_idx, e_idx
    enr["baseline_school_days"] = np.maximum(s_idx - b_lo, 0)
    enr["intervention_school_days"] = np.maximum(e_idx - s_idx, 0)
    safe = np.minimum(b_lo, max(len(days) - 1, 0))
    enr["baseline_start"] = pd.Series(days[safe] if len(days) else pd.NaT, index=enr.index).where(
        enr["baseline_school_days"] > 0).astype("datetime64[us]")
    return enr


def _assign(events: pd.DataFrame, date_col: str, enr: pd.DataFrame) -> pd.DataFrame:
    """Each event of an enrolled pupil joined to that pupil's enrolments, labelled with the window it falls in.

    Baseline: from the first baseline school day up to the day before the start; intervention: from the start to
    the window's end, both included. Events outside both windows are dropped.
    """
    keys = enr[["student_id", "baseline_start", "started_on", "window_end"]].assign(enr_pos=np.arange(len(enr)))
    ev = events.assign(_date=_dates(events[date_col]))
    ev = ev[ev["_date"].notna() & ev["student_id"].isin(keys["student_id"])]
    m = ev.merge(keys, on="student_id", how="inner")
    base = m["baseline_start"].notna() & (m["_date"] >= m["baseline_start"]) & (m["_date"] < m["started_on"])
    during = (m["_date"] >= m["started_on"]) & (m["_date"] <= m["window_end"])
    m["window"] = np.where(base, "baseline", np.where(during, "intervention", ""))
    return m[m["window"] != ""]


def _window_means(m: pd.DataFrame, value: str, n: int) -> dict[str, np.ndarray]:
    vals = pd.to_numeric(m[value], errors="coerce").astype(float)
    means = vals.groupby([m["enr_pos"], m["window"]]).mean()
    out = {}
    for window in ("baseline", "intervention"):
        s = means.xs(window, level="window") if window in means.index.get_level_values("window") else pd.Series(
            dtype=float)
        out[window] = s.reindex(np.arange(n)).to_numpy(dtype=float)
    return out


def _weekly_rates(enr: pd.DataFrame, inc: pd.DataFrame, calendar: SchoolCalendar) -> pd.DataFrame:
    """Each enrolment's weekly incident rates per school day in each window: [enr_pos, window, week, days, rate].

    A week's rate is its incidents over its school days inside the window, so a short week (half term, an INSET
    day) is not mistaken for a good one. Sorted by enrolment, window and week (time order, as Tau-U needs).
    """
    n = len(enr)
    days = calendar.days
    if not n or not len(days):
        return pd.DataFrame(columns=["enr_pos", "window", "week", "days", "incidents", "rate"])
    week_of_day = (days - pd.to_timedelta(days.day_of_week, unit="D")).asi8
    parts = []
    for window, lo, hi in (("baseline", "b_lo", "s_idx"), ("intervention", "s_idx", "e_idx")):
        lengths = np.maximum(enr[hi].to_numpy() - enr[lo].to_numpy(), 0)
        total = int(lengths.sum())
        pos = np.repeat(enr[lo].to_numpy(), lengths) + (np.arange(total) - np.repeat(np.cumsum(lengths) - lengths,
                                                                                      lengths))
        parts.append(pd.DataFrame({"enr_pos": np.repeat(np.arange(n), lengths), "window": window,
                                   "week": week_of_day[pos]}))
    grid = pd.concat(parts, ignore_index=True)
    weeks = grid.groupby(["enr_pos", "window", "week"], sort=True).size().rename("days").to_frame()
    if len(inc):
        d = inc["_date"]
        inc_week = week_start(d).astype("int64")
        counts = inc.groupby([inc["enr_pos"], inc["window"], inc_week.rename("week")]).size().rename("incidents")
        weeks = weeks.join(counts, how="left")
    else:
        weeks["incidents"] = 0
    weeks["incidents"] = weeks["incidents"].fillna(0).astype(int)
    weeks["rate"] = weeks["incidents"].to_numpy() / weeks["days"].to_numpy()
    return weeks.reset_index()


def _weekly_effects(enr: pd.DataFrame, inc: pd.DataFrame, calendar: SchoolCalendar) -> tuple[np.ndarray, np.ndarray]:
    """NAP and Tau-U with improvement = fewer incidents, on weekly rates, for every enrolment at once.

    The same definitions as :func:`kwanalytics.metrics.effect_sizes.nap` and :func:`~kwanalytics.metrics.effect_sizes.tau_u`
    (Parker & Vannest 2009; Parker et al. 2011: (S_AB - S_AA) / (m n)), computed over all enrolments' pairs in one
    pass instead of one call per enrolment (the tests check that both agree). Only the estimates are needed here;
    the per-call confidence intervals would cost seconds for a large school.
    """
    n = len(enr)
    nap_out, tau_out = np.full(n, np.nan), np.full(n, np.nan)
    weeks = _weekly_rates(enr, inc, calendar)
    if weeks.empty:
        return nap_out, tau_out
    a = weeks[weeks["window"] == "baseline"][["enr_pos", "rate"]]
    b = weeks[weeks["window"] == "intervention"][["enr_pos", "rate"]]
    m_n = a.groupby("enr_pos").size() * b.groupby("enr_pos").size()
    m_n = m_n.dropna()
    if m_n.empty:
        return nap_out, tau_out
    a = a.assign(i=a.groupby("enr_pos").cumcount())
    pairs = a.merge(b, on="enr_pos", suffixes=("_a", "_b"))
    # Fewer incidents is better: a treatment week improves on a baseline week when its rate is lower.
    sign_ab = np.sign(pairs["rate_a"].to_numpy() - pairs["rate_b"].to_numpy())
    s_ab = pd.Series(sign_ab).groupby(pairs["enr_pos"].to_numpy()).sum()
    wins = pd.Series((sign_ab > 0) + 0.5 * (sign_ab == 0)).groupby(pairs["enr_pos"].to_numpy()).sum()
    # Baseline trend in the good direction (falling), over time-ordered pairs i < j: sign(a_i - a_j).
    aa = a.merge(a, on="enr_pos", suffixes=("_i", "_j"))
    aa = aa[aa["i_i"] < aa["i_j"]]
    s_aa = pd.Series(np.sign(aa["rate_i"].to_numpy() - aa["rate_j"].to_numpy())).groupby(
        aa["enr_pos"].to_numpy()).sum().reindex(m_n.index).fillna(0)
    idx = m_n.index.to_numpy(dtype=int)
    nap_out[idx] = (wins.reindex(m_n.index) / m_n).to_numpy(dtype=float)
    tau_out[idx] = ((s_ab.reindex(m_n.index) - s_aa) / m_n).to_numpy(dtype=float)
    return nap_out, tau_out


# --------------------------------------------------------------------------------------------------------------
# Public


def enrolment_impact(tables: dict, calendar: SchoolCalendar, settings: Settings, as_of=None,
                     data_start=None) -> pd.DataFrame:
    """One row per enrolment (started by ``as_of``): incidents, severity, GAS and engagement before and during.

    Columns: see ``ENROLMENT_COLUMNS``. Rates are incidents per school day; ``rate_ratio`` < 1 means fewer
    incidents during the intervention; its interval is the exact conditional Poisson interval of
    :func:`rate_ratio_ci`. ``nap`` (0.5 = no change, 1 = every intervention week better than every baseline week)
    and ``tau_u`` are oriented so that fewer incidents scores higher. ``baseline_gas``/``intervention_gas`` are the
    mean GAS ratings (-2..+2) of the pupil's targets rated in each window, ``*_engagement`` the mean engagement
    (1..5) of the pupil's sessions in each window, ``*_severity`` the mean severity (1..5) of the incidents.
    Verdict: "too little data" when either window has fewer than ``impact.min_school_days`` school days or the
    two windows hold fewer than ``impact.min_incidents`` incidents together; otherwise "clearly fewer incidents"
    when the interval's upper limit is below 1, "clearly more incidents" when its lower limit is above 1, and
    "no clear change" when the interval spans 1.

    ``data_start``: the first date the school's records cover (default: the earliest incident or session in
    ``tables``). Baselines never reach before it, because days before the records began would count as days
    without incidents. Pass it when ``tables`` holds one pupil's rows, so that the pupil's baseline matches the
    cohort's.
    """
    baseline_n, min_days, min_incidents = _impact_settings(settings)
    as_of = pd.Timestamp(as_of).normalize() if as_of is not None else default_as_of(tables)
    interventions = tables.get("interventions")
    if interventions is None or interventions.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in ENROLMENT_COLUMNS})
    enr = _windows(interventions, calendar, tables, baseline_n, as_of, data_start)
    n = len(enr)

    incidents = tables.get("incidents")
    if incidents is None:
        incidents = pd.DataFrame(columns=["student_id", "occurred_at", "severity"])
    inc = _assign(incidents[["student_id", "occurred_at"] + (["severity"] if "severity" in incidents else [])],
                  "occurred_at", enr)
    counts = inc.groupby(["enr_pos", "window"]).size().unstack("window").reindex(
        index=np.arange(n), columns=["baseline", "intervention"]).fillna(0).astype(int)
    out = enr[["enrolment_id", "student_id", "programme", "started_on", "ended_on", "baseline_start",
               "baseline_school_days", "intervention_school_days"]].copy()
    out["baseline_incidents"] = counts["baseline"].to_numpy()
    out["intervention_incidents"] = counts["intervention"].to_numpy()
    bd, idays = out["baseline_school_days"].to_numpy(), out["intervention_school_days"].to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        out["baseline_rate"] = np.where(bd > 0, out["baseline_incidents"] / np.where(bd > 0, bd, 1), np.nan)
        out["intervention_rate"] = np.where(idays > 0, out["intervention_incidents"] / np.where(idays > 0, idays, 1),
                                            np.nan)
    est, low, high = rate_ratio_ci(out["intervention_incidents"], idays, out["baseline_incidents"], bd)
    out["rate_ratio"], out["rate_ratio_ci_low"], out["rate_ratio_ci_high"] = est, low, high
    out["nap"], out["tau_u"] = _weekly_effects(enr, inc, calendar)

    if "severity" in inc:
        sev = _window_means(inc, "severity", n)
        out["baseline_severity"], out["intervention_severity"] = sev["baseline"], sev["intervention"]
    else:
        out["baseline_severity"] = out["intervention_severity"] = np.nan

    ratings = tables.get("target_ratings")
    if ratings is not None and len(ratings):
        ratings = ratings.copy()
        targets = tables.get("targets")
        if targets is not None and len(targets):
            owner = targets.drop_duplicates("target_id").set_index("target_id")["student_id"]
            from_target = ratings["target_id"].map(owner)
            ratings["student_id"] = (ratings["student_id"].fillna(from_target) if "student_id" in ratings
                                     else from_target)
        gas = _window_means(_assign(ratings.dropna(subset=["student_id"]), "rated_on", enr), "gas_score", n)
        out["baseline_gas"], out["intervention_gas"] = gas["baseline"], gas["intervention"]
    else:
        out["baseline_gas"] = out["intervention_gas"] = np.nan

    sessions = tables.get("sessions")
    if sessions is not None and len(sessions) and "engagement" in sessions:
        eng = _window_means(_assign(sessions[["student_id", "date", "engagement"]], "date", enr), "engagement", n)
        out["baseline_engagement"], out["intervention_engagement"] = eng["baseline"], eng["intervention"]
    else:
        out["baseline_engagement"] = out["intervention_engagement"] = np.nan

    out["verdict"] = verdict(bd, idays, out["baseline_incidents"] + out["intervention_incidents"], low, high,
                             min_days, min_incidents)
    for col in ("baseline_school_days", "intervention_school_days", "baseline_incidents", "intervention_incidents"):
        out[col] = out[col].astype("Int64")
    return out[ENROLMENT_COLUMNS].sort_values(["student_id", "started_on", "enrolment_id"]).reset_index(drop=True)


def programme_sessions(sessions: pd.DataFrame, interventions: pd.DataFrame, settings: Settings,
                       as_of=None) -> pd.DataFrame:
    """Sessions that deliver a programme: sessions of an enrolled pupil, inside the enrolment, whose activity is
    the programme (compared through the school's vocabularies, so "Travel training" sessions deliver "Travel
    Training"). Returns those sessions with the enrolment's ``programme`` and ``enrolment_id`` added.
    """
    if sessions is None or sessions.empty or interventions is None or interventions.empty:
        return pd.DataFrame(columns=[*(sessions.columns if sessions is not None else []), "programme",
                                     "enrolment_id"])
    vocab = settings.vocabularies
    programmes, activities = vocab.get("programmes"), vocab.get("activities")

    def canon_programme(text):
        if pd.isna(text):
            return None
        return (programmes.canonical(text) if programmes else None) or str(text).strip()

    def canon_activity(text):
        if pd.isna(text):
            return None
        return (activities.canonical(text) if activities else None) or str(text).strip()

    enr = interventions[["enrolment_id", "student_id", "programme", "started_on", "ended_on"]].copy()
    enr["started_on"], enr["ended_on"] = _dates(enr["started_on"]), _dates(enr["ended_on"])
    if as_of is not None:
        enr["ended_on"] = enr["ended_on"].where(enr["ended_on"].notna() & (enr["ended_on"] < pd.Timestamp(as_of)),
                                                pd.Timestamp(as_of).normalize())
    acts = sessions["activity"].dropna().unique() if "activity" in sessions else []
    # One lookup per distinct spelling, not per row: a school has a few dozen activities and programmes.
    act_as_programme = {a: canon_programme(a) for a in acts}
    act_canon = {a: canon_activity(a) for a in acts}
    prog_as_activity = {p: canon_activity(p) for p in enr["programme"].dropna().unique()}
    ses = sessions.assign(_date=_dates(sessions["date"]))
    m = ses.merge(enr.rename(columns={"enrolment_id": "_enrolment_id"}), on="student_id", how="inner")
    inside = (m["_date"] >= m["started_on"]) & (m["ended_on"].isna() | (m["_date"] <= m["ended_on"]))
    activity = m["activity"] if "activity" in m else pd.Series(np.nan, index=m.index)
    same = (activity.map(act_as_programme) == m["programme"]) | (
        activity.map(act_canon) == m["programme"].map(prog_as_activity))
    out = m[inside & same.fillna(False).astype(bool)]
    out = out.drop(columns=["_date", "started_on", "ended_on"]).rename(columns={"_enrolment_id": "enrolment_id"})
    # A session inside two overlapping enrolments of the same programme is one session, delivered once.
    return out.drop_duplicates(["session_id", "programme"]).reset_index(drop=True)


def programme_impact(enrolments: pd.DataFrame, tables: dict, settings: Settings, as_of=None) -> pd.DataFrame:
    """Per programme: pupils, median rate ratio, verdict counts, exit criteria met, sessions, hours and cost.

    ``enrolments`` is :func:`enrolment_impact`'s frame. ``median_rate_ratio`` is over the enrolments with enough
    data for a verdict (a "too little data" ratio would only add noise). ``exit_criteria_met`` counts current
    enrolments that meet the programme's exit criteria (settings.yaml ``programmes``; via
    :func:`kwanalytics.metrics.criteria.criteria_status`; NA for programmes with no criteria). Sessions, hours and
    ``cost_gbp`` are those of :func:`programme_sessions`; ``budget_gbp`` sums the budget rows with scope
    "programme" and this programme as scope_id. When no session records a cost, the budget stands in for the cost
    (a school that books a programme as one sum has no per-session cost). ``cost_per_pupil`` = cost / pupils,
    ``cost_per_hour`` = cost / session hours.
    """
    as_of = pd.Timestamp(as_of).normalize() if as_of is not None else default_as_of(tables)
    if enrolments is None or enrolments.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in PROGRAMME_COLUMNS})
    e = enrolments.copy()
    ratio = e["rate_ratio"].where(e["verdict"] != TOO_LITTLE)
    g = e.assign(_ratio=ratio).groupby("programme", sort=True)
    out = pd.DataFrame({
        "pupils": g["student_id"].nunique(),
        "median_rate_ratio": g["_ratio"].median(),
        "improved_clearly": g["verdict"].agg(lambda v: int((v == FEWER).sum())),
        "no_clear_change": g["verdict"].agg(lambda v: int((v == NO_CLEAR).sum())),
        "worse_clearly": g["verdict"].agg(lambda v: int((v == MORE).sum())),
        "too_little_data": g["verdict"].agg(lambda v: int((v == TOO_LITTLE).sum())),
    })
    met = _exit_criteria_met(tables, settings, as_of)
    out["exit_criteria_met"] = pd.Series(pd.NA, index=out.index, dtype="Int64")
    if met is not None:
        counts, judged = met
        # Programmes with criteria (in settings.yaml, or judged by criteria_status) get a count, 0 when nobody met
        # them; a programme without exit criteria stays empty rather than claiming that nobody met them.
        known = set((settings.config or {}).get("programmes") or {}) | judged
        configured = [p for p in out.index if p in known]
        out.loc[configured, "exit_criteria_met"] = counts.reindex(configured).fillna(0).astype(int).to_numpy()

    delivered = programme_sessions(tables.get("sessions"), tables.get("interventions"), settings, as_of)
    if len(delivered):
        dg = delivered.groupby("programme")
        out["sessions"] = dg.size().reindex(out.index).fillna(0).astype(int)
        minutes = (pd.to_numeric(delivered["duration_minutes"], errors="coerce").astype(float)
                   if "duration_minutes" in delivered else pd.Series(np.nan, index=delivered.index))
        out["session_hours"] = (minutes.groupby(delivered["programme"]).sum() / 60).reindex(out.index).fillna(0.0)
        cost = (pd.to_numeric(delivered["cost_gbp"], errors="coerce").astype(float)
                if "cost_gbp" in delivered else pd.Series(np.nan, index=delivered.index))
        out["cost_gbp"] = cost.groupby(delivered["programme"]).sum(min_count=1).reindex(out.index)
    else:
        out["sessions"], out["session_hours"], out["cost_gbp"] = 0, 0.0, np.nan

    budget = tables.get("budget")
    out["budget_gbp"] = np.nan
    if budget is not None and len(budget):
        scope = budget["scope"].map(lambda s: fold(s) if pd.notna(s) else "")
        rows = budget[scope == "programme"]
        progs = settings.vocabularies.get("programmes")
        key = rows["scope_id"].map(lambda s: (progs.canonical(s) if progs else None) or s if pd.notna(s) else s)
        amounts = pd.to_numeric(rows["amount_gbp"], errors="coerce").groupby(key).sum(min_count=1)
        out["budget_gbp"] = amounts.reindex(out.index).astype(float)
    out["cost_gbp"] = out["cost_gbp"].fillna(out["budget_gbp"])
    with np.errstate(divide="ignore", invalid="ignore"):
        out["cost_per_pupil"] = out["cost_gbp"] / out["pupils"]
        out["cost_per_hour"] = (out["cost_gbp"] / out["session_hours"]).where(out["session_hours"] > 0)
    out = out.reset_index()
    out["sessions"] = out["sessions"].astype("Int64")
    return out[PROGRAMME_COLUMNS]


def _exit_criteria_met(tables: dict, settings: Settings, as_of) -> tuple[pd.Series, set] | None:
    """Enrolled pupils meeting their programme's exit criteria, counted per programme, and the programmes judged;
    None when the criteria module is unavailable."""
    try:
        from kwanalytics.metrics.criteria import criteria_status
    except ImportError:  # the criteria module is optional for this table; the column is then left empty
        return None
    from kwanalytics.calendar import calendar_for

    status = criteria_status(tables.get("incidents"), tables.get("interventions"), calendar_for(tables, settings),
                             settings, as_of=as_of)
    if status is None or status.empty:
        return pd.Series(dtype="Int64"), set()
    met = status[status["enrolled"].fillna(False).astype(bool) & status["meets_exit"].fillna(False).astype(bool)]
    return met.groupby("programme").size(), set(status["programme"].dropna())
