"""Repeated patterns of behaviour: a watchlist the BEST co-ordinator can trust.

A pupil is flagged only when a pattern stands out from what chance would give for that pupil, so a handful of
scattered, unrelated incidents raises nothing. Five kinds, each explained in docs/patterns.md and tuned in one
place (schemas/settings.yaml, ``patterns:``):

- cluster: N incidents within K school days (default 3 within 10), counted in school days;
- time: a weekday, a period, or a weekday x period holding far more of the pupil's incidents than their school
  time would give (one-sided binomial test, Bonferroni-corrected over every cell tested, with a minimum count);
- place: likewise for locations, against the school-wide spread of incidents over places;
- trigger: an antecedent that keeps preceding one behaviour (ABC data), against how common that pair is school-wide;
- escalation: weekly incident rates or severities rising over the recent school weeks (Mann-Kendall, with a
  Theil-Sen slope for the size), or a move from low-level to physical incidents.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd
from scipy import stats

from kwanalytics.calendar import SchoolCalendar, week_start
from kwanalytics.metrics.criteria import criteria_status
from kwanalytics.ingest.parsing import map_distinct
from kwanalytics.settings import fold

COLUMNS = ["student_id", "pattern", "evidence", "first_seen", "last_seen", "incidents", "next_step", "p_value"]
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
# Pseudo-incidents spread by period length that smooth the school-wide base rate of each period.
PRIOR_WEIGHT = 20


def _cfg(settings) -> dict:
    return (settings.config or {}).get("patterns") or {}


def _d(ts) -> str:
    return pd.Timestamp(ts).strftime("%d/%m/%Y")


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


# ---------------------------------------------------------------------------------------------------- clusters
def clusters(inc: pd.DataFrame, calendar: SchoolCalendar, settings) -> list[dict]:
    """At least N incidents within K school days, more than the pupil's own rate would bunch by chance.

    A pupil with many incidents all year has "3 within 10 school days" every few weeks; that is their rate, not
    a cluster. So the densest run of K school days is tested against the pupil's rate outside it (Poisson, with a
    floor of one incident a year so a usually quiet pupil's burst counts), Bonferroni-corrected over the runs of
    K school days in the period. Counted in school days, so a half-term inside a run does not stretch it.
    """
    cfg = _cfg(settings).get("clusters") or {}
    n, k = int(cfg.get("incidents", 3)), int(cfg.get("within_school_days", 10))
    alpha = float(cfg.get("alpha", 0.01))
    if len(inc) < n or not len(calendar):
        return []
    o = calendar.ordinal(inc["day"]).astype(np.int64)
    codes, _ = pd.factorize(inc["student_id"])
    key = codes.astype(np.int64) * (len(calendar) + 10 * k + 10) + o  # sorted: inc is by pupil, then time
    inside = np.searchsorted(key, key + k, "left") - np.arange(len(key))  # incidents in [o, o + k) from each
    inc = inc.assign(pos=o, dense=inside)
    span_days = max(len(calendar.between(inc["day"].min(), inc["day"].max())), k)
    total = inc.groupby("student_id").size()
    # the densest window per pupil; the latest when tied, as it matters most now
    best = inc.iloc[::-1].sort_values("dense", ascending=False, kind="stable").drop_duplicates("student_id")
    best = best[best["dense"] >= n]
    if best.empty:
        return []
    outside = total.reindex(best["student_id"]).to_numpy() - best["dense"].to_numpy()
    rate = np.maximum(outside / max(span_days - k, 1), 1 / 190)
    # The run's own length in school days (at most K): 3 incidents on 3 days are tighter than 3 in 10.
    last_pos = inc.groupby("student_id")["pos"].apply(np.asarray)
    run = np.array([last_pos[sid][(last_pos[sid] >= o0) & (last_pos[sid] < o0 + k)].max() - o0 + 1
                    for sid, o0 in zip(best["student_id"], best["pos"])])
    p = stats.poisson.sf(best["dense"].to_numpy() - 1, rate * run)
    p_adj = np.minimum(1, p * np.maximum(span_days / run, 1))
    rows = []
    pupil_rows = _by_pupil(inc)
    for r, rate_i, p_i in zip(best.itertuples(index=False), rate, p_adj):
        if p_i >= alpha:
            continue
        pupil = pupil_rows(r.student_id)
        sub = pupil[(pupil["pos"] >= r.pos) & (pupil["pos"] < r.pos + k)]
        first, last = sub["occurred_at"].min(), sub["occurred_at"].max()
        days = int(sub["pos"].max() - sub["pos"].min()) + 1
        others = int(total[r.student_id]) - len(sub)
        rows.append(_row(r.student_id, "cluster",
                         f"{len(sub)} incidents within {days} school days ({_d(first)} to {_d(last)}): "
                         f"{_mix(sub['category'])}; against {rate_i * days:.2f} expected in {days} school days from "
                         f"the pupil's other {others} incident{'s' if others != 1 else ''} (Poisson p = "
                         f"{p_i:.1g}, corrected).", sub, p_i,
                         next_step="Talk with the pupil and home about what was happening around "
                                   f"{_d(first)}-{_d(last)}; review the support plan."))
    return rows


# ------------------------------------------------------------------------------------------ time and place
def _binomial_flags(counts: pd.DataFrame, expected: pd.Series, totals: pd.Series, min_count: int, alpha: float,
                    tests: pd.Series) -> pd.DataFrame:
    """Cells (pupil x value) whose count is improbably high; Bonferroni over each pupil's ``tests`` cells."""
    c = counts.stack().rename("k").reset_index()
    c.columns = ["student_id", "value", "k"]
    c = c[c["k"] >= min_count]
    if c.empty:
        return c.assign(n=[], p=[], p_adj=[])
    c["n"] = totals.reindex(c["student_id"]).to_numpy()
    c["p"] = expected.reindex(c["value"]).to_numpy() if not isinstance(expected, pd.DataFrame) else \
        expected.stack().reindex(pd.MultiIndex.from_frame(c[["student_id", "value"]])).to_numpy()
    c["p_value"] = stats.binom.sf(c["k"] - 1, c["n"], np.clip(c["p"].astype(float), 1e-9, 1))
    c["p_adj"] = np.minimum(1, c["p_value"] * tests.reindex(c["student_id"]).to_numpy())
    return c[c["p_adj"] < alpha]


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


