"""Finding the pupil an export means when it names them the way people write names (issue 19, docs/design.md).

CPOMS and Class Charts give a name, not an id. A name is matched as the students table writes it ("Callum
Stevens"), surname first ("Stevens, Callum", "Stevens Callum") and with a class in brackets ("Callum Stevens
(8B)"). A cell naming several pupils ("Callum Stevens, Amira Khan") is one incident for each of them, when every
name in it is a pupil and the whole is not one. Ids whose leading zeros a spreadsheet dropped ("1234" for the
admission number "001234") are matched to the one pupil they can only mean, with a warning.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from kwanalytics.settings import fold

_CLASS = re.compile(r"\s*[\(\[][^\)\]]{1,12}[\)\]]\s*$")  # "(8B)", "[Year 9]" after the name
_SEVERAL = re.compile(r"\s*(?:[,;&/+]|\band\b)\s*", re.IGNORECASE)


def name_keys(students: pd.DataFrame) -> tuple[dict[str, str], set[str]]:
    """Folded spelling -> student_id for every way a pupil's name is written (as listed, surname first), and
    the spellings that belong to more than one pupil (never matched: the export needs an id then)."""
    named = students.dropna(subset=["display_name"]) if "display_name" in students else students.iloc[:0]
    owners: dict[str, set[str]] = {}
    for name, sid in zip(named["display_name"].astype("str"), named["student_id"].astype("str")):
        parts = name.split()
        spellings = {fold(name)}
        if len(parts) > 1:
            spellings.add(fold(parts[-1] + " " + " ".join(parts[:-1])))  # Stevens Callum, Stevens, Callum
        for key in spellings:
            if key:
                owners.setdefault(key, set()).add(sid)
    lookup = {k: next(iter(v)) for k, v in owners.items() if len(v) == 1}
    return lookup, {k for k, v in owners.items() if len(v) > 1}


def name_key(text) -> str:
    """The folded form of a name as typed, without a class in brackets after it."""
    return fold(_CLASS.sub("", str(text)))


def several(text, lookup: dict[str, str], ambiguous: set[str]) -> list[str] | None:
    """The names in a cell naming several pupils, when the whole is no pupil and every part is one; else None."""
    if not isinstance(text, str):
        return None
    whole = name_key(text)
    if whole in lookup or whole in ambiguous:
        return None
    parts = [p.strip() for p in _SEVERAL.split(text) if p.strip()]
    if len(parts) < 2 or not all(name_key(p) in lookup for p in parts):
        return None
    return parts


def split_names(cells: pd.DataFrame, rows: np.ndarray, pos: int, lookup, ambiguous
                ) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, list[tuple[int, list[str]]]]:
    """Rows naming several pupils in column ``pos`` repeated once per pupil (each copy holding one name).
    Returns the cells, their spreadsheet row numbers, which rows came from a split, and (row, names) per split."""
    names = cells[pos]
    codes, uniques = pd.factorize(names, use_na_sentinel=True)
    parts = [several(u, lookup, ambiguous) for u in uniques]
    if not any(parts):
        return cells, rows, np.zeros(len(cells), dtype=bool), []
    counts = np.array([len(p) if p else 1 for p in parts] + [1])[np.where(codes < 0, len(uniques), codes)]
    take = np.repeat(np.arange(len(cells)), counts)
    out = cells.iloc[take].reset_index(drop=True)
    split = counts[take] > 1
    done = []
    new_names = out[pos].to_numpy(dtype=object, copy=True)
    at = 0
    for i, n in enumerate(counts.tolist()):
        if n > 1:
            listed = parts[codes[i]]
            new_names[at:at + n] = listed
            done.append((int(rows[i]), listed))
        at += n
    out[pos] = pd.Series(new_names, dtype=object)
    return out, rows[take], split, done


def restore_zeros(ids: pd.Series, known: pd.Index) -> dict[str, str]:
    """Unknown all-digit ids that are a known id less its leading zeros (Excel read "001234" as a number):
    typed id -> the known id, where exactly one known id fits."""
    typed = pd.Series(pd.unique(ids.dropna().astype("str")), dtype=object)
    typed = typed[typed.str.fullmatch(r"\d+") & ~typed.isin(known)]
    if typed.empty:
        return {}
    known_digits = pd.Series(known.astype("str"), dtype=object)
    known_digits = known_digits[known_digits.str.fullmatch(r"0+\d+")]
    if known_digits.empty:
        return {}
    stripped = known_digits.str.lstrip("0")
    unique = stripped[~stripped.duplicated(keep=False)]
    by_stripped = dict(zip(unique, known_digits[unique.index]))
    return {t: by_stripped[t.lstrip("0")] for t in typed if t.lstrip("0") in by_stripped}
