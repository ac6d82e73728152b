"""Repeated patterns of behaviour: a watchlist the BEST co-ordinator can trust (docs/patterns.md).

Every row is a reason to act, so a flag must mean what it says. Each pupil x pattern kind is one test with a
valid p-value, counted on the pupil's own school days on roll (metrics/roll.py), and the school's whole list is
held to a false discovery rate (Benjamini-Hochberg over every pupil x pattern test; ``patterns.false_discovery_rate``
in schemas/settings.yaml). The kinds:

- cluster: the pupil's busiest run of school days, against chance given their total over their own time on roll
  (a scan statistic, metrics/scan.py);
- time: a weekday, a period, or a weekday x period holding more of the pupil's incidents than their school time
  would give;
- place, behaviour: one location or one behaviour over-represented against the other pupils' mix;
- trigger: one antecedent, or a group of antecedents that tell one story (vocabularies.yaml ``antecedent_groups``),
  over-represented against the other pupils' mix, over all the pupil's incidents or one behaviour of theirs;
- escalation: more incidents in the recent school weeks than the pupil's own rate gives, or weekly rates or
  severities rising in order (Mann-Kendall, one-sided), and, separately, a safeguarding rule (not a statistical
  test): first physical incidents after low-level ones.

The within-pupil tests take the smallest p over the cells a kind could have flagged, times the number of those cells
(Bonferroni), so each pupil x kind is one valid p-value for the school-wide step.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd
from scipy import stats

from kwanalytics.calendar import SchoolCalendar, week_start
from kwanalytics.ingest.parsing import map_distinct
from kwanalytics.metrics.criteria import criteria_status
from kwanalytics.metrics.roll import time_on_roll
from kwanalytics.metrics.scan import densest_windows, scan_p_value
from kwanalytics.metrics.trends import theil_sen_slope
from kwanalytics.settings import fold

COLUMNS = ["student_id", "pattern", "evidence", "first_seen", "last_seen", "incidents", "next_step", "p_value",
           "q_value", "status"]
#: The pattern kinds, in the order a pupil's rows are listed (the most urgent first).
KINDS = ("escalation", "cluster", "trigger", "behaviour", "time", "place")
#: The next step each kind of pattern suggests, "{what}" being the pattern's own dates, time, place, behaviour or
#: antecedent (also named in its evidence); the patterns report states each once (evidence/patterns.py).
NEXT_STEPS = {
    "escalation": "Review the behaviour support plan and risk assessment now; meet home; consider a referral (EP, "
                  "CAMHS) if it continues.",
    "cluster": "Talk with the pupil and home about what was happening around {what}; review the support plan.",
    "trigger": "Plan for {what} ahead of time (pre-warning, a visual timetable, a named adult) and record ABC notes "
               "to check whether it helps.",
    "behaviour": "Find out what {what} does for the pupil (ABC notes, a functional assessment) and plan a "
                 "replacement behaviour with them.",
    "time": "Look at what happens {what} (lesson, staffing, transitions) and plan support for that slot.",
    "place": "Review supervision and the environment in {what}; agree a plan for the pupil there.",
}
#: What a pupil's programmes add to each of their next steps (entry and exit criteria of settings.yaml).
PROGRAMME_NOTES = ("Meets entry criteria for ", "Already enrolled in ", "Meets exit criteria for ")
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
# Pseudo-incidents spread by period length that smooth the school-wide base rate of each period.
PRIOR_WEIGHT = 20
SAFEGUARDING = "a safeguarding rule, not a statistical test"


def _d(ts) -> str:
    return pd.Timestamp(ts).strftime("%d/%m/%Y")


def _p(p: float) -> str:
    return f"{p:.2g}" if p >= 0.001 else f"{p:.1e}"


def _span(sub: pd.DataFrame, first: str = "first") -> str:
    """When the incidents behind a pattern began and ended, as every pattern's evidence says it."""
    return f"{first} {_d(sub['occurred_at'].min())}, last {_d(sub['occurred_at'].max())}"


# The incident columns any pattern looks at: each pupil's rows are picked out thousands of times at a trust's
# size, so the narrative, actions and flags are left behind rather than copied along each time.
USED = ["incident_id", "student_id", "occurred_at", "period", "lesson", "location", "category", "severity",
        "antecedent", "staff"]


def _prepare(incidents: pd.DataFrame, as_of) -> tuple[pd.DataFrame, pd.Timestamp]:
    inc = incidents[[c for c in incidents.columns if c in USED]].copy()
    # Python strings, not Arrow: the patterns pick out a few rows at a time thousands of times, and each pick
    # of an Arrow column costs a call into Arrow; NumPy's take of object arrays is several times cheaper.
    for col in inc.columns:
        if inc[col].dtype == "str":
            inc[col] = inc[col].astype(object)
    inc["occurred_at"] = pd.to_datetime(inc["occurred_at"])
    inc = inc.dropna(subset=["occurred_at", "student_id"])
    as_of = pd.Timestamp(as_of) if as_of is not None else (inc["occurred_at"].max() if len(inc) else pd.Timestamp.today())
    as_of_end = as_of.normalize() + pd.Timedelta(days=1)
    inc = inc[inc["occurred_at"] < as_of_end].sort_values(["student_id", "occurred_at"], kind="stable")
    inc["day"] = inc["occurred_at"].dt.normalize()
    return inc.reset_index(drop=True), as_of.normalize()


