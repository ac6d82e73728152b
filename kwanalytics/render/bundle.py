"""The lightest plotly.js a report page can carry: a partial bundle holding only its trace types, gzipped inside
the page and unpacked by the browser's own DecompressionStream. Nothing is fetched: the page stays one file.

Measured on the demo school (docs/benchmarks.md): plotly.min.js whole is 4.66 MiB a page; gzipped and
base64-encoded the partial bundles are 0.50 MiB (basic: bar, pie, scatter) and 0.63 MiB (cartesian: adds heatmap,
box, histogram, contour, violin...). The full library gzipped would still be 1.8 MiB, over the 1.5 MiB a pupil pack
may weigh, so it is only the fallback for a chart type neither partial bundle draws.

The partial bundles are plotly's own published builds (npm ``plotly.js-basic-dist-min`` and
``plotly.js-cartesian-dist-min``), committed gzipped in ``render/assets`` under their version; they are used only
when that version is the one the installed plotly package writes figures for (otherwise the installed package's
full plotly.min.js, gzipped here once per process, is embedded instead). To refresh them after upgrading plotly:
``npm pack plotly.js-basic-dist-min@<version>`` (and cartesian), then ``gzip -9 -n`` the ``.min.js`` into
``render/assets/plotly-<kind>-<version>.min.js.gz``.

How the page draws: the figure scripts plotly writes call ``Plotly.newPlot`` as the page is parsed, before the
library is unpacked (which is asynchronous). A small stand-in ``Plotly`` queues those calls; once the real library
is running they are replayed. When every chart has drawn, ``<html data-kwa-charts="drawn">`` is set (the PDF printer
waits for it; a failure sets ``failed: <reason>``).
"""

from __future__ import annotations

import base64
import functools
import gzip
import re
from pathlib import Path

ASSETS = Path(__file__).resolve().parent / "assets"

#: Partial bundles, lightest first, with the trace types each one draws (plotly's README for each package).
PARTIAL = (
    ("basic", frozenset({"bar", "pie", "scatter"})),
    ("cartesian", frozenset({"bar", "box", "contour", "heatmap", "histogram", "histogram2d", "histogram2dcontour",
                             "image", "pie", "scatter", "scatterternary", "violin"})),
)

#: charts.show marks each chart's div with the trace types it draws.
_TRACES_ATTR = re.compile(r'data-kwa-traces="([a-z0-9 ]*)"')

_LOADER = """(function () {
  var queued = [];
  window.Plotly = {newPlot: function () {
    var args = arguments;
    return new Promise(function (resolve, reject) { queued.push([args, resolve, reject]); });
  }};
  var root = document.documentElement;
  // a promise from the start, so that a library that cannot be decoded says "failed" instead of leaving the
  // page (and a PDF printer waiting for it) undecided
  window.kwaCharts = new Promise(function (resolve) {
    var packed = document.getElementById("kwa-plotly").textContent;
    // the browser's own base64 decoder where it has one (Chromium 140, Firefox 133, Safari 18.2: 30 ms less a
    // page), else atob (both read past the line breaks)
    resolve(Uint8Array.fromBase64 ? Uint8Array.fromBase64(packed)
      : Uint8Array.from(atob(packed.replace(/\\s+/g, "")), function (c) { return c.charCodeAt(0); }));
  })
    .then(function (bytes) {
      return new Response(new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"))).text();
    })
    .then(function (code) {
      delete window.Plotly;
      (0, eval)(code);
      return Promise.all(queued.map(function (q) {
        return window.Plotly.newPlot.apply(window.Plotly, q[0]).then(q[1], q[2]);
      }));
    })
    .then(function () { root.setAttribute("data-kwa-charts", "drawn"); },
          function (e) { root.setAttribute("data-kwa-charts", "failed: " + e); });
})();"""


def plotly_version() -> str:
    from plotly.offline import get_plotlyjs_version

    return get_plotlyjs_version()


def traces_used(body: str) -> set[str] | None:
    """The trace types a page body draws, or None when a chart carries no mark (draw it with the full library)."""
    marks = _TRACES_ATTR.findall(body)
    if body.count("Plotly.newPlot(") > len(marks):
        return None
    return {t for m in marks for t in m.split()}


def choose(traces: set[str] | None) -> str:
    """The name of the lightest bundle drawing ``traces``: basic, cartesian or full."""
    if traces is not None:
        for name, kinds in PARTIAL:
            if traces <= kinds and _asset(name).exists():
                return name
    return "full"


def _asset(name: str) -> Path:
    return ASSETS / f"plotly-{name}-{plotly_version()}.min.js.gz"


@functools.lru_cache(maxsize=4)
def packed(name: str) -> str:
    """The gzipped bundle as base64 text, wrapped at 76 characters a line (MIME style)."""
    if name == "full":
        from plotly.offline import get_plotlyjs

        data = gzip.compress(get_plotlyjs().encode("utf-8"), compresslevel=9, mtime=0)
    else:
        data = _asset(name).read_bytes()
    return base64.encodebytes(data).decode("ascii")


def script(body: str) -> str:
    """What a page's head carries so that every chart in ``body`` draws offline; empty when there is no chart."""
    if "Plotly.newPlot(" not in body:
        return ""
    name = choose(traces_used(body))
    return (f'<script id="kwa-plotly" type="application/gzip;base64" data-bundle="plotly.js {plotly_version()} '
            f'{name}">\n{packed(name)}</script>\n<script>{_LOADER}</script>\n')
