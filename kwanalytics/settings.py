"""The school's editable data: settings, vocabularies and term dates, checked once into a Settings object.

The shipped schemas/ folder (settings.yaml, vocabularies.yaml, term_dates.yaml) is the documented default and the
only one: the models below hold no default values of their own. A workspace may hold its own schemas/ folder:

- its settings.yaml merges key by key over the shipped file (a file holding only ``privacy: {min_group_size: 5}``
  changes that one value and keeps every other);
- its vocabularies.yaml adds to the shipped lists (new values, new spellings of a value; ``pinned`` replaces);
- its term_dates.yaml replaces the shipped one whole (the shipped closures are another school's INSET days).

The merged result is then validated. Why pydantic (v2) rather than dataclasses: it checks every key against a
declared type and range and reports each problem with its location (``patterns.hotspots.alpha``) for free, and
``extra="forbid"`` turns a misspelt key into an error instead of a silently ignored line. An unknown key, a wrong
type or an impossible value (an alpha of 3, a term ending before it starts) becomes one WorkspaceError naming the
file, the key path and what is expected (exit 2). To add a setting: the key with its comment in the shipped YAML,
and one line in the model below.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from kwanalytics.errors import WorkspaceError
from kwanalytics.resources import SCHEMAS as DEFAULT_SCHEMAS

# libyaml's C loader when present: the same safe subset of YAML, several times faster.
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def fold(text: str) -> str:
    """A spelling-insensitive form: lower case, no spaces, underscores or punctuation ("Student ID" -> "studentid")."""
    return re.sub(r"[\W_]+", "", str(text).casefold())


# --------------------------------------------------------------------------- the models

class Strict(BaseModel):
    """A section of settings: every key declared, none unknown, nothing changed after loading."""

    model_config = ConfigDict(extra="forbid", frozen=True)


Alpha = Annotated[float, Field(gt=0, lt=1)]  # a significance level
Share = Annotated[float, Field(ge=0, le=1)]
Count = Annotated[int, Field(ge=0)]
Positive = Annotated[int, Field(ge=1)]
ClockTime = Annotated[str, Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")]  # "HH:MM", quoted in YAML


class Privacy(Strict):
    min_group_size: Positive


class Period(Strict):
    name: str
    start: ClockTime
    end: ClockTime

    @model_validator(mode="after")
    def _ends_after_start(self):
        if self.end <= self.start:
            raise ValueError(f"the period '{self.name}' should end after it starts ({self.start} to {self.end})")
        return self


class SchoolDay(Strict):
    periods: list[Period]
    timezone: str

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, zone: str) -> str:
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"'{zone}' is not a time zone name such as Europe/London") from exc
        return zone


class Impact(Strict):
    baseline_school_days: Positive
    min_school_days: Positive
    min_incidents: Count


class Clusters(Strict):
    incidents: Positive
    within_school_days: Positive


class Concentration(Strict):
    min_incidents: Positive


class Trigger(Strict):
    min_incidents: Positive


class Escalation(Strict):
    recent_school_weeks: Positive
    min_incidents: Positive
    min_physical: Positive
    min_low_level_before: Count


class Hotspots(Strict):
    alpha: Alpha
    min_ratio: Annotated[float, Field(ge=1)]


class Patterns(Strict):
    false_discovery_rate: Alpha
    meeting_every_days: Positive
    hotspots: Hotspots
    clusters: Clusters
    concentration: Concentration
    trigger: Trigger
    escalation: Escalation
    physical_categories: list[str]
    low_level_categories: list[str]


class EntryCriterion(Strict):
    categories: list[str]
    at_least: Positive
    within_school_days: Positive


class ExitCriterion(Strict):
    categories: list[str]
    at_most: Count
    within_school_days: Positive


class ProgrammeCriteria(Strict):
    # A programme may have only one of the two (absence means "no such criterion", not a default value).
    entry: EntryCriterion | None = None
    exit: ExitCriterion | None = None


class RiskAssessments(Strict):
    months_current_without_review_date: Positive


class Timetable(Strict):
    hours_per_week: dict[str, Annotated[float, Field(ge=0)]]


class PackTrend(Strict):
    fewer_below: Annotated[float, Field(gt=0)]
    more_above: Annotated[float, Field(gt=0)]
    min_weeks_each_half: Positive


class PupilPack(Strict):
    trend: PackTrend


class Outcomes(Strict):
    targets_met: list[str]


class SchoolSettings(Strict):
    """schemas/settings.yaml."""

    privacy: Privacy
    school_day: SchoolDay
    impact: Impact
    patterns: Patterns
    programmes: dict[str, ProgrammeCriteria]
    risk_assessments: RiskAssessments
    timetable: Timetable
    pupil_pack: PupilPack
    outcomes: Outcomes


class VocabularySpec(Strict):
    """One vocabulary: whether unlisted values are refused, and each canonical value's other spellings."""

    pinned: bool
    values: dict[str, list[str]]

    @field_validator("values", mode="before")
    @classmethod
    def _listed(cls, values):
        # `values: [a, b]` is short for values with no other spellings; `a:` with nothing after it likewise.
        if isinstance(values, list):
            return {v: [] for v in values}
        if isinstance(values, dict):
            return {k: [] if v is None else v for k, v in values.items()}
        return values