def own_school_days(inc: pd.DataFrame, students: pd.DataFrame | None, sessions: pd.DataFrame | None,
                    calendar: SchoolCalendar, as_of: pd.Timestamp) -> pd.DataFrame:
    """Per pupil with incidents: ``lo`` and ``hi`` (calendar ordinals, ``hi`` excluded) and ``days`` on roll up to
    ``as_of``: from admission (else first appearance) to leaving (else last appearance), widened to cover every
    incident the pupil has (a record before an admission date still happened)."""
    pupils = pd.Index(inc["student_id"].unique())
    if sessions is not None and len(sessions):
        sessions = sessions.loc[pd.to_datetime(sessions["date"]) <= as_of]
    roll = time_on_roll(students, inc, sessions, calendar).set_index("student_id").reindex(pupils)
    seen = inc.groupby("student_id")["day"].agg(["min", "max"]).reindex(pupils)
    first = roll["first_day"].where(roll["first_day"] <= seen["min"], seen["min"])
    last = roll["last_day"].where(roll["last_day"] >= seen["max"], seen["max"])
    last = last.where(last <= as_of, as_of)
    lo = calendar.days.searchsorted(pd.DatetimeIndex(first), "left")
    hi = calendar.days.searchsorted(pd.DatetimeIndex(last), "right")
    return pd.DataFrame({"lo": lo, "hi": np.maximum(hi, lo), "days": np.maximum(hi - lo, 0)}, index=pupils)


def _row(sid, kind, evidence, sub: pd.DataFrame, p=np.nan, next_step="") -> dict:
    return {"student_id": sid, "pattern": kind, "evidence": evidence, "first_seen": sub["occurred_at"].min(),
            "last_seen": sub["occurred_at"].max(), "incidents": int(len(sub)), "next_step": next_step,
            "p_value": float(p)}


def _by_pupil(frame: pd.DataFrame):
    """``rows(sid)``: the pupil's rows of ``frame``, looked up in an index built once. Picking them with
    ``frame[frame["student_id"] == sid]`` for each flagged pupil scans every row each time, which grows with
    pupils times incidents: at a trust's size that was most of the watchlist's time."""
    where = frame.groupby("student_id", sort=False).indices
    empty = np.array([], dtype=np.int64)
    return lambda sid: frame.iloc[where.get(sid, empty)]


def _each_flagged(frame: pd.DataFrame, best: pd.DataFrame, row):
    """A Test's ``describe(sid, p_i)``: ``row(sid, r, pupil, p_i)`` with the pupil's best cell ``r`` (a row of
    ``best``) and their own rows of ``frame``."""
    pupil_rows, records = _by_pupil(frame), best.to_dict("index")
    return lambda sid, p_i: row(sid, records[sid], pupil_rows(sid), p_i)


def _crosstab(index: pd.Series, columns: pd.Series) -> pd.DataFrame:
    """``pd.crosstab(index, columns)`` (rows with either missing are left out), counted by a groupby: crosstab
    counts Arrow-backed text group by group in Python, seconds at a trust's size."""
    both = pd.concat({"index": index, "columns": columns}, axis=1)
    table = both.groupby(["index", "columns"]).size().unstack("columns", fill_value=0)
    table.index.name, table.columns.name = index.name, columns.name
    return table


def _mix(values: pd.Series, top: int = 3) -> str:
    # Counter rather than value_counts: called for each flagged pupil, on a handful of values (same order:
    # most common first, ties as first seen)
    counts = Counter(v for v in values.tolist() if isinstance(v, str))
    if not counts:
        return "no category recorded"
    parts = [f"{k.lower()} x{v}" if v > 1 else k.lower() for k, v in counts.most_common(top)]
    return ", ".join(parts) + (" and others" if len(counts) > top else "")


class Test:
    """One pattern kind's tests: a p-value for every pupil it could judge, the smallest p-value each test could
    have given with the pupil's number of incidents (``p_min``), and the evidence row for a flagged one."""

    def __init__(self, kind: str, p_values: pd.Series, describe, p_min: pd.Series | None = None):
        self.kind, self.p_values, self.describe = kind, p_values, describe
        self.p_min = p_min if p_min is not None else pd.Series(0.0, index=p_values.index)


def false_discovery(p: np.ndarray, p_min: np.ndarray, rate: float) -> np.ndarray:
    """Benjamini-Hochberg q-values over the tests that could reach ``rate`` at all (NaN for the others).

    A pupil with three incidents can never give a cluster test a p below ``rate``, whatever the three are; counting
    such tests would only make every other flag harder to earn. ``p_min``, the smallest p a test could give,
    depends only on what each test conditions on (the pupil's totals), not on the outcome, so leaving those tests
    out keeps the false discovery rate (the simplest form of Tarone's device for discrete tests).
    """
    p, p_min = np.asarray(p, dtype=float), np.asarray(p_min, dtype=float)
    q = np.full(len(p), np.nan)
    keep = p_min <= rate
    if keep.any():
        q[keep] = stats.false_discovery_control(p[keep])
    return q


