"""The processed store: one parquet file per canonical table under <workspace>/data/processed.

Every write is atomic (a temporary file in the same folder, flushed, then renamed over the old one), so a
crash or a full disk leaves the previous file whole. Files are readable by their owner only.
"""

from __future__ import annotations

import errno
import os
import tempfile
import time
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from kwanalytics.schema.contracts import TABLES, empty_frame
from kwanalytics.errors import WorkspaceError

PRIVATE = 0o600


def raw_dir(workspace) -> Path:
    return Path(workspace) / "data" / "raw"


def processed_dir(workspace) -> Path:
    return Path(workspace) / "data" / "processed"


def reports_dir(workspace) -> Path:
    return Path(workspace) / "reports"


def table_path(workspace, table: str) -> Path:
    return processed_dir(workspace) / f"{table}.parquet"


def atomic_write(path: Path, write) -> Path:
    """Call ``write(tmp_path)`` then move the result over ``path`` in one step; owner-only permissions."""
    path = Path(path)
    if not path.parent.exists():
        # A folder we make is the owner's only: file names alone (students/S001.html) say who is in the data.
        path.parent.parent.mkdir(parents=True, exist_ok=True)
        path.parent.mkdir(mode=0o700, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        os.chmod(tmp, PRIVATE)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        _sweep_stale_parts(path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        if exc.errno == errno.ENOSPC:
            raise WorkspaceError(f"The disk is full: {path} could not be written. The previous version is "
                                 "unchanged. Free some space and run the command again.") from None
        raise
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


STALE_PART_SECONDS = 3600


def _sweep_stale_parts(path: Path) -> None:
    """Remove temporary files that a killed run left next to ``path`` (they hold pupil data and waste disk).

    Only files older than an hour go: a younger one may belong to another run writing at this moment.
    """
    cutoff = time.time() - STALE_PART_SECONDS
    for part in path.parent.glob(f".{path.name}.*.part"):
        try:
            if part.stat().st_mtime < cutoff:
                part.unlink()
        except OSError:
            pass


def atomic_write_text(path: Path, text: str) -> Path:
    return atomic_write(path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))


def write_table(workspace, table: str, frame: pd.DataFrame) -> Path:
    """Replace the stored table atomically."""
    arrow = pa.Table.from_pandas(frame.reset_index(drop=True), preserve_index=False)
    return atomic_write(table_path(workspace, table), lambda tmp: pq.write_table(arrow, tmp))


def read_table(workspace, table: str, columns: list[str] | None = None) -> pd.DataFrame:
    """The stored table (only ``columns`` when given); an empty, correctly typed frame when none is stored."""
    path = table_path(workspace, table)
    if not path.exists():
        frame = empty_frame(table)
        return frame[columns] if columns else frame
    try:
        frame = pd.read_parquet(path, columns=columns)
    except Exception as exc:  # pyarrow raises several types for a damaged file
        raise WorkspaceError(
            f"{path} is damaged and cannot be read ({type(exc).__name__}: {str(exc)[:200]}). "
            "Run `kwa ingest --rebuild` to rebuild the processed tables from the exports in data/raw."
        ) from None
    return frame


def load_tables(workspace, tables=None) -> dict[str, pd.DataFrame]:
    """Every canonical table (or those named), read once."""
    return {name: read_table(workspace, name) for name in (tables or TABLES)}
