"""Sessions, budgets and risk assessments, checked by hand on small synthetic frames."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from kwanalytics.metrics.sessions import (budget_summary, offsite_without_ra, outdated_risk_assessments,
                                  session_summary)
from kwanalytics.settings import load_settings


def _d(values):
    return pd.to_datetime(pd.Series(values)).astype("datetime64[us]")


def _sessions():
    return pd.DataFrame({
        "session_id": [f"s{i}" for i in range(1, 8)],
        "student_id": ["A", "A", "A", "A", "A", "B", "B"],
        "date": _d(["2025-09-08", "2025-09-15", "2025-09-22", "2025-09-29", "2025-10-06", "2025-09-10",
                    "2025-11-12"]),
        "duration_minutes": pd.array([60, 30, 90, 45, 15, 120, 60], dtype="Int64"),
        "format": ["one-to-one", "one-to-one", "small-group", "one-to-one", "1:1", "small group", "one-to-one"],
        "setting": ["on-site", "community", "community", "on-site", "on site", "community", "on-site"],
        "activity": ["Cooking", "Café visit", "Cooking", "Reading", "Cooking", "Swimming", "Reading"],
        "venue": [np.nan, "Costa", "Kitchen", np.nan, np.nan, "Leisure centre", np.nan],
        # Session 4 of A had no rating: the trend runs over the 4 rated sessions in date order.
        "engagement": pd.array([2, 3, 3, pd.NA, 5, 4, 4], dtype="Int64"),
        "cost_gbp": [10.0, 25.0, 15.0, 10.0, 5.0, 40.0, 20.0],
        "skills": ["English; social", "maths (money)", "Maths; social", np.nan, "reading", "Social", ""],
        "risk_assessment_id": [np.nan, "RA-1", np.nan, np.nan, np.nan, np.nan, np.nan],
    })


def test_session_summary_by_hand():
    out = session_summary(_sessions()).set_index("student_id")
    a, b = out.loc["A"], out.loc["B"]
    assert a["sessions"] == 5 and a["hours"] == pytest.approx(4.0)  # 60+30+90+45+15 = 240 minutes
    assert a["hours_on_site"] == pytest.approx(2.0) and a["hours_community"] == pytest.approx(2.0)
    assert (a["one_to_one"], a["small_group"]) == (4, 1)
    assert a["mean_engagement"] == pytest.approx(13 / 4)
    # Theil-Sen over (0, 2), (1, 3), (2, 3), (3, 5): pairwise slopes 1, .5, 1, 0, 1, 2 -> median 1 per session.
    assert stats.theilslopes([2, 3, 3, 5], [0, 1, 2, 3]).slope == pytest.approx(1.0)
    assert a["engagement_trend"] == pytest.approx(10.0)
    assert a["activities"] == "Cooking (3), Café visit (1), Reading (1)"
    # English: s1, s5 ("reading" counts as English); maths: s2, s3; social: s1, s3.
    assert (a["skills_english"], a["skills_maths"], a["skills_social"]) == (2, 2, 2)
    assert b["sessions"] == 2 and b["hours_community"] == pytest.approx(2.0) and b["hours_on_site"] == 1.0
    assert np.isnan(b["engagement_trend"])  # two rated sessions are too few for a trend
    assert (b["skills_english"], b["skills_maths"], b["skills_social"]) == (0, 0, 1)


def _interventions():
    return pd.DataFrame({"enrolment_id": ["E1"], "student_id": ["B"], "programme": ["Forest School"],
                         "started_on": _d(["2025-09-01"]), "ended_on": _d(["2025-12-19"])})


def test_budget_spend_by_hand():
    ses = _sessions()
    ses.loc[ses["session_id"] == "s7", "activity"] = "Forest school"  # B's Forest School session (a spelling)
    budget = pd.DataFrame({
        "budget_id": ["B-A", "B-A-SPRING", "B-FS", "B-ALL", "B-AUT"],
        "scope": ["student", "student", "programme", "general", "general"],
        "scope_id": ["A", "A", "Forest school sessions", np.nan, np.nan],
        "period_start": _d(["2025-09-01", "2026-01-05", None, None, "2025-09-01"]),
        "period_end": _d(["2025-09-30", "2026-03-31", None, None, "2025-09-30"]),
        "amount_gbp": [40.0, 100.0, 50.0, 1000.0, 60.0],
    })
    t = {"sessions": ses, "budget": budget, "interventions": _interventions()}
    out = budget_summary(t, load_settings(None)).set_index("budget_id")
    # Each session is charged to one line: the pupil's own, else a programme's it delivers, else a general one
    # (the shorter period first). A's September line pays for s1-s4 = 10 + 25 + 15 + 10 = 60: overspent by 20.
    assert out.loc["B-A", "spent_gbp"] == pytest.approx(60.0) and out.loc["B-A", "remaining_gbp"] == pytest.approx(-20)
    assert out.loc["B-A-SPRING", "spent_gbp"] == 0
    # Forest School: only s7 (B is enrolled, the activity is the programme); B's swimming is not.
    assert out.loc["B-FS", "spent_gbp"] == pytest.approx(20.0) and out.loc["B-FS", "remaining_gbp"] == 30.0
    # General: s6 (B's September swimming, 40) goes to the September line, the shorter of the two general ones;
    # s5 (A in October, 5) only the open line covers.
    assert out.loc["B-AUT", "spent_gbp"] == pytest.approx(40.0)
    assert out.loc["B-ALL", "spent_gbp"] == pytest.approx(5.0)
    # Nothing counted twice, nothing lost: the lines add up to the sessions' cost (125).
    assert out["spent_gbp"].sum() == pytest.approx(_sessions()["cost_gbp"].sum()) == pytest.approx(125.0)
    assert list(out.columns) == ["scope", "scope_id", "period_start", "period_end", "amount_gbp", "spent_gbp",
                                 "remaining_gbp"]


def test_offsite_sessions_without_a_current_risk_assessment():
    ses = _sessions()  # community sessions: s2 (A, Café, names RA-1), s3 (A, Cooking, Kitchen), s6 (B, Swimming)
    ra = pd.DataFrame({
        "ra_id": ["RA-1", "RA-2", "RA-3"],
        "student_id": ["A", "B", np.nan],
        "activity": ["Café visit", "Swimming", "Cooking"],
        "venue": [np.nan, np.nan, "Kitchen"],
        "assessed_on": _d(["2025-09-01", "2025-09-01", "2025-10-01"]),
        "review_by": _d(["2025-12-31", "2025-09-05", None]),
    })
    out = offsite_without_ra(ses, ra).set_index("session_id")
    assert list(out.index) == ["s6", "s3"]  # by date: 10 Sep, 22 Sep
    assert out.loc["s6", "reason"] == "risk assessment RA-2 was due for review on 05/09/2025"
    assert out.loc["s3", "reason"] == "risk assessment RA-3 was only made on 01/10/2025"
    # With no assessments at all every community session is listed.
    none = offsite_without_ra(ses, ra.iloc[0:0])
    assert sorted(none["session_id"]) == ["s2", "s3", "s6"]
    assert none.set_index("session_id").loc["s2", "reason"] == "names risk assessment RA-1, which is not in the records"
    assert none.set_index("session_id").loc["s6", "reason"].startswith("no risk assessment recorded")


def test_outdated_risk_assessments():
    inc = pd.DataFrame({
        "incident_id": [f"i{i}" for i in range(6)],
        "student_id": ["A", "A", "A", "A", "B", "C"],
        "occurred_at": _d(["2025-09-10", "2025-10-20", "2025-11-05", "2025-11-20", "2025-12-01", "2025-12-01"]),
        "category": ["Defiance", "Physical aggression", "Absconding", "Self-harm", "Defiance", "Defiance"],
    })
    ra = pd.DataFrame({
        "ra_id": ["A-old", "A-new", "B-1"],
        "student_id": ["A", "A", "B"],
        "assessed_on": _d(["2025-06-01", "2025-10-01", "2025-09-01"]),
        # The newer one covers Absconding (spelt loosely): the new behaviours are aggression and self-harm.
        "behaviours_covered": [np.nan, "defiance; absconding", "Defiance"],
    })
    out = outdated_risk_assessments(inc, ra)
    assert list(out["student_id"]) == ["A"]  # B's only behaviour is covered; C has no assessment
    row = out.iloc[0]
    assert row["ra_id"] == "A-new" and row["assessed_on"] == pd.Timestamp("2025-10-01")
    assert row["new_categories"] == "Physical aggression; Self-harm"
    assert row["first_seen"] == pd.Timestamp("2025-10-20")


def test_empty_inputs_give_empty_frames():
    assert session_summary(pd.DataFrame()).empty
    assert budget_summary({}).empty
    assert offsite_without_ra(pd.DataFrame(), pd.DataFrame()).empty
    assert outdated_risk_assessments(pd.DataFrame(), pd.DataFrame()).empty


def test_engagement_trend_is_scipys_theil_sen_slope_for_every_pupil():
    # The trend is computed for all pupils at once without scipy's per-call overhead: it must still be
    # scipy.stats.theilslopes (ties, flat runs and very short series included).
    from kwanalytics.metrics.sessions import _engagement_trends

    rng = np.random.default_rng(7)
    rows = []
    for p in range(40):
        n = int(rng.integers(1, 60))
        rows += [{"student_id": f"P{p:02d}", "engagement": float(v)} for v in rng.integers(1, 6, n)]
    rows += [{"student_id": "P99", "engagement": 3.0}] * 5  # flat: slope 0
    rated = pd.DataFrame(rows)
    got = _engagement_trends(rated)
    for sid, group in rated.groupby("student_id"):
        y = group["engagement"].to_numpy()
        want = (np.nan if len(y) < 3 else 10 * stats.theilslopes(y, np.arange(len(y))).slope)
        assert got[sid] == pytest.approx(want, nan_ok=True), sid


def _community(rows):
    return pd.DataFrame(rows, columns=["session_id", "student_id", "date", "setting", "activity", "venue",
                                       "risk_assessment_id"]).assign(date=lambda f: _d(f["date"]))


def test_risk_assessment_counts_only_where_its_activity_and_venue_match():
    from kwanalytics.ingest.risk_assessments import community_sessions_without_ra

    ses = _community([
        ["c1", "A", "2025-10-01", "community", "Café visit", "Costa", np.nan],  # A's Swimming RA does not cover it
        ["c2", "A", "2025-10-01", "community", "Swimming", "Leisure centre", np.nan],  # A's own Swimming RA
        ["c3", "B", "2025-10-01", "community", "Cooking", "Kitchen", np.nan],  # the school-wide Cooking RA
        ["c4", "B", "2025-10-01", "community", "Cooking", "Park", np.nan],  # school-wide RA is for the Kitchen
        ["c5", "B", "2025-10-01", "community", "Bus travel", "Town", "RA-A"],  # names A's RA: it applies
        ["c6", "B", "2025-10-01", "on-site", "Reading", np.nan, np.nan],  # on site: no assessment needed
    ])
    ra = pd.DataFrame({"ra_id": ["RA-A", "RA-ALL"], "student_id": ["A", np.nan], "activity": ["swimming", "Cooking"],
                       "venue": [np.nan, "Kitchen"], "assessed_on": _d(["2025-09-01", "2025-09-01"]),
                       "review_by": _d(["2026-08-31", "2026-08-31"])})
    out = community_sessions_without_ra(ses, ra, 12)
    assert out["session_id"].tolist() == ["c1", "c4"]
    assert set(out["reason"]) == {"no risk assessment recorded for this pupil and activity"}


def test_risk_assessment_without_review_date_holds_for_the_set_number_of_months():
    from kwanalytics.ingest.risk_assessments import community_sessions_without_ra

    ses = _community([["d1", "A", "2026-08-31", "community", "Swimming", np.nan, np.nan],
                      ["d2", "A", "2026-09-02", "community", "Swimming", np.nan, np.nan],
                      ["d3", "A", "2026-03-02", "community", "Swimming", np.nan, np.nan]])
    ra = pd.DataFrame({"ra_id": ["RA-1"], "student_id": ["A"], "activity": ["Swimming"], "venue": [np.nan],
                       "assessed_on": _d(["2025-09-01"]), "review_by": _d([None])})
    # 12 months from 1 September 2025 is 1 September 2026: d1 is covered, d2 is not.
    twelve = community_sessions_without_ra(ses, ra, 12)
    assert twelve["session_id"].tolist() == ["d2"]
    assert twelve["reason"][0] == "risk assessment RA-1 has no review date and held for 12 months, to 01/09/2026"
    # 6 months: to 1 March 2026, so d3 (2 March) is out too.
    assert community_sessions_without_ra(ses, ra, 6)["session_id"].tolist() == ["d3", "d1", "d2"]
    # The reports read the months from settings.yaml (12 as shipped).
    assert offsite_without_ra(ses, ra, load_settings(None))["session_id"].tolist() == ["d2"]


def test_ingest_warnings_and_the_reports_use_the_same_rule(tmp_path):
    """The sessions the ingest warns about are exactly those offsite_without_ra lists from the stored tables."""
    from kwanalytics.ingest.pipeline import run_ingest

    raw = tmp_path / "data/raw"
    raw.mkdir(parents=True)
    (raw / "students.csv").write_text("student_id\nS001\nS002\n")
    (raw / "ras.csv").write_text("ra_id,student_id,activity,venue,assessed_on,review_by\n"
                                 "RA1,S001,Swimming,,01/09/2025,31/10/2025\n"
                                 "RA2,,Cooking,Kitchen,01/09/2025,\n")
    (raw / "sessions.csv").write_text(
        "session_id,student_id,date,setting,format,activity,venue,risk_assessment_id\n"
        "SE1,S001,15/10/2025,community,1:1,Swimming,Pool,\n"  # the pupil's own, current
        "SE2,S001,15/10/2025,community,1:1,Café visit,Costa,\n"  # the pupil's RA is for swimming
        "SE3,S002,15/10/2025,community,1:1,Cooking,Kitchen,\n"  # school-wide, current
        "SE4,S002,15/10/2026,community,1:1,Cooking,Kitchen,\n"  # school-wide, no review date: 12 months
        "SE5,S001,15/11/2025,community,1:1,Swimming,Pool,RA1\n")  # RA1 was due for review on 31/10
    result = run_ingest(tmp_path, write=True)
    warned = sorted(w["where"] for w in result.warnings)
    assert warned == ["sessions.csv row 3", "sessions.csv row 5", "sessions.csv row 6"]
    stored = {t: pd.read_parquet(tmp_path / f"data/processed/{t}.parquet") for t in ("sessions", "risk_assessments")}
    listed = offsite_without_ra(stored["sessions"], stored["risk_assessments"], load_settings(tmp_path))
    assert listed["session_id"].tolist() == ["SE2", "SE5", "SE4"]
    assert any("due for review on 31/10/2025" in w["message"] for w in result.warnings)


def test_budget_scope_is_normalised_one_way_for_every_reader():
    from kwanalytics.metrics.sessions import budget_lines

    budget = pd.DataFrame({"budget_id": ["B1", "B2", "B3", "B4"], "scope": ["Pupil", "intervention", np.nan, "service"],
                           "scope_id": ["A", "Zones", np.nan, np.nan], "amount_gbp": ["10", 20.0, 30.0, 40.0]})
    lines = budget_lines(budget, load_settings(None))
    assert lines["scope"].tolist() == ["student", "programme", "general", "general"]
    assert lines["scope_id"].tolist()[:2] == ["A", "Zones of Regulation"]  # a programme's name, canonical
    assert lines["amount_gbp"].tolist() == [10.0, 20.0, 30.0, 40.0]
    # The pupil pack takes the pupil's own lines through it: a "Pupil" line is the pupil's.
    from kwanalytics.evidence.pupil import _own

    assert _own({"budget": budget}, "A", load_settings(None))["budget"]["budget_id"].tolist() == ["B1"]
