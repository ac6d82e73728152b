"""Impact of interventions: incidents before and during each pupil's enrolment in a programme, and per programme.

docs/impact.md explains the statistics and publishes their calibration. For each enrolment two windows of school
days are compared (docs/design.md: "rates are per school day"):

- the **baseline**: up to ``impact.baseline_school_days`` (settings.yaml) school days just before the enrolment
  started, never before the records begin, the pupil's admission (students.admitted_on) or the end of an earlier
  enrolment of the same pupil (its days are not a programme-free baseline);
- the **intervention window**: from the start to the enrolment's end, or to ``as_of`` while it is still open
  (default ``as_of``: the latest incident or session date in the data), and never past the pupil's leaving day
  (students.left_on).

Another enrolment of the same pupil that still overlaps either window is named in the ``overlaps`` column.
Rates count school days only: an incident dated on a non-school day (a weekend trip, a holiday club) is left out of
both windows' counts, because its day is not in the denominator, and is counted in ``non_school_day_incidents``.

Per enrolment, the rate ratio (intervention rate / baseline rate) has a quasi-Poisson 95% interval from the weekly
counts (:func:`kwanalytics.metrics.effect_sizes.rate_ratios`), so week-to-week overdispersion widens it instead of
producing false "clear" verdicts. NAP and Tau-U come from :mod:`kwanalytics.metrics.effect_sizes` on weekly rates.
The **adjusted** rate ratio divides by the same ratio in a comparison group, pupils in no programme over the same
school days (a difference in differences of log rates), so a school-wide change (the calm after Christmas) is not
credited to the programme. It cannot rule out regression to the mean: pupils are often enrolled after a bad spell.
Per programme, the enrolments' log rate ratios are pooled by a random-effects meta-analysis
(:mod:`kwanalytics.metrics.pooling`), naive and adjusted.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from kwanalytics.calendar import SchoolCalendar
from kwanalytics.ingest.risk_assessments import as_days as _dates
from kwanalytics.metrics.effect_sizes import nap_tau_u_by_group, rate_ratio_ci, rate_ratios
from kwanalytics.metrics.pooling import METHOD as POOLING_METHOD
from kwanalytics.metrics.pooling import pool_log_ratios, pool_rate_ratios
from kwanalytics.metrics.sessions import budget_lines
from kwanalytics.settings import Settings

__all__ = ["enrolment_impact", "programme_impact", "pooled_programmes", "programme_sessions", "rate_ratio_ci",
           "records_start", "default_as_of", "comparison_group", "adjust_for_comparison", "pooled_pair", "verdict",
           "verdict_counts"]

TOO_LITTLE = "too little data"
FEWER = "clearly fewer incidents"
MORE = "clearly more incidents"
NO_CLEAR = "no clear change"
VERDICTS = (FEWER, NO_CLEAR, MORE, TOO_LITTLE)
#: The count column of each verdict, in the programme table and the cohort's breakdowns.
VERDICT_COUNTS = (("improved_clearly", FEWER), ("no_clear_change", NO_CLEAR), ("worse_clearly", MORE),
                  ("too_little_data", TOO_LITTLE))
CONFIDENCE = 0.95
INTERVAL_METHOD = "quasi-Poisson on weekly counts (exact conditional interval on counts / dispersion)"

ENROLMENT_COLUMNS = [
    "enrolment_id", "student_id", "programme", "started_on", "ended_on", "baseline_start", "baseline_school_days",
    "intervention_school_days", "baseline_incidents", "intervention_incidents", "baseline_rate",
    "intervention_rate", "rate_ratio", "rate_ratio_ci_low", "rate_ratio_ci_high", "nap", "tau_u",
    "baseline_severity", "intervention_severity", "baseline_gas", "intervention_gas", "baseline_engagement",
    "intervention_engagement", "verdict", "interval_method", "dispersion", "log_rate_ratio", "log_rate_ratio_se",
    "non_school_day_incidents", "overlaps", "comparison_pupils", "comparison_rate_ratio", "adjusted_rate_ratio",
    "adjusted_ci_low", "adjusted_ci_high", "adjusted_log_rate_ratio", "adjusted_log_rate_ratio_se",
    "comparison_log_rate_ratio_se", "adjusted_verdict",
]
PROGRAMME_COLUMNS = [
    "programme", "enrolments", "pupils", "rate_ratio", "rate_ratio_ci_low", "rate_ratio_ci_high",
    "adjusted_rate_ratio", "adjusted_ci_low", "adjusted_ci_high", "comparison_pupils", "heterogeneity_i2",
    "improved_clearly", "no_clear_change", "worse_clearly", "too_little_data", "exit_criteria_met", "sessions",
    "session_hours", "cost_gbp", "budget_gbp", "cost_per_pupil", "cost_per_hour", "incidents_avoided",
    "cost_per_incident_avoided", "heterogeneity_tau2", "adjusted_heterogeneity_i2",
]
POOLED_COLUMNS = PROGRAMME_COLUMNS[:11] + ["heterogeneity_tau2", "adjusted_heterogeneity_i2"]
REPORT_COLUMNS = [
    "enrolment_id", "student_id", "programme", "started_on", "baseline_school_days", "intervention_school_days",
    "baseline_incidents", "intervention_incidents", "rate_ratio", "rate_ratio_ci_low", "rate_ratio_ci_high", "nap",
    "tau_u", "verdict", "interval_method", "adjusted_rate_ratio", "adjusted_ci_low", "adjusted_ci_high",
    "adjusted_verdict", "overlaps", "non_school_day_incidents",
]


# --------------------------------------------------------------------------------------------------------------
# Verdict


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
    cfg = settings.school.impact
    return cfg.baseline_school_days, cfg.min_school_days, cfg.min_incidents


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
    """One row per enrolment started by ``as_of``, with both windows as school-day positions and dates.

    ``b_lo`` (first baseline day), ``s_idx`` (first intervention day) and ``e_idx`` (one past the last) index
    ``calendar.days``; ``overlaps`` names the pupil's other enrolments still overlapping either window.
    """
    enr = interventions.copy()
    enr["started_on"] = _dates(enr["started_on"])
    enr["ended_on"] = _dates(enr["ended_on"]) if "ended_on" in enr else pd.NaT
    enr = enr[enr["started_on"].notna() & (enr["started_on"] <= as_of)].reset_index(drop=True)
    days = calendar.days
    end = enr["ended_on"].where(enr["ended_on"].notna() & (enr["ended_on"] < as_of), as_of)
    # Nor are days after the pupil left: an open enrolment of a pupil who has left ends on the leaving day.
    left = _roll_date(tables.get("students"), enr["student_id"], "left_on")
    end = end.where(left.isna() | (left >= end), left)
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
    # Days before admission are not incident-free baseline days: the pupil was not there.
    admitted = _roll_date(tables.get("students"), enr["student_id"], "admitted_on")
    adm_lo = days.searchsorted(admitted.to_numpy(), "left")
    b_lo = np.where(admitted.notna().to_numpy(), np.maximum(b_lo, adm_lo), b_lo)
    enr["s_idx"], enr["e_idx"] = s_idx, e_idx
    # An earlier enrolment of the same pupil that has ended before this one starts: the baseline begins after it.
    pairs = _pairs(enr)
    earlier = pairs[pairs["e_idx_o"] <= pairs["s_idx_e"]]
    after_other = earlier.groupby("pos_e")["e_idx_o"].max().reindex(np.arange(len(enr))).to_numpy()
    b_lo = np.where(np.isnan(after_other), b_lo, np.maximum(b_lo, np.nan_to_num(after_other).astype(int)))
    b_lo = np.minimum(b_lo, s_idx)
    enr["b_lo"] = b_lo
    enr["baseline_school_days"] = np.maximum(s_idx - b_lo, 0)
    enr["intervention_school_days"] = np.maximum(e_idx - s_idx, 0)
    safe = np.minimum(b_lo, max(len(days) - 1, 0))
    enr["baseline_start"] = pd.Series(days[safe] if len(days) else pd.NaT, index=enr.index).where(
        enr["baseline_school_days"] > 0).astype("datetime64[us]")
    # What still overlaps: another enrolment whose days meet this one's baseline or intervention days.
    pairs = pairs.assign(b_lo_e=b_lo[pairs["pos_e"].to_numpy()])
    meet = pairs[(pairs["s_idx_o"] < pairs["e_idx_e"]) & (pairs["e_idx_o"] > pairs["b_lo_e"])]
    names = meet.groupby("pos_e")["enrolment_id_o"].agg(lambda ids: ", ".join(sorted(map(str, ids))))
    enr["overlaps"] = names.reindex(np.arange(len(enr))).fillna("").to_numpy()
    return enr


def _pairs(enr: pd.DataFrame) -> pd.DataFrame:
    """Every (enrolment, other enrolment of the same pupil) pair with both windows' positions."""
    cols = enr[["student_id", "enrolment_id", "s_idx", "e_idx"]].assign(pos=np.arange(len(enr)))
    m = cols.merge(cols, on="student_id", suffixes=("_e", "_o"))
    return m[m["pos_e"] != m["pos_o"]]