def _weekday_shares(inc: pd.DataFrame, calendar: SchoolCalendar) -> pd.DataFrame:
    """Per pupil, each weekday's share of the school days between their first and last incident."""
    days = pd.Series(calendar.days)
    span = inc.groupby("student_id")["day"].agg(["min", "max"])
    o_lo = calendar.days.searchsorted(span["min"].to_numpy(), "left")
    o_hi = calendar.days.searchsorted(span["max"].to_numpy(), "right")
    wd = days.dt.day_of_week.to_numpy()
    onehot = np.zeros((len(wd) + 1, 7))
    onehot[1:] = np.eye(7)[wd]
    cum = onehot.cumsum(axis=0)
    counts = cum[o_hi] - cum[o_lo]
    counts = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    return pd.DataFrame(counts, index=span.index, columns=WEEKDAYS)


def concentrations(inc: pd.DataFrame, calendar: SchoolCalendar, settings) -> list[dict]:
    """Time (weekday, period, weekday x period) and place concentrations, each against chance for this pupil."""
    cfg = _cfg(settings).get("concentration") or {}
    min_count, alpha = int(cfg.get("min_incidents", 4)), float(cfg.get("alpha", 0.01))
    rows = []
    if inc.empty:
        return rows
    inc = inc.copy()
    inc["weekday"] = inc["occurred_at"].dt.day_name()
    totals = inc.groupby("student_id").size()
    totals = totals[totals >= min_count]
    inc = inc[inc["student_id"].isin(totals.index)]
    if inc.empty:
        return rows
    wd_share = _weekday_shares(inc, calendar)
    per_share = _period_shares(inc, settings)
    has_period = inc["period"].notna()
    slot = inc.loc[has_period, "weekday"] + " " + inc.loc[has_period, "period"]
    slot_exp = pd.DataFrame({f"{w} {p}": wd_share[w] * s for w in WEEKDAYS[:5] for p, s in per_share.items()})
    # Bonferroni across every time cell the test could have flagged for this pupil.
    time_tests = pd.Series(5 + len(per_share) + 5 * len(per_share), index=totals.index)
    found = {}
    for label, values, expected in (
            ("weekday", inc["weekday"], wd_share),
            ("period", inc["period"], per_share),
            ("slot", slot, slot_exp)):
        counts = _crosstab(inc.loc[values.index, "student_id"], values)
        flags = _binomial_flags(counts, expected, totals, min_count, alpha, time_tests)
        for r in flags.itertuples(index=False):
            found.setdefault(r.student_id, []).append((label, r))
    loc_share = inc["location"].value_counts()
    loc_share = (loc_share + 1) / (loc_share.sum() + len(loc_share))
    loc_counts = _crosstab(inc["student_id"], inc["location"])
    loc_tests = (loc_counts > 0).sum(axis=1).reindex(totals.index).fillna(1).clip(lower=1)
    place = _binomial_flags(loc_counts, loc_share, totals, min_count, alpha, loc_tests)

    pupil_rows = _by_pupil(inc)
    for sid, hits in found.items():
        # The most specific, most significant time cell speaks for the pupil: a weekday x period flag
        # supersedes the weekday or period it lies in.
        label, r = sorted(hits, key=lambda h: (h[0] != "slot", h[1].p_adj))[0]
        pupil = pupil_rows(sid)
        if label == "weekday":
            sub, what = pupil[pupil["weekday"] == r.value], f"on {r.value}s"
        elif label == "period":
            sub, what = pupil[pupil["period"] == r.value], f"in {r.value}"
        else:
            sub = pupil[(pupil["weekday"] + " " + pupil["period"]) == r.value]
            w, p = r.value.split(" ", 1)
            what = f"on {w}s in {p}"
        rows.append(_row(sid, "time",
                         f"{r.k} of {r.n} incidents ({r.k / r.n:.0%}) were {what}, against {r.p:.0%} expected from "
                         f"their school time; first {_d(sub['occurred_at'].min())}, last "
                         f"{_d(sub['occurred_at'].max())} (binomial p = {r.p_value:.1g}, corrected).", sub, r.p_adj,
                         f"Look at what happens {what} (lesson, staffing, transitions) and plan support for that "
                         f"slot."))
    for r in place.sort_values("p_adj").drop_duplicates("student_id").itertuples(index=False):
        pupil = pupil_rows(r.student_id)
        sub = pupil[pupil["location"] == r.value]
        rows.append(_row(r.student_id, "place",
                         f"{r.k} of {r.n} incidents ({r.k / r.n:.0%}) happened in {r.value}, against {r.p:.0%} of "
                         f"all the school's incidents there; first {_d(sub['occurred_at'].min())}, last "
                         f"{_d(sub['occurred_at'].max())}; {_mix(sub['category'])} (binomial p = {r.p_value:.1g}, "
                         f"corrected).", sub, r.p_adj,
                         f"Review supervision and the environment in {r.value}; agree a plan for the pupil there."))
    return rows


