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

import yaml

from kwanalytics.schema.contracts import TABLES
from kwanalytics.errors import WorkspaceError
from kwanalytics.settings import SAFE_LOADER, Settings, fold


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
    transforms: dict = field(default_factory=dict)  # column -> "abs" | "first_listed"
    priority: int = 0

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


def _spellings(spec) -> tuple[list[str], str | None]:
    if isinstance(spec, dict):
        return list(spec.get("headers") or []), spec.get("transform")
    if isinstance(spec, str):
        return [spec], None
    return list(spec or []), None


def _mapping(profile: str, table: str, spec: dict, priority: int, canonical_names: bool) -> TableMapping:
    if table not in TABLES:
        raise WorkspaceError(f"Profile '{profile}' maps a table '{table}' that does not exist. Tables: "
                             + ", ".join(TABLES) + ".")
    headers, transforms = {}, {}
    for column, names in (spec.get("columns") or {}).items():
        spellings, transform = _spellings(names)
        # Only a profile that says so (generic) matches kwanalytics' own names: otherwise a generic export
        # would fit a source profile as well, and take on its rules (e.g. Class Charts' score -> severity).
        for spelling in ([column] if canonical_names else []) + spellings:
            headers.setdefault(fold(spelling), column)
        if transform:
            transforms[column] = transform
    extra = []
    for column, names in (spec.get("extra") or {}).items():
        spellings, _ = _spellings(names)
        extra.append(column)
        for spelling in [column, *spellings]:
            headers.setdefault(fold(spelling), column)
    values = {col: {fold(k): v for k, v in (m or {}).items()} for col, m in (spec.get("values") or {}).items()}
    skip_spec = dict(spec.get("skip") or {})
    reason = str(skip_spec.pop("reason", "not a row of this table"))
    skip = {col: {fold(v) for v in (vals or [])} for col, vals in skip_spec.items()}
    return TableMapping(profile, table, headers, tuple(extra), values, skip, reason, transforms, priority)


def load_profiles(settings: Settings) -> dict[str, list[TableMapping]]:
    """Every profile (workspace files first, then the defaults), name -> its table mappings."""
    out: dict[str, list[TableMapping]] = {}
    for d in settings.profiles_dirs:
        for path in sorted(Path(d).glob("*.yaml")):
            name = path.stem
            if name in out:
                continue  # the workspace's copy overrides the default
            try:
                spec = yaml.load(path.read_text(encoding="utf-8"), Loader=SAFE_LOADER) or {}
            except (yaml.YAMLError, UnicodeDecodeError) as exc:
                raise WorkspaceError(f"{path} is not valid YAML ({exc}). Fix it or copy it again from the "
                                     "repository's schemas/profiles/.") from None
            if not isinstance(spec, dict) or not isinstance(spec.get("tables"), dict):
                raise WorkspaceError(f"{path} should have a 'tables:' section mapping each table's columns.")
            priority = int(spec.get("priority", 0))
            canonical = bool(spec.get("canonical_names", False))
            out[name] = [_mapping(name, t, s or {}, priority, canonical) for t, s in spec["tables"].items()]
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
