"""The `kwa` command: the thin shell around the package.

Exit codes (kept stable for schools' scripts):
  0  everything was accepted / done
  1  done, but some rows were rejected (ingest, validate) or some reports failed (report)
  2  a file could not be read at all, the workspace is damaged, or the command was misused
"""

from __future__ import annotations

import sys
from datetime import date
from enum import Enum
from pathlib import Path
from typing import List, Optional

import typer
from rich.console import Console

from kwanalytics.errors import KwaError

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="kwanalytics: evidence of progress from key-work sessions and behaviour records.")
console = Console(stderr=False)
err = Console(stderr=True)

WorkspaceOpt = typer.Option(Path("."), "--workspace", "-w", help="The folder holding data/raw, data/processed "
                            "and reports/ (default: the current folder).", file_okay=False)


class OutputFormat(str, Enum):
    table = "table"
    csv = "csv"


def _date(value: Optional[str], flag: str) -> Optional[date]:
    if value is None:
        return None
    from kwanalytics.ingest.parsing import parse_date_text

    parsed = parse_date_text(value)
    if parsed is None:
        raise typer.BadParameter(f"{value!r} is not a date. Use YYYY-MM-DD or DD/MM/YYYY, e.g. 2026-07-22.",
                                 param_hint=flag)
    return parsed


def _emit(frame, fmt: OutputFormat, title: str, wide: bool = False, line: list[str] | None = None,
          beneath: list[str] | None = None) -> None:
    from kwanalytics.output import print_compact, print_frame

    if fmt is OutputFormat.table and not wide and line:
        print_compact(frame, title, console, line, beneath)
    else:
        print_frame(frame, fmt.value, title, console)


WideOpt = typer.Option(False, "--wide", help="Every column in one table (for a wide terminal); the default is "
                       "one line a row with the key figures and the rest wrapped beneath, readable at 80 columns.")


@app.command()
def demo(workspace: Path = WorkspaceOpt,
         students: int = typer.Option(60, "--students", min=1, max=100_000, help="How many pupils."),
         seed: int = typer.Option(2026, "--seed", help="The same seed gives the same files.")):
    """Write a realistic synthetic school year into WORKSPACE/data/raw (no real pupil data)."""
    from kwanalytics.demo.school import write_demo

    result = write_demo(workspace, students=students, seed=seed, console=console)
    raise typer.Exit(0 if result is None else getattr(result, "exit_code", 0))


@app.command()
def ingest(workspace: Path = WorkspaceOpt,
           profile: Optional[str] = typer.Option(None, "--profile", help="Force one source profile "
                                                 "(generic, arbor, classcharts, cpoms, sims) for every file."),
           rebuild: bool = typer.Option(False, "--rebuild", help="Discard the processed tables and rebuild them "
                                        "from data/raw.")):
    """Read every export under WORKSPACE/data/raw, validate it and store it in WORKSPACE/data/processed."""
    from kwanalytics.ingest.pipeline import run_ingest

    result = run_ingest(workspace, profile=profile, write=True, rebuild=rebuild, console=console)
    raise typer.Exit(result.exit_code)


@app.command()
def validate(workspace: Path = WorkspaceOpt,
             profile: Optional[str] = typer.Option(None, "--profile", help="Force one source profile.")):
    """Check the exports under WORKSPACE/data/raw like `ingest`, without writing the processed tables."""
    from kwanalytics.ingest.pipeline import run_ingest

    result = run_ingest(workspace, profile=profile, write=False, console=console)
    raise typer.Exit(result.exit_code)


class ImpactBy(str, Enum):
    enrolment = "enrolment"
    programme = "programme"


@app.command()
def impact(workspace: Path = WorkspaceOpt,
           as_of: Optional[str] = typer.Option(None, "--as-of", help="Count open enrolments up to this date "
                                               "(default: the last date in the data)."),
           by: ImpactBy = typer.Option(ImpactBy.enrolment, "--by"),
           fmt: OutputFormat = typer.Option(OutputFormat.table, "--format"),
           wide: bool = WideOpt):
    """Incidents before and during each intervention, with rate ratios, NAP, Tau-U and a verdict."""
    from kwanalytics.evidence.listings import impact_report, terminal_columns

    frame, title = impact_report(workspace, as_of=_date(as_of, "--as-of"), by=by.value)
    if fmt == OutputFormat.table and by == ImpactBy.programme and not wide:
        frame, title = terminal_columns(frame, by.value), title + "; --wide or --format csv for every column"
    if fmt is OutputFormat.table and not wide:
        from kwanalytics.output import with_interval

        frame = with_interval(frame, "rate_ratio", "rate_ratio_ci_low", "rate_ratio_ci_high", "rate ratio (95% CI)")
        frame = with_interval(frame, "adjusted_rate_ratio", "adjusted_ci_low", "adjusted_ci_high",
                              "adjusted rate ratio (95% CI)")
    line = (["programme", "pupils", "rate ratio (95% CI)", "cost_per_pupil"] if by is ImpactBy.programme else
            ["student_id", "programme", "rate ratio (95% CI)", "verdict"])
    _emit(frame, fmt, title, wide, line)


