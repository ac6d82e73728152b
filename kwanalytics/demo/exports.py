"""The demo's export formats: the files written, Arbor's headers, and CSV and .xlsx bytes that depend only on the
content (fixed timestamps), so the same seed gives byte-identical files.
"""

from __future__ import annotations

import io
import math
import re
import zipfile
from datetime import datetime

import numpy as np
import pandas as pd


FIXED_TIME = datetime(2026, 1, 1, 0, 0, 0)  # the .xlsx's document and zip timestamps, for identical bytes

ARBOR_INCIDENT_HEADER = [
    "Behaviour Incident ID", "Student ID", "Student", "Incident Datetime", "Behaviour", "Location", "Lesson",
    "Severity", "Antecedent", "Narrative", "Action Taken", "Logged By Staff", "Parent Contacted",
    "Physical Intervention", "Restorative Conversation"]
ARBOR_INTERVENTION_HEADER = [
    "Intervention ID", "Student ID", "Student", "Intervention", "Start Datetime", "End Datetime", "Aims",
    "Success Criteria", "Outcome", "Staff", "Planned Hours Per Week"]


FILES = {  # table -> (file name, encoding, CRLF)
    "students": ("students.csv", "utf-8", False),
    "targets": ("targets.xlsx", None, False),
    "target_ratings": ("target_ratings.csv", "utf-8", False),
    "sessions": ("sessions.csv", "utf-8", False),
    "incidents": ("arbor_behaviour_incidents.csv", "utf-8-sig", True),
    "interventions": ("arbor_interventions.csv", "utf-8-sig", True),
    "contacts": ("contacts.csv", "cp1252", False),
    "budget": ("budget.csv", "utf-8", False),
    "risk_assessments": ("risk_assessments.csv", "utf-8", False),
}


def money_text(values) -> np.ndarray:
    return np.array([f"{v:.2f}" for v in np.asarray(values, float)], dtype=object)


def xlsx_bytes(frame: pd.DataFrame, sheet: str) -> bytes:
    """An .xlsx of ``frame`` (dates as real Excel dates) whose bytes depend only on its content."""
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(sheet)
    ws.append(list(frame.columns))
    columns = [frame[c].tolist() for c in frame.columns]
    for row in zip(*columns):
        ws.append([None if (isinstance(v, float) and math.isnan(v)) or v is pd.NaT else
                   (v.to_pydatetime().date() if isinstance(v, pd.Timestamp) else v) for v in row])
    wb.properties.creator = "kwanalytics demo"
    return fixed_bytes(wb)


def fixed_bytes(wb) -> bytes:
    """An openpyxl workbook's .xlsx bytes, depending only on its content (fixed document and zip times)."""
    wb.properties.created = FIXED_TIME
    wb.properties.modified = FIXED_TIME
    buffer = io.BytesIO()
    wb.save(buffer)
    # openpyxl stamps each zip entry with the current time; rewrite them with a fixed one.
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as src, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=FIXED_TIME.timetuple()[:6])
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o600 << 16
            data = src.read(info.filename)
            if info.filename == "docProps/core.xml":  # openpyxl sets "modified" to now when saving
                data = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>" + FIXED_TIME.strftime(
                    "%Y-%m-%dT%H:%M:%SZ").encode(), data)
            dst.writestr(fixed, data)
    return out.getvalue()


def csv_bytes(frame: pd.DataFrame, encoding: str = "utf-8", crlf: bool = False) -> bytes:
    text = frame.to_csv(index=False, lineterminator="\r\n" if crlf else "\n")
    return text.encode(encoding)
