"""GAS T-scores and target progress, against published and hand-worked figures.

Formula (Kiresuk & Sherman 1968; Turner-Stokes 2009, Clin Rehabil 23(4) 362-370):
    T = 50 + 10 sum(w x) / sqrt((1 - rho) sum(w^2) + rho (sum w)^2), rho = 0.3.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from kwanalytics.metrics.targets import ALL_AREAS, gas_tscore, target_progress, tscores

SEMH = "SEMH"
CI = "Communication and Interaction"

TERMS = {"terms": [
    {"name": "Autumn 1 2025", "start": "2025-09-03", "end": "2025-10-24"},
    {"name": "Autumn 2 2025", "start": "2025-11-03", "end": "2025-12-19"},
    {"name": "Spring 1 2026", "start": "2026-01-05", "end": "2026-02-13"},
]}


def _targets(rows):
    df = pd.DataFrame(rows, columns=["target_id", "student_id", "area", "description", "review_on", "weight"])
    df["review_on"] = pd.to_datetime(df["review_on"]).astype("datetime64[us]")
    df["weight"] = df["weight"].astype(float)
    return df


def _ratings(rows):
    df = pd.DataFrame(rows, columns=["target_id", "rated_on", "gas_score"])
    df["rated_on"] = pd.to_datetime(df["rated_on"]).astype("datetime64[us]")
    df["gas_score"] = df["gas_score"].astype("Int64")
    return df


# --- gas_tscore -------------------------------------------------------------------------------------------------

def test_all_expected_is_fifty():
    assert gas_tscore([0, 0, 0]) == 50.0
    assert gas_tscore([0, 0], weights=[3, 1]) == 50.0


def test_gasr_help_example_hand_worked():
    # Example in the gasr R package's calc_tscore help (github.com/taylordunn/gasr, R/calculate.R):
    # scores -2 0 -1 2 0 1, weights 3 5 1 4 2 6. By hand: sum wx = -6 - 1 + 8 + 6 = 7; sum w^2 = 91;
    # sum w = 21; 0.7 * 91 + 0.3 * 441 = 63.7 + 132.3 = 196 = 14^2, so T = 50 + 70 / 14 = 55 exactly.
    assert gas_tscore([-2, 0, -1, 2, 0, 1], weights=[3, 5, 1, 4, 2, 6]) == pytest.approx(55.0)


def test_equal_weights_hand_worked():
    # Three equally weighted goals all at -1 (the usual baseline level, Turner-Stokes 2009):
    # T = 50 - 30 / sqrt(0.7*3 + 0.3*9) = 50 - 30 / sqrt(4.8) = 36.307...
    assert gas_tscore([-1, -1, -1]) == pytest.approx(50 - 30 / math.sqrt(4.8))
    assert gas_tscore([-1, -1, -1]) == pytest.approx(36.3069, abs=1e-4)
    # One goal: the denominator is w, so T = 50 + 10 x whatever the weight.
    assert gas_tscore([2], weights=[4]) == pytest.approx(70.0)
    # Two goals, +1 and +2: 50 + 30 / sqrt(1.4 + 1.2) = 50 + 30 / sqrt(2.6) = 68.6052...
    assert gas_tscore([1, 2]) == pytest.approx(68.6052, abs=1e-4)


def test_rho_changes_the_scale():
    # rho = 0: goals independent -> 50 + 10 * 3 / sqrt(3) = 67.32; rho must stay below 1.
    assert gas_tscore([1, 1, 1], rho=0.0) == pytest.approx(50 + 30 / math.sqrt(3))
    with pytest.raises(ValueError):
        gas_tscore([1], rho=1.0)


def test_missing_scores_and_weights():
    assert gas_tscore([np.nan, 1], weights=[5, 1]) == pytest.approx(60.0)
    assert gas_tscore([1, -1], weights=[np.nan, 1]) == pytest.approx(50.0)  # missing weight counts as 1
    assert gas_tscore([1, 1], weights=[0, 0]) == pytest.approx(gas_tscore([1, 1]))  # no weighting
    assert math.isnan(gas_tscore([]))
    with pytest.raises(ValueError):
        gas_tscore([1, 2], weights=[1])
    with pytest.raises(ValueError):
        gas_tscore([1, 2], weights=[1, -1])


# --- target_progress --------------------------------------------------------------------------------------------

@pytest.fixture()
def plan():
    targets = _targets([
        ("T1", "S1", SEMH, "Uses a calm-down strategy", "2025-12-01", 2.0),
        ("T2", "S1", CI, "Asks for help with words", "2026-07-01", None),
        ("T3", "S2", SEMH, "Joins group work", None, 1.0),
        ("T4", "S2", CI, "Greets staff", "2026-07-01", 1.0),
        ("T5", "S2", SEMH, "Stays in class", "2025-10-01", 1.0),
    ])
    ratings = _ratings([
        ("T1", "2025-09-10", -2),
        ("T1", "2025-10-30", -1),  # half-term holiday: belongs to Autumn 1
        ("T1", "2025-11-20", -1),
        ("T2", "2025-09-12", 0),
        ("T2", "2026-01-10", 1),
        ("T4", "2025-09-15", 0),
        ("T4", "2025-11-10", -1),
        ("T5", "2025-09-15", -1),
        ("T5", "2025-09-25", 0),
        ("T5", "2025-11-05", -1),
        ("T5", "2026-01-20", -1),
        ("T9", "2025-09-10", 2),  # unknown target: ignored
    ])
    return targets, ratings


def test_target_progress_figures(plan):
    targets, ratings = plan
    out = target_progress(targets, ratings, as_of="2026-01-31").set_index("target_id")
    assert list(out.columns) == ["student_id", "area", "description", "review_on", "ratings", "first_score",
                                 "latest_score", "latest_rated_on", "change", "trajectory", "on_track"]
    assert len(out) == 5  # every target, rated or not; the unknown T9 is not invented

    t1 = out.loc["T1"]
    assert (t1.ratings, t1.first_score, t1.latest_score, t1.change) == (3, -2, -1, 1)
    assert t1.latest_rated_on == pd.Timestamp("2025-11-20")
    # Kendall S over -2, -1, -1 = +1 +1 0 = 2 -> improving; but below expected and review (1 Dec) has passed.
    assert t1.trajectory == "improving"
    assert t1.on_track == False  # noqa: E712

    t2 = out.loc["T2"]
    assert (t2.trajectory, bool(t2.on_track), t2.change) == ("improving", True, 1)

    t3 = out.loc["T3"]
    assert t3.ratings == 0 and t3.trajectory == "not rated" and pd.isna(t3.on_track) and pd.isna(t3.change)

    t4 = out.loc["T4"]
    # 0 then -1: declining, below expected -> not on track.
    assert (t4.trajectory, bool(t4.on_track), t4.change) == ("declining", False, -1)

    t5 = out.loc["T5"]
    # -1, 0, -1, -1: S = (+1 0 0) + (-1 -1) + 0 = -1 -> declining (the one good rating was not kept up).
    assert (t5.trajectory, t5.change, bool(t5.on_track)) == ("declining", 0, False)


def test_target_progress_as_of_and_review_rule(plan):
    targets, ratings = plan
    early = target_progress(targets, ratings, as_of="2025-11-25").set_index("target_id")
    # On 25 Nov T1 is improving and its review (1 Dec) is still ahead: on track.
    assert early.loc["T1", "on_track"] == True  # noqa: E712
    assert early.loc["T2", "ratings"] == 1 and early.loc["T2", "trajectory"] == "one rating"
    # One rating at the expected level is on track; T2's 0 >= 0.
    assert early.loc["T2", "on_track"] == True  # noqa: E712
    # T5 on 25 Nov: -1, 0, -1 -> S = +1 + 0 - 1 = 0 -> steady, below expected -> not on track.
    assert early.loc["T5", "trajectory"] == "steady" and early.loc["T5", "on_track"] == False  # noqa: E712


def test_target_progress_dtypes(plan):
    targets, ratings = plan
    out = target_progress(targets, ratings, as_of="2026-01-31")
    assert str(out["ratings"].dtype) == "Int64"
    assert str(out["latest_score"].dtype) == "Int64"
    assert str(out["on_track"].dtype) == "boolean"
    assert pd.api.types.is_datetime64_any_dtype(out["latest_rated_on"])


# --- tscores ----------------------------------------------------------------------------------------------------

def test_tscores_per_term_area_and_overall(plan):
    targets, ratings = plan
    out = tscores(targets, ratings, TERMS, as_of="2026-01-31")
    assert list(out.columns) == ["student_id", "term", "term_start", "area", "targets", "tscore"]
    s1 = out[out.student_id == "S1"].set_index(["term", "area"])["tscore"]
    # Autumn 1: T1 latest -1 (30 Oct, in half term, weight 2), T2 0 (weight missing -> 1).
    # SEMH: one goal -> 50 + 10 * -1 = 40. All areas: sum wx = -2, sum w^2 = 5, sum w = 3:
    # 50 - 20 / sqrt(3.5 + 2.7) = 50 - 20 / sqrt(6.2) = 41.9678...
    assert s1[("Autumn 1 2025", SEMH)] == pytest.approx(40.0)
    assert s1[("Autumn 1 2025", CI)] == pytest.approx(50.0)
    assert s1[("Autumn 1 2025", ALL_AREAS)] == pytest.approx(50 - 20 / math.sqrt(6.2))
    # Autumn 2: T1 re-rated -1, T2 carried at 0: same figures.
    assert s1[("Autumn 2 2025", ALL_AREAS)] == pytest.approx(50 - 20 / math.sqrt(6.2))
    # Spring 1: T2 now +1 -> sum wx = -1: 50 - 10 / sqrt(6.2) = 45.9839...
    assert s1[("Spring 1 2026", ALL_AREAS)] == pytest.approx(45.9839, abs=1e-4)
    assert s1[("Spring 1 2026", CI)] == pytest.approx(60.0)
    # "All areas" comes last within each pupil and term; term_start is the term's first day.
    first = out[out.student_id == "S1"].head(3)
    assert first["area"].tolist()[-1] == ALL_AREAS
    assert (first["term_start"] == pd.Timestamp("2025-09-03")).all()


def test_tscores_only_terms_with_ratings_and_targets_count(plan):
    targets, ratings = plan
    out = tscores(targets, ratings, TERMS, as_of="2026-01-31")
    s2 = out[(out.student_id == "S2") & (out.area == ALL_AREAS)].set_index("term")
    # S2 has ratings in every term (T4, T5); T3 never rated so never counts.
    assert s2["targets"].tolist() == [2, 2, 2]
    # Autumn 1: T4 0, T5 latest 0 (25 Sep) -> 50. Autumn 2: T4 -1, T5 -1 -> 50 - 20 / sqrt(1.4 + 1.2).
    assert s2.loc["Autumn 1 2025", "tscore"] == pytest.approx(50.0)
    assert s2.loc["Autumn 2 2025", "tscore"] == pytest.approx(50 - 20 / math.sqrt(2.6))
    # Spring 1: T5 -1 (20 Jan), T4 carried at -1 -> same.
    assert s2.loc["Spring 1 2026", "tscore"] == pytest.approx(50 - 20 / math.sqrt(2.6))


def test_tscores_as_of_cuts_ratings(plan):
    targets, ratings = plan
    out = tscores(targets, ratings, TERMS, as_of="2025-10-31")
    assert set(out["term"]) == {"Autumn 1 2025"}
    s1 = out[(out.student_id == "S1") & (out.area == SEMH)]
    assert s1["tscore"].item() == pytest.approx(40.0)


def test_tscores_before_first_term_and_without_term_dates():
    targets = _targets([("T1", "S1", SEMH, "x", None, 1.0)])
    ratings = _ratings([("T1", "2025-08-20", -2), ("T1", "2026-03-01", 1)])
    out = tscores(targets, ratings, TERMS, as_of="2026-06-30")
    # August (before the first term) counts in the first term; 1 March falls after Spring 1 -> Spring 1.
    assert out[out.area == ALL_AREAS][["term", "tscore"]].values.tolist() == [
        ["Autumn 1 2025", 30.0], ["Spring 1 2026", 60.0]]
    # Without term dates: academic years from 1 September.
    years = tscores(targets, ratings, {}, as_of="2026-06-30")
    assert years[years.area == ALL_AREAS][["term", "tscore"]].values.tolist() == [
        ["2024/25", 30.0], ["2025/26", 60.0]]


def test_tscores_zero_weights_mean_equal_weights():
    targets = _targets([("T1", "S1", SEMH, "x", None, 0.0), ("T2", "S1", SEMH, "y", None, 0.0)])
    ratings = _ratings([("T1", "2025-09-10", 1), ("T2", "2025-09-10", 2)])
    out = tscores(targets, ratings, TERMS)
    assert out[out.area == ALL_AREAS]["tscore"].item() == pytest.approx(gas_tscore([1, 2]))


def test_tscores_empty():
    out = tscores(_targets([]), _ratings([]), TERMS)
    assert out.empty and list(out.columns) == ["student_id", "term", "term_start", "area", "targets", "tscore"]


def test_tscores_agree_with_gas_tscore_on_random_cohort():
    # Vectorised groupby against the scalar formula, pupil by pupil, on a synthetic cohort.
    rng = np.random.default_rng(7)
    n_pupils, per_pupil = 60, 5
    tid = [f"T{p}-{k}" for p in range(n_pupils) for k in range(per_pupil)]
    targets = _targets([(t, t.split("-")[0].replace("T", "S"), [SEMH, CI][k % 2], "", None, float(rng.integers(1, 4)))
                        for k, t in enumerate(tid)])
    dates = pd.Timestamp("2025-09-04") + pd.to_timedelta(rng.integers(0, 150, 3000), unit="D")
    ratings = _ratings(list(zip(rng.choice(tid, 3000), dates, rng.integers(-2, 3, 3000))))
    out = tscores(targets, ratings, TERMS)
    last = ratings.sort_values("rated_on", kind="stable").merge(targets, on="target_id")
    last = last[last["rated_on"] < pd.Timestamp("2026-01-05")]  # everything up to the end of Autumn 2
    pick = out[(out.term == "Autumn 2 2025") & (out.area == ALL_AREAS)].head(10)
    for sid, t in zip(pick["student_id"], pick["tscore"]):
        mine = last[last.student_id == sid].groupby("target_id").tail(1)
        assert t == pytest.approx(gas_tscore(mine["gas_score"].astype(float), mine["weight"]))