def _roll_date(students: pd.DataFrame | None, student_ids: pd.Series, column: str) -> pd.Series:
    """Each enrolment's pupil's ``admitted_on`` or ``left_on`` (NaT where the students table gives none)."""
    if students is None or students.empty or column not in students:
        return pd.Series(pd.NaT, index=student_ids.index, dtype="datetime64[us]")
    by_id = students.dropna(subset=["student_id"]).drop_duplicates("student_id").set_index("student_id")
    return _dates(student_ids.map(by_id[column]))


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
    return m[m["window"] != ""].reset_index(drop=True)


def _window_means(m: pd.DataFrame, value: str, n: int) -> dict[str, np.ndarray]:
    vals = pd.to_numeric(m[value], errors="coerce").astype(float)
    means = vals.groupby([m["enr_pos"], m["window"]]).mean()
    out = {}
    for window in ("baseline", "intervention"):
        s = means.xs(window, level="window") if window in means.index.get_level_values("window") else pd.Series(
            dtype=float)
        out[window] = s.reindex(np.arange(n)).to_numpy(dtype=float)
    return out


def _weekly_rates(enr: pd.DataFrame, inc: pd.DataFrame, calendar: SchoolCalendar,
                  comparison: "ComparisonDays | None" = None) -> pd.DataFrame:
    """Each enrolment's weeks in each window: [enr_pos, window, week, days, incidents, rate] (and, given a
    comparison group, ``comparison_days`` (pupil-days on roll) and ``comparison_incidents`` in the same days).

    A week's rate is its incidents over its school days inside the window, so a short week (half term, an INSET
    day) is not mistaken for a good one. Sorted by enrolment, window and week (time order, as Tau-U needs).
    ``inc`` holds school-day incidents already labelled by :func:`_assign`.
    """
    n = len(enr)
    days = calendar.days
    cols = ["enr_pos", "window", "week", "days", "incidents", "rate", "comparison_days", "comparison_incidents"]
    if not n or not len(days):
        return pd.DataFrame(columns=cols)
    week_of_day = (days - pd.to_timedelta(days.day_of_week, unit="D")).asi8
    parts = []
    for window, lo, hi in (("baseline", "b_lo", "s_idx"), ("intervention", "s_idx", "e_idx")):
        lengths = np.maximum(enr[hi].to_numpy() - enr[lo].to_numpy(), 0)
        total = int(lengths.sum())
        pos = np.repeat(enr[lo].to_numpy(), lengths) + (np.arange(total) - np.repeat(np.cumsum(lengths) - lengths,
                                                                                      lengths))
        parts.append(pd.DataFrame({"enr_pos": np.repeat(np.arange(n), lengths), "window": window,
                                   "week": week_of_day[pos], "pos": pos}))
    grid = pd.concat(parts, ignore_index=True)
    if comparison is not None:
        grid["comparison_days"] = comparison.pupils[grid["pos"].to_numpy()]
        grid["comparison_incidents"] = comparison.incidents[grid["pos"].to_numpy()]
    else:
        grid["comparison_days"] = grid["comparison_incidents"] = 0
    weeks = grid.groupby(["enr_pos", "window", "week"], sort=True).agg(
        days=("pos", "size"), comparison_days=("comparison_days", "sum"),
        comparison_incidents=("comparison_incidents", "sum"))
    if len(inc):
        pos = days.searchsorted(inc["_date"].to_numpy(), "left")
        counts = inc.groupby([inc["enr_pos"], inc["window"], pd.Series(week_of_day[pos], index=inc.index,
                                                                       name="week")]).size().rename("incidents")
        weeks = weeks.join(counts, how="left")
    else:
        weeks["incidents"] = 0
    weeks["incidents"] = weeks["incidents"].fillna(0).astype(int)
    weeks["rate"] = weeks["incidents"].to_numpy() / weeks["days"].to_numpy()
    return weeks.reset_index()[cols]


