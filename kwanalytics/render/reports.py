"""Rendering the report notebooks to self-contained HTML files (and Word / PDF packs), many pupils per batch.

Flow: notebooks/<kind>_report.ipynb --papermill parameters--> executed in one warm kernel (engine.WarmKernel)
--nbconvert "basic" template, code hidden--> one page with our CSS and plotly.js embedded once in its head
(the lightest partial bundle that draws its charts, gzipped: render/bundle.py)
--> WORKSPACE/reports/... written atomically, owner-only.

Why our own page around nbconvert's "basic" body rather than the "lab" template: the lab template links
require.js and MathJax from a CDN; a pupil's report must open offline and fetch nothing. The page we write holds
no http(s) script, link or src at all (tests/test_reports.py checks), and plotly.js is embedded in the page.
"""

from __future__ import annotations

import functools
import html
import os
import queue
import re
import threading
from pathlib import Path

import pandas as pd

from kwanalytics import audit
from kwanalytics.errors import InputError
from kwanalytics.resources import NOTEBOOKS
from kwanalytics.safety import REPORT_CSP, escape
from kwanalytics.store import atomic_write_text, reports_dir

ASSETS = Path(__file__).resolve().parent / "assets"
KINDS = ("student", "cohort", "patterns")
#: Reports in a batch before a second kernel is started (on a machine with 2 or more cores).
MIN_JOBS_PER_EXTRA_KERNEL = 12
TITLES = {"student": "Annual review evidence pack", "cohort": "Key-work programmes: impact and cost",
          "patterns": "Behaviour patterns: watchlist, hotspots and criteria"}


def notebook_path(kind: str) -> Path:
    return NOTEBOOKS / f"{kind}_report.ipynb"


def stylesheets() -> str:
    """Every .css file in render/assets, in name order (base.css first), inlined."""
    files = sorted(ASSETS.glob("*.css"), key=lambda p: (p.name != "base.css", p.name))
    return "\n".join(f"/* {p.name} */\n{p.read_text(encoding='utf-8')}" for p in files)


@functools.lru_cache(maxsize=1)
def _exporter():
    from nbconvert import HTMLExporter

    return HTMLExporter(template_name="basic", exclude_input=True, exclude_input_prompt=True,
                        exclude_output_prompt=True, exclude_raw=True)


def page(body: str, title: str) -> str:
    """A whole HTML page: CSS and the plotly.js its charts need inline (render/bundle.py), nothing fetched."""
    from kwanalytics.render.bundle import script

    return ("<!DOCTYPE html>\n<html lang=\"en-GB\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            f"<meta http-equiv=\"Content-Security-Policy\" content=\"{REPORT_CSP}\">\n"
            f"<title>{escape(title)}</title>\n<style>\n{stylesheets()}\n</style>\n"
            f"{script(body)}</head>\n<body>\n<main class=\"kwa-report\">\n{body}\n"
            "</main>\n</body>\n</html>\n")


def notebook_html(nb, title: str) -> str:
    """The executed notebook as a page, titled by its first heading where it has one (a pupil pack's names the
    pupil): the title is what a browser tab, a PDF's every page footer and a Word file's properties show."""
    body, _ = _exporter().from_notebook_node(nb)
    return page(body, first_heading(body) or title)


def first_heading(body: str) -> str | None:
    found = re.search(r"<h1\b[^>]*>(.*?)</h1>", body, re.S)
    if not found:
        return None
    text = html.unescape(re.sub(r"<a class=\"anchor-link\".*?</a>|<[^>]+>", "", found.group(1), flags=re.S))
    return " ".join(text.split()) or None


_REMOTE = re.compile(r"<(?:script|link|img|iframe)[^>]+(?:src|href)\s*=\s*[\"']?\s*(?:https?:)?//", re.I)


def is_offline(html: str) -> bool:
    """True when the page loads nothing from the network (no http(s) or protocol-relative src/href)."""
    return not _REMOTE.search(html)


