"""reports/validation.html: every file under data/raw, what was wrong in the exports, where, and how to fix it.

Rendered from the Jinja2 template beside this module (``validation.html.j2``) with autoescape on, so every value
from an export is shown as typed, never run; self-contained (no scripts, nothing fetched) under the same
Content-Security-Policy as the reports (``safety.REPORT_CSP``).
"""

from __future__ import annotations

import functools
from datetime import datetime
from importlib import resources
from pathlib import Path

import pandas as pd

from kwanalytics.safety import REPORT_CSP
from kwanalytics.settings import fold
from kwanalytics.store import atomic_write_text, reports_dir

CSS = """body{font-family:system-ui,Segoe UI,Arial,sans-serif;margin:2rem;max-width:75rem;color:#222}
table{border-collapse:collapse;margin:.5rem 0 1.5rem}th,td{border:1px solid #ccc;padding:.3rem .5rem;
text-align:left;vertical-align:top}th{background:#f2f2f2}.bad{color:#a40000}.ok{color:#176a00}
.warn{color:#8a5a00}td.n{text-align:right}tr.this-run{font-weight:bold;background:#fffbe6}
code{background:#f6f6f6;padding:0 .2rem}"""

MAX_ROWS_SHOWN = 200  # per file; the rejected CSV has every row
MAX_WARNINGS_SHOWN = 500
VERDICTS = {0: "every file was read and every row was accepted.",
            1: "some rows were rejected; the rest is stored.",
            2: "some files could not be read at all."}
#: What each exit code of ``kwa ingest`` / ``kwa validate`` means and what to do (README.md "Exit codes"), so the
#: data manager reading this page, or a scheduled task's log, knows whether anything needs them.
EXIT_CODES = [(0, "Everything was accepted. Warnings and unlisted values below, if any, are worth a look; "
                  "nothing was lost."),
              (1, "Some rows were rejected; every other row is stored. Fix the rows listed under "
                  "\"Rejected rows\" in the export and run kwa ingest again."),
              (2, "A file could not be read at all (listed under \"Files that could not be read\"), the "
                  "workspace is damaged, or the command was misused; nothing from that file is stored. The "
                  "message says what to do.")]


@functools.lru_cache(maxsize=1)
def _template():
    import jinja2

    text = resources.files(__package__).joinpath("validation.html.j2").read_text(encoding="utf-8")
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    return env.from_string(text)


def _rejected(result) -> list[dict]:
    by_file: dict[str, list] = {}
    for frame in result.rejected.values():
        for path, group in frame.groupby("file", sort=True):
            by_file.setdefault(path, []).extend(zip(group["row"].tolist(), group["reason"].tolist()))
    return [{"path": path, "total": len(rows),
             "rows": [(row, str(reason).split("; ")) for row, reason in rows[:MAX_ROWS_SHOWN]]}
            for path, rows in sorted(by_file.items())]


MAX_SESSIONS_NAMED = 12  # per risk assessment's line; the count and the dates cover them all


def _day(value) -> str:
    return "" if value is None or pd.isna(value) else f"{pd.Timestamp(value):%d/%m/%Y}"


def _text(value) -> str:
    return "" if value is None or pd.isna(value) else str(value)


def _todo(kind: str, w: dict) -> str:
    if kind == "none":
        return "record a risk assessment for this pupil, activity and venue"
    if _text(w["ra_until"]):
        return "review the assessment (record its new review date) or record a new one"
    if "not in the records" in str(w["reason"]):
        return "add the assessment to the risk assessments export, or correct the sessions' risk_assessment_id"
    return "check the assessment's date; record one that covers these sessions"


def risk_assessment_lines(warnings: list[dict]) -> tuple[list[dict], list[dict]]:
    """The warnings about community sessions with no current risk assessment said once per assessment (its pupil,
    activity, venue, when it stopped being current, and every session it leaves uncovered), or once per pupil,
    activity and venue when no assessment applies at all; and the other warnings as they are. Lines by their
    first session's date."""
    groups: dict[tuple, list[dict]] = {}
    other = []
    for w in warnings:
        if "ra_id" not in w:
            other.append(w)
            continue
        ra = _text(w["ra_id"])
        key = ("ra", ra) if ra else ("none", _text(w["student_id"]), fold(_text(w["activity"])),
                                     fold(_text(w["venue"])))
        groups.setdefault(key, []).append(w)
    lines = []
    for (kind, *_), ws in groups.items():
        ws = sorted(ws, key=lambda w: (pd.Timestamp(w["date"]), str(w["session_id"])))
        distinct = lambda col, ws=ws: ", ".join(dict.fromkeys(t for w in ws if (t := _text(w[col]))))  # noqa: E731
        lines.append({
            "ra": _text(ws[0]["ra_id"]) or "none recorded", "pupil": distinct("student_id"),
            "activity": distinct("activity"), "venue": distinct("venue"),
            "until": next((_day(w["ra_until"]) for w in ws if _day(w["ra_until"])), ""),
            "why": "; ".join(dict.fromkeys(str(w["reason"]) for w in ws)), "count": len(ws),
            "dates": _day(ws[0]["date"]) + (f" to {_day(ws[-1]['date'])}" if len(ws) > 1 else ""),
            "sessions": [(w["session_id"], _day(w["date"]), w["where"]) for w in ws[:MAX_SESSIONS_NAMED]],
            "first": pd.Timestamp(ws[0]["date"]),
            "todo": _todo(kind, ws[0])})
    lines.sort(key=lambda line: (line["first"], line["ra"]))
    return lines, other


def render_validation_html(result, workspace=None) -> str:
    """The report for an IngestResult as one HTML string."""
    notes = [(f.name, w) for f in result.files for w in f.warnings]
    risk_lines, warnings = risk_assessment_lines(result.warnings)
    skipped = [(f.name, reason, n) for f in result.files for reason, n in f.skipped_because.items()]
    from markupsafe import Markup  # our own constants, not an export's text: written as they are

    return _template().render(
        csp=Markup(REPORT_CSP), css=Markup(CSS), made=datetime.now().strftime("%d/%m/%Y %H:%M"), exit_code=result.exit_code,
        verdict=VERDICTS.get(result.exit_code, ""), exit_codes=EXIT_CODES, files=result.files, skipped=skipped,
        refused=[f for f in result.files if f.error], versions=getattr(result, "versions", []),
        duplicates=getattr(result, "duplicate_rows", []),
        rejected=_rejected(result), notes=notes, risk_lines=risk_lines[:MAX_WARNINGS_SHOWN],
        more_risk_lines=max(0, len(risk_lines) - MAX_WARNINGS_SHOWN), warnings=warnings[:MAX_WARNINGS_SHOWN],
        more_warnings=max(0, len(warnings) - MAX_WARNINGS_SHOWN), vocabulary=result.vocabulary,
        nothing_to_fix=result.exit_code == 0 and not (result.warnings or notes or result.vocabulary))


def write_validation_report(workspace, result) -> Path:
    path = reports_dir(workspace) / "validation.html"
    atomic_write_text(path, render_validation_html(result, workspace))
    return path