# ---------------------------------------------------------------------------------------------------- clusters
def clusters(inc: pd.DataFrame, own: pd.DataFrame, calendar: SchoolCalendar, settings) -> Test:
    """The pupil's busiest ``within_school_days`` school days, against chance given their own total.

    A pupil with many incidents all year has "3 within 10 school days" every few weeks; that is their rate, not a
    cluster. The test conditions on the pupil's total over their own school days on roll and asks how often chance
    would put as many into some run of that length anywhere in that time (metrics/scan.py): the window is chosen
    after looking at the data, and the scan statistic pays for that choice. Counted in school days, so a
    half-term inside a run does not stretch it.
    """
    cfg = settings.school.patterns.clusters
    n_min, k = cfg.incidents, cfg.within_school_days
    empty = Test("cluster", pd.Series(dtype=float), None)
    if len(inc) < n_min or not len(calendar):
        return empty
    lo = own["lo"].reindex(inc["student_id"]).to_numpy()
    hi = own["hi"].reindex(inc["student_id"]).to_numpy()
    pos = np.clip(calendar.ordinal(inc["day"]).astype(np.int64), lo, np.maximum(hi - 1, lo))
    codes, _ = pd.factorize(inc["student_id"])
    dense = densest_windows(pos, codes, k)
    inc = inc.assign(pos=pos, dense=dense)
    total = inc.groupby("student_id").size()
    # the busiest window per pupil; the latest when tied, as it matters most now
    best = inc.iloc[::-1].sort_values("dense", ascending=False, kind="stable").drop_duplicates("student_id")
    best = best.set_index("student_id")
    eligible = total.index[(total >= n_min) & (own["days"].reindex(total.index) > k)]
    if not len(eligible):
        return empty
    best = best.loc[eligible]
    n, days, s = total.loc[eligible].to_numpy(), own.loc[eligible, "days"].to_numpy(), best["dense"].to_numpy()
    p = np.where(s >= n_min, scan_p_value(s, n, days, k), 1.0)
    p_values = pd.Series(p, index=eligible)
    p_min = pd.Series(scan_p_value(n, n, days, k), index=eligible)  # every incident in one run

    def describe(sid, r, pupil, p_i) -> dict:
        sub = pupil[(pupil["pos"] >= r["pos"]) & (pupil["pos"] < r["pos"] + k)]
        first, last = sub["occurred_at"].min(), sub["occurred_at"].max()
        run = int(sub["pos"].max() - sub["pos"].min()) + 1
        n_i, d_i = int(total[sid]), int(own.loc[sid, "days"])
        return _row(sid, "cluster",
                    f"{len(sub)} incidents within {run} school days ({_d(first)} to {_d(last)}): "
                    f"{_mix(sub['category'])}. At the pupil's own rate ({n_i} incidents over {d_i} school days on "
                    f"roll, {n_i * k / d_i:.1f} in {k} school days), chance would put {len(sub)} or more into some "
                    f"{k} school days with probability p = {_p(p_i)} (scan statistic).", sub, p_i,
                    next_step=NEXT_STEPS["cluster"].format(what=f"{_d(first)}-{_d(last)}"))

    return Test("cluster", p_values, _each_flagged(inc, best, describe), p_min)


# ------------------------------------------------------------------------------ time, place, behaviour, trigger
def _best_cells(counts: pd.DataFrame, expected, totals: pd.Series, min_count: int, cells: int) -> pd.DataFrame:
    """Per pupil (rows of ``counts``), the cell whose count is least likely under ``expected`` (a share per value,
    or a frame of shares per pupil), with its one-sided binomial p and the pupil's p over the kind: the smallest
    cell p times ``cells``, the number of cells the kind could have flagged (Bonferroni). Cells below
    ``min_count`` incidents are never flagged (p = 1)."""
    c = counts.stack().rename("k").reset_index()
    c.columns = ["student_id", "value", "k"]
    c["n"] = totals.reindex(c["student_id"]).to_numpy()
    if isinstance(expected, pd.DataFrame):
        share = expected.stack().reindex(pd.MultiIndex.from_frame(c[["student_id", "value"]])).to_numpy()
    else:
        share = expected.reindex(c["value"]).to_numpy()
    c["share"] = np.clip(np.asarray(share, dtype=float), 1e-9, 1)
    c["p_cell"] = np.where(c["k"] >= min_count, stats.binom.sf(c["k"] - 1, c["n"], c["share"]), 1.0)
    # the smallest p the pupil's n incidents could give: all of them in the rarest cell
    rarest = c.groupby("student_id")["share"].min()
    c = c.sort_values(["p_cell", "k"], ascending=[True, False], kind="stable").drop_duplicates("student_id")
    c["p_value"] = np.minimum(1.0, c["p_cell"] * max(cells, 1))
    c = c.set_index("student_id")
    c["p_min"] = np.minimum(1.0, rarest.reindex(c.index).to_numpy() ** c["n"].to_numpy() * max(cells, 1))
    return c


def _others_mix(counts: pd.DataFrame) -> pd.DataFrame:
    """Per pupil (rows of ``counts``, a pupil x value crosstab of the whole school), the mix of the values over
    everyone else's incidents, with one pseudo-incident for each value (a value nobody else had is not impossible).
    Everyone else's, because a pupil's own incidents would pull the school's mix towards their own pattern."""
    others = counts.sum(axis=0).to_numpy()[None, :] - counts.to_numpy()
    shares = (others + 1) / (others.sum(axis=1, keepdims=True) + counts.shape[1])
    return pd.DataFrame(shares, index=counts.index, columns=counts.columns)


def _period_length_share(settings) -> pd.Series:
    """Each period's share of the school day's minutes: where chance alone would put incidents."""
    periods = settings.periods
    return pd.Series(periods["minutes"].to_numpy() / periods["minutes"].sum(), index=periods["name"])


def _period_shares(inc: pd.DataFrame, settings) -> pd.Series:
    """Expected share of incidents per period: the school-wide spread, smoothed towards period length."""
    periods = settings.periods
    if periods.empty:
        return inc["period"].value_counts(normalize=True)
    length = _period_length_share(settings)
    observed = inc["period"].value_counts().reindex(length.index.union(inc["period"].dropna().unique()),
                                                    fill_value=0)
    prior = length.reindex(observed.index).fillna(length.min())
    return (observed + PRIOR_WEIGHT * prior) / (observed.sum() + PRIOR_WEIGHT * prior.sum())


