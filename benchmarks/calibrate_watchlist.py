"""Calibration of the watchlist: how often it flags chance, and how often it finds what was planted.

    .venv/bin/python benchmarks/calibrate_watchlist.py [--pupils 3000] [--schools 3] [--seed 0] [--no-demo]

Prints the tables in docs/patterns.md (Markdown), from simulated schools (kwanalytics/demo/calibration.py):

1. False alarms: null schools (``--schools`` of ``--pupils`` pupils each; rates from a gamma, a third joining in
   the spring, every incident's details from school-wide mixes). Per kind, the share of pupils flagged; every
   flag is a false alarm by construction. Late joiners against full-year pupils. The escalation rule (first
   physical incidents after low-level ones) is a safeguarding rule, not a test, and is counted apart.
2. Detection: schools of 300 chance pupils and 30 pupils with one planted kind at three strengths; the share of
   the planted pupils flagged with that kind, and the chance pupils flagged beside them.
3. The demo (`kwa demo`, 60 and 600 pupils): planted patterns found, scattered or quiet pupils flagged.

Runs in a few minutes on one core; seeded, so the same figures each time.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from kwanalytics.calendar import SchoolCalendar, from_term_dates
from kwanalytics.demo.calibration import PLANTED_KINDS, STRENGTH_WORDS, STRENGTHS, null_school, planted_school
from kwanalytics.metrics.patterns import KINDS, watchlist
from kwanalytics.settings import load_settings

YEAR = ("2025-09-03", "2026-07-21")


def _pct(k: int, n: int) -> str:
    return f"{k}/{n:,} ({100 * k / max(n, 1):.1f}%)"


def false_alarms(settings, calendar, pupils: int, schools: int, seed: int) -> None:
    rows, late_n, full_n, total = [], 0, 0, 0
    flagged = {k: 0 for k in KINDS}
    tested_pupils = rule_pupils = late_tested = full_tested = late_rule = full_rule = 0
    started = time.perf_counter()
    for s in range(schools):
        school = null_school(calendar, settings, pupils=pupils, seed=seed + s)
        wl = watchlist(school.incidents, school.students, None, calendar, settings, as_of=YEAR[1])
        late = set(school.pupils.loc[school.pupils["late_joiner"], "student_id"])
        tested = wl[wl["p_value"].notna()]
        rule = wl[wl["p_value"].isna()]
        for kind in KINDS:
            flagged[kind] += tested.loc[tested["pattern"] == kind, "student_id"].nunique()
        t_ids, r_ids = set(tested["student_id"]), set(rule["student_id"])
        tested_pupils += len(t_ids)
        rule_pupils += len(r_ids)
        late_tested += len(t_ids & late)
        full_tested += len(t_ids - late)
        late_rule += len(r_ids & late)
        full_rule += len(r_ids - late)
        late_n += len(late)
        full_n += pupils - len(late)
        total += pupils
        rows.append(len(school.incidents))
    took = time.perf_counter() - started
    print(f"## False alarms: {schools} null schools of {pupils:,} pupils ({sum(rows):,} incidents; "
          f"{took / schools:.1f} s a school)\n")
    print("| kind | pupils flagged |")
    print("| --- | --- |")
    for kind in KINDS:
        label = kind + (" (rise test)" if kind == "escalation" else "")
        print(f"| {label} | {_pct(flagged[kind], total)} |")
    print(f"| any statistical test | {_pct(tested_pupils, total)} |")
    print(f"| escalation rule (safeguarding, not a test) | {_pct(rule_pupils, total)} |")
    print()
    print("| pupils | flagged by a test | flagged by the escalation rule |")
    print("| --- | --- | --- |")
    print(f"| full year | {_pct(full_tested, full_n)} | {_pct(full_rule, full_n)} |")
    print(f"| joined in the spring | {_pct(late_tested, late_n)} | {_pct(late_rule, late_n)} |")
    print()


def detection(settings, calendar, seed: int) -> None:
    print("## Detection: 30 planted pupils among 300 chance pupils, per kind and strength\n")
    print("| kind | strength | planted pupils found | chance pupils flagged (any kind) |")
    print("| --- | --- | --- | --- |")
    for kind in PLANTED_KINDS:
        for strength in STRENGTHS[kind]:
            school = planted_school(calendar, settings, kind, strength, seed=seed)
            wl = watchlist(school.incidents, school.students, None, calendar, settings, as_of=YEAR[1])
            info = school.pupils
            planted = info.loc[info["planted"] == kind, "student_id"]
            hit = (wl["pattern"] == kind) & wl["student_id"].isin(planted)
            if kind == "escalation":  # the rise test; the safeguarding rule is counted in the null schools
                hit &= wl["p_value"].notna()
            found = wl.loc[hit, "student_id"].nunique()
            chance = info.loc[info["planted"] == "", "student_id"]
            noise = wl.loc[wl["student_id"].isin(chance) & wl["p_value"].notna(), "student_id"].nunique()
            words = (f"{strength:g} {STRENGTH_WORDS[kind]}" if kind in ("cluster", "escalation")
                     else f"{strength:.0%} {STRENGTH_WORDS[kind]}")
            print(f"| {kind} | {words} | {_pct(found, len(planted))} | {_pct(noise, len(chance))} |")
    print()


def demo(settings_unused, sizes=(60, 600)) -> None:
    from kwanalytics.demo.school import write_demo
    from kwanalytics.ingest.pipeline import run_ingest
    from kwanalytics.workspace import load_workspace

    print("## The demo school (seed 2026)\n")
    print("| demo | planted patterns found | scattered or quiet pupils flagged |")
    print("| --- | --- | --- |")
    for n in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            write_demo(tmp, students=n, seed=2026, console=None)
            run_ingest(tmp, write=True, rebuild=True, console=None)
            ws = load_workspace(tmp)
            t = ws.tables
            wl = watchlist(t["incidents"], t["students"], t["sessions"], ws.calendar, ws.settings,
                           interventions=t["interventions"])
            truth = json.loads((Path(tmp) / "data" / "demo_truth.json").read_text())
        flags = wl.groupby("student_id")["pattern"].agg(set)
        planted = [p for p in truth["planted"] if p["kind"] in KINDS]
        found = sum(p["kind"] in flags.get(p["student_id"], set()) for p in planted)
        calm = [p["student_id"] for p in truth["planted"] if p["kind"] in ("scattered", "quiet")]
        noisy = sum(s in flags.index for s in calm)
        print(f"| {n} pupils | {_pct(found, len(planted))} | {_pct(noisy, len(calm))} |")
    print()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pupils", type=int, default=3000)
    ap.add_argument("--schools", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-demo", action="store_true")
    args = ap.parse_args(argv)
    settings = load_settings()
    calendar = SchoolCalendar(from_term_dates(settings.term_dates).between(*YEAR), "the 2025-26 term dates")
    fdr = settings.config["patterns"]["false_discovery_rate"]
    print(f"# Watchlist calibration (false discovery rate {fdr}, settings.yaml as shipped)\n")
    false_alarms(settings, calendar, args.pupils, args.schools, args.seed)
    detection(settings, calendar, args.seed)
    if not args.no_demo:
        demo(settings)
    return 0


if __name__ == "__main__":
    sys.exit(main())
