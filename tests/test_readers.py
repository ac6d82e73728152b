"""Large CSVs go through Arrow's parser; the result must be what pandas' C parser gives, row numbers included."""

from __future__ import annotations

import io

import pandas as pd

from kwanalytics.ingest import readers


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


def test_excel_cells_read_as_the_text_a_person_typed(tmp_path):
    from datetime import date, datetime, time

    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["student_id", "value", "note"])
    # True, 1 and 1.0 are equal in Python: each must still come out as its own text
    for row in [["S1", True, "a"], ["S2", 1, "b"], ["S3", 1.0, "c"], ["S4", 2.5, "d"],
                ["S5", date(2025, 2, 3), "e"], ["S6", datetime(2025, 2, 3, 14, 30), "f"], ["S7", time(9, 5), "g"],
                ["S8", None, "h"], ["S9", "  typed  ", None], ["S10", False, "j"]]:
        ws.append(row)
    wb.save(tmp_path / "t.xlsx")
    export = readers.read_xlsx(tmp_path / "t.xlsx")
    assert export.header == ["student_id", "value", "note"]
    values = export.cells[1].tolist()
    assert values[:7] == ["true", "1", "1", "2.5", "2025-02-03", "2025-02-03 14:30:00", "09:05"]
    assert pd.isna(values[7]) and values[8] == "  typed  " and values[9] == "false"
    assert export.cells[0].tolist() == [f"S{i}" for i in range(1, 11)]
    assert pd.isna(export.cells[2].iloc[8]) and export.rows.tolist() == list(range(2, 12))