def _weekday_shares(own: pd.DataFrame, calendar: SchoolCalendar) -> pd.DataFrame:
    """Per pupil, each weekday's share of their own school days on roll."""
    wd = calendar.days.day_of_week.to_numpy()
    onehot = np.zeros((len(wd) + 1, 7))
    onehot[1:] = np.eye(7)[wd]
    cum = onehot.cumsum(axis=0)
    counts = cum[own["hi"].to_numpy()] - cum[own["lo"].to_numpy()]
    counts = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    return pd.DataFrame(counts, index=own.index, columns=WEEKDAYS)


def _eligible(inc: pd.DataFrame, min_count: int, column: str | None = None) -> tuple[pd.DataFrame, pd.Series]:
    rows = inc if column is None else inc.dropna(subset=[column])
    totals = rows.groupby("student_id").size()
    totals = totals[totals >= min_count]
    return rows[rows["student_id"].isin(totals.index)], totals


def time_of_day(inc: pd.DataFrame, own: pd.DataFrame, calendar: SchoolCalendar, settings) -> Test:
    """A weekday, a period or a weekday x period slot holding more of the pupil's incidents than their school time
    gives: weekdays by the pupil's own school days on roll, periods by the school-wide spread (smoothed towards each
    period's length). The most specific, most significant cell speaks for the pupil."""
    min_count = settings.school.patterns.concentration.min_incidents
    inc, totals = _eligible(inc, min_count)
    if inc.empty:
        return Test("time", pd.Series(dtype=float), None)
    inc = inc.assign(weekday=inc["occurred_at"].dt.day_name())
    wd_share = _weekday_shares(own.loc[totals.index], calendar)
    per_share = _period_shares(inc, settings)
    # weekdays only: the calendar has no weekend school time to set a weekend incident against (a residential
    # weekend or a trip is not a pattern of the school week)
    school_week = inc["weekday"].isin(WEEKDAYS[:5])
    has_period = inc["period"].notna() & school_week
    slot = inc.loc[has_period, "weekday"] + " " + inc.loc[has_period, "period"]
    slot_exp = pd.DataFrame({f"{w} {p}": wd_share[w] * s for w in WEEKDAYS[:5] for p, s in per_share.items()})
    cells = 5 + len(per_share) + 5 * len(per_share)
    found = []
    for label, values, expected in (("slot", slot, slot_exp), ("weekday", inc.loc[school_week, "weekday"], wd_share),
                                    ("period", inc["period"], per_share)):
        counts = _crosstab(inc.loc[values.index, "student_id"], values)
        found.append(_best_cells(counts, expected, totals, min_count, cells).assign(label=label))
    found = pd.concat(found).reset_index()
    p_min = found.groupby("student_id")["p_min"].min()
    best = found.sort_values(["p_cell"], kind="stable").drop_duplicates("student_id").set_index("student_id")

    def describe(sid, r, pupil, p_i) -> dict:
        if r["label"] == "weekday":
            sub, what = pupil[pupil["weekday"] == r["value"]], f"on {r['value']}s"
        elif r["label"] == "period":
            sub, what = pupil[pupil["period"] == r["value"]], f"in {r['value']}"
        else:
            sub = pupil[(pupil["weekday"] + " " + pupil["period"]) == r["value"]]
            w, p = r["value"].split(" ", 1)
            what = f"on {w}s in {p}"
        said = (f"{r['k']} of {r['n']} incidents ({r['k'] / r['n']:.0%}) were {what}, against {r['share']:.0%} "
                f"expected from their school time; {_span(sub)} (binomial p = {_p(p_i)}, over the {cells} weekdays, "
                f"periods and slots).")
        return _row(sid, "time", said, sub, p_i, NEXT_STEPS["time"].format(what=what))

    return Test("time", best["p_value"], _each_flagged(inc, best, describe), p_min.reindex(best.index))


def _against_school_mix(kind: str, column: str, inc: pd.DataFrame, settings, text, step) -> Test:
    """One value of ``column`` over-represented in a pupil's incidents against the school's mix of it."""
    min_count = settings.school.patterns.concentration.min_incidents
    everyone = _crosstab(inc["student_id"], inc[column])  # the whole school's mix, before the pupils are picked
    inc, totals = _eligible(inc, min_count, column)
    if inc.empty:
        return Test(kind, pd.Series(dtype=float), None)
    counts = everyone.loc[totals.index]
    mix = _others_mix(everyone).loc[totals.index]
    best = _best_cells(counts, mix, totals, min_count, everyone.shape[1])

    def describe(sid, r, pupil, p_i) -> dict:
        sub = pupil[pupil[column] == r["value"]]
        return _row(sid, kind, text(r, sub) + f" (binomial p = {_p(p_i)}, over the school's {everyone.shape[1]} "
                    f"{column.replace('category', 'behaviour')}s).", sub, p_i, step(r))

    return Test(kind, best["p_value"], _each_flagged(inc, best, describe), best["p_min"])


def place(inc: pd.DataFrame, settings) -> Test:
    """One location over-represented against the school-wide share of incidents there (so a busy place like the
    classroom is not flagged for being busy)."""
    return _against_school_mix(
        "place", "location", inc, settings,
        lambda r, sub: (f"{r['k']} of {r['n']} incidents ({r['k'] / r['n']:.0%}) happened in {r['value']} (other pupils: "
                        f"{r['share']:.0%}); {_span(sub)}; {_mix(sub['category'])}"),
        lambda r: NEXT_STEPS["place"].format(what=r["value"]))


