"""The one display formatter (evidence/display.py): what a reader sees in every table."""

from __future__ import annotations

import numpy as np
import pandas as pd

from kwanalytics.evidence import display


def test_missing_values_read_as_a_dash_never_na_nan_or_nat():
    frame = pd.DataFrame({
        "pupils": pd.array([3, None], dtype="Int64"),
        "rate_ratio": [0.5, np.nan],
        "first_seen": pd.to_datetime(["2025-09-03", None]),
        "note": pd.array(["calm", None], dtype="string"),
        "enrolled": pd.array([True, None], dtype="boolean"),
        "cost_gbp": [12.5, float("nan")],
    })
    shown = display.display_frame(frame)
    assert shown.iloc[1].tolist() == ["–"] * 6
    assert shown.iloc[0].tolist() == ["3", "0.50", "03 Sep 2025", "calm", "yes", "£12.50"]
    html = display.table_html(frame)
    for bad in ("&lt;NA&gt;", "<NA>", "nan", "NaT", "None"):
        assert bad not in html


def test_money_ratio_percent_and_count_formats():
    frame = pd.DataFrame({
        "cost_per_pupil": [1234.5, -3.0],
        "budget_gbp": [100000.0, 0.0],
        "median_rate_ratio": [1.0, 0.4567],
        "attendance_pct": [87.6, 12.4],
        "incident_share": [0.255, 0.5],
        "spend_share": [0.2, 1.35],  # cost / budget: a share of money, not an amount of it
        "incidents": [1234567, 0],
        "p_value": [0.0004, 0.04321],
    })
    shown = display.display_frame(frame)
    assert shown.to_dict("list") == {
        "Cost per pupil": ["£1,234.50", "-£3.00"],
        "Budget": ["£100,000.00", "£0.00"],
        "Median rate ratio": ["1.00", "0.46"],
        "Attendance pct": ["88%", "12%"],
        "Incident share": ["26%", "50%"],
        "Spend share": ["20%", "135%"],
        "Incidents": ["1,234,567", "0"],
        "P value": ["< 0.001", "0.043"],
    }


def test_whole_float_counts_and_decimals_by_name():
    # Counts that arrived as floats (a sum over a groupby with gaps) read as counts; a rate stays a decimal.
    frame = pd.DataFrame({"incidents": [1200.0, 3.0], "rate": [2.0, 1.0], "hours": [3.0, 4.0]})
    shown = display.display_frame(frame)
    assert shown["Incidents"].tolist() == ["1,200", "3"]
    assert shown["Rate"].tolist() == ["2.00", "1.00"]
    assert shown["Hours"].tolist() == ["3.00", "4.00"]


def test_format_value_single_values():
    assert display.format_value(None) == "–"
    assert display.format_value(pd.NaT, "date") == "–"
    assert display.format_value(pd.Timestamp("2026-07-22 13:10"), "date") == "22 Jul 2026"
    assert display.format_value(float("inf"), "decimal") == "∞"
    assert display.format_value(2.345, "money") == "£2.35" or display.format_value(2.345, "money") == "£2.34"
    assert display.format_value(1500, "count") == "1,500"
    assert display.format_value(False, "flag") == "no"


def test_wide_tables_are_marked_and_scroll():
    narrow = pd.DataFrame({"a": [1], "b": ["x"]})
    wide = pd.DataFrame({f"column_number_{i}": ["a fairly long cell text here"] for i in range(8)})
    assert 'class="kwa-table-wrap"' in display.table_html(narrow)
    assert "kwa-wide" not in display.table_html(narrow)
    assert 'class="kwa-table-wrap kwa-wide"' in display.table_html(wide)
    assert display.is_wide(display.display_frame(wide)) and not display.is_wide(display.display_frame(narrow))


def test_every_row_kept_and_cells_escaped():
    frame = pd.DataFrame({"notes": ['<script>alert("x")</script>'] * 250, "n": range(250)})
    shown = display.display_frame(frame)
    assert len(shown) == 250 and shown["N"].iloc[-1] == "249"
    html = display.table_html(frame)
    assert "<script>" not in html and html.count("</tr>") == 251
    assert "&lt;script&gt;alert(\"x\")&lt;/script&gt;" in html


def test_table_markup_is_lean():
    # At 3,000 pupils a line break, indent or style on each cell was a tenth of the patterns report.
    html = display.table_html(pd.DataFrame({"pupil": ["S0001", "S0002"], "antecedent": ["'Told no'", None]}))
    assert html == ('<div class="kwa-table-wrap"><table class="kwa-table"><thead><tr><th>Pupil</th>'
                    "<th>Antecedent</th></tr></thead><tbody><tr><td>S0001</td><td>'Told no'</td></tr>"
                    "<tr><td>S0002</td><td>–</td></tr></tbody></table></div>")


def test_time_axes_span_only_the_datas_period():
    from kwanalytics.evidence import charts

    # a year of records inside a calendar listing three years of weeks: the axis ends a half-week past the data
    weeks = pd.date_range("2025-01-06", "2027-07-19", freq="W-MON")
    weekly = pd.DataFrame({"week_start": weeks, "school_days": 0, "incidents": 0})
    inside = (weeks >= "2025-09-01") & (weeks <= "2026-07-13")
    weekly.loc[inside, "school_days"] = 5
    weekly.loc[weeks == "2026-03-02", "incidents"] = 4
    fig = charts.weekly_incidents(weekly)
    low, high = (pd.Timestamp(x) for x in fig.layout.xaxis.range)
    assert (low, high) == (pd.Timestamp("2025-08-28 12:00"), pd.Timestamp("2026-07-16 12:00"))
    sessions = pd.DataFrame({"date": pd.to_datetime(["2025-10-01", "2026-02-01"]), "engagement": [3, 4],
                             "setting": ["on site", "community"], "activity": ["cooking", "walk"]})
    low, high = (pd.Timestamp(x) for x in charts.engagement_over_time(sessions).layout.xaxis.range)
    assert (low, high) == (pd.Timestamp("2025-09-27 12:00"), pd.Timestamp("2026-02-04 12:00"))


def test_headers_in_plain_words_with_the_statistics_own_names():
    assert [display.header(n) for n in ("first_score", "cost_gbp", "nap", "tau_u", "heterogeneity_i2",
                                        "heterogeneity_tau2", "gas_tscore", "SEMH", "pupils")] == [
        "First score", "Cost", "NAP", "Tau-U", "Heterogeneity I²", "Heterogeneity tau²", "GAS T-score", "SEMH",
        "Pupils"]
