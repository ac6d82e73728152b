"""Seconds per pupil report: the warm-kernel batch against the naive way, measured in one run.

Naive way (what a newcomer would script): for each pupil, the papermill CLI runs the notebook (a fresh kernel,
fresh imports, the workspace read again), then `jupyter nbconvert --to html --no-input` converts it.
Batch: `render_reports(workspace, "student", students=...)`, one warm kernel for the whole batch (engine.py).
Both render the same pupils of the same workspace; the batch time includes its kernel start. Then the same pupils'
reports are printed to PDF through one Chromium: its start-up, and the seconds a pupil after it.

    .venv/bin/python benchmarks/reports_batch.py [--workspace DIR] [--pupils 20]

Without --workspace a demo school is made (`kwa demo` + `kwa ingest`) in a temporary folder.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def _ids(workspace, pupils: int) -> list[str]:
    from kwanalytics.store import read_table

    return read_table(workspace, "students")["student_id"].dropna().astype(str).tolist()[:pupils]


def naive(workspace, ids, out_dir: Path) -> float:
    """Total seconds for papermill CLI + nbconvert CLI, one pupil at a time."""
    nb = ROOT / "notebooks" / "student_report.ipynb"
    t0 = time.perf_counter()
    for sid in ids:
        executed = out_dir / f"{sid}.ipynb"
        subprocess.run([str(BIN / "papermill"), str(nb), str(executed), "-p", "workspace", str(workspace),
                        "-p", "student_id", sid, "--cwd", str(workspace), "--no-progress-bar"],
                       check=True, capture_output=True)
        subprocess.run([str(BIN / "jupyter"), "nbconvert", "--to", "html", "--no-input", str(executed)],
                       check=True, capture_output=True)
    return time.perf_counter() - t0


def batch(workspace, ids) -> float:
    from kwanalytics.render.reports import render_reports

    t0 = time.perf_counter()
    failures = render_reports(workspace, "student", students=ids, console=None)
    if failures:
        raise SystemExit(f"batch failures: {failures}")
    return time.perf_counter() - t0


def pdfs(workspace, ids) -> dict:
    """Seconds to start a Chromium, then seconds a pupil PDF, printed as a batch prints them (render/reports.py:
    one open Chromium beside each of the workers, two on two cores, printing side by side), and through one
    browser alone (render/browser.py)."""
    import threading

    from kwanalytics.render.browser import Browser

    pages = [Path(workspace) / "reports" / "students" / f"{sid}.html" for sid in ids]
    workers = min(2, os.cpu_count() or 1)
    t0 = time.perf_counter()
    browsers = [Browser().start()]
    started = time.perf_counter() - t0
    browsers += [Browser().start() for _ in range(workers - 1)]
    try:
        def print_all(browser, todo):
            for page in todo:
                assert browser.pdf(page).startswith(b"%PDF")

        t1 = time.perf_counter()
        print_all(browsers[0], pages)
        one = (time.perf_counter() - t1) / len(pages)
        t2 = time.perf_counter()
        threads = [threading.Thread(target=print_all, args=(b, pages[i::workers])) for i, b in enumerate(browsers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        per_pdf = (time.perf_counter() - t2) / len(pages)
    finally:
        for b in browsers:
            b.close()
    return {"browser_start_s": started, "pdf_s_per_pupil": per_pdf, "pdf_one_browser_s": one,
            "pdf_workers": workers}


def compare(workspace, pupils: int = 20) -> dict:
    """Both ways on the same pupils; figures for benchmarks/run.py."""
    workspace = Path(workspace).resolve()
    ids = _ids(workspace, pupils)
    with tempfile.TemporaryDirectory(prefix="kwa-naive-") as tmp:
        naive_s = naive(workspace, ids, Path(tmp))
    batch_s = batch(workspace, ids)
    sizes = [(workspace / "reports" / "students" / f"{sid}.html").stat().st_size / 2**20 for sid in ids]
    return {"pupils": len(ids), "batch_s_per_report": batch_s / len(ids), "naive_s_per_report": naive_s / len(ids),
            "speedup": naive_s / batch_s, "pupil_report_mib": sum(sizes) / len(sizes),
            "pupil_report_max_mib": max(sizes), **pdfs(workspace, ids)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workspace", type=Path)
    ap.add_argument("--pupils", type=int, default=20)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="kwa-bench-") as tmp:
        ws = args.workspace
        if ws is None:
            ws = Path(tmp)
            subprocess.run([str(BIN / "kwa"), "demo", "--workspace", str(ws)], check=True, capture_output=True)
            subprocess.run([str(BIN / "kwa"), "ingest", "--workspace", str(ws)], capture_output=True)
        fig = compare(ws, args.pupils)
    print(f"{fig['pupils']} pupil reports: batch {fig['batch_s_per_report']:.2f} s/report, naive "
          f"{fig['naive_s_per_report']:.2f} s/report, speed-up {fig['speedup']:.1f}x; report size "
          f"{fig['pupil_report_mib']:.2f} MiB (largest {fig['pupil_report_max_mib']:.2f}); PDF "
          f"{fig['pdf_s_per_pupil']:.2f} s a pupil after a {fig['browser_start_s']:.2f} s browser start "
          f"({fig['pdf_workers']} workers; {fig['pdf_one_browser_s']:.2f} s through one browser alone)")
    print(json.dumps(fig))


if __name__ == "__main__":
    main()