# ------------------------------------------------------------------------------------------------ triggers
def triggers(inc: pd.DataFrame, settings) -> list[dict]:
    """An antecedent that keeps preceding one behaviour (ABC data), more than chance would pair them.

    For each antecedent -> category pair of a pupil: at least ``min_incidents``, at least ``min_share`` of the
    incidents after that antecedent are that behaviour, and a one-sided binomial test of the pair's count against
    the pupil's own share of that behaviour times the school-wide share of that antecedent, Bonferroni-corrected
    over the pairs seen. The pupil's own mix matters: a pupil whose incidents are mostly dysregulation will often
    have dysregulation after any antecedent, and that is not a trigger; antecedents are circumstances, so their
    base rate comes from the whole school.
    """
    cfg = _cfg(settings).get("trigger") or {}
    min_count, min_share = int(cfg.get("min_incidents", 4)), float(cfg.get("min_share", 0.5))
    alpha = float(cfg.get("alpha", 0.01))
    abc = inc.dropna(subset=["antecedent", "category"])
    if abc.empty:
        return []
    pairs = abc.groupby(["student_id", "antecedent", "category"]).size().rename("k").reset_index()
    n = abc.groupby("student_id").size()
    n_a = abc.groupby(["student_id", "antecedent"]).size().rename("n_a")
    n_c = abc.groupby(["student_id", "category"]).size().rename("n_c")
    tests = pairs.groupby("student_id").size()
    pairs = pairs.join(n_a, on=["student_id", "antecedent"]).join(n_c, on=["student_id", "category"])
    pairs = pairs[(pairs["k"] >= min_count) & (pairs["k"] / pairs["n_a"] >= min_share)]
    if pairs.empty:
        return []
    pairs["n"] = n.reindex(pairs["student_id"]).to_numpy()
    school_a = abc["antecedent"].value_counts()
    school_a = (school_a + 1) / (school_a.sum() + len(school_a))
    pairs["expected"] = pairs["n_c"] / pairs["n"] * school_a.reindex(pairs["antecedent"]).to_numpy()
    pairs["p_value"] = stats.binom.sf(pairs["k"] - 1, pairs["n"], pairs["expected"])
    pairs["p_adj"] = np.minimum(1, pairs["p_value"] * tests.reindex(pairs["student_id"]).to_numpy())
    pairs = pairs[pairs["p_adj"] < alpha].sort_values("p_adj")
    rows = {}
    pupil_rows = _by_pupil(abc)
    for r in pairs.itertuples(index=False):
        pupil = pupil_rows(r.student_id)
        sub = pupil[(pupil["antecedent"] == r.antecedent) & (pupil["category"] == r.category)]
        text = (f"'{r.antecedent}' came before {r.k} of the pupil's {r.n_a} incidents that followed it "
                f"({r.k / r.n_a:.0%}), each time {r.category.lower()}; chance would pair them in "
                f"{r.expected:.0%} of their {r.n} incidents")
        if r.student_id in rows:  # one row per pupil: the strongest trigger speaks, the others join it
            rows[r.student_id]["evidence"] += f" Also: {text}."
            continue
        rows[r.student_id] = _row(r.student_id, "trigger",
                                  f"{text}. First {_d(sub['occurred_at'].min())}, last "
                                  f"{_d(sub['occurred_at'].max())} (binomial p = {r.p_adj:.1g}, corrected).",
                                  sub, r.p_adj,
                                  f"Plan for '{r.antecedent}' ahead of time (pre-warning, a visual timetable, a "
                                  f"named adult) and record ABC notes to check whether it helps.")
    return list(rows.values())


