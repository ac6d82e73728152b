"""A realistic synthetic school year (`kwa demo`): exports in the formats schools really have, with known truth.

What it writes (DIR/data/raw, names, headers and encodings as agreed in the helpers' interfaces):

| file | profile | notes |
| --- | --- | --- |
| students.csv | generic | UTF-8, ISO dates, primary need spelled several ways, EHCP Y/N |
| targets.xlsx | generic | one sheet, EHCP/ILP targets in SEMH, Communication and Interaction, Cognition and Learning |
| target_ratings.csv | generic | Goal Attainment Scaling (-2..+2) about every half term, UK dates (dd/mm/yyyy) |
| sessions.csv | generic | "1:1"/"small group", "on site"/"community" (synonyms), costs, risk assessment ids |
| arbor_behaviour_incidents.csv | Arbor | UTF-8 with BOM, CRLF, "dd/mm/yyyy HH:MM", Yes/No, no Period column |
| arbor_interventions.csv | Arbor | UTF-8 with BOM, CRLF |
| contacts.csv | generic | cp1252 (Excel on Windows), with £ and curly quotes |
| budget.csv, risk_assessments.csv | generic | ISO dates |

and DIR/data/demo_truth.json: every pupil's planted kind (improves, no_change, escalation, cluster, time, place,
trigger, scattered, quiet) with its details, and the deliberate mistakes (file, row, column, value, kind).

School days come from the repository's schemas/term_dates.yaml (2025-09-03 .. 2026-07-21): nothing happens in a
holiday. The same seed gives byte-identical files (the .xlsx has fixed zip and document timestamps).

Generation is one pass over pupils (a few numpy calls each), then vectorised columns: 3,000 pupils take seconds.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from kwanalytics.calendar import from_term_dates
from kwanalytics.demo.behaviour import Behaviour, planted_counts
from kwanalytics.demo.draws import END, START, choice
from kwanalytics.demo.exports import (ARBOR_INCIDENT_HEADER, ARBOR_INTERVENTION_HEADER, FILES, csv_bytes, fixed_bytes,
                                      xlsx_bytes)
from kwanalytics.demo.keywork import KeyWork
from kwanalytics.demo.mistakes import Mistakes
from kwanalytics.demo.words import (ANTECEDENTS, CATEGORIES, FIRST_NAMES, KEY_WORKERS, LOCATIONS, NEED_SPELLINGS,
    PERIOD_WEIGHTS, SURNAMES, YEAR_GROUPS)
from kwanalytics.settings import load_settings
from kwanalytics.store import atomic_write, atomic_write_text, raw_dir


# ---------------------------------------------------------------------------------------------------- result

@dataclass
class DemoResult:
    """What `kwa demo` wrote: exit code (always 0), the files and the planted truth."""

    exit_code: int = 0
    files: list[Path] = field(default_factory=list)
    truth: dict = field(default_factory=dict)


class _School(Behaviour, KeyWork, Mistakes):
    """One synthetic school year. ``build()`` fills ``frames`` (export-shaped, all text) and ``truth``."""

    def __init__(self, students: int, seed: int, settings):
        if students < 1:
            raise ValueError("students must be at least 1")
        self.n, self.seed, self.settings = students, seed, settings
        self.rng = np.random.default_rng(seed)
        cal = from_term_dates(settings.term_dates)
        self.days = cal.between(START, END)
        if len(self.days) < 150:
            raise ValueError("the term dates do not cover the 2025-26 school year")
        self.D = len(self.days)
        self.weekday = np.asarray(self.days.day_of_week)
        periods = settings.periods
        self.period_names = list(periods["name"])
        self.period_start = periods["start_min"].to_numpy()
        self.period_end = periods["end_min"].to_numpy()
        self.P = {name: i for i, name in enumerate(self.period_names)}
        for name in PERIOD_WEIGHTS:
            if name not in self.P:
                raise ValueError(f"settings.yaml has no period called {name!r}")
        self.C = {c: i for i, c in enumerate(CATEGORIES)}
        self.L = {c: i for i, c in enumerate(LOCATIONS)}
        self.A = {c: i for i, c in enumerate(ANTECEDENTS)}
        self.frames: dict[str, pd.DataFrame] = {}
        self.truth: dict = {}
        self.mistakes: list[dict] = []

    def idx(self, date) -> int:
        """Index of the first school day on or after ``date``."""
        return int(self.days.searchsorted(pd.Timestamp(date)))

    # ------------------------------------------------------------------ pupils
    def make_students(self):
        rng, n = self.rng, self.n
        width = max(4, len(str(n)))
        self.ids = np.array([f"S{i:0{width}d}" for i in range(1, n + 1)], dtype=object)
        self.unknown_id = f"S{n + 7:0{width}d}"
        F, S = len(FIRST_NAMES), len(SURNAMES)
        if n <= F * S:
            if n <= F:  # a small school: every first name different, as a reader would wish
                first_i = rng.permutation(F)[:n]
                combo = first_i * S + rng.integers(0, S, n)
            else:
                combo = rng.choice(F * S, size=n, replace=False)
            first = np.array(FIRST_NAMES, dtype=object)[combo // S]
            last = np.array(SURNAMES, dtype=object)[combo % S]
            full = first + " " + last
        else:  # beyond ~15,000 pupils a middle initial keeps names unique
            combo = np.arange(n) % (F * S)
            rng.shuffle(combo)
            first = np.array(FIRST_NAMES, dtype=object)[combo // S]
            last = np.array(SURNAMES, dtype=object)[combo % S]
            initial = np.array([chr(65 + (i // (F * S)) % 26) for i in range(n)], dtype=object)
            full = first + " " + initial + ". " + last
        self.first, self.full = first, full
        self.key_worker = np.array(KEY_WORKERS, dtype=object)[rng.integers(0, len(KEY_WORKERS), n)]
        need = np.array([s for s, _ in NEED_SPELLINGS], dtype=object)[
            choice(rng, NEED_SPELLINGS, [w for _, w in NEED_SPELLINGS], n)]
        year = np.array(YEAR_GROUPS, dtype=object)[rng.integers(0, len(YEAR_GROUPS), n)]
        ehcp = np.where(rng.random(n) < 0.85, "Y", "N").astype(object)
        review = pd.Timestamp("2026-01-05") + pd.to_timedelta(rng.integers(0, 355, n), unit="D")
        self.frames["students"] = pd.DataFrame({
            "student_id": self.ids, "display_name": full, "year_group": year, "primary_need": need,
            "ehcp": ehcp, "key_worker": self.key_worker, "annual_review_due": review.strftime("%Y-%m-%d")})

        # planted kinds, assigned to a shuffled order of pupils
        counts = planted_counts(n)
        order = rng.permutation(n)
        self.kind = np.empty(n, dtype=object)
        pos = 0
        for kind, k in counts.items():
            self.kind[order[pos:pos + k]] = kind
            pos += k
        self.counts = counts


    # ------------------------------------------------------------------ all of it
    def build(self):
        self.make_students()
        self.make_incidents()
        self.incidents_frame()
        self.make_interventions()
        self.make_targets()
        self.make_ratings()
        self.make_sessions()
        self.make_contacts()
        self.make_budget()
        self.plant_mistakes()
        drop = lambda f: f[[c for c in f.columns if not c.startswith("_")]]  # noqa: E731
        self.frames.update({
            "targets": self.targets,
            "target_ratings": drop(self.ratings),
            "sessions": drop(self.sessions),
            "incidents": drop(self.incidents)[ARBOR_INCIDENT_HEADER],
            "interventions": drop(self.interventions)[ARBOR_INTERVENTION_HEADER],
            "contacts": self.contacts,
            "budget": self.budget,
            "risk_assessments": drop(self.risk),
        })
        self.truth = {"seed": int(self.seed), "students": int(self.n), "start": START.strftime("%Y-%m-%d"),
                      "end": END.strftime("%Y-%m-%d"), "counts": self.counts, "planted": self.planted,
                      "mistakes": self.mistakes}
        return self


def build_demo(students: int = 60, seed: int = 2026, settings=None) -> tuple[dict[str, pd.DataFrame], dict]:
    """The demo school in memory: export-shaped frames (keyed by canonical table) and the planted truth."""
    school = _School(students, seed, settings or load_settings()).build()
    return school.frames, school.truth


def write_demo(workspace, students: int = 60, seed: int = 2026, console=None) -> DemoResult:
    """Write the demo school's exports into WORKSPACE/data/raw and its truth into WORKSPACE/data/demo_truth.json.

    Files are written atomically and readable by their owner only (they look like pupil data). The same
    ``students`` and ``seed`` give byte-identical files.
    """
    frames, truth = build_demo(students, seed)
    raw = raw_dir(workspace)
    raw.mkdir(parents=True, exist_ok=True)
    files = []
    for table, (name, encoding, crlf) in FILES.items():
        frame = frames[table]
        data = xlsx_bytes(frame, "Targets") if name.endswith(".xlsx") else csv_bytes(frame, encoding, crlf)
        files.append(atomic_write(raw / name, lambda tmp, data=data: Path(tmp).write_bytes(data)))
    # A key worker's session log kept in Excel, made from `kwa template sessions` (issue 18).
    from kwanalytics.demo.workbook import ENTRIES, SESSION_LOG, session_log

    settings = load_settings(workspace)
    days = from_term_dates(settings.term_dates).between(START, END)
    book, caseload = session_log(frames["students"], settings, days, seed)
    data = fixed_bytes(book)
    files.append(atomic_write(raw / SESSION_LOG, lambda tmp: Path(tmp).write_bytes(data)))
    truth["session_log"] = {"file": SESSION_LOG, "rows": ENTRIES + 1, "entries": ENTRIES, "example_rows": 1,
                            "pupils": caseload}
    truth_path = Path(workspace) / "data" / "demo_truth.json"
    atomic_write_text(truth_path, json.dumps(truth, indent=2, ensure_ascii=False) + "\n")
    files.append(truth_path)
    if console is not None:
        _print_summary(console, workspace, frames, truth, files)
    return DemoResult(exit_code=0, files=files, truth=truth)


def _print_summary(console, workspace, frames, truth, files) -> None:
    from rich.table import Table

    table = Table(title=f"Demo school: {truth['students']} pupils, seed {truth['seed']}, "
                        f"{truth['start']} to {truth['end']}", title_justify="left")
    table.add_column("file")
    table.add_column("rows", justify="right")
    for t, (name, _, _) in FILES.items():
        table.add_row(name, f"{len(frames[t]):,}")
    if "session_log" in truth:
        table.add_row(truth["session_log"]["file"], f"{truth['session_log']['entries']:,} + the example row")
    console.print(table)
    kinds = ", ".join(f"{k} {v}" for k, v in truth["counts"].items())
    console.print(f"Planted pupils: {kinds}.")
    console.print(f"Deliberate mistakes: {len(truth['mistakes'])} (see data/demo_truth.json).")
    console.print(f"Written to {raw_dir(workspace)}. Next: kwa ingest --workspace {workspace}")