def behaviour(inc: pd.DataFrame, settings) -> Test:
    """One behaviour repeated: a category over-represented in the pupil's incidents against the school's mix."""
    return _against_school_mix(
        "behaviour", "category", inc, settings,
        lambda r, sub: (f"{r['k']} of {r['n']} incidents were {r['value'].lower()} (other pupils: {r['share']:.0%}); "
                        f"{_span(sub)}"),
        lambda r: NEXT_STEPS["behaviour"].format(what=r["value"].lower()))


def antecedent_groups(settings) -> dict[str, list[str]]:
    """The antecedent groups of vocabularies.yaml (``antecedent_groups``): name -> antecedents, as written."""
    return {str(k): [str(v) for v in (vals or [])] for k, vals in (getattr(settings, "antecedent_groups", None)
                                                                   or {}).items()}


def triggers(inc: pd.DataFrame, settings) -> Test:
    """An antecedent, or a group of antecedents that tell one story, coming before the pupil's incidents (or one
    behaviour of theirs) more often than the school's mix of antecedents gives.

    Cells: each antecedent and group (a unit) against all the pupil's incidents with an antecedent recorded, and
    against their incidents of each behaviour they have at least ``min_incidents`` of; a cell's count is binomial
    with the unit's school-wide share. The pupil's behaviours are what the test conditions on (chance is about
    which antecedent came first), so choosing the behaviours by their counts keeps the p-value valid.
    """
    min_count = settings.school.patterns.trigger.min_incidents
    none = Test("trigger", pd.Series(dtype=float), None)
    abc = inc.dropna(subset=["antecedent"])
    if abc.empty:
        return none
    folded = map_distinct(abc["antecedent"], fold)
    units = {a: {fold(a)} for a in abc["antecedent"].unique()}
    groups = antecedent_groups(settings)
    for name, members in groups.items():
        units[name] = {fold(m) for m in members}
    every = abc.assign(_folded=folded)
    own_total = every.groupby("student_id").size()
    own_hits = pd.DataFrame({u: every["_folded"].isin(m).groupby(every["student_id"]).sum()
                             for u, m in units.items()})
    # each unit's share of everyone else's incidents (see _others_mix), one pseudo-incident per unit
    shares = ((own_hits.sum(axis=0) - own_hits + 1).div(len(every) - own_total + len(units), axis=0))
    abc, totals = _eligible(every, min_count)
    if abc.empty:
        return none
    behaviours = abc.groupby(["student_id", "category"]).size()
    behaviours = behaviours[behaviours >= min_count]
    cells_per_pupil = len(units) * (1 + behaviours.groupby(level="student_id").size().reindex(totals.index,
                                                                                             fill_value=0))
    parts = []
    for unit, members in units.items():
        hit = abc.assign(k=abc["_folded"].isin(members).astype(int))
        anyb = hit.groupby("student_id")["k"].sum().rename("k").reset_index()
        anyb["n"], anyb["behaviour"] = totals.reindex(anyb["student_id"]).to_numpy(), None
        pair = hit.groupby(["student_id", "category"])["k"].agg(["sum", "size"]).loc[behaviours.index].reset_index()
        pair = pair.rename(columns={"sum": "k", "size": "n", "category": "behaviour"})
        parts += [anyb.assign(unit=unit), pair.assign(unit=unit)]
    c = pd.concat(parts, ignore_index=True)
    c["share"] = shares.stack().reindex(pd.MultiIndex.from_frame(c[["student_id", "unit"]])).to_numpy()
    c["p_cell"] = np.where(c["k"] >= min_count, stats.binom.sf(c["k"] - 1, c["n"], c["share"]), 1.0)
    # ties go to the cell over all the pupil's incidents (listed first): the broader statement
    best = c.sort_values(["p_cell", "k"], ascending=[True, False], kind="stable").drop_duplicates("student_id")
    best = best.set_index("student_id")
    cells = cells_per_pupil.reindex(best.index).to_numpy()
    best["p_value"] = np.minimum(1.0, best["p_cell"].to_numpy() * cells)
    # the smallest p the pupil's incidents could give: every one after the rarest unit
    rarest = shares.min(axis=1).reindex(best.index).to_numpy()
    p_min = pd.Series(np.minimum(1.0, rarest ** totals.reindex(best.index).to_numpy() * cells), best.index)

    def describe(sid, r, pupil, p_i) -> dict:
        sub = pupil[pupil["_folded"].isin(units[r["unit"]])]
        if isinstance(r["behaviour"], str):
            sub = sub[sub["category"] == r["behaviour"]]
            which = f"{r['behaviour'].lower()} incidents"
        else:
            which = "incidents with an antecedent recorded"
        if r["unit"] in groups:
            seen = Counter(sub["antecedent"]).most_common()
            name = (f"{r['unit'].lower()} ("
                    + " and ".join(f"'{a}' x{n}" if n > 1 else f"'{a}'" for a, n in seen) + ")")
        else:
            name = f"'{r['unit']}'"
        said = (f"{name} came before {r['k']} of the pupil's {r['n']} {which} ({r['k'] / r['n']:.0%}; other pupils: "
                f"{r['share']:.0%} of theirs): {_mix(sub['category'])}. {_span(sub, 'First')} (binomial p = "
                f"{_p(p_i)}, over {int(cells_per_pupil[sid])} antecedents, groups and behaviours).")
        return _row(sid, "trigger", said, sub, p_i, NEXT_STEPS["trigger"].format(what=name))

    return Test("trigger", best["p_value"], _each_flagged(abc, best, describe), p_min)