# ---------------------------------------------------------------------------------------------- escalation
def escalations(inc: pd.DataFrame, calendar: SchoolCalendar, settings, as_of: pd.Timestamp) -> list[dict]:
    """Getting worse over the recent school weeks: a rising rate, rising severity, or a move to physical.

    Rate: weekly incidents per school day over the last ``recent_school_weeks`` (Mann-Kendall: Kendall's tau
    against time, one-sided), and the recent half at least twice the earlier half and at least one more a week.
    Severity: the same test on severities in order, and a rise of at least one point. Both trend tests share
    ``alpha`` (Bonferroni). Physical: at least ``min_physical`` physical incidents in the window, the pupil's first,
    after at least ``min_low_level_before`` low-level ones: a safeguarding sign, not a statistical claim. The effect-size conditions keep a significant but trivial drift off the list.
    """
    cfg = _cfg(settings).get("escalation") or {}
    weeks_n, alpha = int(cfg.get("recent_school_weeks", 10)), float(cfg.get("alpha", 0.01))
    min_inc = int(cfg.get("min_incidents", 6))
    min_physical = int(cfg.get("min_physical", 2))
    min_low = int(cfg.get("min_low_level_before", 5))
    physical = {fold(c) for c in _cfg(settings).get("physical_categories") or []}
    low = {fold(c) for c in _cfg(settings).get("low_level_categories") or []}
    weeks = calendar.weeks(end=as_of)
    if weeks.empty or inc.empty:
        return []
    weeks = weeks.tail(weeks_n).reset_index(drop=True)
    start = weeks["week_start"].iloc[0]
    inc = inc.assign(_cat=map_distinct(inc["category"], fold))
    inc["_phys"] = inc["_cat"].isin(physical).fillna(False)
    inc["_low"] = inc["_cat"].isin(low).fillna(False)
    recent = inc[inc["day"] >= start].copy()
    recent["week_start"] = week_start(recent["day"])
    counts = _crosstab(recent["student_id"], recent["week_start"]).reindex(columns=weeks["week_start"],
                                                                               fill_value=0)
    rates = counts / weeks["school_days"].to_numpy()
    phys_recent = recent.groupby("student_id")["_phys"].sum()
    candidates = set(counts.index[counts.sum(axis=1) >= min_inc]) | set(phys_recent.index[phys_recent >= min_physical])
    earlier_phys = inc[inc["day"] < start].groupby("student_id")["_phys"].any()
    low_all = inc.groupby("student_id")["_low"].sum()
    half = len(weeks) // 2
    rows = []
    for sid, pupil in recent[recent["student_id"].isin(candidates)].groupby("student_id"):
        why, p_best = [], np.nan
        if len(pupil) >= min_inc:
            y = rates.loc[sid].to_numpy(dtype=float)
            x = np.arange(len(y))
            tau, p = stats.kendalltau(x, y)
            before_w, after_w = y[:half].mean() * 5, y[half:].mean() * 5
            p_one = 2 * p / 2  # one-sided (p / 2), times 2 trend tests (Bonferroni)
            if tau > 0 and p_one < alpha and after_w >= 2 * before_w and after_w - before_w >= 1:
                slope = stats.theilslopes(y, x).slope
                why.append(f"incidents rose from {before_w:.1f} to {after_w:.1f} a school week over the last "
                           f"{len(y)} school weeks (Mann-Kendall tau = {tau:.2f}, p = {p_one:.2g}; Theil-Sen "
                           f"slope {slope * 5:+.2f} a week per week)")
                p_best = p_one
            sev = pupil["severity"].dropna().astype(float).to_numpy()
            if len(sev) >= min_inc:
                tau_s, p_s = stats.kendalltau(np.arange(len(sev)), sev)
                h = len(sev) // 2
                if tau_s > 0 and p_s < alpha and sev[h:].mean() - sev[:h].mean() >= 1:
                    why.append(f"severity rose from {sev[:h].mean():.1f} to {sev[h:].mean():.1f} "
                               f"(Mann-Kendall tau = {tau_s:.2f}, p = {p_s:.2g})")
                    p_best = p_s if np.isnan(p_best) else min(p_best, p_s)
        # the counts first: picking out the physical rows is only worth it for a pupil they could flag
        if physical and int(phys_recent.get(sid, 0)) >= min_physical and not earlier_phys.get(sid, False) \
                and int(low_all.get(sid, 0)) >= min_low:
            new_physical = pupil[pupil["_phys"].to_numpy()]
            why.append(f"after {int(low_all.get(sid, 0))} low-level incidents, their first physical ones: "
                       f"{len(new_physical)} physical incidents ({_mix(new_physical['category'])}) since "
                       f"{_d(new_physical['occurred_at'].min())}, none before")
        if why:
            text = "; ".join(why)
            rows.append(_row(sid, "escalation", text[0].upper() + text[1:] + f" (weeks from {_d(start)}).",
                             pupil, p_best,
                             "Review the behaviour support plan and risk assessment now; meet home; consider "
                             "a referral (EP, CAMHS) if it continues."))
    return rows


