"""Source profiles: how one system's export maps onto the canonical tables (schemas/profiles/*.yaml).

A profile YAML names, per canonical table, the header spellings of each canonical column, plus optional
``extra`` columns it needs (e.g. Class Charts ``polarity``), ``values`` maps (source value -> canonical value),
``skip`` rules (rows that are not this table's, e.g. positive Class Charts points: counted as skipped) and
``derive`` rules (e.g. severity = |score|). Headers match after ``settings.fold`` (case, spaces, underscores and
punctuation ignored). A school adapts a profile by copying it into its workspace's schemas/profiles/.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import yaml
from pydantic import ValidationError, field_validator, model_validator

from kwanalytics.errors import WorkspaceError
from kwanalytics.schema.contracts import TABLES
from kwanalytics.settings import SAFE_LOADER, Settings, Strict, describe_problems, fold, refuse


@dataclass(frozen=True)
class TableMapping:
    """One (profile, table) pair: folded header spelling -> canonical column, and its optional rules."""

    profile: str
    table: str
    headers: dict[str, str]  # folded header -> canonical (or extra) column name
    extra: tuple[str, ...] = ()
    values: dict = field(default_factory=dict)  # column -> {folded source value: canonical value}
    skip: dict = field(default_factory=dict)  # column -> [folded values]; rows holding them are skipped
    skip_reason: str = ""
    transforms: dict = field(default_factory=dict)  # column -> "abs" | "first_listed" | "listed" | "with_time" | "signed"
    priority: int = 0
    labels: dict = field(default_factory=dict)  # column -> its first spelling as written, in the file's order
    skip_above: dict = field(default_factory=dict)  # column -> number; rows whose number is above it are skipped
    # what the source always writes, when it is not left to each file to show (ingest/habits.py)
    decimal: str | None = None  # "." or ","
    date_order: str | None = None  # "day_first" or "month_first"

    def match(self, header: list[str]) -> dict[int, str]:
        """Header position -> column name, for the header cells this mapping knows (first spelling wins)."""
        out, taken = {}, set()
        for pos, cell in enumerate(header):
            name = self.headers.get(fold(cell))
            if name and name not in taken:
                out[pos] = name
                taken.add(name)
        return out

    def missing_required(self, header: list[str]) -> list[str]:
        got = set(self.match(header).values())
        table = TABLES[self.table]
        missing = [c for c in table.required if c not in got]
        # A key the export lacks is derived from the row's content; a pupil may be found by name.
        if table.key in missing:
            missing.remove(table.key)
        if "student_id" in missing and "student_name" in got:
            missing.remove("student_id")
        return missing


Spellings = list[str]


class ColumnSpec(Strict):
    """A canonical column read through a transform: ``{headers: [...], transform: abs}``."""

    headers: Spellings
    # abs: a signed number read as its size (Class Charts' -2 is severity 2); first_listed: the first of several
    # values listed in one cell; listed: the id before " – " in a template's dropdown entry; with_time: a date
    # with the time of day from the table's extra column `time` (SIMS' separate Date and Time columns); signed:
    # a scale from -N to +N (Arbor's severity) where, in a file holding any negative value, a positive one is not
    # an incident (skipped, with skip.reason) and a negative one is read as its size.
    transform: Literal["abs", "first_listed", "listed", "with_time", "signed"]


class TableSpec(Strict):
    """How one table of an export maps onto a canonical table."""

    # The optional sections may be left out (absent means none: no extra columns, value maps or skip rules).
    columns: dict[str, Spellings | ColumnSpec]
    extra: dict[str, Spellings] = {}
    values: dict[str, dict[str, str]] = {}
    skip: dict[str, Spellings | str] = {}
    # column -> a number: rows whose value there is above it are skipped, with skip.reason (Arbor's positive
    # incidents); the value is read before any transform
    skip_above: dict[str, float] = {}

    @field_validator("columns", "extra", mode="before")
    @classmethod
    def _one_spelling(cls, columns):
        # `column: Header` is short for `column: [Header]`; `column:` with nothing after it for no other spelling.
        if isinstance(columns, dict):
            return {k: [] if v is None else [v] if isinstance(v, str) else v for k, v in columns.items()}
        return columns

    @model_validator(mode="after")
    def _rules_name_known_columns(self):
        named = set(self.columns) | set(self.extra)
        for column in self.values:
            if column not in self.columns:
                raise ValueError(f"'values' maps a column '{column}' that 'columns' does not list")
        for column, rule in self.skip.items():
            if column == "reason":
                if not isinstance(rule, str):
                    raise ValueError("'skip.reason' should be a sentence saying why the rows are skipped")
            elif column not in named or isinstance(rule, str):
                raise ValueError(f"'skip.{column}' should list the values of a column named under 'columns' or "
                                 "'extra'")
        for column in self.skip_above:
            if column not in named:
                raise ValueError(f"'skip_above.{column}' names a column that 'columns' and 'extra' do not list")
        timed = [c for c, spec in self.columns.items() if isinstance(spec, ColumnSpec) and spec.transform == "with_time"]
        if timed and "time" not in self.extra:
            raise ValueError(f"'{timed[0]}' reads its time of day from a column of its own (transform "
                             "with_time): name that column's headers under 'extra' as 'time'")
        return self


class ProfileSpec(Strict):
    """One file of schemas/profiles/: a source system's export mapped onto the canonical tables."""

    profile: str
    priority: int = 0  # which profile wins when two fit a header equally well; 0 unless a profile says
    canonical_names: bool = False  # only the generic profile matches kwanalytics' own column names
    # Left out, each file shows its own (ingest/habits.py): the decimal comma when its numbers only make sense
    # so; month-first dates when some date only makes sense so. Stated, every file of the source is read so.
    decimal: Literal[".", ","] | None = None
    date_order: Literal["day_first", "month_first"] | None = None
    tables: dict[str, TableSpec]

    @model_validator(mode="after")
    def _canonical_tables_and_columns(self):
        for table, spec in self.tables.items():
            if table not in TABLES:
                raise ValueError(f"there is no table '{table}' (the tables are: {', '.join(TABLES)})")
            unknown = [c for c in spec.columns if c not in TABLES[table].columns]
            if unknown:
                raise ValueError(f"the {table} table has no column {', '.join(map(repr, unknown))} (its columns "
                                 f"are: {', '.join(TABLES[table].columns)}; map other columns under 'extra')")
        return self


