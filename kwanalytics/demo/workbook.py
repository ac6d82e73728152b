"""The demo's key-work session log: the workbook `kwa template sessions` writes, filled in the way a key worker
would, by picking from its own dropdown lists (issue 18). It sits in data/raw beside the MIS exports: 37 sessions
and the template's example row, which ingest skips (38 rows read, 37 accepted, 1 skipped).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kwanalytics.ingest.pipeline import listed_id
from kwanalytics.templates.workbook import build_template

SESSION_LOG = "key_work_session_log.xlsx"
ENTRIES = 37
PUPILS = 4  # one key worker's caseload
FIRST_ROW = 3  # row 1 the header, row 2 the template's example


def session_log(students: pd.DataFrame, settings, school_days: pd.DatetimeIndex, seed: int):
    """The filled template (an openpyxl workbook) and what was written: the rows and their pupils' ids."""
    rng = np.random.default_rng([seed, 18])
    wb = build_template("sessions", settings, students=students, example_day=school_days[0].date())
    sheet, lists = wb.worksheets[0], _dropdowns(wb)
    header = [c.value for c in sheet[1]]
    column = {label: i for i, label in enumerate(header, start=1)}
    caseload = lists["Pupil"][:PUPILS]
    worker = students.set_index("student_id")["key_worker"]
    # The last weeks of the year: each school day one session with one pupil of the caseload, in turn.
    days = school_days[-ENTRIES:]
    # On site only: a community session would also need a risk assessment, which this log does not hold.
    on_site = [v for v in lists["Setting"] if v == "on-site"]
    for k, day in enumerate(days):
        r = FIRST_ROW + k
        picks = {"Pupil": caseload[k % len(caseload)], "Setting": on_site[0],
                 "Format": lists["Format"][int(rng.integers(len(lists["Format"])))],
                 "Activity": lists["Activity"][int(rng.integers(len(lists["Activity"])))]}
        for label, value in picks.items():
            sheet.cell(r, column[label], value)
        sheet.cell(r, column["Date"], day.date())
        sheet.cell(r, column["Start time"], pd.Timestamp(f"{9 + k % 5}:30").time())
        sheet.cell(r, column["Duration (minutes)"], int(rng.choice([30, 45, 60])))
        sheet.cell(r, column["Key worker"], worker.get(listed_id(picks["Pupil"])))
        sheet.cell(r, column["Venue"], "School")
        sheet.cell(r, column["Skills embedded"], "English; social")
        sheet.cell(r, column["Engagement (1-5)"], int(rng.integers(2, 6)))
        sheet.cell(r, column["Cost (£)"], 25.0)
        sheet.cell(r, column["Notes"], f"Session {k + 1} of the summer log")
    return wb, [listed_id(c) for c in caseload]


def _dropdowns(wb) -> dict[str, list[str]]:
    """Header -> the values of its dropdown, read back from the workbook's Lists sheet (as Excel offers them)."""
    sheet, lists = wb.worksheets[0], wb["Lists"]
    header = {c.column: c.value for c in sheet[1]}
    out = {}
    for dv in sheet.data_validations.dataValidation:
        if dv.type != "list":
            continue
        area = dv.formula1.lstrip("=").split("!", 1)[1].replace("$", "")
        values = [row[0].value for row in lists[area]]
        out[header[sheet[str(dv.sqref).split(":")[0]].column]] = values
    return out
