"""Typed settings (issue 14, item 3): the shipped schemas/ files are the only defaults, a workspace file merges key
by key over them, and an unknown key, a wrong type or an impossible value is exit 2 with one message naming the
file, the key path and what is expected; never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from kwanalytics.errors import WorkspaceError
from kwanalytics.resources import SCHEMAS
from kwanalytics.schema.profiles import load_profiles
from kwanalytics.settings import SchoolSettings, TermDates, Vocabularies, load_settings

from conftest import build_workspace

ENV = {**os.environ, "COLUMNS": "400"}


def _kwa(ws: Path, *command: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kwanalytics.cli", *command, "-w", str(ws)],
                          capture_output=True, text=True, env=ENV, timeout=300)


def _own(ws: Path, name: str, text: str) -> Path:
    (ws / "schemas").mkdir(exist_ok=True)
    path = ws / "schemas" / name
    path.write_text(text, encoding="utf-8")
    return path


def _shipped(name: str) -> dict:
    return yaml.safe_load((SCHEMAS / name).read_text(encoding="utf-8"))


def test_shipped_files_are_the_whole_default_and_every_key_has_a_field():
    settings = load_settings(None)
    # model_dump gives back exactly the shipped file: no key is dropped, none is added by a code default.
    assert settings.config == SchoolSettings.model_validate(_shipped("settings.yaml")).model_dump()
    assert settings.config["patterns"] == _shipped("settings.yaml")["patterns"]
    assert settings.school.privacy.min_group_size == _shipped("settings.yaml")["privacy"]["min_group_size"]
    assert set(Vocabularies.model_fields) == set(_shipped("vocabularies.yaml"))
    assert len(settings.terms.terms) == len(_shipped("term_dates.yaml")["terms"])


def test_models_hold_no_default_of_their_own():
    """Every default lives in the shipped YAML: an empty settings file is missing every section."""
    with pytest.raises(Exception) as caught:
        SchoolSettings.model_validate({})
    missing = {e["loc"][0] for e in caught.value.errors() if e["type"] == "missing"}
    assert missing == set(SchoolSettings.model_fields)


def test_one_key_workspace_settings_changes_that_key_and_keeps_every_other(tmp_path):
    _own(tmp_path, "settings.yaml", "privacy: {min_group_size: 7}\npatterns: {clusters: {incidents: 4}}\n")
    shipped, settings = load_settings(None), load_settings(tmp_path)
    assert settings.min_group_size == 7
    assert settings.school.patterns.clusters.incidents == 4
    assert settings.school.patterns.clusters.within_school_days == shipped.school.patterns.clusters.within_school_days
    assert settings.school.school_day == shipped.school.school_day
    assert settings.config["impact"] == shipped.config["impact"]
    assert settings.sources["settings.yaml"] == tmp_path.resolve() / "schemas" / "settings.yaml"


def test_one_key_workspace_settings_file_and_kwa_watchlist_works(tmp_path):
    """The issue's report: a settings.yaml holding only privacy.min_group_size crashed `kwa watchlist`."""
    build_workspace(tmp_path)
    _own(tmp_path, "settings.yaml", "privacy: {min_group_size: 5}\n")
    done = _kwa(tmp_path, "watchlist", "--format", "csv")
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.splitlines()[0].startswith("student_id")
    assert "Traceback" not in done.stderr


def test_alpha_of_3_is_exit_2_naming_the_file_and_key(tmp_path):
    build_workspace(tmp_path)
    own = _own(tmp_path, "settings.yaml", "patterns:\n  hotspots:\n    alpha: 3\n")
    done = _kwa(tmp_path, "watchlist")
    assert done.returncode == 2
    message = " ".join(done.stderr.split())
    assert str(own) in message
    assert "patterns.hotspots.alpha" in message and "less than 1" in message
    assert "Traceback" not in done.stderr


def test_bad_settings_stop_kwa_report_with_exit_2_before_any_report(tmp_path):
    build_workspace(tmp_path)
    _own(tmp_path, "settings.yaml", "patterns:\n  hotspots:\n    alpha: 3\n")
    done = _kwa(tmp_path, "report", "all")
    assert done.returncode == 2
    assert "patterns.hotspots.alpha" in " ".join(done.stderr.split()) and "Traceback" not in done.stderr
    assert not (tmp_path / "reports" / "cohort.html").exists()


def test_unknown_key_is_exit_2_naming_it_and_the_known_keys(tmp_path):
    build_workspace(tmp_path)
    _own(tmp_path, "settings.yaml", "privacy: {min_group_size: 5, min_groupsize: 3}\n")
    done = _kwa(tmp_path, "impact")
    assert done.returncode == 2
    message = " ".join(done.stderr.split())
    assert "privacy.min_groupsize" in message and "min_group_size" in message
    assert "Traceback" not in done.stderr


