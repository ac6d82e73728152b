"""Progress on EHCP / ILP targets: Goal Attainment Scaling (GAS) per target, per area of need and per pupil.

Each target is rated on the GAS scale -2 (much less than expected) .. 0 (expected) .. +2 (much more than
expected). Ratings combine into the Kiresuk-Sherman T-score, 50 = outcomes as expected, 10 points = one
standard deviation (Kiresuk, T. J., & Sherman, R. E. (1968). Goal attainment scaling: a general method for
evaluating comprehensive community mental health programs. Community Mental Health Journal 4(6), 443-453;
Turner-Stokes, L. (2009). Goal attainment scaling (GAS) in rehabilitation: a practical guide. Clinical
Rehabilitation 23(4), 362-370).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["gas_tscore", "target_progress", "tscores", "ALL_AREAS"]

ALL_AREAS = "All areas"
DEFAULT_RHO = 0.3


def _tscore_from_sums(sum_wx, sum_w2, sum_w, rho: float = DEFAULT_RHO):
    """T = 50 + 10 sum(w x) / sqrt((1 - rho) sum(w^2) + rho (sum w)^2), elementwise over arrays of sums."""
    denominator = np.sqrt((1 - rho) * np.asarray(sum_w2, dtype=float) + rho * np.asarray(sum_w, dtype=float) ** 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        return 50 + 10 * np.asarray(sum_wx, dtype=float) / denominator


def gas_tscore(scores, weights=None, rho: float = DEFAULT_RHO) -> float:
    """The Kiresuk-Sherman GAS T-score of a set of goal scores (-2..+2): 50 means every goal met as expected.

    T = 50 + 10 * sum(w_i x_i) / sqrt((1 - rho) * sum(w_i^2) + rho * (sum w_i)^2)   (Kiresuk & Sherman 1968)
    with rho = 0.3, the assumed correlation between a person's goals (Turner-Stokes 2009).
    Weights default to 1; missing scores are left out with their weights, a missing weight counts as 1, and
    all-zero weights count as equal weights (as the gasr R package calc_tscore does). No scores -> NaN.
    """
    x = np.asarray(scores, dtype=float).ravel()
    w = np.ones_like(x) if weights is None else np.asarray(weights, dtype=float).ravel()
    if w.shape != x.shape:
        raise ValueError(f"{len(x)} scores but {len(w)} weights: give one weight per goal")
    if not 0 <= rho < 1:
        raise ValueError(f"rho is a correlation between goals and must be in [0, 1), not {rho}")
    w = np.where(np.isnan(w), 1.0, w)
    if (w < 0).any():
        raise ValueError("goal weights cannot be negative")
    keep = ~np.isnan(x)
    x, w = x[keep], w[keep]
    if not len(x):
        return float("nan")
    if not w.any():
        w = np.ones_like(w)
    return float(_tscore_from_sums((w * x).sum(), (w**2).sum(), w.sum(), rho))


def _as_of(as_of) -> pd.Timestamp:
    return pd.Timestamp.today().normalize() if as_of is None else pd.Timestamp(as_of)


def _ratings_known(targets: pd.DataFrame, ratings: pd.DataFrame, as_of) -> pd.DataFrame:
    """Ratings of known targets up to ``as_of``, in time order, with the target's pupil, area and weight."""
    r = ratings[["target_id", "rated_on", "gas_score"]].copy()
    r["rated_on"] = pd.to_datetime(r["rated_on"])
    r["gas_score"] = pd.to_numeric(r["gas_score"], errors="coerce")
    r = r.dropna(subset=["rated_on", "gas_score"])
    if as_of is not None:
        r = r[r["rated_on"] <= pd.Timestamp(as_of)]
    info = targets[["target_id", "student_id", "area"]].assign(weight=_weights(targets))
    r = r.merge(info, on="target_id", how="inner")  # a rating of an unknown target is rejected at ingest
    # Stable order: by date, then by the order the ratings arrived (same-day duplicates keep the last).
    return r.reset_index(names="_row").sort_values(["target_id", "rated_on", "_row"], kind="stable")


