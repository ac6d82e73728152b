"""The reports agree with themselves and with each other, on the demo school (`kwa demo` + `kwa ingest`).

- totals shown beside their rows equal the rows added up, as shown (rounded once, at display);
- every pupil on the watchlist has a pack that shows each of their patterns, with the same evidence and p-value;
- a figure quoted in two reports (a pattern, an enrolment's verdict and rate ratio, the school days) is the same.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("consistency-demo")]


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    ws = tmp_path_factory.mktemp("consistency")
    kwa = str(Path(sys.executable).with_name("kwa"))
    subprocess.run([kwa, "demo", "--workspace", str(ws)], check=True, capture_output=True)
    ingest = subprocess.run([kwa, "ingest", "--workspace", str(ws)], capture_output=True, text=True)
    assert ingest.returncode in (0, 1), ingest.stderr[-2000:]  # 1: the demo's planted mistakes were rejected
    from kwanalytics.workspace import load_workspace

    return load_workspace(ws)


@pytest.fixture(scope="module")
def cohort(demo):
    from kwanalytics.evidence.cohort import cohort_sections

    return cohort_sections(demo.tables, demo.settings, demo.calendar, b"k" * 32)


@pytest.fixture(scope="module")
def patterns(demo):
    from kwanalytics.evidence.cohort import patterns_sections

    report = patterns_sections(demo.tables, demo.settings, demo.calendar)
    return pd.concat([report.tables["watchlist"], report.tables["escalations"]], ignore_index=True)


@pytest.fixture(scope="module")
def packs(demo, patterns):
    """The pack of every pupil on the watchlist and of every pupil in a programme."""
    from kwanalytics.evidence.pupil import evidence_pack

    ids = sorted(set(patterns["student_id"]) | set(demo.tables["interventions"]["student_id"]))
    return {sid: evidence_pack(demo.tables, demo.settings, sid, calendar=demo.calendar) for sid in ids}


def _number(text: str) -> float:
    return float(re.sub(r"[£,]", "", text))


def test_cohort_school_days_and_incidents_add_up(demo, cohort):
    from kwanalytics.calendar import data_period

    start, end = data_period(demo.tables)
    days = len(demo.calendar.between(start, end))
    assert days < len(demo.calendar)  # the term dates list more years than the demo's one year of records
    weekly = cohort.tables["incidents_weekly"]
    assert int(weekly["school_days"].sum()) == days
    incidents = len(demo.tables["incidents"])
    assert int(weekly["incidents"].sum()) == incidents
    pupils = demo.tables["incidents"]["student_id"].nunique()
    assert f"{incidents} incidents were recorded for {pupils} pupils over {days} school days." in cohort.summary
    breakdowns = cohort.tables["breakdowns"]
    for label, rows in breakdowns.groupby("breakdown"):
        if not rows["suppressed"].any():  # a suppressed group's incidents are hidden, by design
            assert int(rows["incidents"].sum()) == incidents, label


def test_cohort_cost_per_pupil_adds_up_to_the_total_quoted(cohort):
    from kwanalytics.evidence.display import display_frame

    shown = display_frame(cohort.tables["cost_per_pupil"])
    total = next(s for s in cohort.summary if s.startswith("Key-work sessions cost"))
    quoted = _number(re.search(r"cost (£[\d,.]+) in all", total).group(1))
    assert round(sum(_number(v) for v in shown["Cost"]), 2) == quoted


def test_every_watchlist_pupil_has_their_patterns_in_their_pack(patterns, packs):
    assert patterns["student_id"].nunique() >= 10
    for sid, rows in patterns.groupby("student_id"):
        pack = packs[sid]
        assert set(rows["pattern"]) <= set(pack.tables["patterns"]["pattern"]), sid
        technical = pack.tables["technical"]
        quoted = technical.loc[technical["about"] == "pattern"]
        for row in rows.itertuples():
            same = quoted.loc[quoted["what"] == row.pattern]
            assert row.evidence in set(same["detail"]), (sid, row.pattern)
            if pd.notna(row.p_value):
                assert row.p_value in set(same["p_value"]), (sid, row.pattern)


def test_each_pack_adds_up(packs):
    from kwanalytics.evidence.display import display_frame

    for sid, pack in packs.items():
        weekly = pack.tables["incidents_weekly"]
        incidents = int(weekly["incidents"].sum()) if len(weekly) else 0
        if incidents:
            assert any(s.startswith(f"{incidents} incident") for s in pack.summary), sid
            assert len(pack.tables["incident_log"]) == incidents, sid
            held = int(pack.tables["incident_log"]["physical_intervention"].fillna(False).astype(bool).sum())
            assert len(pack.tables["physical"]) == held, sid
        if len(pack.tables["activities"]):
            rows = sum(_number(h) for h in display_frame(pack.tables["activities"])["Hours"])
            total = pack.tables["sessions"].set_index("measure").loc["Hours in total", "value"]
            assert round(rows, 2) == _number(total), sid
            assert f"({total} hours" in " ".join(pack.summary), sid


def test_a_pack_quotes_the_same_programme_figures_as_the_cohort_report(demo, cohort, packs):
    from kwanalytics.evidence.privacy import pseudonym

    listed = cohort.tables["enrolments"]
    checked = 0
    for sid, pack in packs.items():
        programmes = pack.tables["interventions"]
        for row in programmes.itertuples():
            same = listed.loc[(listed["pupil"] == pseudonym(sid, b"k" * 32)) & (listed["programme"] == row.programme)
                              & (listed["started_on"] == row.started_on)]
            if same.empty:  # a programme too small to list one by one
                continue
            assert same["verdict"].iloc[0] == row.verdict, (sid, row.programme)
            technical = pack.tables["technical"]
            ratio = technical.loc[(technical["about"] == "programme") & (technical["what"] == row.programme),
                                  "rate_ratio"]
            assert same["rate_ratio"].iloc[0] in set(ratio) or pd.isna(same["rate_ratio"].iloc[0]), sid
            checked += 1
    assert checked >= 10


def test_patterns_report_says_each_next_step_once_and_loses_no_part_of_it(patterns):
    """The watchlist's rows in the report keep only what the legend of next steps and the evidence do not say."""
    from kwanalytics.evidence.patterns import dates_said_once, next_steps_legend, programme_notes
    from kwanalytics.metrics.patterns import NEXT_STEPS

    watch = patterns.loc[patterns["pattern"] != "escalation"]
    assert len(watch) > 20 and watch["pattern"].nunique() >= 4
    legend = next_steps_legend(watch)
    assert sorted(legend["pattern"]) == sorted(watch["pattern"].unique())
    assert not legend["next_step"].str.contains("{", regex=False).any()
    shown = dates_said_once(programme_notes(watch))
    assert len(shown) == len(watch) and "next_step" not in shown and "first_seen" not in shown
    assert shown["programmes"].ne("").any() and shown["programmes"].eq("").any()
    for (_, row), note in zip(watch.iterrows(), shown["programmes"]):
        head, _, what_tail = NEXT_STEPS[row["pattern"]].partition("{what}")
        step = row["next_step"]
        assert step.startswith(head) and step.endswith(note)
        assert step[: len(step) - len(note)].rstrip().endswith(what_tail)
        # the dates left out of the table are in the evidence
        for day in (row["first_seen"], row["last_seen"]):
            assert f"{pd.Timestamp(day):%d/%m/%Y}" in row["evidence"], (row["evidence"], day)