def test_every_problem_in_one_message_with_its_own_file(tmp_path):
    _own(tmp_path, "settings.yaml", "impact: {min_school_days: ten}\nschool_day:\n  periods:\n"
         "    - {name: P1, start: 9:00, end: '10:00'}\n")
    _own(tmp_path, "term_dates.yaml", "terms:\n  - {name: Autumn 1, start: 2025-09-03, end: 2025-07-01}\n")
    with pytest.raises(WorkspaceError) as caught:
        load_settings(tmp_path)
    lines = str(caught.value).splitlines()
    assert any("settings.yaml: 'impact.min_school_days' is 'ten'" in line and "integer" in line for line in lines)
    # YAML reads an unquoted 9:00 as 540 (base 60): the message says to quote it.
    assert any("'school_day.periods[0].start' is 540" in line and "quotes" in line for line in lines)
    assert any("term_dates.yaml: 'terms[0]'" in line and "ends (2025-07-01) before it starts" in line
               for line in lines)


@pytest.mark.parametrize("body,expected", [
    ("school_day:\n  periods:\n    - {name: P1, start: '10:00', end: '09:00'}\n", "should end after it starts"),
    ("school_day:\n  timezone: London\n", "'school_day.timezone': 'London' is not a time zone name"),
], ids=["period ends before it starts", "timezone that is not one"])
def test_impossible_school_day_is_refused_naming_the_key(tmp_path, body, expected):
    _own(tmp_path, "settings.yaml", body)
    with pytest.raises(WorkspaceError) as caught:
        load_settings(tmp_path)
    assert "settings.yaml: " in str(caught.value) and expected in str(caught.value)


def test_workspace_vocabularies_add_to_the_shipped_lists(tmp_path):
    _own(tmp_path, "vocabularies.yaml", "locations:\n  values:\n    Garden: [Allotment]\n"
         "    Classroom: [Form room]\n")
    shipped, settings = load_settings(None), load_settings(tmp_path)
    locations = settings.vocabularies["locations"]
    assert locations.values == shipped.vocabularies["locations"].values + ("Garden",)
    assert locations.canonical("allotment") == "Garden"
    assert locations.canonical("Form room") == "Classroom"
    assert locations.canonical("Teaching room") == "Classroom"  # the shipped spelling is kept
    assert locations.pinned is False
    assert settings.vocabularies["behaviour_categories"] == shipped.vocabularies["behaviour_categories"]


def test_unknown_vocabulary_is_refused(tmp_path):
    _own(tmp_path, "vocabularies.yaml", "behavior_categories: {pinned: true, values: [Shouting]}\n")
    with pytest.raises(WorkspaceError, match="'behavior_categories' is not a setting kwanalytics knows"):
        load_settings(tmp_path)


def test_workspace_term_dates_replace_the_shipped_file_whole(tmp_path):
    _own(tmp_path, "term_dates.yaml", "terms:\n  - {name: Autumn 1, start: 2025-09-01, end: 2025-10-24}\n")
    settings = load_settings(tmp_path)
    assert [t.name for t in settings.terms.terms] == ["Autumn 1"]
    assert settings.terms.closures == []  # the shipped closures are another school's INSET days
    assert settings.term_dates["terms"][0]["start"].isoformat() == "2025-09-01"


def _profile(ws: Path, text: str) -> None:
    (ws / "schemas" / "profiles").mkdir(parents=True, exist_ok=True)
    (ws / "schemas" / "profiles" / "myschool.yaml").write_text(text, encoding="utf-8")


def test_shipped_profiles_are_valid():
    profiles = load_profiles(load_settings(None))
    assert {"generic", "arbor_incidents", "classcharts", "cpoms", "sims"} <= set(profiles)
    (classcharts,) = profiles["classcharts"]
    assert classcharts.transforms == {"severity": "abs"} and classcharts.skip == {"polarity": {"positive", "praise"}}


@pytest.mark.parametrize("body, expected", [
    ("incidents:\n    columns:\n      incident_id: [Ref]\n      behaviour_type: [Type]\n",
     "the incidents table has no column 'behaviour_type'"),
    ("incidents:\n    columns:\n      severity: {headers: [Score], transform: negate}\n",
     "'tables.incidents.columns.severity"),
    ("incident:\n    columns:\n      incident_id: [Ref]\n", "there is no table 'incident'"),
    ("incidents:\n    colums:\n      incident_id: [Ref]\n", "'tables.incidents.colums' is not a setting"),
])
def test_profile_with_unknown_column_transform_table_or_key_is_exit_2(tmp_path, body, expected):
    _profile(tmp_path, "profile: myschool\npriority: 1\ntables:\n  " + body)
    with pytest.raises(WorkspaceError) as caught:
        load_profiles(load_settings(tmp_path))
    assert "myschool.yaml" in str(caught.value) and expected in str(caught.value)


def test_bad_profile_through_ingest_is_exit_2_without_traceback(tmp_path):
    _profile(tmp_path, "profile: myschool\ntables:\n  incidents:\n    columns:\n"
             "      severity: {headers: [Score], transform: negate}\n")
    (tmp_path / "data" / "raw").mkdir(parents=True)
    done = _kwa(tmp_path, "ingest")
    assert done.returncode == 2
    message = " ".join(done.stderr.split())
    assert "myschool.yaml" in message and "transform" in message and "'abs'" in message
    assert "Traceback" not in done.stderr
