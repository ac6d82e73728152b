"""Plotly figures for the reports, and the three display helpers the report notebooks use.

Why ``show`` and not ``fig.show()``: in a notebook run by papermill, plotly's default renderer emits only its
JSON mimetype (``application/vnd.plotly.v1+json``), which nbconvert's HTML exporter does not draw, so the charts
silently vanish from the HTML. ``show`` publishes that JSON (for JupyterLab) *and* a ``text/html`` div that calls
``Plotly.newPlot``; the report page embeds plotly.js once in its head (see reports.py), so the HTML opens offline.

All text put into HTML here is escaped (``DataFrame.to_html(escape=True)``, ``safety.escape``).
"""

from __future__ import annotations

import json

import pandas as pd
import plotly.graph_objects as go

from kwanalytics.evidence import display
from kwanalytics.safety import escape

#: One calm palette, readable in grey when printed (Okabe-Ito, colour-blind safe).
COLOURS = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]
# The look of plotly's "plotly_white" template set directly: applying the template object costs ~16 ms per
# figure (it is deep-copied and validated), a third of a pupil report's analysis time.
_AXIS = dict(gridcolor="#E5ECF6", linecolor="#A0AEC0", zerolinecolor="#E5ECF6", automargin=True)
LAYOUT = dict(colorway=COLOURS, margin=dict(l=50, r=20, t=50, b=40), height=340,
              paper_bgcolor="white", plot_bgcolor="white", xaxis=_AXIS, yaxis=_AXIS,
              font=dict(family="system-ui, -apple-system, Segoe UI, Roboto, sans-serif", size=13, color="#2a3f5f"))


def _layout(fig: go.Figure, title: str, **extra) -> go.Figure:
    fig.update_layout(title=title, **LAYOUT)
    fig.update_layout(**extra)
    return fig


def time_axis(dates, pad_days: float = 3.5) -> dict:
    """An x axis spanning only the data's own period (first to last date, half a week either side for bars), so
    a year of records is never drawn on an axis that runs on into terms with no data (issue 17)."""
    values = pd.to_datetime(pd.Series(list(dates)), errors="coerce").dropna()
    if values.empty:
        return dict(_AXIS)
    pad = pd.Timedelta(days=pad_days)
    return dict(_AXIS, type="date", range=[(values.min() - pad).isoformat(), (values.max() + pad).isoformat()])


# ---------------------------------------------------------------- display helpers (used by the notebooks)

def figure_html(fig: go.Figure) -> str:
    """The figure as a div + script; plotly.js itself is embedded once per page, not per chart."""
    return fig.to_html(full_html=False, include_plotlyjs=False, config={"displaylogo": False, "responsive": True})


def traces(fig: go.Figure) -> str:
    """The trace types a figure draws ("bar scatter"): the report page embeds only the plotly.js they need."""
    return " ".join(sorted({str(t.type or "scatter") for t in fig.data}))


def show(fig: go.Figure | None) -> None:
    """Display a figure so that both JupyterLab and the exported HTML draw it."""
    from IPython.display import display

    if fig is None:
        return
    bundle = {"application/vnd.plotly.v1+json": json.loads(fig.to_json()),
              "text/html": f'<div class="kwa-chart" data-kwa-traces="{traces(fig)}">{figure_html(fig)}</div>'}
    display(bundle, raw=True)


def table_html(frame: pd.DataFrame | None, empty: str = "Nothing recorded.") -> str:
    return display.table_html(frame, empty)


def table(frame: pd.DataFrame | None, empty: str = "Nothing recorded.") -> None:
    """Display a table, every cell escaped and shown by the one formatter (evidence/display.py)."""
    from IPython.display import HTML, display

    display(HTML(table_html(frame, empty)))


def paragraphs(lines, css_class: str = "kwa-summary") -> None:
    """Display sentences as escaped paragraphs (a list, or a single string)."""
    from IPython.display import HTML, display

    if isinstance(lines, str):
        lines = [lines]
    body = "".join(f"<p>{escape(line)}</p>" for line in lines or [])
    display(HTML(f'<div class="{escape(css_class)}">{body}</div>'))


def heading(text: str, level: int = 1) -> None:
    from IPython.display import HTML, display

    display(HTML(f"<h{level}>{escape(text)}</h{level}>"))


# ---------------------------------------------------------------- figures

