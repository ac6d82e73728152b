"""Where the shipped defaults live: the school-editable schemas/ and the report notebooks/.

Both stay top-level folders of the repository (they are what a school edits and opens in JupyterLab). A wheel
carries them inside the package as ``kwanalytics/shipped/`` (mapped in at build time by pyproject.toml), read
through importlib.resources; a source checkout (an editable install) reads the folders themselves.
"""

from __future__ import annotations

from importlib.resources import as_file, files
from pathlib import Path

_CHECKOUT = Path(__file__).resolve().parent.parent


def shipped(name: str) -> Path:
    """The folder of shipped defaults called ``name`` ("schemas" or "notebooks")."""
    packaged = files("kwanalytics") / "shipped" / name
    if packaged.is_dir():
        # Installed wheels are plain directories; as_file keeps this honest for zipped installs too.
        with as_file(packaged) as path:
            return Path(path)
    return _CHECKOUT / name


SCHEMAS = shipped("schemas")
NOTEBOOKS = shipped("notebooks")