# --------------------------------------------------------------------------------------------------------------
# The comparison group


class ComparisonDays:
    """Pupils in no programme, day by day: how many were on roll and how many incidents they had.

    ``pupils[i]`` and ``incidents[i]`` belong to ``calendar.days[i]``; ``first``/``last`` (sorted) are each
    comparison pupil's first and one-past-last school-day position on roll, for counting who was there.
    """

    def __init__(self, pupils: np.ndarray, incidents: np.ndarray, first: np.ndarray, last: np.ndarray):
        self.pupils, self.incidents = pupils, incidents
        self.first, self.last = np.sort(first), np.sort(last)

    def on_roll_between(self, lo, hi) -> np.ndarray:
        """How many comparison pupils were on roll on some school day in positions [lo, hi)."""
        lo, hi = np.asarray(lo), np.asarray(hi)
        # Everyone, less those who arrived at or after hi, less those who left at or before lo.
        gone = np.searchsorted(self.last, lo, "right")
        later = len(self.first) - np.searchsorted(self.first, hi, "left")
        return np.where(hi > lo, len(self.first) - gone - later, 0)


def comparison_group(tables: dict, calendar: SchoolCalendar, as_of) -> ComparisonDays:
    """The comparison group: pupils with no enrolment in any programme, on roll day by day, and their incidents.

    On roll: from admission (students.admitted_on) to leaving (left_on); a pupil in the students table without
    those dates is taken as on roll for the whole calendar; a pupil known only from incidents or sessions from
    the first to the last day seen. Only school days up to ``as_of`` count; incidents on other days are left out,
    as for the enrolled pupils.
    """
    days = calendar.days
    n_days = int(days.searchsorted(pd.Timestamp(as_of), "right"))
    enrolled = set()
    interventions = tables.get("interventions")
    if interventions is not None and len(interventions):
        enrolled = set(interventions["student_id"].dropna())
    students = tables.get("students")
    incidents = tables.get("incidents")
    sessions = tables.get("sessions")
    spans = []
    if students is not None and len(students):
        st = students.dropna(subset=["student_id"]).drop_duplicates("student_id")
        adm = _dates(st["admitted_on"]) if "admitted_on" in st else pd.Series(pd.NaT, index=st.index)
        left = _dates(st["left_on"]) if "left_on" in st else pd.Series(pd.NaT, index=st.index)
        lo = np.where(adm.notna(), days.searchsorted(adm.fillna(days.min() if len(days) else pd.NaT), "left"), 0)
        hi = np.where(left.notna(), days.searchsorted(left.fillna(days.min() if len(days) else pd.NaT), "right"),
                      n_days)
        spans.append(pd.DataFrame({"student_id": st["student_id"].to_numpy(), "lo": lo, "hi": hi}))
    seen = []
    for frame, col in ((incidents, "occurred_at"), (sessions, "date")):
        if frame is not None and len(frame):
            seen.append(pd.DataFrame({"student_id": frame["student_id"], "day": _dates(frame[col])}).dropna())
    if seen:
        act = pd.concat(seen, ignore_index=True).groupby("student_id")["day"].agg(["min", "max"])
        listed = set(spans[0]["student_id"]) if spans else set()
        act = act[~act.index.isin(listed)]
        spans.append(pd.DataFrame({"student_id": act.index.to_numpy(),
                                   "lo": days.searchsorted(act["min"].to_numpy(), "left"),
                                   "hi": days.searchsorted(act["max"].to_numpy(), "right")}))
    roll = pd.concat(spans, ignore_index=True) if spans else pd.DataFrame(columns=["student_id", "lo", "hi"])
    roll = roll[~roll["student_id"].isin(enrolled)]
    lo = np.clip(roll["lo"].to_numpy(int), 0, n_days)
    hi = np.clip(roll["hi"].to_numpy(int), 0, n_days)
    keep = hi > lo
    lo, hi = lo[keep], hi[keep]
    pupils = np.zeros(len(days) + 1)
    np.add.at(pupils, lo, 1)
    np.add.at(pupils, hi, -1)
    pupils = np.cumsum(pupils)[: len(days)]
    counts = np.zeros(len(days))
    if incidents is not None and len(incidents):
        ids = set(roll["student_id"][keep])
        d = _dates(incidents.loc[incidents["student_id"].isin(ids), "occurred_at"]).dropna()
        d = d[d <= pd.Timestamp(as_of)]
        school = d.isin(days)
        np.add.at(counts, days.searchsorted(d[school].to_numpy(), "left"), 1)
    return ComparisonDays(pupils, counts, lo, hi)