def _parameters(workspace: Path, kind: str, student_id=None, since=None, until=None) -> dict:
    params = {"workspace": str(workspace)}
    if kind == "student":
        params.update(student_id=str(student_id), since=None if since is None else str(pd.Timestamp(since).date()),
                      until=None if until is None else str(pd.Timestamp(until).date()))
    elif kind == "patterns":  # since: the last meeting (the report opens with what is new since); until: as of
        params.update(since=None if since is None else str(pd.Timestamp(since).date()),
                      as_of=None if until is None else str(pd.Timestamp(until).date()))
    return params


def _progress(console, total: int):
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    return Progress(TextColumn("[bold]Rendering reports"), BarColumn(), MofNCompleteColumn(),
                    TimeRemainingColumn(), console=console, transient=False, disable=console is None)


def render_reports(workspace, kind: str, students=None, since=None, until=None, formats=("html",),
                   console=None, kernel=None, workers: int | None = None) -> list[tuple[str, str]]:
    """Render ``kind`` (student, cohort, patterns, validation or all); return the (what, reason) of each failure.

    Every report can be HTML, Word (built from the HTML: render/htmldocx.py) and PDF (the HTML printed); one
    Chromium for each worker, started once, serves the batch's PDF and Word files (render/browser.py).
    ``validation`` converts the reports/validation.html that `kwa ingest` wrote.

    Warm kernels serve the whole batch: ``workers`` of them (default: 2 for 12 reports or more on a machine
    with 2 cores or more, else 1; env KWA_REPORT_WORKERS overrides), each
    started once; pass ``kernel`` to reuse one across calls. A pupil whose report fails is recorded and the
    batch goes on.
    """
    from kwanalytics.render.engine import WarmKernel, CellError, parameterised
    from kwanalytics.store import load_tables

    workspace = Path(workspace).resolve()
    if kind not in (*KINDS, "validation", "all"):
        raise InputError(f"Unknown report {kind!r}: choose student, cohort, patterns, validation or all.")
    formats = tuple(formats or ("html",))
    unknown = set(formats) - {"html", "docx", "pdf"}
    if unknown:
        raise InputError(f"Unknown format(s) {', '.join(sorted(unknown))}: choose html, docx or pdf.")
    kinds = KINDS if kind == "all" else (kind,)
    if kind == "validation":
        kinds = ()
    students_table = load_tables(workspace, ["students"])["students"]
    if "student" in kinds:
        ids = [str(s) for s in (students or students_table["student_id"].dropna().astype(str).tolist())]
        if not ids and kind == "student":
            raise InputError("There are no pupils in the students table, so there is no pupil report to write. "
                             "Run `kwa ingest` with a students export first.")
        missing = sorted(set(ids) - set(students_table["student_id"].astype(str)))
        if missing:
            raise InputError(f"No pupil with id {', '.join(missing)} in the students table. Check the ids "
                             "(they are case-sensitive) or run `kwa ingest` first.")
    else:
        ids = []
    jobs = [("student", s) for s in ids] + [(k, None) for k in kinds if k != "student"]
    failures: list[tuple[str, str]] = []
    written: list[str] = []
    out_dir = reports_dir(workspace)
    notebooks = {k: notebook_path(k) for k in kinds}

    browser_lock = threading.Lock()
    opened: list = []  # the batch's Chromiums, to close at the end
    own = threading.local()

    def browser():
        """The Chromium of this worker thread, started by its first report that needs PDF or Word and kept open
        for the rest of the batch: one per warm kernel, so the two workers print side by side (a browser
        loads, draws and prints one page at a time; two use both cores: 0.35 s a PDF against 0.56 s)."""
        from kwanalytics.render.browser import Browser

        if getattr(own, "browser", None) is None:
            own.browser = Browser().start()
            with browser_lock:
                opened.append(own.browser)
        return own.browser

    def render_one(kernel, job_kind, sid) -> None:
        what = f"pupil {sid}" if sid else f"{job_kind} report"
        target = (out_dir / "students" / f"{sid}.html") if sid else out_dir / f"{job_kind}.html"
        try:
            nb = parameterised(notebooks[job_kind], _parameters(workspace, job_kind, sid, since, until))
            kernel.execute(nb)
            title = TITLES[job_kind] + (f" ({sid})" if sid else "")
            # Word and PDF are made from this page; when the HTML itself was not asked for, a hidden copy beside
            # the target is used (an HTML report already there is left as it was)
            page_path = target if "html" in formats else target.with_name(f".{target.stem}.for-print.html")
            atomic_write_text(page_path, notebook_html(nb, title))
            if "html" in formats:
                written.append(str(target.relative_to(workspace)))
            convert(page_path, target, title)
        except CellError as exc:
            failures.append((what, str(exc)))
        except Exception as exc:  # noqa: BLE001 - one report must not stop the batch
            failures.append((what, f"{type(exc).__name__}: {str(exc)[:300]}"))
        finally:
            if "html" not in formats:
                target.with_name(f".{target.stem}.for-print.html").unlink(missing_ok=True)

    def convert(page_path: Path, target: Path, title: str) -> None:
        # Word first: its chart pictures leave the page as drawn, so the PDF prints the same loaded page (the
        # browser loads, unpacks plotly.js and draws the charts once for both)
        if "docx" in formats:
            from kwanalytics.render.htmldocx import write_docx

            docx = write_docx(page_path, target.with_suffix(".docx"), browser(), title)
            written.append(str(docx.relative_to(workspace)))
        if "pdf" in formats:
            from kwanalytics.render.pdf import print_pdf

            pdf = print_pdf(page_path, target.with_suffix(".pdf"), browser=browser())
            written.append(str(pdf.relative_to(workspace)))

    if kind == "validation":  # written by `kwa ingest`; here it is only turned into Word and PDF
        source = out_dir / "validation.html"
        if not source.is_file():
            raise InputError(f"There is no validation report yet ({source} is missing): run `kwa ingest` first.")
        try:
            if "html" in formats:
                written.append(str(source.relative_to(workspace)))
            convert(source, source, "Validation report")
        except Exception as exc:  # noqa: BLE001
            failures.append(("validation report", f"{type(exc).__name__}: {str(exc)[:300]}"))
        finally:
            for b in opened:
                b.close()
        _finish(workspace, kind, formats, written, failures, out_dir, console)
        return failures

    # Kernels run in their own processes, so two of them use two cores; each is driven by one thread here
    # and takes the next job from a shared queue. One kernel is only ever used by its own thread.
    if workers is None:  # a second kernel pays off only once its start-up (~2 s) is spread over enough reports
        workers = int(os.environ.get("KWA_REPORT_WORKERS", 0)) or (
            min(2, os.cpu_count() or 1) if len(jobs) >= MIN_JOBS_PER_EXTRA_KERNEL else 1)
    workers = 1 if kernel is not None else max(1, min(workers, len(jobs)))
    todo: queue.Queue = queue.Queue()
    for job in jobs:
        todo.put(job)

    def worker(progress, task, given=None) -> None:
        k = given or WarmKernel(cwd=workspace)
        try:
            if given is None:
                k.start()
            while True:
                try:
                    job_kind, sid = todo.get_nowait()
                except queue.Empty:
                    return
                render_one(k, job_kind, sid)
                progress.advance(task)
        except Exception as exc:  # the kernel would not start: the jobs left are failures, said plainly
            while not todo.empty():
                job_kind, sid = todo.get_nowait()
                failures.append((f"pupil {sid}" if sid else f"{job_kind} report",
                                 f"the Python kernel could not be started ({type(exc).__name__}: {exc})"))
                progress.advance(task)
        finally:
            if given is None:
                k.stop()

    with _progress(console, len(jobs)) as progress:
        task = progress.add_task("reports", total=len(jobs))
        if workers == 1:
            worker(progress, task, kernel)
        else:
            threads = [threading.Thread(target=worker, args=(progress, task), name=f"kwa-report-{i}")
                       for i in range(workers)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
    for b in opened:
        b.close()
    _finish(workspace, kind, formats, written, failures, out_dir, console)
    return failures


def _finish(workspace, kind, formats, written, failures, out_dir, console) -> None:
    audit.record(workspace, "report", kind=kind, formats=list(formats), written=written,
                 failed=[{"what": w, "reason": r} for w, r in failures])
    if console is not None:
        from rich.markup import escape as markup_escape

        console.print(f"Wrote {len(written)} file(s) under {out_dir}.")
        for what, reason in failures:
            console.print(f"[red]Failed:[/red] {markup_escape(what)}: {markup_escape(reason)}", highlight=False)
