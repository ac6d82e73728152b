"""Large CSVs go through Arrow's parser; the result must be what pandas' C parser gives, row numbers included."""

from __future__ import annotations

import io

import pandas as pd

from kwanalytics import readers


def _big_csv(blank_line_at=None) -> str:
    lines = ["incident_id,student_id,occurred_at,category,notes"]
    for i in range(30_000):
        note = f'"said ""no"", then left,\nand came back {i}"' if i % 7 == 0 else f"note {i}"
        lines.append(f"I{i:06d},S{i % 300:04d},03/02/2026 09:{i % 60:02d},Defiance,{note}")
        if blank_line_at == i:
            lines.append("")
    return "\r\n".join(lines) + "\r\n"


def test_arrow_and_c_parser_agree_on_a_large_export():
    text = _big_csv()
    assert len(text) > readers.ARROW_MIN_CHARS
    arrow = readers._read_with_arrow(text.encode("utf-8"), ",")
    c = pd.read_csv(io.StringIO(text), header=None, dtype=str, keep_default_na=False, skip_blank_lines=False,
                    index_col=False)
    assert arrow is not None
    pd.testing.assert_frame_equal(arrow, c, check_dtype=False)
    assert arrow.iloc[1, 4] == 'said "no", then left,\nand came back 0'


def test_a_ragged_row_leaves_arrow_for_the_forgiving_reader():
    text = _big_csv().replace("I000050,S0050", "I000050,S0050,extra cell", 1)
    assert readers._read_with_arrow(text.encode("utf-8"), ",") is None


def test_a_blank_line_keeps_spreadsheet_row_numbers(tmp_path):
    text = _big_csv(blank_line_at=100)
    arrow = readers._read_with_arrow(text.encode("utf-8"), ",")
    c = pd.read_csv(io.StringIO(text), header=None, dtype=str, keep_default_na=False, skip_blank_lines=False,
                    index_col=False)
    pd.testing.assert_frame_equal(arrow, c, check_dtype=False)
    header, cells, rows, _ = readers.read_csv_text(text, tmp_path / "incidents.csv")
    assert header[0] == "incident_id"
    # data rows 0..100 are spreadsheet rows 2..102, the blank line is 103, the next incident row 104
    assert rows[101] == 104 and cells.iloc[101, 0] == "I000101"