# --------------------------------------------------------------------------------------------------------------
# Public


def enrolment_impact(tables: dict, calendar: SchoolCalendar, settings: Settings, as_of=None,
                     data_start=None) -> pd.DataFrame:
    """One row per enrolment (started by ``as_of``): incidents, severity, GAS and engagement before and during,
    the rate ratio with its quasi-Poisson interval, and the same adjusted for the comparison group.

    Columns: see ``ENROLMENT_COLUMNS``. Rates are incidents per school day; ``rate_ratio`` < 1 means fewer
    incidents during the intervention; its interval is that of :func:`kwanalytics.metrics.effect_sizes.rate_ratios`
    (``interval_method``; ``dispersion`` is the week-to-week overdispersion it allowed for, 1 = Poisson).
    ``nap`` (0.5 = no change, 1 = every intervention week better than every baseline week) and ``tau_u`` are
    oriented so that fewer incidents scores higher. ``baseline_gas``/``intervention_gas`` are the mean GAS
    ratings (-2..+2) of the pupil's targets rated in each window, ``*_engagement`` the mean engagement (1..5) of
    the pupil's sessions in each window, ``*_severity`` the mean severity (1..5) of the incidents.
    Verdict: "too little data" when either window has fewer than ``impact.min_school_days`` school days or the
    two windows hold fewer than ``impact.min_incidents`` incidents together; otherwise "clearly fewer incidents"
    when the interval's upper limit is below 1, "clearly more incidents" when its lower limit is above 1, and
    "no clear change" when the interval spans 1.

    ``comparison_rate_ratio`` is the same ratio over the same school days for pupils in no programme
    (:func:`comparison_group`, ``comparison_pupils`` of them on roll in the windows); ``adjusted_rate_ratio`` =
    rate_ratio / comparison_rate_ratio, its interval the enrolment's divided by the comparison ratio and widened by
    the comparison's own 95% margin; ``adjusted_verdict`` reads that interval. ``log_rate_ratio`` and
    ``*_se`` are what a programme pools (:func:`pooled_programmes`).

    ``data_start``: the first date the school's records cover (default: the earliest incident or session in
    ``tables``). Baselines never reach before it, because days before the records began would count as days
    without incidents. To report one pupil, compute on the whole school's tables and filter the rows: the
    comparison group needs the other pupils.
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
    labelled = _assign(incidents[["student_id", "occurred_at"] + (["severity"] if "severity" in incidents else [])],
                       "occurred_at", enr)
    school_day = labelled["_date"].isin(calendar.days).to_numpy()
    inc = labelled[school_day]
    counts = inc.groupby(["enr_pos", "window"]).size().unstack("window").reindex(
        index=np.arange(n), columns=["baseline", "intervention"]).fillna(0).astype(int)
    out = enr[["enrolment_id", "student_id", "programme", "started_on", "ended_on", "baseline_start",
               "baseline_school_days", "intervention_school_days", "overlaps"]].copy()
    out["non_school_day_incidents"] = labelled[~school_day].groupby("enr_pos").size().reindex(
        np.arange(n)).fillna(0).astype(int).to_numpy()
    out["baseline_incidents"] = counts["baseline"].to_numpy()
    out["intervention_incidents"] = counts["intervention"].to_numpy()
    bd, idays = out["baseline_school_days"].to_numpy(), out["intervention_school_days"].to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        out["baseline_rate"] = np.where(bd > 0, out["baseline_incidents"] / np.where(bd > 0, bd, 1), np.nan)
        out["intervention_rate"] = np.where(idays > 0, out["intervention_incidents"] / np.where(idays > 0, idays, 1),
                                            np.nan)

    comparison = comparison_group(tables, calendar, as_of)
    weeks = _weekly_rates(enr, inc, calendar, comparison)
    own = rate_ratios(weeks.rename(columns={"enr_pos": "group", "incidents": "events"}), CONFIDENCE).reindex(
        np.arange(n))
    out["rate_ratio"], out["rate_ratio_ci_low"], out["rate_ratio_ci_high"] = (
        own["rate_ratio"].to_numpy(float), own["ci_low"].to_numpy(float), own["ci_high"].to_numpy(float))
    out["dispersion"] = own["dispersion"].to_numpy(float)
    out["log_rate_ratio"], out["log_rate_ratio_se"] = own["log_rate_ratio"].to_numpy(float), own["se"].to_numpy(
        float)
    out["interval_method"] = np.where(own["rate_ratio"].notna(), INTERVAL_METHOD, "")
    effects = nap_tau_u_by_group(weeks.rename(columns={"enr_pos": "group", "rate": "value"})).reindex(np.arange(n))
    out["nap"], out["tau_u"] = effects["nap"].to_numpy(float), effects["tau_u"].to_numpy(float)

    # Difference in differences: the pupil's change over the comparison group's change over the same school days.
    comp_weeks = pd.DataFrame({"group": weeks["enr_pos"], "window": weeks["window"],
                               "days": weeks["comparison_days"], "events": weeks["comparison_incidents"]})
    comp = rate_ratios(comp_weeks, CONFIDENCE).reindex(np.arange(n))
    out["comparison_pupils"] = comparison.on_roll_between(enr["b_lo"].to_numpy(), enr["e_idx"].to_numpy())
    adjusted = adjust_for_comparison(own, comp)
    for col in adjusted:
        out[col] = adjusted[col].to_numpy(float)

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

    total = out["baseline_incidents"] + out["intervention_incidents"]
    out["verdict"] = verdict(bd, idays, total, out["rate_ratio_ci_low"], out["rate_ratio_ci_high"], min_days,
                             min_incidents)
    out["adjusted_verdict"] = verdict(bd, idays, total, out["adjusted_ci_low"], out["adjusted_ci_high"], min_days,
                                      min_incidents)
    for col in ("baseline_school_days", "intervention_school_days", "baseline_incidents", "intervention_incidents",
                "non_school_day_incidents", "comparison_pupils"):
        out[col] = out[col].astype("Int64")
    return out[ENROLMENT_COLUMNS].sort_values(["student_id", "started_on", "enrolment_id"]).reset_index(drop=True)


def adjust_for_comparison(own: pd.DataFrame, comparison: pd.DataFrame) -> pd.DataFrame:
    """Difference in differences of log rates: each enrolment's rate ratio over the comparison group's over the
    same school days. Both frames are :func:`kwanalytics.metrics.effect_sizes.rate_ratios` results, row for row.

    The interval is the enrolment's own divided by the comparison's ratio and widened by the comparison's 95%
    margin: on the log scale each side's margin becomes the root of the sum of the two margins' squares (a
    limit of 0 or infinity, from a window without incidents, is only divided by the comparison's ratio and its
    margin). The log
    ratio's standard error for pooling adds the two variances. A comparison ratio that is 0, infinite or missing
    (no comparison pupils or no incidents among them) leaves the adjusted figures missing.
    """
    comp_rr = comparison["rate_ratio"].to_numpy(float)
    comp_rr = np.where(np.isfinite(comp_rr) & (comp_rr > 0), comp_rr, np.nan)
    comp_se = comparison["se"].to_numpy(float)
    margin = float(stats.norm.isf((1 - CONFIDENCE) / 2)) * comp_se
    rr = own["rate_ratio"].to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        # The two margins on the log scale combine as the root of their squares; a limit of 0 or infinity stays.
        log_rr = np.log(rr)
        below = np.log(rr) - np.log(own["ci_low"].to_numpy(float))
        above = np.log(own["ci_high"].to_numpy(float)) - np.log(rr)
        low = np.where(np.isfinite(below) & np.isfinite(log_rr), np.exp(log_rr - np.sqrt(below**2 + margin**2)),
                       own["ci_low"].to_numpy(float) / np.exp(margin))
        high = np.where(np.isfinite(above) & np.isfinite(log_rr), np.exp(log_rr + np.sqrt(above**2 + margin**2)),
                        own["ci_high"].to_numpy(float) * np.exp(margin))
        return pd.DataFrame({
            "comparison_rate_ratio": comp_rr,
            "adjusted_rate_ratio": rr / comp_rr,
            "adjusted_ci_low": low / comp_rr,
            "adjusted_ci_high": high / comp_rr,
            "adjusted_log_rate_ratio": own["log_rate_ratio"].to_numpy(float) - np.log(comp_rr),
            "comparison_log_rate_ratio_se": comp_se,
            "adjusted_log_rate_ratio_se": np.sqrt(own["se"].to_numpy(float) ** 2 + comp_se ** 2)})


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


def pooled_pair(events_during, days_during, events_before, days_before, comparison_rate_ratio,
                comparison_se, pupils=None) -> tuple[dict, dict]:
    """The pooled log rate ratio of a set of enrolments, naive and adjusted for the comparison group
    (:func:`kwanalytics.metrics.pooling.pool_rate_ratios`). The adjusted pool takes each enrolment's comparison
    log ratio as an offset and adds the comparison's variance, averaged over the enrolments by their incidents
    (their windows overlap, so the comparison's errors are shared rather than averaging out). ``pupils``: each
    enrolment's pupil, so that one pupil's several enrolments are one pupil's evidence."""
    a = pd.to_numeric(pd.Series(events_during), errors="coerce").to_numpy(float)
    b = pd.to_numeric(pd.Series(events_before), errors="coerce").to_numpy(float)
    dt = pd.to_numeric(pd.Series(days_during), errors="coerce").to_numpy(float)
    db = pd.to_numeric(pd.Series(days_before), errors="coerce").to_numpy(float)
    comp = np.asarray(comparison_rate_ratio, dtype=float)
    comp_var = np.asarray(comparison_se, dtype=float) ** 2
    naive = pool_rate_ratios(a, dt, b, db, confidence=CONFIDENCE, pupils=pupils)
    with np.errstate(divide="ignore", invalid="ignore"):
        offset = np.log(comp)
    used = np.isfinite(offset) & np.isfinite(comp_var) & (a + b > 0)
    extra = float(np.average(comp_var[used], weights=(a + b)[used])) if used.any() else 0.0
    adjusted = pool_rate_ratios(np.where(used, a, np.nan), dt, np.where(used, b, np.nan), db, offset=offset,
                                extra_variance=extra, confidence=CONFIDENCE, pupils=pupils)
    return naive, adjusted


def pooled_programmes(enrolments: pd.DataFrame) -> pd.DataFrame:
    """Per programme: one pooled rate ratio with its 95% interval, naive and adjusted, from the enrolments.

    ``enrolments`` is :func:`enrolment_impact`'s frame. The estimate and interval are those of
    :func:`pooled_pair`: every enrolment with an incident in either window enters, those with few incidents
    weighing little; only enrolments with no incidents at all or no school days in a window carry no information.
    ``heterogeneity_i2`` (0..1) is the share of the spread between enrolments' log rate ratios beyond chance and
    ``heterogeneity_tau2`` its variance on the log scale (:func:`kwanalytics.metrics.pooling.pool_log_ratios`).
    ``comparison_pupils``: the most pupils in no programme that any one enrolment had on roll in its windows
    (:func:`programme_impact`, given the calendar, counts those on roll at some time between the programme's
    first baseline day and its last window day). Several enrolments of one pupil are one pupil's evidence in the
    interval (grouped by pupil). Columns: ``POOLED_COLUMNS``.
    """
    if enrolments is None or enrolments.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in POOLED_COLUMNS})
    rows = []
    for programme, g in enrolments.groupby("programme", sort=True):
        naive, adj = pooled_pair(g["intervention_incidents"], g["intervention_school_days"], g["baseline_incidents"],
                                 g["baseline_school_days"], g["comparison_rate_ratio"],
                                 g["comparison_log_rate_ratio_se"], pupils=g["student_id"].to_numpy())
        spread = pool_log_ratios(g["log_rate_ratio"], g["log_rate_ratio_se"], CONFIDENCE)
        spread_adj = pool_log_ratios(g["adjusted_log_rate_ratio"], g["adjusted_log_rate_ratio_se"], CONFIDENCE)
        rows.append({
            "programme": programme, "enrolments": len(g), "pupils": g["student_id"].nunique(),
            "rate_ratio": np.exp(naive["estimate"]), "rate_ratio_ci_low": np.exp(naive["ci_low"]),
            "rate_ratio_ci_high": np.exp(naive["ci_high"]), "adjusted_rate_ratio": np.exp(adj["estimate"]),
            "adjusted_ci_low": np.exp(adj["ci_low"]), "adjusted_ci_high": np.exp(adj["ci_high"]),
            "comparison_pupils": pd.to_numeric(g["comparison_pupils"], errors="coerce").max(),
            "heterogeneity_i2": spread["i2"], "heterogeneity_tau2": spread["tau2"],
            "adjusted_heterogeneity_i2": spread_adj["i2"]})
    out = pd.DataFrame(rows)
    out["enrolments"] = out["enrolments"].astype("Int64")
    out["pupils"] = out["pupils"].astype("Int64")
    out["comparison_pupils"] = pd.to_numeric(out["comparison_pupils"], errors="coerce").astype("Int64")
    return out[POOLED_COLUMNS]