def weekly_incidents(weekly: pd.DataFrame, title: str = "Incidents per school week") -> go.Figure | None:
    """Bars of incidents per school week (week_start, incidents, school_days); the rate per school day in hover."""
    if weekly is None or weekly.empty:
        return None
    rate = weekly["incidents"] / weekly["school_days"].where(weekly["school_days"] > 0)
    fig = go.Figure(go.Bar(x=weekly["week_start"], y=weekly["incidents"], name="incidents",
                           customdata=pd.DataFrame({"d": weekly["school_days"], "r": rate.round(2)}),
                           hovertemplate="Week of %{x|%d %b %Y}<br>%{y} incidents in %{customdata[0]} school days"
                                         "<br>%{customdata[1]} per school day<extra></extra>"))
    # weeks without a school day at either end (holidays after the last record) are not part of the period
    taught = weekly.loc[(weekly["school_days"] > 0) | (weekly["incidents"] > 0), "week_start"]
    return _layout(fig, title, yaxis_title="incidents", xaxis=dict(time_axis(taught), title="school week (Monday)"),
                   bargap=0.15)


def gas_over_time(ratings: pd.DataFrame, targets: pd.DataFrame) -> go.Figure | None:
    """One line per target: its GAS ratings (-2..+2) over time, with 0 = the expected outcome marked."""
    if ratings is None or ratings.empty:
        return None
    labels = {}
    if targets is not None and not targets.empty:
        for _, t in targets.iterrows():
            desc = t.get("description")
            text = str(desc) if isinstance(desc, str) else str(t["target_id"])
            labels[t["target_id"]] = (text[:40] + "…") if len(text) > 41 else text
    fig = go.Figure()
    for target_id, rows in ratings.sort_values("rated_on").groupby("target_id", sort=False):
        fig.add_trace(go.Scatter(x=rows["rated_on"], y=rows["gas_score"].astype(float), mode="lines+markers",
                                 name=labels.get(target_id, str(target_id))))
    fig.add_hline(y=0, line_dash="dot", line_color="#777", annotation_text="expected outcome")
    return _layout(fig, "Target ratings over time (Goal Attainment Scaling)",
                   yaxis=dict(range=[-2.3, 2.3], tickvals=[-2, -1, 0, 1, 2], title="GAS rating"),
                   xaxis=time_axis(ratings["rated_on"]),
                   legend=dict(orientation="h", y=-0.25), height=380)


def tscore_bars(tscores: pd.DataFrame) -> go.Figure | None:
    """GAS T-scores per term and area (50 = targets met as expected)."""
    if tscores is None or tscores.empty or tscores["tscore"].isna().all():
        return None
    fig = go.Figure()
    for area, rows in tscores.groupby("area", sort=True):
        fig.add_trace(go.Bar(x=rows["term"].astype(str), y=rows["tscore"], name=str(area)))
    fig.add_hline(y=50, line_dash="dot", line_color="#777", annotation_text="50 = as expected")
    return _layout(fig, "GAS T-score per term and area", yaxis_title="T-score", barmode="group")


def engagement_over_time(sessions: pd.DataFrame) -> go.Figure | None:
    """Engagement (1..5) per session over time, coloured by setting."""
    if sessions is None or sessions.empty or sessions["engagement"].isna().all():
        return None
    data = sessions.dropna(subset=["engagement"]).sort_values("date")
    fig = go.Figure()
    for setting, rows in data.groupby(data["setting"].fillna("not recorded"), sort=True):
        fig.add_trace(go.Scatter(x=rows["date"], y=rows["engagement"].astype(float), mode="markers",
                                 name=str(setting), text=rows["activity"].fillna(""),
                                 hovertemplate="%{x|%d %b %Y}: %{y} (%{text})<extra></extra>"))
    return _layout(fig, "Engagement in sessions (1 = not engaged, 5 = fully engaged)",
                   yaxis=dict(range=[0.5, 5.5], tickvals=[1, 2, 3, 4, 5], title="engagement"),
                   xaxis=time_axis(data["date"]))


def hours_by_activity(activities: pd.DataFrame) -> go.Figure | None:
    """Horizontal bars: hours per activity, split by setting."""
    if activities is None or activities.empty:
        return None
    fig = go.Figure()
    for setting, rows in activities.groupby("setting", sort=True):
        fig.add_trace(go.Bar(y=rows["activity"], x=rows["hours"], name=str(setting), orientation="h"))
    return _layout(fig, "Session hours by activity", xaxis_title="hours", barmode="stack",
                   height=max(260, 60 + 28 * activities["activity"].nunique()))


