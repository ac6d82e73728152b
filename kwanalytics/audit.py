"""The audit log: each ingest and report run appends one line saying what evidence it used and what it wrote.

A school can then show which exports (by SHA-256) a report was built from. The log is JSON Lines at
<workspace>/data/audit.jsonl, readable by its owner only, and is only ever appended to.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import os
from datetime import datetime, timezone
from pathlib import Path

from kwanalytics import __version__


def audit_path(workspace) -> Path:
    return Path(workspace) / "data" / "audit.jsonl"


def file_sha256(path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def record(workspace, event: str, **details) -> dict:
    """Append one entry (``event`` plus ``details``, which must be JSON-serialisable) and return it."""
    try:
        user = getpass.getuser()
    except Exception:  # no login name in some containers
        user = str(os.getuid()) if hasattr(os, "getuid") else "unknown"
    entry = {"at": datetime.now(timezone.utc).astimezone().isoformat(timespec="seconds"), "event": event,
             "user": user, "kwanalytics": __version__, **details}
    path = audit_path(workspace)
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(entry, default=str, ensure_ascii=False) + "\n"
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, line.encode("utf-8"))  # one write of one line: appends from two runs do not interleave
    finally:
        os.close(fd)
    return entry


def read_log(workspace) -> list[dict]:
    """Every entry so far, oldest first (a damaged line is skipped, not fatal)."""
    path = audit_path(workspace)
    if not path.exists():
        return []
    entries = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            entries.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return entries