def _weights(targets: pd.DataFrame) -> pd.Series:
    if "weight" not in targets:
        return pd.Series(1.0, index=targets.index)
    return pd.to_numeric(targets["weight"], errors="coerce").fillna(1.0).astype(float)


def target_progress(targets: pd.DataFrame, ratings: pd.DataFrame, as_of=None) -> pd.DataFrame:
    """One row per target: its ratings so far, first and latest score, change, trajectory and whether on track.

    - ``ratings``: how many ratings up to ``as_of`` (default: all); ``change`` = latest - first score.
    - ``trajectory``: "not rated", "one rating", else the sign of Kendall's S over the ratings in date order
      (each later rating compared with each earlier one: more rises than falls -> "improving", more falls ->
      "declining", balanced -> "steady"). This reads the whole run, so one bad day after steady gains does not
      flip an improving target (Kendall, M. G. (1938). A new measure of rank correlation. Biometrika 30).
    - ``on_track`` (our rule, documented for readers): True when the latest rating is at or above the expected
      level (>= 0), or when the target is improving and its review date has not yet passed on ``as_of``
      (default today; a target with no review date has no deadline). False otherwise; NA when not rated.
    """
    when = _as_of(as_of)
    r = _ratings_known(targets, ratings, as_of)
    g = r.groupby("target_id", sort=False)
    summary = pd.DataFrame({
        "ratings": g.size(),
        "first_score": g["gas_score"].first(),
        "latest_score": g["gas_score"].last(),
        "latest_rated_on": g["rated_on"].last(),
    })
    # Kendall's S per target, vectorised: all (earlier, later) pairs of the same target via a self-merge.
    r = r.assign(_pos=g.cumcount())
    pairs = r[["target_id", "_pos", "gas_score"]].merge(r[["target_id", "_pos", "gas_score"]], on="target_id",
                                                        suffixes=("", "_later"))
    pairs = pairs[pairs["_pos_later"] > pairs["_pos"]]
    s = np.sign(pairs["gas_score_later"] - pairs["gas_score"]).groupby(pairs["target_id"]).sum()
    summary["_s"] = s.reindex(summary.index).fillna(0)

    cols = ["target_id", "student_id", "area", "description", "review_on"]
    out = targets.reindex(columns=cols).merge(summary, left_on="target_id", right_index=True, how="left")
    out["ratings"] = out["ratings"].fillna(0).astype("Int64")
    for col in ("first_score", "latest_score"):
        out[col] = out[col].round().astype("Int64")
    out["latest_rated_on"] = pd.to_datetime(out["latest_rated_on"])
    out["change"] = (out["latest_score"] - out["first_score"]).astype("Int64")
    n = out["ratings"].to_numpy(dtype=int)
    s = out["_s"].fillna(0).to_numpy()
    out["trajectory"] = np.select(
        [n == 0, n == 1, s > 0, s < 0], ["not rated", "one rating", "improving", "declining"], "steady")
    review = pd.to_datetime(out["review_on"])
    before_review = review.isna() | (review >= when)
    on_track = (out["latest_score"] >= 0).fillna(False) | ((out["trajectory"] == "improving") & before_review)
    out["on_track"] = pd.array(on_track.to_numpy(dtype=bool), dtype="boolean")
    out.loc[n == 0, "on_track"] = pd.NA
    return out.drop(columns="_s").reset_index(drop=True)[
        cols + ["ratings", "first_score", "latest_score", "latest_rated_on", "change", "trajectory", "on_track"]]


