"""Data contracts: one pandera model per canonical table (see docs/design.md, "Canonical tables").

The model classes are the single source of truth for column names, types and ranges. Each field's
``metadata`` says how ingest parses it (``kind``), whether a value is required, which school vocabulary
it is checked against, and whether it holds free text (escaped in HTML, neutralised in CSV, redacted in
pupil reports).

Kinds: ``id`` and ``text`` (trimmed strings), ``category`` (a string checked against a vocabulary),
``date``, ``datetime`` (local school time), ``time`` ("HH:MM"), ``int``, ``float``, ``bool``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property, lru_cache

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series


def _f(kind: str, *, required: bool = False, vocabulary: str | None = None, free_text: bool = False,
       pii: bool = False, description: str = "", **checks):
    return pa.Field(
        nullable=not required,
        description=description or None,
        metadata={"kind": kind, "required": required, "vocabulary": vocabulary, "free_text": free_text,
                  "pii": pii},
        **checks,
    )


class _Table(pa.DataFrameModel):
    class Config:
        strict = False  # extra columns from an export are kept, not rejected
        coerce = False  # ingest parses values itself, so that a bad cell gets a message of its own


class Students(_Table):
    """One row is a pupil."""

    student_id: Series[str] = _f("id", required=True)
    display_name: Series[str] = _f("text", pii=True, description="the pupil's name (personal data)")
    year_group: Series[str] = _f("text", description="e.g. 'Year 9' or 'Post-16'")
    primary_need: Series[str] = _f("category", vocabulary="areas_of_need")
    ehcp: Series[pd.BooleanDtype] = _f("bool", description="has an Education, Health and Care Plan")
    key_worker: Series[str] = _f("text")
    annual_review_due: Series[pd.Timestamp] = _f("date")
    admitted_on: Series[pd.Timestamp] = _f("date", description="first day on roll (admission); optional")
    left_on: Series[pd.Timestamp] = _f("date", description="last day on roll; empty while the pupil is on roll")


class Targets(_Table):
    """One row is an EHCP or ILP target."""

    target_id: Series[str] = _f("id", required=True)
    student_id: Series[str] = _f("id", required=True)
    area: Series[str] = _f("category", required=True, vocabulary="areas_of_need")
    description: Series[str] = _f("text", free_text=True)
    set_on: Series[pd.Timestamp] = _f("date")
    review_on: Series[pd.Timestamp] = _f("date")
    weight: Series[float] = _f("float", ge=0)
    source: Series[str] = _f("text", description="EHCP or ILP")


class TargetRatings(_Table):
    """One row is one progress rating of one target on Goal Attainment Scaling (-2 .. +2)."""

    rating_id: Series[str] = _f("id", description="derived from target_id and rated_on when the export has none")
    target_id: Series[str] = _f("id", required=True)
    student_id: Series[str] = _f("id")
    rated_on: Series[pd.Timestamp] = _f("date", required=True)
    gas_score: Series[pd.Int64Dtype] = _f("int", required=True, ge=-2, le=2)
    rated_by: Series[str] = _f("text")
    evidence: Series[str] = _f("text", free_text=True)
    session_id: Series[str] = _f("id")


class Sessions(_Table):
    """One row is one pupil in one key-worker session."""

    session_id: Series[str] = _f("id", required=True)
    student_id: Series[str] = _f("id", required=True)
    date: Series[pd.Timestamp] = _f("date", required=True)
    start_time: Series[str] = _f("time")
    duration_minutes: Series[pd.Int64Dtype] = _f("int", ge=1, le=24 * 60)
    staff: Series[str] = _f("text")
    format: Series[str] = _f("category", vocabulary="session_formats")
    setting: Series[str] = _f("category", vocabulary="settings")
    activity: Series[str] = _f("category", vocabulary="activities")
    venue: Series[str] = _f("text")
    targets_addressed: Series[str] = _f("text", description="target ids separated by ';'")
    engagement: Series[pd.Int64Dtype] = _f("int", ge=1, le=5)
    cost_gbp: Series[float] = _f("float", ge=0)
    risk_assessment_id: Series[str] = _f("id")
    skills: Series[str] = _f("text", description="skills embedded, e.g. 'English; maths; social'")
    notes: Series[str] = _f("text", free_text=True)


class Incidents(_Table):
    """One row is one behaviour incident of one pupil."""

    incident_id: Series[str] = _f("id", required=True)
    student_id: Series[str] = _f("id", required=True)
    occurred_at: Series[pd.Timestamp] = _f("datetime", required=True)
    period: Series[str] = _f("category", vocabulary="periods")
    lesson: Series[str] = _f("text")
    location: Series[str] = _f("category", vocabulary="locations")
    category: Series[str] = _f("category", required=True, vocabulary="behaviour_categories")
    severity: Series[pd.Int64Dtype] = _f("int", ge=1, le=5)
    antecedent: Series[str] = _f("category", vocabulary="antecedents")
    behaviour: Series[str] = _f("text", free_text=True)
    consequence: Series[str] = _f("text", free_text=True)
    physical_intervention: Series[pd.BooleanDtype] = _f("bool")
    parent_contacted: Series[pd.BooleanDtype] = _f("bool")
    restorative_conversation: Series[pd.BooleanDtype] = _f("bool")
    staff: Series[str] = _f("text")
    notes: Series[str] = _f("text", free_text=True)


class Interventions(_Table):
    """One row is one pupil's enrolment in a programme."""

    enrolment_id: Series[str] = _f("id", required=True)
    student_id: Series[str] = _f("id", required=True)
    programme: Series[str] = _f("category", required=True, vocabulary="programmes")
    started_on: Series[pd.Timestamp] = _f("date", required=True)
    ended_on: Series[pd.Timestamp] = _f("date")
    entry_reason: Series[str] = _f("text", free_text=True)
    exit_outcome: Series[str] = _f("text", free_text=True)
    staff: Series[str] = _f("text")
    planned_hours_per_week: Series[float] = _f(
        "float", ge=0, description="the provision planned (e.g. in the EHCP), hours a week; blank = not stated")