# ---------------------------------------------------------------------------------------------- escalation
def escalations(inc: pd.DataFrame, own: pd.DataFrame, calendar: SchoolCalendar, settings,
                as_of: pd.Timestamp) -> tuple[Test, list]:
    """Getting worse over the recent school weeks: a statistical test, and a safeguarding rule beside it.

    Tests, each only where the recent half of the last ``recent_school_weeks`` has at least twice the earlier
    half's rate and at least one more a week: (a) more incidents in that recent half than the pupil's own rate
    gives (conditional on their total over their own school days on roll, the count in those days is binomial:
    exact, and a late joiner is measured on their own time); (b) weekly rates rising in order over the weeks
    (Mann-Kendall, one-sided), which sees a steady climb that (a) may not. And (c) severities in order rising by at
    least a point (Mann-Kendall). The pupil's p is the smallest of the three times 3 (Bonferroni). (Mann-Kendall
    alone found none of 30 pupils whose incidents went from 10 a year to 12 more in five weeks; docs/patterns.md.)
    Rule (not a test, so never corrected or dropped by the false discovery rate): at least ``min_physical``
    physical incidents in those weeks, the pupil's first, after at least ``min_low_level_before`` low-level
    incidents recorded BEFORE the first physical one.
    """
    cfg = settings.school.patterns.escalation
    weeks_n, min_inc, min_physical, min_low = (cfg.recent_school_weeks, cfg.min_incidents, cfg.min_physical,
                                               cfg.min_low_level_before)
    physical = {fold(c) for c in settings.school.patterns.physical_categories}
    low = {fold(c) for c in settings.school.patterns.low_level_categories}
    weeks = calendar.weeks(end=as_of)
    if weeks.empty or inc.empty:
        return Test("escalation", pd.Series(dtype=float), None), []
    weeks = weeks.tail(weeks_n).reset_index(drop=True)
    start = weeks["week_start"].iloc[0]
    inc = inc.assign(_cat=map_distinct(inc["category"], fold))
    inc["_phys"] = inc["_cat"].isin(physical).fillna(False).astype(bool)
    inc["_low"] = inc["_cat"].isin(low).fillna(False).astype(bool)
    recent = inc[inc["day"] >= start].copy()
    recent["week_start"] = week_start(recent["day"])
    counts = _crosstab(recent["student_id"], recent["week_start"]).reindex(columns=weeks["week_start"],
                                                                               fill_value=0)
    half = len(weeks) // 2
    total = inc.groupby("student_id").size()
    recent_lo = calendar.days.searchsorted(weeks["week_start"].iloc[half], "left")
    # each week's school days as calendar ordinals [w_lo, w_hi), to count only the days a pupil was on roll
    w_lo = calendar.days.searchsorted(weeks["week_start"].to_numpy(), "left")
    w_hi = w_lo + weeks["school_days"].to_numpy()
    trend_p, why_trend = {}, {}
    for sid, pupil in recent.groupby("student_id"):
        if len(pupil) < min_inc:
            continue
        # each half's incidents over the pupil's own school days in it, times 5: a short last week (two days
        # before as_of) counts as two days, and a pupil who joined in the window is not read as quiet before
        n_week = counts.loc[sid].to_numpy(dtype=float)
        d_week = np.clip(np.minimum(w_hi, own.loc[sid, "hi"]) - np.maximum(w_lo, own.loc[sid, "lo"]), 0, None)
        before_w = n_week[:half].sum() / max(d_week[:half].sum(), 1) * 5
        after_w = n_week[half:].sum() / max(d_week[half:].sum(), 1) * 5
        on = d_week > 0
        y, x = n_week[on] / d_week[on], np.flatnonzero(on)
        tau, p_order = stats.kendalltau(x, y, alternative="greater") if on.sum() >= 3 else (np.nan, np.nan)
        rate_up = after_w >= 2 * before_w and after_w - before_w >= 1
        lo, hi, days = own.loc[sid, ["lo", "hi", "days"]]
        in_recent = max(int(hi) - max(int(lo), int(recent_lo)), 0)  # the pupil's school days in the recent half
        k_recent, n_all = int(n_week[half:].sum()), int(total[sid])
        p_rate = (stats.binom.sf(k_recent - 1, n_all, in_recent / days) if 0 < in_recent < days else 1.0)
        p_rate = min(p_rate, float(p_order) if np.isfinite(p_order) else 1.0)
        sev = pupil["severity"].dropna().astype(float).to_numpy()
        p_sev, sev_up, tau_s = 1.0, False, np.nan
        if len(sev) >= min_inc:
            tau_s, p_sev = stats.kendalltau(np.arange(len(sev)), sev, alternative="greater")
            h = len(sev) // 2
            sev_up = sev[h:].mean() - sev[:h].mean() >= 1
        p_rate = float(p_rate) if rate_up and np.isfinite(p_rate) else 1.0
        p_sev = float(p_sev) if sev_up and np.isfinite(p_sev) else 1.0
        trend_p[sid] = min(1.0, 3 * min(p_rate, p_sev))
        why = []
        if p_rate < 1:
            slope = theil_sen_slope(y, x)
            why.append(f"incidents rose from {before_w:.1f} to {after_w:.1f} a school week over the last {len(y)} "
                       f"school weeks ({k_recent} of the pupil's {n_all} incidents in the last {in_recent} of their "
                       f"{int(days)} school days on roll; Mann-Kendall tau = {tau:.2f}; Theil-Sen slope "
                       f"{slope * 5:+.2f} a week per week)")
        if p_sev < 1:
            h = len(sev) // 2
            why.append(f"severity rose from {sev[:h].mean():.1f} to {sev[h:].mean():.1f} (Mann-Kendall tau = "
                       f"{tau_s:.2f})")
        why_trend[sid] = why
    # The rule: first physical incidents in the recent weeks, after enough low-level ones before the first of them.
    rule = {}
    if physical:
        phys = inc[inc["_phys"]]
        first_phys = phys.groupby("student_id")["occurred_at"].min()
        first_phys = first_phys[first_phys.dt.normalize() >= start]
        phys_recent = phys[phys["student_id"].isin(first_phys.index)].groupby("student_id").size()
        pupil_rows = _by_pupil(inc)
        for sid, first in first_phys.items():
            if phys_recent.get(sid, 0) < min_physical:
                continue
            pupil = pupil_rows(sid)
            low_before = int((pupil["_low"] & (pupil["occurred_at"] < first)).sum())
            if low_before >= min_low:
                new_physical = pupil[pupil["_phys"]]
                rule[sid] = (f"after {low_before} low-level incidents, their first physical ones: "
                             f"{len(new_physical)} physical incidents ({_mix(new_physical['category'])}) since "
                             f"{_d(first)}, none before ({SAFEGUARDING})")
    recent_rows = _by_pupil(recent)
    step = NEXT_STEPS["escalation"]

    def describe(sid, p_i) -> dict:
        why = list(why_trend.get(sid, [])) if np.isfinite(p_i) else []
        if sid in rule:
            why.append(rule[sid])
        text = "; ".join(why)
        tail = f" (weeks from {_d(start)}" + (f"; trend p = {_p(p_i)})." if np.isfinite(p_i) else ").")
        return _row(sid, "escalation", text[0].upper() + text[1:] + tail, recent_rows(sid), p_i, step)

    return Test("escalation", pd.Series(trend_p, dtype=float), describe), list(rule)