def _terms(term_dates: dict | None, dates: pd.Series) -> pd.DataFrame:
    """The review periods: the school's terms in date order, or academic years (1 September) without them."""
    terms = (term_dates or {}).get("terms") or []
    if terms:
        out = pd.DataFrame({"term": [str(t.get("name") or f"Term from {t['start']}") for t in terms],
                            "term_start": [pd.Timestamp(t["start"]) for t in terms]})
    else:
        years = pd.to_datetime(dates).dropna()
        years = (years.dt.year - (years.dt.month < 9)).unique() if len(years) else []
        out = pd.DataFrame({"term": [f"{y}/{str(y + 1)[-2:]}" for y in sorted(years)],
                            "term_start": [pd.Timestamp(int(y), 9, 1) for y in sorted(years)]})
    out["term_start"] = out["term_start"].astype("datetime64[us]")
    return out.sort_values("term_start", kind="stable").reset_index(drop=True)


def tscores(targets: pd.DataFrame, ratings: pd.DataFrame, term_dates: dict | None, as_of=None) -> pd.DataFrame:
    """GAS T-scores per pupil and term: one row per area of need and one for "All areas".

    A rating belongs to the term that contains its date or, in a holiday, the term just before it (ratings from
    before the first known term count in the first term). For a pupil and a term in which the pupil has at
    least one rating, every target rated so far contributes its latest rating up to the end of that term (so a
    target not re-rated this term still counts, at its last known level), weighted by ``targets.weight``
    (default 1). Without term dates the periods are academic years starting 1 September.
    Columns: student_id, term, term_start, area, targets (how many contributed), tscore.
    """
    cols = ["student_id", "term", "term_start", "area", "targets", "tscore"]
    r = _ratings_known(targets, ratings, as_of)
    if r.empty:
        return pd.DataFrame({c: pd.Series(dtype=t) for c, t in zip(
            cols, ["object", "object", "datetime64[us]", "object", "Int64", "float64"])})
    terms = _terms(term_dates, r["rated_on"])
    starts = terms["term_start"].to_numpy(dtype="datetime64[us]")
    r["term_no"] = np.maximum(np.searchsorted(starts, r["rated_on"].to_numpy(dtype="datetime64[us]"),
                                              side="right") - 1, 0)
    # The terms to report per pupil: those with at least one rating of theirs.
    pupil_terms = r[["student_id", "term_no"]].drop_duplicates()
    # Latest rating of each target in each term, then carried into every later reported term of its pupil.
    per_term = r.groupby(["target_id", "term_no"], sort=False).tail(1)
    latest = pupil_terms.merge(per_term, on="student_id", suffixes=("", "_rated"))
    latest = latest[latest["term_no_rated"] <= latest["term_no"]]
    latest = latest.sort_values(["term_no_rated", "rated_on", "_row"], kind="stable")
    latest = latest.groupby(["student_id", "term_no", "target_id"], sort=False).tail(1)

    w, x = latest["weight"].to_numpy(dtype=float), latest["gas_score"].to_numpy(dtype=float)
    latest = latest.assign(_wx=w * x, _w2=w**2, _w=w, _x=x, _n=1)
    both = pd.concat([latest, latest.assign(area=ALL_AREAS)], ignore_index=True)
    sums = both.groupby(["student_id", "term_no", "area"], sort=False, dropna=False)[
        ["_wx", "_w2", "_w", "_x", "_n"]].sum().reset_index()
    # All-zero weights in a group mean "no weighting": equal weights, as gas_tscore does.
    zero = sums["_w"] == 0
    sums.loc[zero, ["_wx", "_w2", "_w"]] = sums.loc[zero, ["_x", "_n", "_n"]].to_numpy(dtype=float)
    sums["tscore"] = _tscore_from_sums(sums["_wx"], sums["_w2"], sums["_w"])
    sums["targets"] = sums["_n"].astype("Int64")
    out = sums.merge(terms, left_on="term_no", right_index=True)
    # Per pupil and term, the areas in name order with "All areas" last.
    out["_all"] = out["area"] == ALL_AREAS
    out = out.sort_values(["student_id", "term_start", "_all", "area"], kind="stable")
    return out[cols].reset_index(drop=True)
