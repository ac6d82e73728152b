"""The five kinds of workbook `kwa template` writes, and what each column of one asks for.

A kind is a canonical table (docs/design.md, "Canonical tables"); its headers, in order, are the `template`
profile's (schemas/profiles/template.yaml), so that what the template writes is what ingest reads. Which cells
get a dropdown and what validation comes from the table's contract (schema/contracts.py): a column with a
vocabulary lists the school's values from vocabularies.yaml, a pupil column lists the students table, a date
column accepts dates. Only the example values and the plain words are written here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kwanalytics.schema.contracts import TABLES, Column


@dataclass(frozen=True)
class Kind:
    name: str  # as typed after `kwa template`
    table: str  # the canonical table its rows become
    sheet: str  # the first sheet's title
    one_row: str  # "one row is ..." in plain words
    example: dict = field(default_factory=dict)  # column -> example value, where no list or date gives one


KINDS: dict[str, Kind] = {k.name: k for k in [
    Kind("sessions", "sessions", "Sessions", "one pupil in one key-work session (a group session is one row "
         "per pupil)",
         {"start_time": "10:00", "duration_minutes": 60, "staff": "Ms Key", "venue": "School",
          "skills": "English; maths; social", "engagement": 4, "cost_gbp": 25.0,
          "notes": "Made toast with support and paid for the ingredients"}),
    Kind("incidents", "incidents", "Incidents", "one behaviour incident of one pupil",
         {"lesson": "Maths", "severity": 2, "behaviour": "Shouted and left the room",
          "consequence": "Calm time in the sensory room, then talked it through",
          "physical_intervention": "No", "parent_contacted": "Yes", "restorative_conversation": "Yes",
          "staff": "Ms Key"}),
    Kind("contacts", "contacts", "Contacts", "one contact with home or an agency",
         {"method": "Phone", "purpose": "Weekly update", "summary": "Talked through a good week at school"}),
    Kind("targets", "targets", "Targets", "one EHCP or ILP target of one pupil",
         {"description": "Asks an adult for help when upset, without leaving the room", "weight": 1,
          "source": "EHCP"}),
    Kind("ratings", "target_ratings", "Ratings", "one progress rating of one target (Goal Attainment Scaling)",
         {"gas_score": 0, "rated_by": "Ms Key", "evidence": "Asked for help twice this week in maths"}),
]}

# Columns whose dropdown is a table's rows rather than a vocabulary: column -> the list's name.
ROW_LISTS = {"student_id": "Pupils", "target_id": "Targets"}

YES_NO = ("Yes", "No")

# A vocabulary whose dropdown also offers another's values: a programme's sessions are those whose activity is
# the programme (metrics/impact.programme_sessions), so the activity list offers the programmes as well.
ALSO_LISTS = {"activities": "programmes"}


def choices(vocabularies: dict, name: str) -> list[str]:
    """The values a vocabulary's dropdown offers: its own, then those of ``ALSO_LISTS[name]`` that it does not
    already know under another spelling."""
    own = vocabularies[name]
    values = list(own.values)
    also = vocabularies.get(ALSO_LISTS.get(name, ""))
    if also is not None:
        values += [v for v in also.values if own.canonical(v) is None]
    return values


def prompt(table: str, column: Column) -> str:
    """The input message Excel shows when the cell is selected (Excel allows 255 characters)."""
    low, high = column.checks.get("greater_than_or_equal_to"), column.checks.get("less_than_or_equal_to")
    if column.name in ROW_LISTS:
        what = "pupil" if column.name == "student_id" else "target"
        return f"Pick the {what} from the list (or type its id)."
    if column.vocabulary:
        return "Pick from the list. To add a choice, add it to vocabularies.yaml and make the template again."
    text = {
        "date": "A date, e.g. 03/02/2026.",
        "datetime": "The date and time, e.g. 03/02/2026 14:30.",
        "time": "A time, e.g. 09:30 (24-hour clock).",
        "bool": "Yes or No.",
        "int": "A whole number" + (f" from {low:g} to {high:g}." if low is not None and high is not None else "."),
        "float": "A number" + (f" of at least {low:g}" if low is not None else "") + ", e.g. 12.50.",
    }.get(column.kind, "")
    described = TABLES[table].model.to_schema().columns[column.name].description
    if described and column.kind in ("text", "id"):  # the contract's own words: "target ids separated by ';'"
        text = (text + " " + described[0].upper() + described[1:] + ".").strip()
    return text[:255]


def columns(kind: Kind, labels: dict[str, str]) -> list[tuple[str, Column]]:
    """(header, column) in the template profile's order."""
    table = TABLES[kind.table]
    return [(label, table.columns[name]) for name, label in labels.items() if name in table.columns]