# ---------------------------------------------------------------------------------------------- watchlist
def _flags(inc: pd.DataFrame, students, sessions, calendar: SchoolCalendar, settings,
           as_of: pd.Timestamp) -> pd.DataFrame:
    """The watchlist's rows up to ``as_of`` (no status yet), with each test's p and Benjamini-Hochberg q."""
    if inc.empty or not len(calendar):
        return pd.DataFrame(columns=COLUMNS[:-1])
    fdr = settings.school.patterns.false_discovery_rate
    own = own_school_days(inc, students, sessions, calendar, as_of)
    escalation, rule = escalations(inc, own, calendar, settings, as_of)
    tests = [clusters(inc, own, calendar, settings), time_of_day(inc, own, calendar, settings),
             place(inc, settings), behaviour(inc, settings), triggers(inc, settings), escalation]
    table = pd.concat([pd.DataFrame({"student_id": t.p_values.index, "kind": t.kind, "p": t.p_values.to_numpy(),
                                     "p_min": t.p_min.reindex(t.p_values.index).to_numpy()})
                       for t in tests if len(t.p_values)], ignore_index=True) \
        if any(len(t.p_values) for t in tests) else pd.DataFrame(columns=["student_id", "kind", "p", "p_min"])
    table["q"] = false_discovery(table["p"].to_numpy(dtype=float), table["p_min"].to_numpy(dtype=float), fdr)
    by_kind = {t.kind: t for t in tests}
    rows = []
    for r in table[table["q"] <= fdr].itertuples(index=False):
        row = by_kind[r.kind].describe(r.student_id, r.p)
        row["q_value"] = float(r.q)
        rows.append(row)
    flagged_escalation = {r["student_id"] for r in rows if r["pattern"] == "escalation"}
    for sid in rule:
        if sid not in flagged_escalation:
            row = escalation.describe(sid, np.nan)
            row["q_value"] = np.nan
            rows.append(row)
    return pd.DataFrame(rows, columns=COLUMNS[:-1])


def watchlist(incidents: pd.DataFrame, students: pd.DataFrame | None, sessions: pd.DataFrame | None,
              calendar: SchoolCalendar, settings, as_of=None, since=None,
              interventions: pd.DataFrame | None = None) -> pd.DataFrame:
    """The school's watchlist: one row per pupil and pattern (columns ``COLUMNS``), each a pattern a chance spread
    would rarely give, the whole list held to ``patterns.false_discovery_rate``.

    ``students`` (admitted_on, left_on) and ``sessions`` give each pupil's own time on roll; either may be None.
    With ``since``: only patterns with incidents on or after it, each ``status`` "new" (not on the list the day
    before ``since``) or "continuing" (:func:`since_meeting`); without, ``status`` is empty. A pupil pack filters
    this list to its pupil.
    """
    inc, as_of = _prepare(incidents, as_of)
    out = _flags(inc, students, sessions, calendar, settings, as_of)
    out["status"] = pd.Series(pd.NA, index=out.index, dtype="string")
    if not out.empty:
        out = _with_programme_notes(out, inc, interventions, calendar, settings, as_of)
    out = out[COLUMNS].reset_index(drop=True)
    if since is not None:
        return since_meeting(out, incidents, students, sessions, calendar, settings, since, as_of)
    return out