# ---------------------------------------------------------------------------------------------- watchlist
def watchlist(incidents: pd.DataFrame, calendar: SchoolCalendar, settings, as_of=None,
              interventions: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per pupil and pattern, with a readable evidence sentence and a suggested next step."""
    inc, as_of = _prepare(incidents, as_of)
    rows = (clusters(inc, calendar, settings) + concentrations(inc, calendar, settings) + triggers(inc, settings)
            + escalations(inc, calendar, settings, as_of))
    out = pd.DataFrame(rows, columns=COLUMNS)
    if out.empty:
        return out
    status = criteria_status(inc, interventions, calendar, settings, as_of)
    if len(status):
        entry = status[status["meets_entry"]].groupby("student_id")["programme"].agg(lambda s: ", ".join(s))
        exits = status[status["meets_exit"]].groupby("student_id")["programme"].agg(lambda s: ", ".join(s))
        enrolled = status[status["enrolled"]].groupby("student_id")["programme"].agg(lambda s: ", ".join(s))
        extra = pd.Series("", index=out.index)
        for series, words in ((entry, "Meets entry criteria for "), (enrolled, "Already enrolled in "),
                              (exits, "Meets exit criteria for ")):
            hit = out["student_id"].map(series)
            extra = extra.where(hit.isna(), extra + " " + words + hit.astype("string").fillna("") + ".")
        out["next_step"] = (out["next_step"] + extra).str.strip()
    order = {k: i for i, k in enumerate(["escalation", "cluster", "trigger", "time", "place"])}
    out = out.assign(_o=out["pattern"].map(order)).sort_values(["student_id", "_o"]).drop(columns="_o")
    return out.reset_index(drop=True)


# ---------------------------------------------------------------------------------------------- hotspots
def hotspots(incidents: pd.DataFrame, calendar: SchoolCalendar, settings, by: str = "weekday_period",
             as_of=None) -> pd.DataFrame:
    """School-wide concentrations, each against chance: Poisson p, Bonferroni over the cells, flagged when
    p_adj < alpha and at least 1.5 times what chance gives.

    Chance for weekday x period: the school days on each weekday times each period's share of the school day;
    for location, lesson and staff (no exposure is recorded), an even spread over the values seen.
    """
    inc, _ = _prepare(incidents, as_of)
    alpha = float((_cfg(settings).get("concentration") or {}).get("alpha", 0.01))
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
    else:
        raise ValueError(f"hotspots by {by!r}: use weekday_period, location, lesson or staff")
    obs["ratio"] = obs["incidents"] / obs["expected"].where(obs["expected"] > 0)
    p = stats.poisson.sf(obs["incidents"] - 1, obs["expected"].clip(lower=1e-9))
    obs["p_value"] = np.minimum(1, p * max(len(obs), 1))
    obs["flagged"] = (obs["p_value"] < alpha) & (obs["ratio"] >= 1.5)
    return obs[keys + ["incidents", "expected", "ratio", "p_value", "flagged"]].reset_index(drop=True)
