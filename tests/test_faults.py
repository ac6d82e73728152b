"""Faults lose nothing: a killed writer, a damaged parquet file, a full disk, unreadable or half-copied exports.

Each test breaks something on purpose and checks that the previous data is whole and the user is told, in words,
what to do (issue 6, "Faults").
"""

import errno
import os
import signal
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest

from kwanalytics import store
from kwanalytics.errors import KwaError, WorkspaceError

ENV = {**os.environ, "COLUMNS": "400"}


def _frame(n: int, tag: str) -> pd.DataFrame:
    return pd.DataFrame({
        "incident_id": [f"{tag}-{i}" for i in range(n)],
        "student_id": [f"S{i % 97:03d}" for i in range(n)],
        "occurred_at": pd.Timestamp("2025-09-03 09:00") + pd.to_timedelta(range(n), unit="min"),
        "category": ["Dysregulation"] * n,
        "severity": pd.array([i % 5 + 1 for i in range(n)], dtype="Int64"),
        "notes": [f"note {tag} {i} " + "x" * 40 for i in range(n)],
    })


# ------------------------------------------------------------------------------------------------ killed writer

WRITER = textwrap.dedent("""
    import sys
    import pandas as pd
    from kwanalytics import store
    ws, n = sys.argv[1], int(sys.argv[2])
    frames = []
    for tag in ("A", "B"):
        frames.append(pd.DataFrame({
            "incident_id": [f"{tag}-{i}" for i in range(n)],
            "student_id": [f"S{i % 97:03d}" for i in range(n)],
            "notes": [f"note {tag} {i} " + "x" * 40 for i in range(n)],
        }))
    print("ready", flush=True)
    i = 0
    while True:
        store.write_table(ws, "incidents", frames[i % 2])
        i += 1
""")


def test_writer_killed_mid_write_leaves_previous_table_whole(tmp_path):
    """SIGKILL (no clean-up code runs) at random moments of a loop of big writes: the table always reads whole."""
    n = 200_000
    store.write_table(tmp_path, "incidents", pd.DataFrame({
        "incident_id": [f"A-{i}" for i in range(n)], "student_id": [f"S{i % 97:03d}" for i in range(n)],
        "notes": [f"note A {i} " + "x" * 40 for i in range(n)]}))
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    folder = tmp_path / "data" / "processed"
    caught_mid_write = 0
    for delay in [0.05, 0.3, 0.6, 1.0]:
        proc = subprocess.Popen([sys.executable, str(script), str(tmp_path), str(n)], stdout=subprocess.PIPE)
        assert proc.stdout.readline().strip() == b"ready"
        time.sleep(delay)
        # Then wait for a temporary file to appear, so the kill lands while a write is under way.
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not any(p.name.endswith(".part") for p in os.scandir(folder)):
            pass
        before = {p.name for p in os.scandir(folder) if p.name.endswith(".part")}
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        caught_mid_write += bool({p.name for p in os.scandir(folder) if p.name.endswith(".part")} & before)
        proc.wait()
        assert proc.returncode == -signal.SIGKILL
        frame = store.read_table(tmp_path, "incidents")
        assert len(frame) == n
        tag = frame["incident_id"].iloc[0][0]
        assert tag in "AB"
        assert (frame["incident_id"].str[0] == tag).all(), "a table mixes two versions"
        assert frame["incident_id"].iloc[-1] == f"{tag}-{n - 1}"
    assert caught_mid_write >= 1, "no kill landed during a write; the test proved nothing"
    # Only hidden temporary files may be left by a kill; the table itself is never a partial file.
    leftovers = [p.name for p in (tmp_path / "data" / "processed").iterdir() if p.name != "incidents.parquet"]
    assert all(p.startswith(".incidents.parquet.") and p.endswith(".part") for p in leftovers), leftovers


# ------------------------------------------------------------------------------------------------ damaged parquet