def since_meeting(watch: pd.DataFrame, incidents: pd.DataFrame, students, sessions, calendar: SchoolCalendar,
                  settings, since, as_of=None) -> pd.DataFrame:
    """The rows of ``watch`` (the watchlist up to ``as_of``) with incidents on or after ``since``, each ``status``
    "new" (not on the list the day before ``since``) or "continuing": what a weekly meeting looks at. Only the
    list before ``since`` is computed; the caller's whole list is not computed again."""
    if watch.empty:
        return watch
    inc, _ = _prepare(incidents, as_of)
    since = pd.Timestamp(since).normalize()
    out = watch[pd.to_datetime(watch["last_seen"]) >= since].reset_index(drop=True)
    before = _flags(inc[inc["day"] < since], students, sessions, calendar, settings, since - pd.Timedelta(days=1))
    known = set(zip(before["student_id"], before["pattern"]))
    out["status"] = pd.Series(["continuing" if (s, p) in known else "new"
                               for s, p in zip(out["student_id"], out["pattern"])], dtype="string")
    return out


def _with_programme_notes(out: pd.DataFrame, inc: pd.DataFrame, interventions, calendar: SchoolCalendar, settings,
                          as_of) -> pd.DataFrame:
    """Each row's next step with what the pupil's programmes add (entry criteria met, enrolled, exit met), the
    rows in pupil and kind order."""
    status = criteria_status(inc, interventions, calendar, settings, as_of)
    if len(status):
        entry = status[status["meets_entry"]].groupby("student_id")["programme"].agg(lambda s: ", ".join(s))
        exits = status[status["meets_exit"]].groupby("student_id")["programme"].agg(lambda s: ", ".join(s))
        enrolled = status[status["enrolled"]].groupby("student_id")["programme"].agg(lambda s: ", ".join(s))
        extra = pd.Series("", index=out.index)
        for series, words in zip((entry, enrolled, exits), PROGRAMME_NOTES):
            hit = out["student_id"].map(series)
            extra = extra.where(hit.isna(), extra + " " + words + hit.astype("string").fillna("") + ".")
        out["next_step"] = (out["next_step"] + extra).str.strip()
    order = {k: i for i, k in enumerate(KINDS)}
    return out.assign(_o=out["pattern"].map(order)).sort_values(["student_id", "_o"]).drop(columns="_o")


# ---------------------------------------------------------------------------------------------- hotspots
def _against_timetable(obs: pd.DataFrame, settings) -> pd.DataFrame:
    """Expected incidents per place from the hours pupils spend there (``timetable.hours_per_week``): the incidents
    in listed places shared by each place's part of all listed hours; unlisted places share theirs evenly."""
    hours = {fold(k): float(v) for k, v in settings.school.timetable.hours_per_week.items()}
    obs = obs.copy()
    obs["hours_per_week"] = obs["location"].map(lambda v: hours.get(fold(v))).astype(float)
    listed = obs["hours_per_week"].notna()
    total_hours = sum(hours.values())
    if listed.any() and total_hours > 0:
        obs.loc[listed, "expected"] = (obs.loc[listed, "incidents"].sum() * obs.loc[listed, "hours_per_week"]
                                       / total_hours)
    if (~listed).any():
        obs.loc[~listed, "expected"] = obs.loc[~listed, "incidents"].sum() / int((~listed).sum())
    return obs


def hotspots(incidents: pd.DataFrame, calendar: SchoolCalendar, settings, by: str = "weekday_period",
             as_of=None) -> pd.DataFrame:
    """School-wide concentrations, each against chance: Poisson p, Bonferroni over the cells, flagged when
    p_adj < ``patterns.hotspots.alpha`` and at least ``patterns.hotspots.min_ratio`` times what chance gives.

    Chance for weekday x period: the school days on each weekday times each period's share of the school day;
    for location, each place's share of the week's hours (settings.yaml ``timetable.hours_per_week``; places not
    listed share an even spread); for lesson and staff (no exposure is recorded), an even spread over the values seen.
    """
    inc, _ = _prepare(incidents, as_of)
    alpha, min_ratio = settings.school.patterns.hotspots.alpha, settings.school.patterns.hotspots.min_ratio
    if by == "weekday_period":
        inc = inc.dropna(subset=["period"])
        inc["weekday"] = pd.Categorical(inc["occurred_at"].dt.day_name(), WEEKDAYS[:5], ordered=True)
        obs = inc.groupby(["weekday", "period"], observed=False).size().rename("incidents").reset_index()
        if len(calendar):
            wd = pd.Series(calendar.days.day_of_week).value_counts(normalize=True).reindex(range(5), fill_value=0)
            wd.index = WEEKDAYS[:5]
        else:
            wd = pd.Series(0.2, index=WEEKDAYS[:5])
        share = _period_length_share(settings)
        obs = obs[obs["period"].isin(share.index) | (obs["incidents"] > 0)]
        exp_share = obs["weekday"].astype(str).map(wd).to_numpy() * obs["period"].map(share).fillna(0).to_numpy()
        obs["expected"] = len(inc) * exp_share / max(exp_share.sum(), 1e-12)
        keys = ["weekday", "period"]
    elif by in ("location", "lesson", "staff"):
        obs = inc.dropna(subset=[by]).groupby(by).size().rename("incidents").reset_index()
        obs["expected"] = obs["incidents"].sum() / max(len(obs), 1)
        keys = [by]
        if by == "location":
            obs = _against_timetable(obs, settings)
            keys = [by, "hours_per_week"]
    else:
        raise ValueError(f"hotspots by {by!r}: use weekday_period, location, lesson or staff")
    obs["ratio"] = obs["incidents"] / obs["expected"].where(obs["expected"] > 0)
    p = stats.poisson.sf(obs["incidents"] - 1, obs["expected"].clip(lower=1e-9))
    obs["p_value"] = np.minimum(1, p * max(len(obs), 1))
    obs["flagged"] = (obs["p_value"] < alpha) & (obs["ratio"] >= min_ratio)
    return obs[keys + ["incidents", "expected", "ratio", "p_value", "flagged"]].reset_index(drop=True)
