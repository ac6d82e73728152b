import json
import stat

from kwanalytics import audit


def test_record_appends_one_line_per_run_with_hashes(tmp_path):
    export = tmp_path / "data" / "raw" / "incidents.csv"
    export.parent.mkdir(parents=True)
    export.write_bytes(b"incident_id,student_id\nI1,P1\n")
    audit.record(tmp_path, "ingest", inputs=[{"path": str(export), "sha256": audit.file_sha256(export)}])
    audit.record(tmp_path, "report", outputs=["reports/cohort.html"])
    lines = audit.audit_path(tmp_path).read_text().splitlines()
    assert len(lines) == 2
    first = json.loads(lines[0])
    assert first["event"] == "ingest"
    # SHA-256 of the bytes above, computed independently with `sha256sum`.
    assert first["inputs"][0]["sha256"] == "a746830a995928b86403477f8923bacbfe01eddcc7c797f2afbd442eaa24d39a"
    assert [e["event"] for e in audit.read_log(tmp_path)] == ["ingest", "report"]


def test_log_is_private_to_its_owner(tmp_path):
    audit.record(tmp_path, "ingest")
    mode = stat.S_IMODE(audit.audit_path(tmp_path).stat().st_mode)
    assert mode & 0o077 == 0


def test_a_damaged_line_does_not_hide_the_rest(tmp_path):
    audit.record(tmp_path, "ingest")
    with open(audit.audit_path(tmp_path), "a") as fh:
        fh.write("{not json\n")
    audit.record(tmp_path, "report")
    assert [e["event"] for e in audit.read_log(tmp_path)] == ["ingest", "report"]
