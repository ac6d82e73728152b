"""Terminal output (output.py): readable at 80 columns by default, every column with --wide, CSV unchanged."""

from __future__ import annotations

import io

import pandas as pd
from rich.console import Console

from kwanalytics.output import print_compact, print_frame, with_interval

EVIDENCE = ("9 of 11 incidents (82%) happened in Toilets (other pupils: 5%); first 26/09/2025, last 19/06/2026; "
            "defiance x2, leaving lesson x2, low-level disruption and others.")


def watch() -> pd.DataFrame:
    return pd.DataFrame({
        "student_id": ["S0003", "S0005", "S0010"], "pattern": ["place", "behaviour", "time"],
        "evidence": [EVIDENCE, "15 of 25 incidents were dysregulation.", None],
        "incidents": [9, 15, 1200], "q_value": [0.00005, 0.02, None],
        "next_step": ["Review supervision in Toilets.", "Plan a replacement behaviour.", "Talk to the pupil."],
    })


def printed(fn, *args, width=80) -> list[str]:
    out = io.StringIO()
    fn(*args, Console(file=out, width=width, force_terminal=False, color_system=None)) if fn is print_frame else \
        fn(args[0], args[1], Console(file=out, width=width, color_system=None), *args[2:])
    return out.getvalue().splitlines()


def test_compact_lines_fit_80_columns_one_line_a_row_evidence_beneath():
    lines = printed(print_compact, watch(), "Watchlist", ["student_id", "pattern", "incidents", "q_value"],
                    ["evidence", "next_step"])
    assert all(len(line) <= 80 for line in lines)
    assert lines[0] == "Watchlist"
    assert lines[1].split() == ["Student", "id", "Pattern", "Incidents", "Q", "value"]
    rows = [line for line in lines if line and not line.startswith(" ")][2:]
    assert [r.split()[0] for r in rows] == ["S0003", "S0005", "S0010"]  # every row, in order, once
    assert rows[0].split() == ["S0003", "place", "9", "<", "0.001"] and rows[2].split()[-2:] == ["1,200", "–"]
    beneath = " ".join(l.strip() for l in lines[lines.index(rows[0]) + 1:lines.index(rows[1])])
    assert beneath == f"Evidence: {EVIDENCE} Next step: Review supervision in Toilets."
    assert all(l.startswith("    ") for l in lines[lines.index(rows[0]) + 1:lines.index(rows[1])])
    assert "Evidence" not in " ".join(lines[lines.index(rows[2]):])  # a missing evidence is left out, not "nan"


def test_interval_column_and_wide_table():
    frame = pd.DataFrame({"programme": ["ELSA", "Forest"], "rate_ratio": [0.5555, None],
                          "rate_ratio_ci_low": [0.05, None], "rate_ratio_ci_high": [6.127, None]})
    shown = with_interval(frame, "rate_ratio", "rate_ratio_ci_low", "rate_ratio_ci_high", "rate ratio (95% CI)")
    assert shown.columns.tolist() == ["programme", "rate ratio (95% CI)"]
    assert shown["rate ratio (95% CI)"].tolist() == ["0.56 (0.05–6.13)", "–"]
    wide = "\n".join(printed(print_frame, frame, "table", "Impact", width=200))
    assert "Rate ratio CI high" in wide and "6.13" in wide and "nan" not in wide
