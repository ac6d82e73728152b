"""Checking parsed rows: types, required values and ranges (the contracts' pandera models, lazy, so every
problem is found at once), the school's vocabularies, and the rules between tables of docs/design.md.

Each check returns, per row, the reasons it fails, each naming the column, the value, what was expected and
how to fix it. Work is vectorised: one boolean mask per rule, turned into text only for the failing rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import pandas as pd
import pandera.errors
import pyarrow as pa
import pyarrow.compute as pc
from pandera.api.pandas.container import DataFrameSchema

from kwanalytics.schema.contracts import TABLES, Column
from kwanalytics.ingest.parsing import EXPECTED
from kwanalytics.settings import Settings, fold


@dataclass
class Problems:
    """Reasons per row position (0-based within one parsed frame); a row with any reason is rejected."""

    n: int
    reasons: dict[int, list[str]] = field(default_factory=dict)

    def add(self, mask, message) -> None:
        """Add ``message`` (a str, or a Series of str aligned with ``mask``) to every row where ``mask``."""
        idx = np.flatnonzero(np.asarray(mask, dtype=bool))
        if len(idx):
            self._append(idx, message.to_numpy()[idx] if isinstance(message, pd.Series) else [message] * len(idx))

    def add_each(self, mask, values: pd.Series, before: str, after: str) -> None:
        """``before 'value' after`` for every row where ``mask``, the value quoted (and cut short when long). The
        text is built for those rows only: a trust's export has few bad rows and hundreds of thousands of good."""
        idx = np.flatnonzero(np.asarray(mask, dtype=bool))
        if len(idx):
            self._append(idx, (before + _quoted(values.iloc[idx]) + after).tolist())

    def _append(self, idx: np.ndarray, texts) -> None:
        for i, t in zip(idx.tolist(), texts):
            self.reasons.setdefault(i, []).append(str(t))

    def mask(self) -> np.ndarray:
        m = np.zeros(self.n, dtype=bool)
        if self.reasons:
            m[list(self.reasons)] = True
        return m


def _quoted(values: pd.Series, limit: int = 60) -> pd.Series:
    text = values.astype("str").fillna("")
    long = text.str.len() > limit
    text = text.where(~long, text.str.slice(0, limit) + "...")
    return "'" + text + "'"


def parse_problems(raw: pd.Series, column: Column, bad: pd.Series, problems: Problems) -> None:
    if bad.any():
        expected = EXPECTED.get(column.kind, column.kind)
        hint = " (dates are read day first: 31/02 does not exist)" if column.kind in ("date", "datetime") else ""
        problems.add_each(bad, raw, f"{column.name}: ", f" is not {expected}{hint}. Correct the cell in "
                          "the export and run ingest again.")


# pandera loads its pandas backend (and, where hypothesis is installed, its data-synthesis strategies) on the
# first validate(): load it with this module instead, like any other import, not in the middle of an ingest.
# (A pandera without this hook loads it on first use, as before.)
if hasattr(DataFrameSchema, "register_default_backends"):
    DataFrameSchema.register_default_backends(pd.DataFrame)


@lru_cache(maxsize=None)
def _schema(table: str):
    """The contract's schema without its dtype checks: ingest has already typed every column (a failure there
    would be a bug, not a user's mistake), and checking dtypes value by value costs seconds at a trust's size."""
    schema = TABLES[table].model.to_schema()
    return schema.update_columns({name: {"dtype": None} for name in schema.columns})


def isin(values: pd.Series, allowed) -> np.ndarray:
    """``values.isin(allowed)`` as a bool array, fast for Arrow-backed strings (Arrow's own hash lookup)."""
    if values.dtype == "str":
        if isinstance(allowed, (pd.Series, pd.Index)):
            allowed = allowed.to_numpy(dtype=object, na_value=None)
        right = pa.array([v for v in allowed if v is not None and v == v], type=pa.large_string(), from_pandas=True)
        left = values.array.__arrow_array__()
        return pc.is_in(left, value_set=right.cast(left.type)).to_numpy(zero_copy_only=False).astype(bool, copy=False)
    left = pd.Index(values.to_numpy(dtype=object, na_value=None), dtype=object)
    if not isinstance(allowed, (pd.Series, pd.Index)):
        allowed = pd.Series(list(allowed), dtype=object)
    right = pd.Index(allowed.to_numpy(dtype=object, na_value=None), dtype=object)
    return left.isin(right)


def spread(codes: np.ndarray, values: list, index) -> pd.Series:
    """``values[code]`` for each row (NaN where the code is -1), as text, built by Arrow from the distinct
    values: going through an array of Python strings costs several times more."""
    dictionary = pa.array([None if v is None else str(v) for v in values], type=pa.large_string())
    indices = pa.array(codes, type=pa.int64(), mask=np.asarray(codes) < 0)
    decoded = pa.DictionaryArray.from_arrays(indices, dictionary).dictionary_decode()
    return pd.Series(pd.array(decoded, dtype="str"), index=index)


CHECK_WORDS = {"greater_than_or_equal_to": "at least", "less_than_or_equal_to": "at most"}