class Vocabularies(Strict):
    """schemas/vocabularies.yaml."""

    areas_of_need: VocabularySpec
    behaviour_categories: VocabularySpec
    locations: VocabularySpec
    periods: VocabularySpec
    antecedents: VocabularySpec
    programmes: VocabularySpec
    activities: VocabularySpec
    session_formats: VocabularySpec
    settings: VocabularySpec
    contact_parties: VocabularySpec
    budget_scopes: VocabularySpec
    # antecedents that tell one story, tested as one trigger (docs/patterns.md): group name -> antecedents
    antecedent_groups: dict[str, list[str]]


class Term(Strict):
    name: str
    start: date
    end: date

    @model_validator(mode="after")
    def _ends_after_start(self):
        if self.end < self.start:
            raise ValueError(f"the term '{self.name}' ends ({self.end}) before it starts ({self.start})")
        return self


class TermDates(Strict):
    """schemas/term_dates.yaml."""

    terms: list[Term]
    closures: list[date] = []  # a school may have none


# --------------------------------------------------------------------------- what the rest of the package uses

@dataclass(frozen=True)
class Vocabulary:
    """Canonical values of one school vocabulary and the other spellings that map onto them."""

    name: str
    values: tuple[str, ...]
    synonyms: dict[str, str]  # folded spelling -> canonical value
    pinned: bool

    def canonical(self, value: str) -> str | None:
        """The canonical spelling of ``value``, or None when the school has not listed it."""
        return self.synonyms.get(fold(value))


def _vocabulary(name: str, spec: VocabularySpec) -> Vocabulary:
    synonyms = {}
    for canonical, others in spec.values.items():
        for spelling in [canonical, *others]:
            synonyms.setdefault(fold(spelling), canonical)
    return Vocabulary(name, tuple(spec.values), synonyms, spec.pinned)


