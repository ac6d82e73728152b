"""The school's editable data: vocabularies, thresholds and term dates, loaded once into a Settings object.

Defaults live in the repository's schemas/ folder; a workspace may hold its own schemas/ with any of the
same files, which then replace the defaults file by file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import pandas as pd
import yaml

# libyaml's C loader when present: the same safe subset of YAML, several times faster.
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

from kwanalytics.errors import WorkspaceError

from kwanalytics.resources import SCHEMAS as DEFAULT_SCHEMAS


def fold(text: str) -> str:
    """A spelling-insensitive form: lower case, no spaces, underscores or punctuation ("Student ID" -> "studentid")."""
    return re.sub(r"[\W_]+", "", str(text).casefold())


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


def _vocabulary(name: str, spec: dict) -> Vocabulary:
    values = spec.get("values") or {}
    if isinstance(values, list):
        values = {v: [] for v in values}
    synonyms = {}
    for canonical, others in values.items():
        for spelling in [canonical, *(others or [])]:
            synonyms.setdefault(fold(spelling), canonical)
    return Vocabulary(name, tuple(values), synonyms, bool(spec.get("pinned", False)))


@dataclass(frozen=True)
class Settings:
    """Everything school-specific, read from schemas/ (the workspace's files override the defaults)."""

    schemas_dirs: tuple[Path, ...]
    config: dict = field(repr=False)
    vocabularies: dict[str, Vocabulary] = field(repr=False)
    term_dates: dict = field(repr=False)
    sources: dict[str, Path] = field(default_factory=dict)

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
        return int(self.config["privacy"]["min_group_size"])

    @cached_property
    def periods(self) -> pd.DataFrame:
        """The school day's periods in order: name, start and end ("HH:MM"), and start_min, end_min and
        minutes (minutes since midnight and length), parsed once for every user."""
        periods = pd.DataFrame(self.config["school_day"]["periods"])
        if periods.empty:
            return periods.assign(start_min=[], end_min=[], minutes=[])
        to_min = lambda hhmm: int(str(hhmm)[:2]) * 60 + int(str(hhmm)[3:5])  # noqa: E731
        periods["start_min"] = periods["start"].map(to_min)
        periods["end_min"] = periods["end"].map(to_min)
        periods["minutes"] = periods["end_min"] - periods["start_min"]
        return periods


def _read_yaml(path: Path) -> dict:
    try:
        with open(path, encoding="utf-8") as fh:
            data = yaml.load(fh, Loader=SAFE_LOADER) or {}
    except yaml.YAMLError as exc:
        raise WorkspaceError(f"{path} is not valid YAML ({exc}). Fix the file or restore it from the "
                             "repository's schemas/ folder.") from None
    if not isinstance(data, dict):
        raise WorkspaceError(f"{path} should hold named settings (a YAML mapping), not {type(data).__name__}.")
    return data


def load_settings(workspace: str | Path | None = None) -> Settings:
    """Settings for a workspace: its own schemas/ files where it has them, the defaults otherwise."""
    dirs = []
    if workspace is not None and (Path(workspace) / "schemas").is_dir():
        dirs.append(Path(workspace).resolve() / "schemas")
    if DEFAULT_SCHEMAS not in dirs:
        dirs.append(DEFAULT_SCHEMAS)
    sources = {}
    loaded = {}
    for name in ("settings.yaml", "vocabularies.yaml", "term_dates.yaml"):
        for d in dirs:
            if (d / name).exists():
                loaded[name] = _read_yaml(d / name)
                sources[name] = d / name
                break
        else:
            loaded[name] = {}
    vocabularies = {k: _vocabulary(k, v or {}) for k, v in loaded["vocabularies.yaml"].items()}
    return Settings(tuple(dirs), loaded["settings.yaml"], vocabularies, loaded["term_dates.yaml"], sources)
