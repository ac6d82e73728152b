"""reports/validation.html: what was wrong in the exports, where, and how to fix it.

Self-contained (no scripts, no external files) and every value from an export is HTML-escaped
(``safety.escape``): an export's text is shown as typed, never run.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from kwanalytics.safety import escape
from kwanalytics.store import atomic_write_text, reports_dir

CSS = """body{font-family:system-ui,Segoe UI,Arial,sans-serif;margin:2rem;max-width:75rem;color:#222}
table{border-collapse:collapse;margin:.5rem 0 1.5rem}th,td{border:1px solid #ccc;padding:.3rem .5rem;
text-align:left;vertical-align:top}th{background:#f2f2f2}.bad{color:#a40000}.ok{color:#176a00}
.warn{color:#8a5a00}td.n{text-align:right}code{background:#f6f6f6;padding:0 .2rem}"""

MAX_ROWS_SHOWN = 200  # per file; the rejected CSV has every row


def render_validation_html(result, workspace=None) -> str:
    """The report for an IngestResult as one HTML string."""
    e = escape
    out = [f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>Validation report</title>"
           f"<style>{CSS}</style></head><body><h1>Validation report</h1>",
           f"<p>Made {e(datetime.now().strftime('%d/%m/%Y %H:%M'))}. Exit code {result.exit_code}: "
           + e({0: "every row was accepted.", 1: "some rows were rejected; the rest is stored.",
                2: "some files could not be read at all."}.get(result.exit_code, "")) + "</p>"]
    out.append("<h2>Files</h2><table><tr><th>file</th><th>table</th><th>profile</th><th>rows read</th>"
               "<th>accepted</th><th>rejected</th><th>duplicates</th><th>skipped</th></tr>")
    for f in result.files:
        out.append(f"<tr><td>{e(f.name)}</td><td>{e(f.table or 'not read')}</td><td>{e(f.profile or '')}</td>"
                   + "".join(f"<td class='n'>{v}</td>" for v in (f.rows_read, f.accepted, f.rejected, f.duplicates,
                                                                  f.skipped)) + "</tr>")
    out.append("</table><p>Rows read = accepted + rejected + duplicates (exact copies of an accepted row, stored "
               "once) + skipped (rows that are not of this table, such as Class Charts praise points).</p>")
    unreadable = [f for f in result.files if f.error]
    if unreadable:
        out.append("<h2 class='bad'>Files that could not be read</h2><ul>")
        out += [f"<li><b>{e(f.path)}</b>: {e(f.error)}</li>" for f in unreadable]
        out.append("</ul>")
    rejected = {}
    for table, frame in result.rejected.items():
        for path, group in frame.groupby("file", sort=True):
            rejected.setdefault(path, []).append((table, group))
    if rejected:
        out.append("<h2 class='bad'>Rejected rows</h2><p>Each row below was not stored. Correct it in the export "
                   "(the row number is the one your spreadsheet shows) and run <code>kwa ingest</code> again. "
                   "Every rejected row is also in <code>data/processed/rejected/&lt;table&gt;.csv</code>.</p>")
        for path, parts in rejected.items():
            total = sum(len(g) for _, g in parts)
            out.append(f"<h3>{e(path)} ({total} rejected)</h3><table><tr><th>row</th><th>what is wrong and how to "
                       "fix it</th></tr>")
            shown = 0
            for _, group in parts:
                for row, reason in zip(group["row"], group["reason"]):
                    if shown >= MAX_ROWS_SHOWN:
                        break
                    items = "".join(f"<li>{e(r)}</li>" for r in str(reason).split("; "))
                    out.append(f"<tr><td class='n'>{e(row)}</td><td><ul>{items}</ul></td></tr>")
                    shown += 1
            out.append("</table>")
            if total > shown:
                out.append(f"<p>... and {total - shown} more: see the rejected CSV.</p>")
    notes = [(f.path, w) for f in result.files for w in f.warnings]
    if result.warnings or notes:
        out.append("<h2 class='warn'>Warnings (rows kept)</h2><table><tr><th>where</th><th>what to check</th></tr>")
        out += [f"<tr><td>{e(p)}</td><td>{e(w)}</td></tr>" for p, w in notes]
        out += [f"<tr><td>{e(w['where'])}</td><td>{e(w['message'])}</td></tr>" for w in result.warnings[:500]]
        out.append("</table>")
        if len(result.warnings) > 500:
            out.append(f"<p>... and {len(result.warnings) - 500} more warnings.</p>")
    if result.vocabulary:
        out.append("<h2 class='warn'>Values the school has not listed (rows kept)</h2><p>These values were kept as "
                   "typed. If one means a value already listed, or is a new one the school uses, add it to "
                   "<code>schemas/vocabularies.yaml</code> (as a value, or as another spelling of one) and run "
                   "<code>kwa ingest</code> again.</p><table><tr><th>table</th><th>column</th><th>vocabulary</th>"
                   "<th>value</th><th>rows</th><th>first seen</th></tr>")
        out += [f"<tr><td>{e(v.table)}</td><td>{e(v.column)}</td><td>{e(v.vocabulary)}</td><td>{e(v.value)}</td>"
                f"<td class='n'>{v.rows}</td><td>{e(v.first_row)}</td></tr>" for v in result.vocabulary]
        out.append("</table>")
    if result.exit_code == 0 and not (result.warnings or notes or result.vocabulary):
        out.append("<p class='ok'>Nothing to fix.</p>")
    out.append("</body></html>")
    return "\n".join(out)


def write_validation_report(workspace, result) -> Path:
    path = reports_dir(workspace) / "validation.html"
    atomic_write_text(path, render_validation_html(result, workspace))
    return path