@dataclass(frozen=True)
class Settings:
    """Everything school-specific, read from schemas/ (the workspace's files over the shipped defaults).

    ``school``, ``vocabulary_specs`` and ``terms`` are the checked models (``settings.school.patterns.hotspots
    .alpha``); ``config`` and ``term_dates`` are the same values as plain dicts for the callers that read them so.
    """

    schemas_dirs: tuple[Path, ...]
    school: SchoolSettings = field(repr=False)
    vocabulary_specs: Vocabularies = field(repr=False)
    terms: TermDates = field(repr=False)
    sources: dict[str, Path] = field(default_factory=dict)

    @cached_property
    def config(self) -> dict:
        return self.school.model_dump()

    @cached_property
    def term_dates(self) -> dict:
        return self.terms.model_dump()

    @cached_property
    def vocabularies(self) -> dict[str, Vocabulary]:
        return {name: _vocabulary(name, spec) for name in type(self.vocabulary_specs).model_fields
                if isinstance(spec := getattr(self.vocabulary_specs, name), VocabularySpec)}

    @property
    def antecedent_groups(self) -> dict[str, list[str]]:
        return dict(self.vocabulary_specs.antecedent_groups)

    def path(self, name: str) -> Path | None:
        for d in self.schemas_dirs:
            if (d / name).exists():
                return d / name
        return None

    @cached_property
    def profiles_dirs(self) -> list[Path]:
        return [d / "profiles" for d in self.schemas_dirs if (d / "profiles").is_dir()]

    @property
    def min_group_size(self) -> int:
        return self.school.privacy.min_group_size

    @cached_property
    def periods(self) -> pd.DataFrame:
        """The school day's periods in order: name, start and end ("HH:MM"), and start_min, end_min and
        minutes (minutes since midnight and length), parsed once for every user."""
        periods = pd.DataFrame([p.model_dump() for p in self.school.school_day.periods],
                               columns=["name", "start", "end"])
        to_min = lambda hhmm: int(hhmm[:2]) * 60 + int(hhmm[3:5])  # noqa: E731
        periods["start_min"] = periods["start"].map(to_min).astype("int64")
        periods["end_min"] = periods["end"].map(to_min).astype("int64")
        periods["minutes"] = periods["end_min"] - periods["start_min"]
        return periods


# --------------------------------------------------------------------------- reading, merging, checking

def read_yaml(path: Path) -> dict:
    """A YAML file that should hold a mapping; a WorkspaceError naming the file when it does not."""
    try:
        with open(path, encoding="utf-8") as fh:
            data = yaml.load(fh, Loader=SAFE_LOADER)
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise WorkspaceError(f"{path} is not valid YAML ({exc}). Fix the file or restore it from the "
                             "repository's schemas/ folder.") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise WorkspaceError(f"{path} should hold named settings (a YAML mapping), not {type(data).__name__}.")
    return data


def merge_settings(shipped: dict, own: dict) -> dict:
    """``own`` over ``shipped`` key by key: sections merge, a value (or a list) replaces the shipped one."""
    out = dict(shipped)
    for key, value in own.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge_settings(out[key], value)
        else:
            out[key] = value
    return out


def _as_values(values) -> dict:
    if isinstance(values, list):
        return {v: [] for v in values}
    return dict(values) if isinstance(values, dict) else values


def merge_vocabularies(shipped: dict, own: dict) -> dict:
    """``own`` adds to ``shipped``: new canonical values, new spellings of a value; ``pinned`` replaces."""
    out = dict(shipped)
    for name, spec in own.items():
        base = out.get(name)
        if not (isinstance(spec, dict) and isinstance(base, dict)):
            out[name] = spec  # a new vocabulary, or a damaged one: the model says which
            continue
        merged = {**base, **{k: v for k, v in spec.items() if k != "values"}}
        values, extra = _as_values(base.get("values") or {}), _as_values(spec.get("values") or {})
        if isinstance(values, dict) and isinstance(extra, dict):
            values = dict(values)
            for canonical, others in extra.items():
                kept = list(values.get(canonical) or [])
                values[canonical] = kept + [o for o in (others or []) if o not in kept]
            merged["values"] = values
        elif "values" in spec:
            merged["values"] = spec["values"]
        out[name] = merged
    return out


def _key_path(loc: tuple) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _lookup(data: Any, loc: tuple) -> tuple[bool, Any]:
    for part in loc:
        if isinstance(data, dict) and part in data:
            data = data[part]
        elif isinstance(data, list) and isinstance(part, int) and part < len(data):
            data = data[part]
        else:
            return False, None
    return True, data


