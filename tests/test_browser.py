"""Each kind of report opened in headless Chromium with the network off: the plotly charts are really drawn.

nbconvert can silently drop plotly charts (papermill leaves only plotly's JSON mimetype, which nbconvert does not
draw), so the HTML is checked in a browser, not in the notebook: every chart div must hold a drawn SVG
(``svg.main-svg``) with plotted traces. Chromium runs with no network (``unshare -rn`` where allowed, otherwise
dead DNS and a dead proxy: kwanalytics.render.pdf.chromium_command), so a chart that needed a CDN would not draw.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("reports")]

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
try:  # the patterns report has its two heatmaps once the patterns analysis is installed
    import kwanalytics.metrics.patterns  # noqa: F401

    PATTERN_CHARTS = 2
except ImportError:
    PATTERN_CHARTS = 0
TRACES = re.compile(r'class="[^"]*\b(?:trace|bars|heatmaplayer|hm|scatterlayer|barlayer)\b')


def dump_dom(path) -> str:
    from kwanalytics.render.pdf import chromium_command

    with tempfile.TemporaryDirectory(prefix="kwa-browser-test-") as profile:
        cmd = chromium_command(CHROMIUM, profile, "--virtual-time-budget=15000", "--dump-dom",
                               path.resolve().as_uri())
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env={**os.environ, "HOME": profile})
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


def chart_divs(dom: str) -> list[str]:
    """The markup of each plotly chart div (from its opening tag to the next chart)."""
    starts = [m.start() for m in re.finditer(r'<div[^>]+class="[^"]*plotly-graph-div', dom)]
    return [dom[s:e] for s, e in zip(starts, starts[1:] + [len(dom)])]


#: Issue 17: a pupil pack at most 1.5 MiB, the cohort and patterns reports at most 2 MiB (each one file).
MIB = 2**20


@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed (`make browser`)")
@pytest.mark.parametrize("report, min_charts, max_bytes", [("students/S001.html", 5, 1.5 * MIB),
                                                           ("cohort.html", 2, 2 * MIB),
                                                           ("patterns.html", PATTERN_CHARTS, 2 * MIB)])
def test_charts_drawn_offline(rendered_reports, report, min_charts, max_bytes):
    ws, failures = rendered_reports
    assert failures == []
    assert (ws / "reports" / report).stat().st_size <= max_bytes
    source = (ws / "reports" / report).read_text(encoding="utf-8")
    expected = source.count("Plotly.newPlot(")
    assert expected >= min_charts
    dom = dump_dom(ws / "reports" / report)
    assert re.search(r'<html[^>]+data-kwa-charts="drawn"', dom), "plotly.js was not unpacked and run"
    charts = chart_divs(dom)
    assert len(charts) == expected
    for chart in charts:
        assert "main-svg" in chart, "a chart div was left empty: plotly.js did not run"
        assert TRACES.search(chart), "a chart was drawn with no traces"


@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed (`make browser`)")
def test_charts_drawn_in_a_browser_without_its_own_base64_decoder(rendered_reports, tmp_path):
    # Browsers before Chromium 140 / Firefox 133 / Safari 18.2 have no Uint8Array.fromBase64: the page falls back
    # to atob and still draws every chart.
    ws, _ = rendered_reports
    source = (ws / "reports" / "students" / "S001.html").read_text(encoding="utf-8")
    older = tmp_path / "S001-older-browser.html"
    older.write_text(source.replace("<head>", "<head><script>delete Uint8Array.fromBase64;</script>", 1),
                     encoding="utf-8")
    assert older.read_text(encoding="utf-8") != source
    dom = dump_dom(older)
    assert re.search(r'<html[^>]+data-kwa-charts="drawn"', dom), "plotly.js was not unpacked and run"
    charts = chart_divs(dom)
    assert len(charts) == source.count("Plotly.newPlot(") >= 5
    assert all("main-svg" in chart and TRACES.search(chart) for chart in charts)


@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed (`make browser`)")
def test_a_library_that_cannot_be_unpacked_says_failed(rendered_reports, tmp_path):
    # never an undecided page: the PDF printer waits for data-kwa-charts and reports a failure by name
    ws, _ = rendered_reports
    source = (ws / "reports" / "students" / "S001.html").read_text(encoding="utf-8")
    broken = tmp_path / "S001-broken.html"
    broken.write_text(re.sub(r'(<script id="kwa-plotly"[^>]*>)', r"\1!!!", source, count=1), encoding="utf-8")
    dom = dump_dom(broken)
    assert re.search(r'<html[^>]+data-kwa-charts="failed: ', dom)