class Contacts(_Table):
    """One row is a contact with home or an agency."""

    contact_id: Series[str] = _f("id", required=True)
    student_id: Series[str] = _f("id", required=True)
    date: Series[pd.Timestamp] = _f("date", required=True)
    party: Series[str] = _f("category", vocabulary="contact_parties")
    method: Series[str] = _f("text")
    purpose: Series[str] = _f("text")
    summary: Series[str] = _f("text", free_text=True)


class Budget(_Table):
    """One row is an amount of money allocated to a pupil, a programme or the key-work service."""

    budget_id: Series[str] = _f("id", required=True)
    scope: Series[str] = _f("category", vocabulary="budget_scopes")
    scope_id: Series[str] = _f("id")
    period_start: Series[pd.Timestamp] = _f("date")
    period_end: Series[pd.Timestamp] = _f("date")
    amount_gbp: Series[float] = _f("float", required=True, ge=0)


class RiskAssessments(_Table):
    """One row is a risk assessment of an activity (off-site sessions need a current one)."""

    ra_id: Series[str] = _f("id", required=True)
    student_id: Series[str] = _f("id")
    activity: Series[str] = _f("text")
    venue: Series[str] = _f("text")
    assessed_on: Series[pd.Timestamp] = _f("date", required=True)
    review_by: Series[pd.Timestamp] = _f("date")
    assessed_by: Series[str] = _f("text")
    behaviours_covered: Series[str] = _f("text", description="behaviour categories the assessment covers, ';'-separated")


@dataclass(frozen=True)
class Column:
    name: str
    kind: str
    required: bool
    vocabulary: str | None
    free_text: bool
    pii: bool
    checks: dict


@dataclass(frozen=True)
class Table:
    """What ingest and the store need to know about one canonical table."""

    name: str
    model: type[_Table]
    key: str  # one row per value; derived when an export has no such column
    derive_key_from: tuple[str, ...] = ()  # columns that identify a row when the key is missing; () = all

    @cached_property  # built from the pandera model once: ingest asks for it hundreds of times
    def columns(self) -> dict[str, Column]:
        out = {}
        for name, col in self.model.to_schema().columns.items():
            meta = col.metadata or {}
            checks = {}
            for check in col.checks:
                stats = check.statistics or {}
                if check.name in ("greater_than_or_equal_to", "less_than_or_equal_to"):
                    checks[check.name] = next(iter(stats.values()))
            out[name] = Column(name, meta["kind"], meta["required"], meta.get("vocabulary"),
                               meta.get("free_text", False), meta.get("pii", False), checks)
        return out

    @cached_property
    def required(self) -> list[str]:
        return [c.name for c in self.columns.values() if c.required]


TABLES: dict[str, Table] = {
    t.name: t
    for t in [
        Table("students", Students, "student_id"),
        Table("targets", Targets, "target_id"),
        Table("target_ratings", TargetRatings, "rating_id", ("target_id", "rated_on")),
        Table("sessions", Sessions, "session_id"),
        Table("incidents", Incidents, "incident_id"),
        Table("interventions", Interventions, "enrolment_id"),
        Table("contacts", Contacts, "contact_id"),
        Table("budget", Budget, "budget_id"),
        Table("risk_assessments", RiskAssessments, "ra_id"),
    ]
}
"""Every canonical table, in the order ingest validates them (a pupil before what refers to a pupil)."""


def empty_frame(table: str) -> pd.DataFrame:
    """An empty frame with every column of ``table`` in its canonical dtype."""
    return _empty_frame(table).copy()


@lru_cache(maxsize=None)
def _empty_frame(table: str) -> pd.DataFrame:
    dtypes = {"id": "str", "text": "str", "category": "str", "time": "str", "date": "datetime64[us]",
              "datetime": "datetime64[us]", "int": "Int64", "float": "float64", "bool": "boolean"}
    cols = TABLES[table].columns
    return pd.DataFrame({name: pd.Series(dtype=dtypes[c.kind]) for name, c in cols.items()})