def heatmap(frame: pd.DataFrame, x: str, y: str, value: str, title: str, x_order=None,
            y_order=None) -> go.Figure | None:
    """A heatmap of ``value`` over ``x`` × ``y`` (e.g. incidents by period × weekday)."""
    if frame is None or frame.empty:
        return None
    grid = frame.pivot_table(index=y, columns=x, values=value, aggfunc="sum", fill_value=0)
    if x_order is not None:
        grid = grid.reindex(columns=[c for c in x_order if c in grid.columns] +
                            [c for c in grid.columns if c not in x_order], fill_value=0)
    if y_order is not None:
        grid = grid.reindex(index=[r for r in y_order if r in grid.index] +
                            [r for r in grid.index if r not in y_order], fill_value=0)
    fig = go.Figure(go.Heatmap(z=grid.to_numpy(), x=[str(c) for c in grid.columns],
                               y=[str(r) for r in grid.index], colorscale="Blues",
                               hovertemplate="%{y}, %{x}: %{z}<extra></extra>"))
    return _layout(fig, title, height=max(300, 80 + 30 * len(grid.index)), yaxis=dict(autorange="reversed"))


def bars(frame: pd.DataFrame, x: str, y: str, title: str, error_low: str | None = None,
         error_high: str | None = None, reference: float | None = None, y_title: str = "") -> go.Figure | None:
    """Simple bars with optional interval whiskers and a reference line (e.g. rate ratio 1 = no change)."""
    if frame is None or frame.empty or frame[y].isna().all():
        return None
    error = None
    if error_low and error_high:
        error = dict(type="data", symmetric=False, array=(frame[error_high] - frame[y]).clip(lower=0),
                     arrayminus=(frame[y] - frame[error_low]).clip(lower=0))
    fig = go.Figure(go.Bar(x=frame[x].astype(str), y=frame[y], error_y=error))
    if reference is not None:
        fig.add_hline(y=reference, line_dash="dot", line_color="#777")
    return _layout(fig, title, yaxis_title=y_title)


def forest(enrolments: pd.DataFrame, pooled: pd.Series | dict, title: str, label: str = "pupil") -> go.Figure | None:
    """Forest plot of one programme: each enrolment's rate ratio with its 95% interval, then the pooled estimate
    naive (against each pupil's own baseline) and adjusted (against pupils in no programme), on a log axis with
    1 = no change marked.

    ``enrolments`` has ``label`` (a pseudonym: the caller has already applied small-group suppression),
    ``rate_ratio``, ``rate_ratio_ci_low`` and ``rate_ratio_ci_high``; ``pooled`` one row of the programme table.
    A ratio of 0 or an infinite limit (a window without incidents) is drawn at the axis's edge with its arrow.
    """
    if enrolments is None or enrolments.empty:
        return None
    e = enrolments.dropna(subset=["rate_ratio"]).reset_index(drop=True)
    finite = pd.concat([e["rate_ratio_ci_low"], e["rate_ratio_ci_high"], e["rate_ratio"]])
    finite = finite[(finite > 0) & (finite < float("inf"))]
    lo_edge = min(0.05, float(finite.min()) if len(finite) else 0.05)
    hi_edge = max(20.0, float(finite.max()) if len(finite) else 20.0)
    clip = lambda s: s.astype(float).clip(lower=lo_edge, upper=hi_edge)  # noqa: E731
    rows = [f"{r[label]} ({i + 1})" for i, r in e.iterrows()]
    point = clip(e["rate_ratio"])
    fig = go.Figure(go.Scatter(
        x=point, y=rows, mode="markers", name="each enrolment", marker=dict(symbol="square", size=8,
                                                                             color=COLOURS[0]),
        error_x=dict(type="data", symmetric=False, array=clip(e["rate_ratio_ci_high"]) - point,
                     arrayminus=point - clip(e["rate_ratio_ci_low"]), color=COLOURS[0], thickness=1.2),
        hovertemplate="%{y}: %{x:.2f}<extra></extra>"))
    for name, est, low, high, colour in (
            ("pooled, own baseline", "rate_ratio", "rate_ratio_ci_low", "rate_ratio_ci_high", COLOURS[1]),
            ("pooled, against no programme", "adjusted_rate_ratio", "adjusted_ci_low", "adjusted_ci_high",
             COLOURS[2])):
        value = pooled.get(est)
        if value is None or pd.isna(value):
            continue
        x = clip(pd.Series([value]))
        fig.add_trace(go.Scatter(
            x=x, y=[name], mode="markers", name=name, marker=dict(symbol="diamond", size=13, color=colour),
            error_x=dict(type="data", symmetric=False, array=clip(pd.Series([pooled.get(high)])) - x,
                         arrayminus=x - clip(pd.Series([pooled.get(low)])), color=colour, thickness=2.5),
            hovertemplate=f"{name}: %{{x:.2f}}<extra></extra>"))
    fig.add_vline(x=1, line_dash="dot", line_color="#777")
    return _layout(fig, title, height=max(260, 90 + 24 * (len(rows) + 2)), showlegend=False,
                   xaxis=dict(_AXIS, type="log", title="rate ratio, during / before (log scale; below 1 = fewer)"),
                   yaxis=dict(_AXIS, autorange="reversed"))
