"""The demo school end to end: what `make demo` does, checked against what the demo planted.

One demo workspace per test session (built once, see conftest's ``demo_workspace``); these tests read it.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from kwanalytics.calendar import calendar_for
from kwanalytics.settings import load_settings
from kwanalytics.store import load_tables

pytestmark = pytest.mark.xdist_group("demo")
KWA = str(Path(sys.executable).with_name("kwa"))


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    ws = tmp_path_factory.mktemp("demo")
    subprocess.run([KWA, "demo", "--workspace", str(ws)], check=True, capture_output=True)
    proc = subprocess.run([KWA, "ingest", "--workspace", str(ws)], capture_output=True, text=True)
    truth = json.loads((ws / "data" / "demo_truth.json").read_text())
    return ws, proc, truth


def test_ingest_of_demo_loses_nothing_and_rejects_the_planted_mistakes(demo):
    ws, proc, truth = demo
    assert proc.returncode == 1, proc.stderr  # the demo plants mistakes on purpose
    assert "Traceback" not in proc.stderr + proc.stdout
    summary = json.loads((ws / "data/processed/ingest_summary.json").read_text())
    for f in summary["files"]:
        assert f["rows_read"] == f["accepted"] + f["rejected"] + f["duplicates"] + f.get("skipped", 0), f
    rejected = sum(f["rejected"] for f in summary["files"])
    planted_rejections = [m for m in truth["mistakes"] if m["kind"] not in ("warning", "hostile text")]
    assert rejected >= len([m for m in planted_rejections if m["kind"] != "exact duplicate"])
    assert sum(f["duplicates"] for f in summary["files"]) >= 1
    for path in (ws / "data/processed").glob("*.parquet"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_the_demo_session_log_ingests_with_only_its_example_skipped(demo):
    ws, _, truth = demo
    summary = json.loads((ws / "data/processed/ingest_summary.json").read_text())
    log = [f for f in summary["files"] if f["path"] == truth["session_log"]["file"]]
    assert [(f["sheet"], f["profile"], f["rows_read"], f["accepted"], f["rejected"], f["skipped"]) for f in log] == [
        ("Sessions", "template", 38, 37, 0, 1)]
    sessions = load_tables(ws, ["sessions"])["sessions"]
    logged = sessions[sessions["notes"].str.endswith("of the summer log", na=False)]
    assert len(logged) == 37 and set(logged["student_id"]) == set(truth["session_log"]["pupils"])


def test_second_ingest_changes_nothing(demo):
    ws, _, _ = demo
    before = {p.name: pd.read_parquet(p) for p in (ws / "data/processed").glob("*.parquet")}
    proc = subprocess.run([KWA, "ingest", "--workspace", str(ws)], capture_output=True, text=True)
    assert proc.returncode == 1
    after = {p.name: pd.read_parquet(p) for p in (ws / "data/processed").glob("*.parquet")}
    assert before.keys() == after.keys()
    for name in before:
        pd.testing.assert_frame_equal(before[name], after[name], obj=name)


def test_impact_separates_improvers_from_no_change(demo):
    from kwanalytics.metrics.impact import enrolment_impact

    ws, _, truth = demo
    tables, settings = load_tables(ws), load_settings(ws)
    enrol = enrolment_impact(tables, calendar_for(tables, settings), settings)
    verdict = enrol.groupby("student_id")["verdict"].agg(list)
    improves = [p["student_id"] for p in truth["planted"] if p["kind"] == "improves"]
    no_change = [p["student_id"] for p in truth["planted"] if p["kind"] == "no_change"]
    assert improves and no_change
    fell = [s for s in improves if "clearly fewer incidents" in verdict.get(s, [])]
    assert len(fell) == len(improves), (fell, verdict.reindex(improves))
    wrongly = [s for s in no_change if "clearly fewer incidents" in verdict.get(s, [])]
    assert not wrongly, verdict.reindex(no_change)


def test_watchlist_finds_every_planted_pattern_and_no_scattered_pupil(demo):
    from kwanalytics.metrics.patterns import watchlist

    ws, _, truth = demo
    tables, settings = load_tables(ws), load_settings(ws)
    wl = watchlist(tables["incidents"], tables["students"], tables["sessions"], calendar_for(tables, settings),
                   settings, interventions=tables["interventions"])
    flagged = wl.groupby("student_id")["pattern"].agg(set)
    kinds = {"cluster", "time", "place", "trigger", "escalation"}
    planted = [p for p in truth["planted"] if p["kind"] in kinds]
    missed = [p for p in planted if p["kind"] not in flagged.get(p["student_id"], set())]
    assert not missed, missed
    calm = [p["student_id"] for p in truth["planted"] if p["kind"] in ("scattered", "quiet")]
    false_alarms = [s for s in calm if s in flagged.index]
    assert not false_alarms, wl[wl.student_id.isin(false_alarms)][["student_id", "pattern", "evidence"]]
    assert wl["evidence"].str.len().min() > 30
