"""render/bundle.py: each page carries the lightest plotly.js that draws its charts, gzipped and base64-encoded."""

from __future__ import annotations

import base64
import gzip
import re

import plotly.graph_objects as go

from kwanalytics.evidence import charts
from kwanalytics.render import bundle
from kwanalytics.render.reports import page


def chart(fig) -> str:
    return f'<div class="kwa-chart" data-kwa-traces="{charts.traces(fig)}">{charts.figure_html(fig)}</div>'


def test_lightest_bundle_for_the_trace_types():
    bars = go.Figure([go.Bar(x=[1], y=[2]), go.Scatter(x=[1], y=[2])])
    heat = go.Figure(go.Heatmap(z=[[1, 2]]))
    globe = go.Figure(go.Scattergeo(lon=[0], lat=[51]))
    assert charts.traces(bars) == "bar scatter"
    assert bundle.choose(bundle.traces_used(chart(bars))) == "basic"
    assert bundle.choose(bundle.traces_used(chart(bars) + chart(heat))) == "cartesian"
    assert bundle.choose(bundle.traces_used(chart(globe))) == "full"
    # a chart written without its mark: nothing is known about it, so the whole library
    assert bundle.traces_used(chart(bars) + charts.figure_html(heat)) is None
    assert bundle.script("<p>no chart</p>") == ""


def test_embedded_bundle_is_the_published_plotly_js_of_the_installed_version():
    html = page(chart(go.Figure(go.Bar(x=[1], y=[2]))), "t")
    packed = re.search(r'<script id="kwa-plotly"[^>]*>(.*?)</script>', html, re.S).group(1)
    code = gzip.decompress(base64.b64decode(packed)).decode("utf-8")
    assert re.match(rf"/\*\*\n\* plotly\.js \(basic - minified\) v{re.escape(bundle.plotly_version())}\n", code)
    assert "Plotly.newPlot(" in html and "DecompressionStream" in html
    assert len(html) < 0.6 * 2**20  # whole plotly.min.js alone is 4.66 MiB
