"""Shared fixtures: a small synthetic school built in code (no demo, no ingest), once per test session.

Six pupils, autumn 2025 to spring 2026 on the repository's term dates. Free text names other pupils on purpose
("Ben", "Alice Smith", "S002") so the reports' redaction can be checked. S001..S005 are in Zones of Regulation
(a group of 5: shown in the cohort report); S006 alone is in Anger Management (a group of 1: suppressed).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kwanalytics.schema.contracts import empty_frame
from kwanalytics.store import write_table

PUPILS = [("S001", "Alice Smith", "Year 9", "SEMH"), ("S002", "Ben Jones", "Year 9", "SEMH"),
          ("S003", "Carys Evans", "Year 10", "Communication and Interaction"),
          ("S004", "Dev Patel", "Year 10", "SEMH"), ("S005", "Erin Walsh", "Year 11", "SEMH"),
          ("S006", "Faisal Khan", "Year 11", "Cognition and Learning")]
NAMES = {sid: name for sid, name, *_ in PUPILS}
START, END = pd.Timestamp("2025-09-08"), pd.Timestamp("2026-03-27")


def _typed(table: str, rows: list[dict]) -> pd.DataFrame:
    """Rows cast onto the canonical dtypes of ``table`` (as store.read_table gives them back)."""
    base = empty_frame(table)
    frame = pd.DataFrame(rows)
    for col in frame.columns:
        if col in base:
            dtype = base[col].dtype
            if str(dtype).startswith("datetime64"):
                frame[col] = pd.to_datetime(frame[col]).astype("datetime64[us]")
            else:
                frame[col] = frame[col].astype(dtype)
    return pd.concat([base, frame], ignore_index=True)[list(base.columns)].astype(base.dtypes.to_dict())


def school_days():
    from kwanalytics.calendar import from_term_dates
    from kwanalytics.settings import load_settings

    cal = from_term_dates(load_settings(None).term_dates)
    return cal.between(START, END)


def build_workspace(ws) -> None:
    rng = np.random.default_rng(7)
    days = school_days()
    students = _typed("students", [
        {"student_id": sid, "display_name": name, "year_group": yg, "primary_need": need, "ehcp": True,
         "key_worker": "Ms Key", "annual_review_due": "2026-11-15"} for sid, name, yg, need in PUPILS])
    incidents, sessions, targets, ratings, contacts = [], [], [], [], []
    cats = ["Low-level disruption", "Defiance", "Dysregulation", "Verbal abuse"]
    places = ["Classroom", "Corridor", "Playground", "Dining hall"]
    for i, (sid, name, _, _) in enumerate(PUPILS):
        peer = PUPILS[(i + 1) % len(PUPILS)]
        n_inc = 0 if sid == "S005" else 25 + 5 * i
        for k, day in enumerate(sorted(rng.choice(days, n_inc, replace=False))):
            hour = int(rng.integers(9, 15))
            incidents.append({
                "incident_id": f"I-{sid}-{k:03d}", "student_id": sid,
                "occurred_at": pd.Timestamp(day) + pd.Timedelta(hours=hour, minutes=5),
                "period": f"Period {min(5, max(1, hour - 8))}", "location": places[k % 4], "category": cats[k % 4],
                "severity": 1 + k % 3, "antecedent": "Transition", "behaviour": "Shouted",
                "consequence": f"Talked it through with {peer[1].split()[0]}",
                "physical_intervention": False, "parent_contacted": k % 5 == 0,
                "restorative_conversation": k % 3 == 0, "staff": "Mr Staff",
                "notes": f"Argument with {peer[1]} ({peer[0]}) then with {peer[1].split()[0]} again"})
        for k, day in enumerate(days[i % 5::5]):
            sessions.append({
                "session_id": f"SE-{sid}-{k:03d}", "student_id": sid, "date": day, "start_time": "10:00",
                "duration_minutes": 60, "staff": "Ms Key", "format": "one-to-one" if k % 3 else "small-group",
                "setting": "community" if k % 4 == 0 else "on-site",
                "activity": ["Cooking", "Forest School", "Social skills"][k % 3], "venue": "School",
                "engagement": int(min(5, 2 + k // 8)), "cost_gbp": 25.0, "skills": "English; social",
                "notes": f"Worked well alongside {peer[1].split()[0]}"})
        for t in range(2):
            tid = f"T-{sid}-{t}"
            targets.append({"target_id": tid, "student_id": sid, "area": ["SEMH", "Communication and Interaction"][t],
                            "description": f"Target {t + 1} for {name.split()[0]}: manage feelings",
                            "set_on": "2025-09-08", "review_on": "2026-07-01", "weight": 1.0, "source": "EHCP"})
            for m, when in enumerate(pd.date_range("2025-09-30", "2026-03-31", freq="ME")):
                ratings.append({"rating_id": f"R-{tid}-{m}", "target_id": tid, "student_id": sid, "rated_on": when,
                                "gas_score": int(min(2, -2 + m // 2)), "rated_by": "Ms Key", "evidence": "obs"})
        contacts.append({"contact_id": f"C-{sid}", "student_id": sid, "date": "2025-11-20",
                         "party": "Parent/carer", "method": "Phone", "purpose": "Update",
                         "summary": f"Mum says {peer[1]} has been kind"})
    interventions = [{"enrolment_id": f"E-{sid}", "student_id": sid,
                      "programme": "Anger Management" if sid == "S006" else "Zones of Regulation",
                      "started_on": "2025-11-03", "ended_on": "2026-02-13", "entry_reason": "Incidents",
                      "exit_outcome": None, "staff": "Ms Key"} for sid, *_ in PUPILS]
    budget = [{"budget_id": "B-ZOR", "scope": "programme", "scope_id": "Zones of Regulation",
               "period_start": "2025-09-01", "period_end": "2026-08-31", "amount_gbp": 5000.0},
              *[{"budget_id": f"B-{sid}", "scope": "student", "scope_id": sid, "period_start": "2025-09-01",
                 "period_end": "2026-08-31", "amount_gbp": 1500.0} for sid, *_ in PUPILS]]
    ras = [{"ra_id": f"RA-{sid}", "student_id": sid, "activity": "Community", "venue": "Town",
            "assessed_on": "2025-09-01", "review_by": "2026-08-31", "assessed_by": "Ms Key"} for sid, *_ in PUPILS]
    for table, rows in (("students", None), ("incidents", incidents), ("sessions", sessions), ("targets", targets),
                        ("target_ratings", ratings), ("contacts", contacts), ("interventions", interventions),
                        ("budget", budget), ("risk_assessments", ras)):
        write_table(ws, table, students if rows is None else _typed(table, rows))


@pytest.fixture(scope="session")
def report_workspace(tmp_path_factory):
    """A small synthetic workspace (processed tables only), shared read-only by the report tests."""
    ws = tmp_path_factory.mktemp("reports_ws")
    build_workspace(ws)
    return ws


@pytest.fixture(scope="session")
def rendered_reports(tmp_path_factory):
    """Every kind of report rendered in ONE batch (one warm kernel) on a copy of the synthetic workspace."""
    from kwanalytics.render.reports import render_reports

    ws = tmp_path_factory.mktemp("rendered_ws")
    build_workspace(ws)
    failures = render_reports(ws, "all", console=None, workers=2)  # two warm kernels, threaded: also isolated
    return ws, failures