def verdict_counts(groups) -> pd.DataFrame:
    """How many enrolments of each group (a groupby of enrolments) got each verdict: ``VERDICT_COUNTS``'s columns."""
    return pd.DataFrame({col: groups["verdict"].agg(lambda v, label=label: int((v == label).sum()))
                         for col, label in VERDICT_COUNTS})


def programme_impact(enrolments: pd.DataFrame, tables: dict, settings: Settings, as_of=None,
                     calendar: SchoolCalendar | None = None) -> pd.DataFrame:
    """Per programme: pooled rate ratio naive and adjusted (:func:`pooled_programmes`), verdict counts, exit
    criteria met, sessions, hours and cost. Columns: ``PROGRAMME_COLUMNS`` (the first eleven are the contract of
    ``kwa impact --by programme``).

    ``enrolments`` is :func:`enrolment_impact`'s frame. The verdict counts are of the enrolments' own (naive)
    verdicts, for reference: the pooled interval is the programme's answer. ``exit_criteria_met`` counts current
    enrolments that meet the programme's exit criteria (settings.yaml ``programmes``; via
    :func:`kwanalytics.metrics.criteria.criteria_status`; NA for programmes with no criteria). Sessions, hours and
    ``cost_gbp`` are those of :func:`programme_sessions`; ``budget_gbp`` sums the budget rows with scope
    "programme" and this programme as scope_id. When no session records a cost, the budget stands in for the cost
    (a school that books a programme as one sum has no per-session cost). ``cost_per_pupil`` = cost / pupils,
    ``cost_per_hour`` = cost / session hours. Only where the adjusted interval lies wholly below 1 are incidents
    avoided claimed: ``incidents_avoided`` = the intervention incidents x (1 / adjusted_rate_ratio - 1), the
    incidents the comparison-adjusted estimate says would otherwise have happened, and
    ``cost_per_incident_avoided`` = cost / that.
    """
    as_of = pd.Timestamp(as_of).normalize() if as_of is not None else default_as_of(tables)
    if enrolments is None or enrolments.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in PROGRAMME_COLUMNS})
    e = enrolments
    out = pooled_programmes(e).set_index("programme")
    if calendar is not None and "baseline_start" in e:
        comparison = comparison_group(tables, calendar, as_of)
        days = calendar.days
        first = _dates(e["baseline_start"].fillna(e["started_on"])).groupby(e["programme"]).min()
        ended = _dates(e["ended_on"])
        last = ended.where(ended.notna() & (ended < as_of), as_of).groupby(e["programme"]).max()
        lo = days.searchsorted(first.reindex(out.index).to_numpy(), "left")
        hi = days.searchsorted(last.reindex(out.index).to_numpy(), "right")
        out["comparison_pupils"] = pd.array(comparison.on_roll_between(lo, hi), dtype="Int64")
    counts = verdict_counts(e.groupby("programme", sort=True))
    for col, _ in VERDICT_COUNTS:
        out[col] = counts[col].reindex(out.index)
    met = _exit_criteria_met(tables, settings, as_of)
    out["exit_criteria_met"] = pd.Series(pd.NA, index=out.index, dtype="Int64")
    if met is not None:
        counts, judged = met
        # Programmes with criteria (in settings.yaml, or judged by criteria_status) get a count, 0 when nobody met
        # them; a programme without exit criteria stays empty rather than claiming that nobody met them.
        known = set(settings.school.programmes) | judged
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
        lines = budget_lines(budget, settings)
        rows = lines[lines["scope"] == "programme"]
        amounts = rows["amount_gbp"].groupby(rows["scope_id"]).sum(min_count=1)
        out["budget_gbp"] = amounts.reindex(out.index).astype(float)
    out["cost_gbp"] = out["cost_gbp"].fillna(out["budget_gbp"])
    during = pd.to_numeric(e["intervention_incidents"], errors="coerce").groupby(e["programme"]).sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        out["cost_per_pupil"] = out["cost_gbp"] / out["pupils"].astype(float)
        out["cost_per_hour"] = (out["cost_gbp"] / out["session_hours"]).where(out["session_hours"] > 0)
        avoided = during.reindex(out.index).astype(float) * (1 / out["adjusted_rate_ratio"] - 1)
        out["incidents_avoided"] = avoided.where(out["adjusted_ci_high"] < 1)
        out["cost_per_incident_avoided"] = (out["cost_gbp"] / out["incidents_avoided"]).where(
            out["incidents_avoided"] > 0)
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