def _expected(error: dict) -> str:
    kind, msg = error["type"], error["msg"]
    if kind in {"model_type", "dict_type", "model_attributes_type"}:
        return "it should be a section of named settings (a YAML mapping)"
    if kind == "list_type":
        return "it should be a list"
    if kind == "string_type":
        # YAML reads an unquoted 9:00 as the number 540 (minutes, base 60): a time needs quotes.
        return 'it should be text (write a time in quotes, e.g. "09:00")'
    if kind == "value_error":
        return msg.removeprefix("Value error, ")
    if kind == "extra_forbidden":
        return "it is not a key kwanalytics knows"
    msg = msg.replace("Input should", "it should").replace("String should match pattern "
                                                                "'^([01]\\d|2[0-3]):[0-5]\\d$'",
                                                                'it should be a time written "HH:MM" in quotes')
    return msg[0].lower() + msg[1:]


def describe_problems(exc: ValidationError, files: list[tuple[Path, dict]], shipped: dict) -> list[str]:
    """Each problem as a line naming the file it is in, its key path and what is expected.

    ``files`` are the (path, content) pairs merged, the workspace's first: a key is blamed on the first file that
    holds it. ``shipped`` gives the known keys next to an unknown one.
    """
    lines = []
    for error in exc.errors():
        loc = tuple(error["loc"])
        path = next((p for p, data in files if _lookup(data, loc)[0]), files[-1][0])
        key = _key_path(loc)
        if error["type"] == "extra_forbidden":
            found, siblings = _lookup(shipped, loc[:-1])
            known = ", ".join(map(str, siblings)) if found and isinstance(siblings, dict) else ""
            lines.append(f"{path}: '{key}' is not a setting kwanalytics knows"
                         + (f" (the keys here are: {known})" if known else "") + ".")
        elif error["type"] == "value_error":
            lines.append(f"{path}: '{key}': {_expected(error)}.")
        elif error["type"] == "missing":
            lines.append(f"{path}: '{key}' is missing.")
        else:
            lines.append(f"{path}: '{key}' is {error['input']!r}, but {_expected(error)}.")
    return lines


def refuse(problems: list[str]) -> WorkspaceError:
    """The one message for every problem found in the school's files (exit 2)."""
    return WorkspaceError("These settings cannot be used:\n  " + "\n  ".join(problems)
                          + "\nFix them (the shipped schemas/ files say what each key means) and run the command "
                          "again.")


def load_settings(workspace: str | Path | None = None) -> Settings:
    """Settings for a workspace: its own schemas/ files over the shipped defaults (see the module's docstring)."""
    dirs = []
    if workspace is not None and (Path(workspace) / "schemas").is_dir():
        dirs.append(Path(workspace).resolve() / "schemas")
    if DEFAULT_SCHEMAS not in dirs:
        dirs.append(DEFAULT_SCHEMAS)
    own_dir = dirs[0] if len(dirs) > 1 else None
    sources, checked, problems = {}, {}, []
    for name, model, merge in (("settings.yaml", SchoolSettings, merge_settings),
                               ("vocabularies.yaml", Vocabularies, merge_vocabularies),
                               ("term_dates.yaml", TermDates, None)):
        shipped_path = DEFAULT_SCHEMAS / name
        shipped = read_yaml(shipped_path)
        files = [(shipped_path, shipped)]
        sources[name] = shipped_path
        data = shipped
        if own_dir is not None and (own_dir / name).exists():
            own = read_yaml(own_dir / name)
            files.insert(0, (own_dir / name, own))
            sources[name] = own_dir / name
            data = merge(shipped, own) if merge else own
            if merge is None:
                files = files[:1]  # a file that replaces the shipped one answers for every key
        try:
            checked[name] = model.model_validate(data)
        except ValidationError as exc:
            problems += describe_problems(exc, files, shipped)
    if problems:
        raise refuse(problems)
    return Settings(tuple(dirs), checked["settings.yaml"], checked["vocabularies.yaml"], checked["term_dates.yaml"],
                    sources)
