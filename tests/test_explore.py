"""notebooks/explore.ipynb and the slicing functions behind it (issue 18): hand-worked counts on small frames,
and the notebook itself executed with papermill on the small synthetic workspace (conftest)."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from kwanalytics.errors import InputError
from kwanalytics.evidence.explore import (Slice, choose, incidents_by, overview, programme_pupils, sessions_by,
                                          slice_tables, term_period)
from kwanalytics.resources import NOTEBOOKS
from kwanalytics.settings import load_settings
from kwanalytics.store import load_tables

TERMS = {"terms": [{"name": "Autumn 1 2025", "start": "2025-09-03", "end": "2025-10-24"},
                   {"name": "Autumn 2 2025", "start": "2025-11-03", "end": "2025-12-19"},
                   {"name": "Spring 1 2026", "start": "2026-01-05", "end": "2026-02-13"}]}


def test_a_term_by_its_name_or_by_season_and_year():
    assert term_period(TERMS, "Autumn 2 2025") == (pd.Timestamp("2025-11-03"), pd.Timestamp("2025-12-19"))
    assert term_period(TERMS, "autumn 2025") == (pd.Timestamp("2025-09-03"), pd.Timestamp("2025-12-19"))
    assert term_period(TERMS, None) == (None, None)
    with pytest.raises(InputError, match="Spring 1 2026"):
        term_period(TERMS, "Summer 2026")


def test_programme_pupils_are_those_enrolled_during_the_period():
    enrol = pd.DataFrame({"student_id": ["A", "B", "C", "D"],
                          "programme": ["Zones of Regulation", "zones of regulation", "ELSA", "Zones of Regulation"],
                          "started_on": pd.to_datetime(["2025-09-10", "2025-11-10", "2025-09-10", "2026-01-10"]),
                          "ended_on": pd.to_datetime(["2025-10-10", None, None, "2026-02-01"])})
    assert programme_pupils(enrol, "Zones of Regulation") == ("A", "B", "D")
    # Autumn 2: A had finished, D had not started
    assert programme_pupils(enrol, "Zones of Regulation", pd.Timestamp("2025-11-03"),
                            pd.Timestamp("2025-12-19")) == ("B",)


def test_slice_and_overview_on_the_small_workspace_hand_worked(report_workspace):
    tables = load_tables(report_workspace)
    settings = load_settings(report_workspace)
    view = choose(tables, settings.term_dates, student="S002", term="Autumn 2 2025")
    assert view == Slice("pupil S002, Autumn 2 2025 (03/11/2025 to 19/12/2025)", ("S002",),
                         pd.Timestamp("2025-11-03"), pd.Timestamp("2025-12-19"))
    sliced = slice_tables(tables, view)
    inc = tables["incidents"]
    expected = inc[(inc["student_id"] == "S002") & inc["occurred_at"].between("2025-11-03", "2025-12-19 23:59")]
    assert len(sliced["incidents"]) == len(expected) > 0
    assert set(sliced["sessions"]["student_id"]) == {"S002"}
    assert sliced["sessions"]["date"].between("2025-11-03", "2025-12-19").all()
    row = overview(sliced).set_index("student_id").loc["S002"]
    sessions = sliced["sessions"]
    assert row["name"] == "Ben Jones"
    assert (row["incidents"], row["sessions"]) == (len(expected), len(sessions))
    assert row["session_hours"] == round(sessions["duration_minutes"].sum() / 60, 1)  # 60-minute sessions
    # conftest rates each of a pupil's 2 targets at each month's end, -2 + m // 2 for month m from September: in
    # Autumn 2 (to 19 December) only the 30 November rating (m = 2, score -1) of each
    assert row["ratings"] == 2 and row["latest_gas_mean"] == -1.0


def test_everyone_in_a_programme(report_workspace):
    tables = load_tables(report_workspace)
    view = choose(tables, load_settings(report_workspace).term_dates, programme="Zones of Regulation")
    assert view.students == ("S001", "S002", "S003", "S004", "S005") and view.start is None
    table = overview(slice_tables(tables, view))
    assert table["student_id"].tolist() == list(view.students)
    assert table["incidents"].sum() == tables["incidents"]["student_id"].isin(view.students).sum()
    with pytest.raises(InputError, match="Anger Management"):
        choose(tables, {}, programme="Lego club")


def test_incidents_and_sessions_counted_by():
    inc = pd.DataFrame({"occurred_at": pd.to_datetime(["2026-01-05 09:00", "2026-01-06 10:00", "2026-01-12 11:00",
                                                       "2026-01-07 12:00"]),
                        "category": ["Defiance", "Defiance", None, "Verbal abuse"],
                        "period": ["P1", "P2", "P1", "P1"], "location": None, "antecedent": None})
    assert incidents_by(inc, "category").to_dict("list") == {"category": ["Defiance", "Verbal abuse", "not recorded"],
                                                            "incidents": [2, 1, 1]}
    assert incidents_by(inc, "weekday").to_dict("list") == {"weekday": ["Monday", "Tuesday", "Wednesday"],
                                                           "incidents": [2, 1, 1]}
    with pytest.raises(InputError):
        incidents_by(inc, "colour")
    ses = pd.DataFrame({"activity": ["Cooking", "Cooking", "Swimming"], "duration_minutes": [60, 30, 120],
                        "setting": ["on-site", "on-site", "community"], "format": None})
    assert sessions_by(ses).to_dict("list") == {"activity": ["Swimming", "Cooking"], "sessions": [1, 2],
                                                "hours": [2.0, 1.5]}


def test_the_notebook_is_committed_without_outputs():
    nb = nbformat.read(NOTEBOOKS / "explore.ipynb", as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(not c.outputs and c.execution_count is None for c in code)
    assert "parameters" in code[0].metadata.get("tags", [])
    # thin: the notebook only calls the package (no function or class of its own)
    assert not any(line.lstrip().startswith(("def ", "class ")) for c in code for line in c.source.splitlines())


@pytest.mark.slow
def test_the_notebook_runs_with_papermill_on_a_small_workspace(report_workspace, tmp_path):
    import papermill

    out = tmp_path / "explore.ipynb"
    papermill.execute_notebook(str(NOTEBOOKS / "explore.ipynb"), str(out), kernel_name="python3", progress_bar=False,
                               parameters={"workspace": str(report_workspace), "programme": "Zones of Regulation",
                                           "term": "Autumn 2025"})
    nb = nbformat.read(out, as_version=4)
    text = json.dumps([c.get("outputs", []) for c in nb.cells])
    assert "The 5 pupils in Zones of Regulation, Autumn 2025 (03/09/2025 to 19/12/2025)" in text
    assert "S005" in text and "S006" not in text  # Faisal is in Anger Management, not in the view
    assert "application/vnd.plotly.v1+json" in text and "error" not in [o.get("output_type") for c in nb.cells
                                                                          for o in c.get("outputs", [])]
