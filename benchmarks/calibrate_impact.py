"""Calibration of programme impact: simulated programmes with known effects, a school-wide seasonal change and
week-to-week overdispersion, run through the product's own estimators. Prints the table in docs/impact.md.

    .venv/bin/python benchmarks/calibrate_impact.py [--reps 400] [--seed 16]

Each replicate is one programme of ``k`` enrolments (6 baseline and 6 intervention school weeks each) and
``comparison`` pupils in no programme over the same weeks. Every pupil has their own base rate (gamma, mean 0.3
incidents per school day); weekly counts are gamma-Poisson with the given variance/mean ratio (VMR); from the
intervention weeks on, every pupil's rate is multiplied by the season (0.6 = a school-wide fall of 40%) and an
enrolled pupil's also by the programme's effect (its own effect varies between pupils, log-normal sd ``tau``,
around the programme's). The estimators are those of kwanalytics.metrics: effect_sizes.rate_ratios per enrolment,
impact.adjust_for_comparison against the comparison group, pooling.pool_log_ratios per programme.

Reported, naive (against the pupil's own baseline) and adjusted (against the comparison group):
- coverage: the share of 95% intervals that hold the truth (per enrolment: that pupil's own change; pooled: the
  programme's); the naive truth includes the season, the adjusted one is the programme's effect alone;
- false clear: for a programme with no effect, the share of enrolments judged "clearly fewer incidents" (their
  interval wholly below 1), with the product's "too little data" rule (fewer than 3 incidents in all) applied.
  The naive false clear rate is measured without a season (with one, "fewer" is true of the pupil's own change,
  only not of the programme).
A second table: programmes whose every pupil was enrolled twice (the two enrolments share the pupil's rate and
own effect), pooled coverage with the enrolments grouped by pupil, as the product pools, and as if independent.
Also prints the time ``enrolment_impact`` takes for 3,000 pupils (9,000 enrolments), the figure a test used to
assert.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from kwanalytics.metrics.effect_sizes import rate_ratios
from kwanalytics.metrics.impact import adjust_for_comparison, pooled_pair

WEEKS = 6  # per window
DAYS = 5
RATE = 0.3
MIN_INCIDENTS = 3  # schemas/settings.yaml impact.min_incidents, the shipped default


def _counts(rng, means: np.ndarray, vmr: float) -> np.ndarray:
    if vmr <= 1:
        return rng.poisson(means)
    # Gamma-Poisson with variance = mean * vmr: gamma shape mean / (vmr - 1), scale vmr - 1.
    return rng.poisson(rng.gamma(means / (vmr - 1), vmr - 1))


def _weeks_frame(counts: np.ndarray, exposure) -> pd.DataFrame:
    n = counts.shape[0]
    return pd.DataFrame({"group": np.repeat(np.arange(n), 2 * WEEKS),
                         "window": np.tile(np.repeat(["baseline", "intervention"], WEEKS), n),
                         "days": np.broadcast_to(exposure, counts.shape).ravel(), "events": counts.ravel()})


def programme_pool(own: pd.DataFrame, comp: pd.DataFrame) -> tuple[dict, dict]:
    """The two pooled estimates exactly as impact.pooled_programmes forms them."""
    args = (own["intervention_events"], own["intervention_days"], own["baseline_events"], own["baseline_days"])
    return pooled_pair(*args, comp["rate_ratio"].to_numpy(float), comp["se"].to_numpy(float))


def replicate(rng, k: int, comparison: int, vmr: float, season: float, effect: float, tau: float) -> dict:
    after = np.repeat([0.0, 1.0], WEEKS)
    base = rng.gamma(4.0, RATE / 4.0, size=k + comparison)[:, None] * DAYS
    own_effect = effect * np.exp(rng.normal(0, tau, size=k))  # the programme's effect on the log scale mean
    mult = np.ones((k + comparison, 2 * WEEKS))
    mult *= np.where(after > 0, season, 1.0)[None, :]
    mult[:k] *= np.where(after > 0, own_effect[:, None], 1.0)
    counts = _counts(rng, base * mult, vmr)
    own = rate_ratios(_weeks_frame(counts[:k], DAYS))
    comp_counts = counts[k:].sum(axis=0, keepdims=True)
    comp = rate_ratios(_weeks_frame(comp_counts, comparison * DAYS))
    comp = comp.iloc[np.zeros(k, dtype=int)].reset_index(drop=True)
    adj = adjust_for_comparison(own.reset_index(drop=True), comp)
    enough = (own["baseline_events"] + own["intervention_events"]).to_numpy() >= MIN_INCIDENTS
    naive_truth, adj_truth = season * own_effect, own_effect
    pooled_naive, pooled_adj = programme_pool(own, comp)
    lo, hi = own["ci_low"].to_numpy(), own["ci_high"].to_numpy()
    alo, ahi = adj["adjusted_ci_low"].to_numpy(), adj["adjusted_ci_high"].to_numpy()
    defined = np.isfinite(lo) & enough
    return {
        "naive_cover": np.mean(((lo <= naive_truth) & (naive_truth <= hi))[defined]),
        "adj_cover": np.mean(((alo <= adj_truth) & (adj_truth <= ahi))[defined]),
        "naive_clear": np.mean((hi < 1)[defined]),
        "adj_clear": np.mean((ahi < 1)[defined]),
        "pooled_naive_cover": float(pooled_naive["ci_low"] <= np.log(season * effect) <= pooled_naive["ci_high"]),
        "pooled_adj_cover": float(pooled_adj["ci_low"] <= np.log(effect) <= pooled_adj["ci_high"]),
        "pooled_adj_rr": float(np.exp(pooled_adj["estimate"])),
    }


def calibrate(reps: int, seed: int, k: int = 30, comparison: int = 60, tau: float = 0.2) -> pd.DataFrame:
    rows = []
    for vmr in (1.0, 1.4, 2.3, 3.6):
        for season, effect in ((1.0, 1.0), (0.6, 1.0), (0.6, 0.5)):
            rng = np.random.default_rng([seed, int(vmr * 10), int(season * 10), int(effect * 10)])
            res = pd.DataFrame([replicate(rng, k, comparison, vmr, season, effect, tau) for _ in range(reps)])
            rows.append({"VMR": vmr, "season": season, "effect": effect,
                         "enrolment coverage naive": res["naive_cover"].mean(),
                         "enrolment coverage adjusted": res["adj_cover"].mean(),
                         "false clear naive": res["naive_clear"].mean() if season == 1 and effect == 1 else np.nan,
                         "false clear adjusted": res["adj_clear"].mean() if effect == 1 else np.nan,
                         "pooled coverage naive": res["pooled_naive_cover"].mean(),
                         "pooled coverage adjusted": res["pooled_adj_cover"].mean(),
                         "pooled adjusted RR (median)": res["pooled_adj_rr"].median()})
    # Smaller programmes, where the t quantile's degrees of freedom matter most.
    for small in (5, 10):
        for season, effect in ((0.6, 1.0), (0.6, 0.5)):
            rng = np.random.default_rng([seed, small, 23, int(season * 10), int(effect * 10)])
            res = pd.DataFrame([replicate(rng, small, comparison, 2.3, season, effect, tau) for _ in range(reps)])
            rows.append({"enrolments": small, "VMR": 2.3, "season": season, "effect": effect,
                         "enrolment coverage naive": res["naive_cover"].mean(),
                         "enrolment coverage adjusted": res["adj_cover"].mean(),
                         "false clear naive": np.nan,
                         "false clear adjusted": res["adj_clear"].mean() if effect == 1 else np.nan,
                         "pooled coverage naive": res["pooled_naive_cover"].mean(),
                         "pooled coverage adjusted": res["pooled_adj_cover"].mean(),
                         "pooled adjusted RR (median)": res["pooled_adj_rr"].median()})
    table = pd.DataFrame(rows)
    table["enrolments"] = table["enrolments"].fillna(k).astype(int)
    return table[["enrolments"] + [c for c in table.columns if c != "enrolments"]]


def replicate_reenrolled(rng, pupils: int, comparison: int, vmr: float, season: float, effect: float,
                         tau: float) -> dict:
    """One programme whose every pupil was enrolled twice (again after a break): both enrolments share the pupil's
    base rate and their own effect, so they are not independent. Pooled adjusted coverage with the enrolments
    grouped by pupil (as the product pools) and, for contrast, as if independent."""
    k = 2 * pupils
    after = np.repeat([0.0, 1.0], WEEKS)
    base = np.concatenate([np.tile(rng.gamma(4.0, RATE / 4.0, size=pupils), 2),
                           rng.gamma(4.0, RATE / 4.0, size=comparison)])[:, None] * DAYS
    own_effect = np.tile(effect * np.exp(rng.normal(0, tau, size=pupils)), 2)
    mult = np.ones((k + comparison, 2 * WEEKS))
    mult *= np.where(after > 0, season, 1.0)[None, :]
    mult[:k] *= np.where(after > 0, own_effect[:, None], 1.0)
    counts = _counts(rng, base * mult, vmr)
    own = rate_ratios(_weeks_frame(counts[:k], DAYS))
    comp = rate_ratios(_weeks_frame(counts[k:].sum(axis=0, keepdims=True), comparison * DAYS))
    comp = comp.iloc[np.zeros(k, dtype=int)].reset_index(drop=True)
    args = (own["intervention_events"], own["intervention_days"], own["baseline_events"], own["baseline_days"],
            comp["rate_ratio"].to_numpy(float), comp["se"].to_numpy(float))
    truth = np.log(effect)
    _, grouped = pooled_pair(*args, pupils=np.tile(np.arange(pupils), 2))
    _, apart = pooled_pair(*args)
    return {"grouped": float(grouped["ci_low"] <= truth <= grouped["ci_high"]),
            "apart": float(apart["ci_low"] <= truth <= apart["ci_high"])}


def calibrate_reenrolled(reps: int, seed: int, comparison: int = 60) -> pd.DataFrame:
    rows = []
    for pupils in (5, 15):
        for tau in (0.2, 0.4):
            for effect in (1.0, 0.5):
                rng = np.random.default_rng([seed, pupils, int(tau * 10), int(effect * 10), 31])
                res = pd.DataFrame([replicate_reenrolled(rng, pupils, comparison, 2.3, 0.6, effect, tau)
                                    for _ in range(reps)])
                rows.append({"pupils": pupils, "enrolments": 2 * pupils, "tau": tau, "effect": effect,
                             "pooled coverage adjusted, by pupil": res["grouped"].mean(),
                             "as if independent": res["apart"].mean()})
    return pd.DataFrame(rows)


def speed() -> float:
    """Seconds for enrolment_impact and programme_impact on 3,000 pupils with 9,000 enrolments."""
    from kwanalytics.calendar import SchoolCalendar
    from kwanalytics.metrics.impact import enrolment_impact, programme_impact
    from kwanalytics.schema.contracts import empty_frame
    from kwanalytics.settings import load_settings

    cal = SchoolCalendar(pd.bdate_range("2025-09-01", "2026-07-17"), "weekdays")
    rng = np.random.default_rng(7)
    n = 3000
    students = np.array([f"S{i:04d}" for i in range(n)])
    starts = cal.days[rng.integers(20, len(cal) - 20, size=3 * n)]
    t = {name: empty_frame(name) for name in ("students", "sessions", "targets", "target_ratings", "budget")}
    t["interventions"] = pd.DataFrame({"enrolment_id": [f"E{i}" for i in range(3 * n)],
                                       "student_id": students[np.arange(3 * n) % n], "programme": "ELSA",
                                       "started_on": starts.astype("datetime64[us]"),
                                       "ended_on": pd.Series(pd.NaT, index=range(3 * n), dtype="datetime64[us]")})
    m = 40 * n
    t["incidents"] = pd.DataFrame({"incident_id": [f"I{i}" for i in range(m)],
                                   "student_id": students[rng.integers(0, n * 2, m) % n],
                                   "occurred_at": cal.days[rng.integers(0, len(cal), m)].astype("datetime64[us]"),
                                   "category": "Defiance", "severity": pd.array(rng.integers(1, 6, m), dtype="Int64")})
    t["students"] = pd.DataFrame({"student_id": np.array([f"C{i:04d}" for i in range(n)])})
    settings = load_settings(None)
    t0 = time.perf_counter()
    enrol = enrolment_impact(t, cal, settings, as_of=cal.days[-1])
    programme_impact(enrol, t, settings, as_of=cal.days[-1], calendar=cal)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=400)
    ap.add_argument("--seed", type=int, default=16)
    ap.add_argument("--no-speed", action="store_true")
    args = ap.parse_args()
    table = calibrate(args.reps, args.seed)
    pct = [c for c in table.columns if "coverage" in c or "clear" in c]
    shown = table.copy()
    for c in pct:
        shown[c] = shown[c].map(lambda v: "" if pd.isna(v) else f"{100 * v:.1f}%")
    shown["pooled adjusted RR (median)"] = shown["pooled adjusted RR (median)"].map(lambda v: f"{v:.2f}")
    print(f"{args.reps} programmes per row (60 comparison pupils, tau 0.2), seed {args.seed}")
    print(shown.to_markdown(index=False) if _has_tabulate() else shown.to_string(index=False))
    again = calibrate_reenrolled(args.reps, args.seed)
    for c in ("pooled coverage adjusted, by pupil", "as if independent"):
        again[c] = again[c].map(lambda v: f"{100 * v:.1f}%")
    print(f"\nEvery pupil enrolled twice (VMR 2.3, season 0.6, 60 comparison pupils), {args.reps} programmes per "
          f"row, seed {args.seed}")
    print(again.to_markdown(index=False) if _has_tabulate() else again.to_string(index=False))
    if not args.no_speed:
        print(f"\nenrolment_impact + programme_impact, 3,000 pupils, 9,000 enrolments: {speed():.1f} s")


def _has_tabulate() -> bool:
    try:
        import tabulate  # noqa: F401
    except ImportError:
        return False
    return True


if __name__ == "__main__":
    main()
