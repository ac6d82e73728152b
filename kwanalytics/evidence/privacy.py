"""Privacy: pseudonymous ids, small-group suppression, redacting other pupils, and a pseudonymised copy.

Behaviour records and EHCP targets are special-category personal data (UK GDPR Art. 9). The rules here follow
the ICO's guidance on pseudonymisation (a keyed hash whose key stays with the controller: the school) and the
usual statistical-disclosure practice of official statistics (DfE, ONS): a count below a threshold, and any
figure computed from that small group, is not published.

- ``pseudonym``: HMAC-SHA256 of the id keyed with the school's secret salt, shown as "P-" + 8 hex characters.
  Stable (same id and salt, same pseudonym) so an analyst can join tables and follow a pupil over time; without
  the salt nobody can go back from a pseudonym to an id, nor forward from a guessed id to its pseudonym.
- ``load_salt``: the salt lives in WORKSPACE/.kwa-salt (owner-only, git-ignored), made on first use.
- ``suppress_small_groups``: cohort tables hide groups smaller than ``settings.min_group_size``.
- ``redact_peers``: a pupil's report must not name another pupil.
- ``pseudonymise_workspace``: the copy for an external analyst (`kwa pseudonymise`).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from pathlib import Path

import pandas as pd

from kwanalytics.schema.contracts import TABLES
from kwanalytics.errors import InputError, WorkspaceError
from kwanalytics.store import atomic_write_text, processed_dir, read_table, table_path, write_table

SALT_FILE = ".kwa-salt"
REDACTED = "[another pupil]"
_MIN_SALT_BYTES = 16

# Columns that name a member of staff: personal data of staff, replaced by a staff pseudonym in the analyst's copy.
_STAFF_COLUMNS = {"staff", "key_worker", "rated_by", "assessed_by"}

# First names that are also everyday English words. Matched only when written with a capital letter, so that
# "he will try" keeps its verb while "Will hit me" still loses the other pupil's name.
_WORD_NAMES = {"will", "may", "mark", "bill", "rose", "grace", "hope", "faith", "joy", "sky", "summer", "autumn",
               "amber", "ruby", "pearl", "jack", "max", "sonny", "sunny", "rich", "frank", "art", "guy", "gene",
               "dawn", "eve", "june", "april", "august", "kit", "rob", "pat", "sue", "dean", "ray", "reed", "drew",
               "chase", "hunter", "miles", "sage", "wren", "robin", "star", "angel", "buddy", "bob", "nick"}


# --------------------------------------------------------------------------------------------- pseudonyms

def pseudonym(student_id, salt: bytes, prefix: str = "P-", digits: int = 8) -> str:
    """``prefix`` + the first ``digits`` hex characters of HMAC-SHA256(salt, id); a missing id stays missing.

    8 hex characters are 32 bits: the chance that two of 2,000 pupils share a pseudonym is about 1 in 2,000
    (birthday bound n²/2^33), checked by ``pseudonymise_workspace`` which refuses to write a collision.
    """
    if student_id is None or (not isinstance(student_id, str) and pd.isna(student_id)):
        return student_id
    text = str(student_id).strip()
    digest = hmac.new(bytes(salt), text.encode("utf-8"), hashlib.sha256).hexdigest()
    return prefix + digest[:digits]


def load_salt(workspace, salt_file=None) -> bytes:
    """The school's secret salt: WORKSPACE/.kwa-salt (made on first use, owner-only) or ``salt_file``.

    A ``salt_file`` that is named but missing is an error rather than a new salt: a mistyped path would otherwise
    give every pupil a new pseudonym and silently break the analyst's joins with earlier copies.
    """
    path = Path(salt_file) if salt_file is not None else Path(workspace) / SALT_FILE
    if not path.exists():
        if salt_file is not None:
            raise InputError(f"The salt file {path} does not exist. Give the path of the school's existing salt "
                             f"file, or leave out --salt-file to use (or make) {Path(workspace) / SALT_FILE}.")
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            # O_EXCL: two runs starting at once cannot both make a salt and hand out different pseudonyms.
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as fh:
                fh.write(os.urandom(32).hex() + "\n")
                fh.flush()
                os.fsync(fh.fileno())
    try:
        if path.stat().st_mode & 0o077:  # e.g. copied back from a backup with open permissions
            path.chmod(0o600)
    except OSError:
        pass  # not ours to change (a school's shared, read-only salt): reading it is what matters
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"The salt file {path} cannot be read ({exc.strerror}). Check that it is yours and "
                         "readable.") from None
    text = raw.strip()
    try:
        salt = bytes.fromhex(text.decode("ascii"))
    except (UnicodeDecodeError, ValueError):
        salt = text  # a school may keep its own secret as any bytes
    if len(salt) < _MIN_SALT_BYTES:
        raise InputError(f"The salt in {path} is too short ({len(salt)} bytes; at least {_MIN_SALT_BYTES} are "
                         "needed so that pseudonyms cannot be guessed). Delete the file to have a new one made, "
                         "knowing that every pseudonym will then change.")
    return salt


# --------------------------------------------------------------------------------------------- suppression

def suppress_small_groups(frame: pd.DataFrame, count_col: str = "pupils", min_size: int = 5,
                          blank: list[str] | None = None) -> pd.DataFrame:
    """A copy of ``frame`` where a group of 1 .. ``min_size``-1 pupils is hidden.

    The count becomes NA, and so does every figure computed from the group (``blank``; by default every other
    numeric column): a median over two pupils discloses as much as the count. A 'suppressed' column says which
    rows were hidden. A count of 0 is shown: an empty group says nothing about anyone.
    """
    if count_col not in frame.columns:
        raise KeyError(f"suppress_small_groups: no column {count_col!r} in {list(frame.columns)}")
    counts = pd.to_numeric(frame[count_col], errors="coerce")
    return _hide(frame, count_col, (counts > 0) & (counts < min_size), blank)


def suppress_partitions(frame: pd.DataFrame, listed: pd.Series, count_col: str = "pupils", min_size: int = 5,
                        blank: list[str] | None = None) -> pd.DataFrame:
    """``suppress_small_groups`` for a table published beside a listing of some of its members row by row.

    ``listed`` gives, for each row of ``frame``, how many of its pupils the listing already shows. Hiding a cell
    whose pupils are all listed below protects nobody (the reader counts them), and showing a cell whose unlisted
    part is small lets the reader subtract and find the few pupils kept out of the listing. So a row is hidden
    exactly when its pupils NOT listed elsewhere number 1 .. ``min_size``-1.
    """
    if count_col not in frame.columns:
        raise KeyError(f"suppress_partitions: no column {count_col!r} in {list(frame.columns)}")
    counts = pd.to_numeric(frame[count_col], errors="coerce")
    unlisted = counts - pd.to_numeric(pd.Series(listed, index=frame.index), errors="coerce").fillna(0)
    return _hide(frame, count_col, (unlisted > 0) & (unlisted < min_size), blank)


def _hide(frame: pd.DataFrame, count_col: str, small: pd.Series, blank: list[str] | None) -> pd.DataFrame:
    out = frame.copy()
    counts = pd.to_numeric(out[count_col], errors="coerce")
    small = small.fillna(False).astype(bool)
    if blank is None:
        blank = [c for c in out.columns if c != count_col and c != "suppressed"
                 and pd.api.types.is_numeric_dtype(out[c]) and not pd.api.types.is_bool_dtype(out[c])]
    out[count_col] = counts.round().astype("Int64").mask(small)
    for col in blank:
        if pd.api.types.is_bool_dtype(out[col]):
            out[col] = out[col].astype("boolean")
        elif pd.api.types.is_integer_dtype(out[col]):
            out[col] = out[col].astype("Int64")
        elif not pd.api.types.is_float_dtype(out[col]):
            out[col] = out[col].astype(object)
        out.loc[small.to_numpy(), col] = pd.NA if out[col].dtype != "float64" else float("nan")
    out["suppressed"] = small.to_numpy()
    return out


# --------------------------------------------------------------------------------------------- redaction

def _word(text: str) -> str:
    # Whole word without \b, which fails next to apostrophes and hyphens in names (O'Neil, Anne-Marie).
    return r"(?<![\w])" + re.escape(text) + r"(?![\w])"


def _trie_regex(terms, fold: bool) -> str:
    """One regex matching any of ``terms``, built as a trie so that a long list costs little per character.

    Python's re tries each alternative of "a|b|c..." in turn at every position; with thousands of names that is
    seconds per page of notes. Shared prefixes factored out ("to(?:m|by)") make it about a hundred times faster.
    """
    trie: dict = {}
    for term in terms:
        node = trie
        for ch in (term.lower() if fold else term):
            node = node.setdefault(ch, {})
        node[""] = True

    def walk(node: dict) -> str:
        ends = "" in node
        alts = [re.escape(ch) + walk(child) for ch, child in sorted((k, v) for k, v in node.items() if k)]
        if not alts:
            return ""
        body = alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"
        if ends:
            body = (body if len(alts) > 1 else "(?:" + body + ")") + "?"
        return body

    return r"(?<![\w])" + walk(trie) + r"(?![\w])"


def _peer_patterns(own_student_id, students: pd.DataFrame) -> tuple[list[str], list[str]]:
    """(case-insensitive terms, capitalised-only terms) naming pupils other than ``own_student_id``."""
    ids = students["student_id"].astype("string").str.strip()
    names = (students["display_name"].astype("string").str.split().str.join(" ")
             if "display_name" in students.columns else pd.Series(pd.NA, index=students.index, dtype="string"))
    own = str(own_student_id).strip()
    is_own = (ids == own).fillna(False).to_numpy()
    own_first = {str(n).split()[0].casefold() for n in names[is_own].dropna() if str(n).split()}

    insensitive: set[str] = set()
    capitalised: set[str] = set()
    for sid, name in zip(ids[~is_own], names[~is_own]):
        if isinstance(sid, str) and sid:
            insensitive.add(sid)
        if isinstance(name, str) and name.strip():
            parts = name.split()
            if len(parts) > 1:
                insensitive.add(name)
            first = parts[0]
            if len(first) >= 2 and first.casefold() not in own_first:
                if first.casefold() in _WORD_NAMES:
                    capitalised.add(first[:1].upper() + first[1:].lower())
                    capitalised.add(first.upper())
                else:
                    insensitive.add(first)
    return sorted(insensitive, key=len, reverse=True), sorted(capitalised, key=len, reverse=True)


def peer_redactor(own_student_id, students: pd.DataFrame):
    """``redact(texts)``: ``redact_peers`` for one pupil with its patterns compiled once, for a pack that redacts
    many columns (compiling the names of a whole school costs more than applying them)."""
    if students is None or students.empty or "student_id" not in students.columns:
        return lambda texts: pd.Series(texts)
    insensitive, capitalised = _peer_patterns(own_student_id, students)
    compiled = []
    if insensitive:
        compiled.append(re.compile(_trie_regex(insensitive, fold=True), re.IGNORECASE))
    if capitalised:
        compiled.append(re.compile(_trie_regex(capitalised, fold=False)))

    def redact(texts) -> pd.Series:
        texts = pd.Series(texts)
        out = texts.astype("string")
        for pattern in compiled:
            out = out.str.replace(pattern, REDACTED, regex=True)
        if texts.dtype == object:
            out = out.astype(object).where(texts.notna(), texts)
        return out

    return redact


def redact_peers(texts: pd.Series, own_student_id, students: pd.DataFrame) -> pd.Series:
    """``texts`` with other pupils' full names, first names and ids replaced by "[another pupil]".

    Whole words only, any case ("TOM", "tom's"), longest first so "Tom Hill" goes as one. A first name the pupil
    shares with a peer is kept: it is most likely the pupil's own. First names that are also common words ("Will",
    "Grace") are matched only with a capital letter. Surnames alone are not matched (staff are called "Mr Hill").
    Missing values stay missing.
    """
    return peer_redactor(own_student_id, students)(texts)


# --------------------------------------------------------------------------------------------- analyst copy

def _record_id(value, salt: bytes):
    """A record id (incident, session, target...) as "R-" + 16 hex characters of a keyed hash.

    Record ids are replaced too, not only pupil ids: exports often build them from the pupil id ("S0013-T2"), and
    ingest derives missing ones by hashing a row's contents, which anyone holding the copy could recompute for
    every pupil id to find out who is who. "record:" keeps these hashes apart from pupils' pseudonyms; 16 hex
    characters (64 bits) keep a million records apart.
    """
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return value
    return pseudonym(f"record:{str(value).strip()}", salt, prefix="R-", digits=16)


def pseudonymise_workspace(workspace, out, salt_file=None, console=None) -> Path:
    """Write OUT/data/processed: the workspace's processed tables ready for an external analyst.

    - every pupil id (student_id, a pupil's budget line) becomes its pseudonym; every record id becomes a keyed
      hash ("R-" + 16 hex, links between tables kept); staff names become staff pseudonyms ("S-" + 8 hex);
    - names (pii columns), free text (notes, narratives, target descriptions...) and any column an export brought
      that is not in the data contract are dropped: free text can name anyone, and cannot be redacted reliably;
    - OUT/README.txt says what was done. The salt is never copied: the school keeps the key.
    """
    workspace = Path(workspace).resolve()
    out = Path(out).resolve()
    if out == workspace or (workspace / "data") in (out, *out.parents):
        raise InputError(f"--out {out} would overwrite the workspace's own data. Choose a new folder, e.g. "
                         f"{workspace.parent / (workspace.name + '-pseudonymised')}.")
    stored = [name for name in TABLES if table_path(workspace, name).exists()]
    if not stored:
        raise WorkspaceError(f"There are no processed tables in {processed_dir(workspace)}. Run `kwa ingest` "
                             "first, then `kwa pseudonymise` again.")
    salt_path = Path(salt_file).resolve() if salt_file is not None else workspace / SALT_FILE
    if out in salt_path.parents:
        raise InputError(f"The salt file {salt_path} is inside --out {out}; it would leave the school with the "
                         "copy. Keep the salt outside the folder you hand over.")
    salt = load_salt(workspace, salt_file)

    tables = {name: read_table(workspace, name) for name in stored}
    pupil_ids: set[str] = set()
    for frame in tables.values():
        if "student_id" in frame.columns:
            pupil_ids.update(frame["student_id"].dropna().astype(str).str.strip())
    pupil_ids.discard("")
    mapping = {sid: pseudonym(sid, salt) for sid in pupil_ids}
    if len(set(mapping.values())) < len(mapping):
        raise WorkspaceError("Two pupils were given the same pseudonym (a 1-in-billions chance with this salt). "
                             "Delete the salt file to make a new one and run `kwa pseudonymise` again.")
    def pupil(value):
        return mapping.get(str(value).strip(), value)

    written, dropped_all = [], {}
    for name, frame in tables.items():
        contract = TABLES[name].columns
        drop = [c for c in frame.columns
                if c not in contract or contract[c].pii or contract[c].free_text]
        dropped_all[name] = drop
        safe = frame.drop(columns=drop)
        for col in safe.columns:
            if col == "student_id":
                safe[col] = safe[col].map(pupil, na_action="ignore")
            elif name == "budget" and col == "scope_id":
                # a pupil's budget names the pupil; a programme's names the programme (not personal, kept)
                safe[col] = safe[col].map(pupil, na_action="ignore")
            elif contract[col].kind == "id":
                safe[col] = safe[col].map(lambda v: _record_id(v, salt), na_action="ignore")
            elif col == "targets_addressed":
                safe[col] = safe[col].map(
                    lambda v: "; ".join(_record_id(t, salt) for t in str(v).split(";") if t.strip()),
                    na_action="ignore")
            elif col in _STAFF_COLUMNS:
                safe[col] = safe[col].map(lambda v: pseudonym(f"staff:{str(v).strip()}", salt, prefix="S-"),
                                          na_action="ignore")
        write_table(out, name, safe)
        written.append((name, len(safe)))

    lines = [
        "Pseudonymised copy of a kwanalytics workspace",
        "==============================================",
        "",
        "Made by `kwa pseudonymise` for analysis outside the school. What was done:",
        "",
        "- Every pupil id was replaced by a pseudonym \"P-\" + 8 hex characters: HMAC-SHA256 of the id, keyed with",
        "  a secret salt that stays with the school (it is not in this folder). The same pupil has the same",
        "  pseudonym in every table and in every later copy made with the same salt, so tables can be joined.",
        "- Record ids (incidents, sessions, targets, ...) were replaced by \"R-\" + 16 hex characters in the same",
        "  way, because they can contain or be computed from a pupil id; links between tables are kept.",
        "- Staff names were replaced by pseudonyms \"S-\" + 8 hex characters in the same way.",
        "- Pupils' names and every free-text column (notes, narratives, target descriptions, contact summaries,",
        "  evidence, reasons and outcomes) were removed, as were columns that are not part of the data contract.",
        "- Dates, categories, scores and counts are unchanged. Small groups are NOT suppressed in these tables:",
        "  suppress groups smaller than the school's minimum size before publishing any figure.",
        "",
        "Tables (rows) in data/processed/:",
        *[f"  {name}.parquet ({rows} rows)" for name, rows in written],
        "",
        "Columns removed:",
        *[f"  {name}: {', '.join(cols)}" for name, cols in dropped_all.items() if cols],
        "",
        "This is still personal data under UK GDPR (pseudonymised, not anonymous): keep it secure, use it only for",
        "the agreed purpose, do not try to re-identify anyone, and delete it when the work is done.",
        "",
    ]
    readme = atomic_write_text(out / "README.txt", "\n".join(lines))
    try:
        from kwanalytics.audit import record

        record(workspace, "pseudonymise", out=str(out), tables=dict(written))
    except Exception:  # the audit log is helpful, never a reason to lose the copy just made
        pass
    if console is not None:
        console.print(f"Pseudonymised copy written to {out} ({sum(r for _, r in written)} rows in "
                      f"{len(written)} tables). See {readme.name}. The salt stays in {salt_path}.")
    return out