@pytest.mark.parametrize("damage", ["truncated", "garbage", "empty"])
def test_damaged_parquet_gives_clear_message(tmp_path, damage):
    path = store.write_table(tmp_path, "incidents", _frame(1000, "A"))
    data = path.read_bytes()
    path.write_bytes({"truncated": data[: len(data) // 2], "garbage": os.urandom(4096), "empty": b""}[damage])
    with pytest.raises(WorkspaceError) as info:
        store.read_table(tmp_path, "incidents")
    message = str(info.value)
    assert "kwa ingest --rebuild" in message and "incidents.parquet" in message


def test_damaged_parquet_through_the_cli_is_exit_2_without_traceback(tmp_path):
    store.write_table(tmp_path, "students", pd.DataFrame({"student_id": ["S001"], "display_name": ["Tom Hill"]}))
    path = store.write_table(tmp_path, "incidents", _frame(100, "A"))
    path.write_bytes(path.read_bytes()[:100])
    proc = subprocess.run([sys.executable, "-m", "kwanalytics.cli", "pseudonymise", "-w", str(tmp_path),
                           "--out", str(tmp_path / "copy")], capture_output=True, text=True, env=ENV)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and "kwa ingest --rebuild" in proc.stderr


# ------------------------------------------------------------------------------------------------ full disk

def _enospc(*args, **kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


def test_full_disk_while_writing_is_reported_and_previous_file_unchanged(tmp_path, monkeypatch):
    path = store.write_table(tmp_path, "incidents", _frame(500, "A"))
    before = path.read_bytes()

    real_write = store.pq.write_table

    def half_then_full(table, where, *args, **kwargs):
        Path(where).write_bytes(b"PAR1" + b"\0" * 1000)  # some bytes reach the disk, then it is full
        _enospc()

    monkeypatch.setattr(store.pq, "write_table", half_then_full)
    with pytest.raises(WorkspaceError, match="disk is full"):
        store.write_table(tmp_path, "incidents", _frame(800, "B"))
    monkeypatch.setattr(store.pq, "write_table", real_write)
    assert path.read_bytes() == before
    assert len(store.read_table(tmp_path, "incidents")) == 500
    assert sorted(p.name for p in path.parent.iterdir()) == ["incidents.parquet"]  # no temporary file left


def test_full_disk_at_fsync_is_reported(tmp_path, monkeypatch):
    # On many file systems a full disk only shows when the data is flushed (delayed allocation).
    target = tmp_path / "reports" / "cohort.html"
    store.atomic_write_text(target, "<p>old</p>")
    monkeypatch.setattr(store.os, "fsync", _enospc)
    with pytest.raises(WorkspaceError, match="disk is full"):
        store.atomic_write_text(target, "<p>new</p>" * 1000)
    monkeypatch.undo()
    assert target.read_text() == "<p>old</p>"
    assert sorted(p.name for p in target.parent.iterdir()) == ["cohort.html"]


def test_full_disk_through_the_cli_is_exit_2(tmp_path):
    """A real process whose disk fills up: one clear paragraph, exit 2, previous copy intact."""
    store.write_table(tmp_path, "students", pd.DataFrame({"student_id": ["S001"], "display_name": ["Tom Hill"]}))
    out = tmp_path / "copy"
    script = textwrap.dedent(f"""
        import errno, sys
        import pyarrow.parquet as pq
        def full(*a, **k):
            raise OSError(errno.ENOSPC, "No space left on device")
        pq.write_table = full
        sys.argv = ["kwa", "pseudonymise", "-w", {str(tmp_path)!r}, "--out", {str(out)!r}]
        from kwanalytics.cli import main
        main()
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=ENV)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr and "disk is full" in proc.stderr


# ------------------------------------------------------------------------------------------------ permissions

def test_written_files_are_owner_only_even_with_a_lax_umask(tmp_path):
    old = os.umask(0)
    try:
        table = store.write_table(tmp_path, "incidents", _frame(10, "A"))
        text = store.atomic_write_text(store.reports_dir(tmp_path) / "cohort.html", "<p>hi</p>")
    finally:
        os.umask(old)
    for path in (table, text):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


def test_temporary_files_left_by_a_killed_run_are_swept_once_stale(tmp_path):
    path = store.write_table(tmp_path, "incidents", _frame(10, "A"))
    stale = path.parent / ".incidents.parquet.dead1234.part"
    fresh = path.parent / ".incidents.parquet.live5678.part"
    for p in (stale, fresh):
        p.write_bytes(b"PAR1 half a table")
    two_hours_ago = time.time() - 7200
    os.utime(stale, (two_hours_ago, two_hours_ago))
    store.write_table(tmp_path, "incidents", _frame(10, "B"))
    assert not stale.exists()
    assert fresh.exists()  # may belong to a run writing right now


# ------------------------------------------------------------------------------------------------ ingest faults

KWA = str(Path(sys.executable).with_name("kwa"))
STUDENTS_CSV = "student_id,display_name,year_group\nS001,Tom Hill,Year 9\nS002,Amira Khan,Year 10\n"


def _raw_incidents(ws: Path, n: int, tag: str) -> None:
    raw = ws / "data" / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    (raw / "students.csv").write_text(STUDENTS_CSV)
    pd.DataFrame({
        "incident_id": [f"{tag}{i}" for i in range(n)],
        "student_id": ["S001" if i % 2 else "S002" for i in range(n)],
        "occurred_at": (pd.Timestamp("2025-09-08 09:00")
                        + pd.to_timedelta([i % 150 for i in range(n)], unit="D")).strftime("%Y-%m-%d %H:%M"),
        "category": "Dysregulation", "severity": 2, "location": "Classroom", "notes": f"note {tag}",
    }).to_csv(raw / "incidents.csv", index=False)


def _ingest(ws: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([KWA, "ingest", "-w", str(ws), *extra], capture_output=True, text=True, env=ENV)


def test_ingest_killed_mid_run_leaves_previous_tables_whole(tmp_path):
    """`kwa ingest` killed with SIGKILL while it writes: every table is the previous one or the complete new one."""
    pytest.importorskip("kwanalytics.ingest.pipeline")
    n = 100_000
    _raw_incidents(tmp_path, n, "A")
    first = _ingest(tmp_path)
    assert first.returncode in (0, 1), first.stderr[-2000:]
    folder = tmp_path / "data" / "processed"
    snapshot = {p: p.read_bytes() for p in folder.glob("*.parquet")}
    before = {p.name: pd.read_parquet(p) for p in snapshot}
    assert len(before["incidents.parquet"]) == n
    _raw_incidents(tmp_path, n, "B")  # a newer export, merged in by id

    def restore():
        for path, data in snapshot.items():
            path.write_bytes(data)

    start = time.perf_counter()
    assert _ingest(tmp_path).returncode in (0, 1)
    took = time.perf_counter() - start
    after = {p.name: pd.read_parquet(p) for p in folder.glob("*.parquet")}
    assert len(after["incidents.parquet"]) != n, "the new export changed nothing; the test would prove nothing"

    caught_mid_write = 0
    for fraction in (0.3, 0.7, 0.95, None, None, None):
        restore()
        proc = subprocess.Popen([KWA, "ingest", "-w", str(tmp_path)], stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, env=ENV)
        if fraction is not None:
            time.sleep(took * fraction)
        else:  # wait until a table is being written, then kill
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and proc.poll() is None \
                    and not any(e.name.endswith(".part") for e in os.scandir(folder)):
                pass
        parts = {e.name for e in os.scandir(folder) if e.name.endswith(".part")}
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        caught_mid_write += bool(parts & {e.name for e in os.scandir(folder)})
        for name in before:
            frame = store.read_table(tmp_path, name.removesuffix(".parquet"))  # raises if damaged
            assert frame.equals(before[name]) or frame.equals(after[name]), f"{name} is neither old nor new"
    assert caught_mid_write >= 1, "no kill landed during a write; the test proved nothing"


def test_rebuild_recovers_from_a_damaged_table(tmp_path):
    pytest.importorskip("kwanalytics.ingest.pipeline")
    _raw_incidents(tmp_path, 50, "A")
    assert _ingest(tmp_path).returncode in (0, 1)
    path = tmp_path / "data" / "processed" / "incidents.parquet"
    good = pd.read_parquet(path)
    path.write_bytes(path.read_bytes()[:64])
    proc = subprocess.run([KWA, "pseudonymise", "-w", str(tmp_path), "--out", str(tmp_path / "copy")],
                          capture_output=True, text=True, env=ENV)
    assert proc.returncode == 2 and "kwa ingest --rebuild" in proc.stderr and "Traceback" not in proc.stderr
    proc = _ingest(tmp_path, "--rebuild")
    assert proc.returncode in (0, 1), proc.stderr[-2000:]
    pd.testing.assert_frame_equal(pd.read_parquet(path), good)


def test_half_copied_xlsx_is_reported_not_half_read(tmp_path):
    pytest.importorskip("kwanalytics.ingest.pipeline")
    from openpyxl import Workbook

    raw = tmp_path / "data" / "raw"
    raw.mkdir(parents=True)
    (raw / "students.csv").write_text(STUDENTS_CSV)
    wb = Workbook()
    ws = wb.active
    ws.append(["target_id", "student_id", "area", "description"])
    for i in range(500):
        ws.append([f"T{i}", "S001", "SEMH", f"target {i} " + "words " * 20])
    wb.save(raw / "targets.xlsx")
    data = (raw / "targets.xlsx").read_bytes()
    (raw / "targets.xlsx").write_bytes(data[: len(data) // 2])  # the copy from the USB stick stopped half-way
    proc = _ingest(tmp_path)
    assert proc.returncode == 2, proc.stdout[-2000:] + proc.stderr[-2000:]
    said = proc.stdout + proc.stderr
    assert "targets.xlsx" in said and "Traceback" not in said
    assert not (tmp_path / "data" / "processed" / "targets.parquet").exists()  # not half-read
    assert len(pd.read_parquet(tmp_path / "data" / "processed" / "students.parquet")) == 2  # others ingested


def test_unreadable_export_is_reported_others_ingested(tmp_path, monkeypatch):
    ingest = pytest.importorskip("kwanalytics.ingest.pipeline")
    import builtins
    import io as _io

    _raw_incidents(tmp_path, 20, "A")
    locked = tmp_path / "data" / "raw" / "incidents.csv"
    if os.geteuid() != 0:
        locked.chmod(0)
    else:  # root reads any file whatever its mode: simulate the lock the way the OS reports it
        real_open = builtins.open

        def guarded(file, *args, **kwargs):
            if isinstance(file, (str, os.PathLike)) and Path(file).resolve() == locked.resolve():
                raise PermissionError(13, "Permission denied", str(file))
            return real_open(file, *args, **kwargs)

        monkeypatch.setattr(builtins, "open", guarded)
        monkeypatch.setattr(_io, "open", guarded)
    from rich.console import Console

    out = _io.StringIO()
    try:
        code = ingest.run_ingest(tmp_path, profile=None, write=True, console=Console(file=out, width=300)).exit_code
        said = out.getvalue()
    except KwaError as exc:  # also acceptable: one clear error, exit 2
        code, said = exc.exit_code, str(exc)
    finally:
        locked.chmod(0o644)
    assert code == 2
    assert "incidents.csv" in said
    assert len(pd.read_parquet(tmp_path / "data" / "processed" / "students.parquet")) == 2


def test_folders_we_make_are_owner_only(tmp_path):
    store.write_table(tmp_path, "incidents", _frame(5, "A"))
    store.atomic_write_text(store.reports_dir(tmp_path) / "students" / "S001.html", "<p>hi</p>")
    for folder in (store.processed_dir(tmp_path), store.reports_dir(tmp_path) / "students"):
        assert stat.S_IMODE(folder.stat().st_mode) & 0o077 == 0, folder


def test_everything_ingest_writes_is_owner_only(tmp_path):
    pytest.importorskip("kwanalytics.ingest.pipeline")
    _raw_incidents(tmp_path, 30, "A")
    with open(tmp_path / "data" / "raw" / "incidents.csv", "a") as fh:
        fh.write("BAD1,S001,not a date,Dysregulation,2,Classroom,x\n")  # so a rejected-rows file is written too
    assert _ingest(tmp_path).returncode == 1
    written = [p for p in (tmp_path / "data" / "processed").rglob("*")] + [tmp_path / "reports" / "validation.html"]
    assert any(p.suffix == ".csv" for p in written) and any(p.suffix == ".parquet" for p in written)
    for path in written:
        assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0, path


def test_a_real_full_disk(tmp_path):
    """Where the tests may mount a 512 KB tmpfs (root on Linux), fill it for real rather than by simulation."""
    disk = tmp_path / "tiny"
    disk.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=512k", "tmpfs", str(disk)],
                                           capture_output=True).returncode != 0:
        pytest.skip("cannot mount a small tmpfs here (needs root)")
    try:
        ws = disk / "ws"
        path = store.write_table(ws, "incidents", _frame(10, "A"))
        before = path.read_bytes()
        import numpy as np

        big = pd.DataFrame({"x": np.random.default_rng(0).random(300_000)})  # ~2.4 MB of incompressible data
        with pytest.raises(WorkspaceError, match="disk is full"):
            store.write_table(ws, "incidents", big)
        assert path.read_bytes() == before
        assert sorted(p.name for p in path.parent.iterdir()) == ["incidents.parquet"]
        with pytest.raises(WorkspaceError, match="disk is full"):
            store.atomic_write_text(store.reports_dir(ws) / "cohort.html", "x" * 2_000_000)
    finally:
        subprocess.run(["umount", str(disk)], check=False)