@app.command()
def watchlist(workspace: Path = WorkspaceOpt,
              as_of: Optional[str] = typer.Option(None, "--as-of", help="Look at incidents up to this date."),
              since: Optional[str] = typer.Option(None, "--since", help="Only patterns with incidents on or after "
                                                  "this date (the last meeting), each marked new or continuing."),
              fmt: OutputFormat = typer.Option(OutputFormat.table, "--format"),
              wide: bool = WideOpt):
    """Pupils with repeated patterns of behaviour, with the evidence and a suggested next step."""
    from kwanalytics.evidence.listings import watchlist_report

    frame, title = watchlist_report(workspace, as_of=_date(as_of, "--as-of"), since=_date(since, "--since"))
    _emit(frame, fmt, title, wide, ["student_id", "pattern", "incidents", "first_seen", "last_seen", "q_value",
                                    "status"], ["evidence", "next_step"])


class ReportKind(str, Enum):
    student = "student"
    cohort = "cohort"
    patterns = "patterns"
    validation = "validation"
    all = "all"


class ReportFormat(str, Enum):
    html = "html"
    docx = "docx"
    pdf = "pdf"


@app.command()
def report(kind: ReportKind = typer.Argument(..., help="student, cohort, patterns, validation or all"),
           workspace: Path = WorkspaceOpt,
           student: Optional[List[str]] = typer.Option(None, "--student", help="Pupil id (repeat for several; "
                                                       "default: every pupil)."),
           since: Optional[str] = typer.Option(None, "--since", help="Start of the period (default: the last "
                                               "annual review)."),
           until: Optional[str] = typer.Option(None, "--until", help="End of the period (default: today's data)."),
           fmt: Optional[List[ReportFormat]] = typer.Option(None, "--format", help="html (default), docx, pdf; "
                                                            "repeat for several.")):
    """Render reports under WORKSPACE/reports: self-contained HTML (opens offline), Word and PDF."""
    from kwanalytics.render.reports import render_reports
    from kwanalytics.settings import load_settings

    # Settings the school cannot use are its mistake (exit 2), said once, not once per report that fails.
    load_settings(workspace)
    failures = render_reports(workspace, kind.value, students=student or None,
                              since=_date(since, "--since"), until=_date(until, "--until"),
                              formats=[f.value for f in (fmt or [ReportFormat.html])], console=console)
    raise typer.Exit(1 if failures else 0)


@app.command()
def pseudonymise(workspace: Path = WorkspaceOpt,
                 out: Path = typer.Option(..., "--out", help="Where to write the pseudonymised copy."),
                 salt_file: Optional[Path] = typer.Option(None, "--salt-file", help="The school's secret salt "
                                                          "(default: WORKSPACE/.kwa-salt, made on first use).")):
    """Copy a workspace's processed tables for an external analyst, with stable salted pupil ids and no names."""
    from kwanalytics.evidence.privacy import pseudonymise_workspace

    pseudonymise_workspace(workspace, out, salt_file=salt_file, console=console)


@app.command()
def template(kind: str = typer.Argument(..., metavar="KIND",
                                        help="Which workbook: sessions, incidents, contacts, targets or ratings."),
             out: Path = typer.Option(..., "--out", help="The workbook to write, e.g. session_log.xlsx."),
             workspace: Path = WorkspaceOpt):
    """Write an Excel workbook for a key worker to fill in: dropdowns from the school's vocabularies and pupils,
    an example row that is never stored, and plain instructions. Put the filled file in data/raw and ingest."""
    from kwanalytics.templates.workbook import write_template

    path, pupils = write_template(kind, out, workspace, today=date.today())
    listed = f"{pupils} pupils in its list" if pupils else "no pupils listed yet: ingest the students export first"
    console.print(f"Wrote {path} ({kind} template, {listed}). Fill it in from row 3, save it into data/raw and run "
                  "`kwa ingest`.", highlight=False)


def main() -> None:
    """Entry point: user mistakes become one clear paragraph and exit code 2, never a traceback."""
    try:
        # with standalone_mode=False click returns the code of a typer.Exit instead of raising it
        code = app(standalone_mode=False)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except KwaError as exc:
        from rich.markup import escape

        err.print(f"[bold red]kwa:[/] {escape(str(exc))}", highlight=False)
        sys.exit(exc.exit_code)
    except typer.Abort:
        err.print("kwa: stopped.")
        sys.exit(2)
    except Exception as exc:
        # Usage errors (unknown command, bad option value) arrive as click exceptions, which can show themselves.
        if hasattr(exc, "show") and hasattr(exc, "exit_code"):
            exc.show()
            sys.exit(2)
        raise
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