def _mapping(profile: str, table: str, spec: TableSpec, priority: int, canonical_names: bool,
             decimal: str | None = None, date_order: str | None = None) -> TableMapping:
    headers, transforms, labels = {}, {}, {}
    for column, names in spec.columns.items():
        spellings = names.headers if isinstance(names, ColumnSpec) else names
        labels[column] = spellings[0] if spellings else column
        # Only a profile that says so (generic) matches kwanalytics' own names: otherwise a generic export
        # would fit a source profile as well, and take on its rules (e.g. Class Charts' score -> severity).
        for spelling in ([column] if canonical_names else []) + spellings:
            headers.setdefault(fold(spelling), column)
        if isinstance(names, ColumnSpec):
            transforms[column] = names.transform
    for column, spellings in spec.extra.items():
        for spelling in [column, *spellings]:
            headers.setdefault(fold(spelling), column)
    values = {col: {fold(k): v for k, v in m.items()} for col, m in spec.values.items()}
    reason = str(spec.skip.get("reason", "not a row of this table"))
    skip = {col: {fold(v) for v in vals} for col, vals in spec.skip.items() if col != "reason"}
    return TableMapping(profile, table, headers, tuple(spec.extra), values, skip, reason, transforms, priority,
                        labels, dict(spec.skip_above), decimal, date_order)


def load_profile(path: Path) -> ProfileSpec:
    """One profile file, checked: an unknown table, canonical column, transform or key is refused (exit 2)."""
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=SAFE_LOADER) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise WorkspaceError(f"{path} is not valid YAML ({exc}). Fix it or copy it again from the "
                             "repository's schemas/profiles/.") from None
    if not isinstance(data, dict):
        raise WorkspaceError(f"{path} should hold a profile (a YAML mapping with a 'tables:' section).")
    try:
        return ProfileSpec.model_validate(data)
    except ValidationError as exc:
        raise refuse(describe_problems(exc, [(path, data)], {})) from None


def load_profiles(settings: Settings) -> dict[str, list[TableMapping]]:
    """Every profile (workspace files first, then the defaults), name -> its table mappings."""
    out: dict[str, list[TableMapping]] = {}
    for d in settings.profiles_dirs:
        for path in sorted(Path(d).glob("*.yaml")):
            name = path.stem
            if name in out:
                continue  # the workspace's copy overrides the default
            spec = load_profile(path)
            out[name] = [_mapping(name, t, s, spec.priority, spec.canonical_names, spec.decimal, spec.date_order)
                         for t, s in spec.tables.items()]
    return out


def select_profiles(profiles: dict[str, list[TableMapping]], forced: str | None) -> list[TableMapping]:
    """The mappings to try; ``forced`` keeps one profile (or every profile whose name starts with it: 'arbor')."""
    if forced is None:
        return [m for maps in profiles.values() for m in maps]
    chosen = [m for name, maps in profiles.items() if name == forced or name.startswith(fold(forced) + "_")
              for m in maps]
    if not chosen:
        raise WorkspaceError(f"There is no source profile called '{forced}'. Profiles: "
                             + ", ".join(sorted(profiles)) + " (files in schemas/profiles/).")
    return chosen


@dataclass(frozen=True)
class Recognition:
    mapping: TableMapping | None
    columns: dict[int, str]
    closest: TableMapping | None = None
    missing: tuple[str, ...] = ()


def recognise(header: list[str], mappings: list[TableMapping]) -> Recognition:
    """The (profile, table) whose required columns the header has, preferring the one that maps most of it.

    When none fits, ``closest`` is the mapping that matched most header cells and ``missing`` its required
    columns that the header lacks (for the message).
    """
    best, best_score = None, None
    closest, closest_score = None, None
    for m in mappings:
        matched = m.match(header)
        missing = m.missing_required(header)
        if not missing and matched:
            score = (len(matched), m.priority, -len(m.headers))
            if best_score is None or score > best_score:
                best, best_score = (m, matched), score
        near = (len(matched), -len(missing))
        if closest_score is None or near > closest_score:
            closest, closest_score = m, near
    # A header that fits another table better, but lacks some of its required columns, is that table with
    # columns missing (an incidents export without its date is not a list of pupils).
    if best is not None and (closest_score is None or len(best[1]) >= closest_score[0]):
        return Recognition(best[0], best[1])
    missing = tuple(closest.missing_required(header)) if closest else ()
    return Recognition(None, {}, closest, missing)