def schema_problems(table: str, frame: pd.DataFrame, problems: Problems, skip_null: dict) -> None:
    """Pandera lazy validation of the contract: required values and ranges. ``skip_null``: columns whose
    missing values were already explained (a cell that did not parse)."""
    t = TABLES[table]
    schema = _schema(table)
    try:
        schema.validate(frame, lazy=True)
        return
    except pandera.errors.SchemaErrors as exc:
        cases = exc.failure_cases
    cols = t.columns
    cases = cases[cases["index"].notna()]
    for (column, check), group in cases.groupby(["column", "check"], sort=False, dropna=False):
        pos = frame.index.get_indexer(group["index"].astype("int64"))
        mask = np.zeros(len(frame), dtype=bool)
        mask[pos[pos >= 0]] = True
        check = str(check)
        if "null" in check:
            if column in skip_null:
                mask &= ~np.asarray(skip_null[column], dtype=bool)
            problems.add(mask, f"{column} is empty but every row needs one. Fill it in the export"
                         + (" (or remove the row)" if column != t.key else "") + " and run ingest again.")
            continue
        bound = None
        for name, word in CHECK_WORDS.items():
            if check.startswith(name):
                limits = cols[column].checks
                bound = f"{word} {limits.get(name)}"
        values = frame[column]
        lo, hi = cols[column].checks.get("greater_than_or_equal_to"), cols[column].checks.get("less_than_or_equal_to")
        rng = f"between {lo} and {hi}" if lo is not None and hi is not None else (bound or check)
        problems.add_each(mask, values, f"{column}: ", f" is out of range: expected a value {rng}. "
                          "Correct the cell in the export and run ingest again.")


@dataclass
class VocabularyNote:
    table: str
    column: str
    vocabulary: str
    value: str
    rows: int
    first_row: str


#: Vocabularies in which the school's own programme names are known values too: a session that delivers a
#: programme records the programme as its activity, and settings.yaml ``programmes`` may name a programme the
#: programmes vocabulary does not list yet (docs/design.md). Neither is an unlisted value.
ALSO_PROGRAMME_NAMES = {"activities", "programmes"}


def _programme_names(settings: Settings) -> dict[str, str]:
    """Folded spelling -> canonical name of each programme: the programmes vocabulary, then settings.yaml's."""
    names = dict(settings.vocabularies["programmes"].synonyms) if "programmes" in settings.vocabularies else {}
    for name in settings.school.programmes:
        names.setdefault(fold(name), name)
    return names


def vocabulary_problems(table: str, frame: pd.DataFrame, settings: Settings, problems: Problems,
                        where: pd.Series, transforms: dict | None = None) -> list[VocabularyNote]:
    """Replace category values by the school's canonical spelling; unlisted values are kept and noted, or
    rejected when the school pinned the vocabulary. Returns the notes (for the validation report).

    ``transforms[column] == "first_listed"``: the cell may list several values separated by commas (CPOMS
    categories); the first the vocabulary knows is used, else the first listed."""
    notes = []
    for name, col in TABLES[table].columns.items():
        if col.kind != "category" or name not in frame or col.vocabulary not in settings.vocabularies:
            continue
        vocab = settings.vocabularies[col.vocabulary]
        values = frame[name]
        codes, uniques = pd.factorize(values, use_na_sentinel=True)
        if not len(uniques):
            continue
        first_listed = (transforms or {}).get(name) == "first_listed"
        also = _programme_names(settings) if col.vocabulary in ALSO_PROGRAMME_NAMES else {}
        canonical = lambda p, vocab=vocab, also=also: vocab.canonical(p) or also.get(fold(p))  # noqa: E731
        canon, known = [], []
        for v in uniques:
            v = str(v)
            parts = [p.strip() for p in v.split(",") if p.strip()] if first_listed else [v]
            hit = next((canonical(p) for p in parts if canonical(p)), None)
            canon.append(hit if hit is not None else (parts[0] if parts else v))
            known.append(hit is not None)
        known_arr = np.array(known + [True], dtype=bool)
        unknown = ~known_arr[codes]
        if vocab.pinned:
            if unknown.any():  # a message per row costs more than the check itself, so only when needed
                problems.add_each(unknown, values, f"{name}: ", f" is not one of the school's "
                                  f"{col.vocabulary} (" + ", ".join(vocab.values[:8])
                                  + (", ..." if len(vocab.values) > 8 else "")
                                  + "). Use one of these, or add it to schemas/vocabularies.yaml.")
        else:
            for code in np.flatnonzero(~known_arr[:-1]):
                rows = np.flatnonzero(codes == code)
                notes.append(VocabularyNote(table, name, col.vocabulary, str(uniques[code]), len(rows),
                                            str(where(rows[0]) if callable(where) else where.iloc[rows[0]])))
        if any(c != u for c, u in zip(canon, uniques)):  # rebuilding the column costs more than this check
            frame[name] = spread(codes, canon, frame.index)
    return notes


def derive_period(occurred_at: pd.Series, settings: Settings) -> pd.Series:
    """The school-day period an incident's time falls in (settings.yaml school_day.periods); NaN outside them
    or when the time is midnight exactly (a date without a time)."""
    periods = settings.periods
    if periods.empty:
        return pd.Series(np.nan, index=occurred_at.index, dtype="str")
    starts = periods["start_min"].to_numpy()
    ends = periods["end_min"].to_numpy()
    names = periods["name"].astype(str).to_numpy()
    t = (occurred_at.dt.hour * 60 + occurred_at.dt.minute).to_numpy(dtype="float64", na_value=np.nan)
    order = np.argsort(starts)
    pos = np.searchsorted(starts[order], np.nan_to_num(t, nan=-1), side="right") - 1
    ok = (pos >= 0) & ~np.isnan(t) & (t > 0)
    idx = order[np.clip(pos, 0, None)]
    ok &= np.nan_to_num(t, nan=-1) < ends[idx]
    out = np.where(ok, names[idx], None)
    return pd.Series(out, index=occurred_at.index, dtype=object).astype("str")
