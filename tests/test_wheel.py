"""The project installs from a wheel: built from the checkout, installed into a fresh venv outside it, it runs
`kwa demo`, `kwa ingest` and `kwa report all` in an empty folder (issue 14: a school's IT technician installs it
this way, and before the shipped schemas/ moved into the wheel only an editable install worked).

The fresh venv has no system site-packages. kwanalytics comes from the wheel alone; its dependencies are borrowed
from the checkout's venv through a .pth line (installing jupyterlab, pandas and the rest again would take minutes).
A .pth line only adds a folder to sys.path: the .pth files inside that folder, among them the editable install's
finder for the checkout, are not run, so the checkout's kwanalytics cannot leak in.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

import kwanalytics

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("wheel")]

CHECKOUT = Path(__file__).resolve().parent.parent


def _run(cmd: list, cwd: Path, env: dict | None = None, timeout: int = 600) -> subprocess.CompletedProcess:
    return subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    # Built from a copy: setuptools builds in the source tree, and a build/ left in the checkout by an earlier
    # build (another version's files) made this test fail with "File exists".
    source = tmp_path_factory.mktemp("source") / "kwanalytics"
    shutil.copytree(CHECKOUT, source, ignore=shutil.ignore_patterns(
        ".git", ".venv", "build", "dist", "*.egg-info", "data", "reports", "__pycache__", ".hypothesis", "tmp"))
    done = _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", out, source], cwd=out)
    assert done.returncode == 0, done.stderr[-3000:]
    (whl,) = out.glob("kwanalytics-*.whl")
    return whl


def test_wheel_carries_every_file_of_the_package_and_the_shipped_folders(wheel):
    """A subpackage or data file missing from pyproject.toml's lists would be left out of the wheel silently."""
    names = set(zipfile.ZipFile(wheel).namelist())
    package = Path(kwanalytics.__file__).parent
    expected = {f"kwanalytics/{p.relative_to(package).as_posix()}" for p in package.rglob("*")
                if p.is_file() and "__pycache__" not in p.parts and p.suffix not in {".pyc", ".pyo"}}
    for folder in ("schemas", "notebooks"):
        expected |= {f"kwanalytics/shipped/{folder}/{p.relative_to(CHECKOUT / folder).as_posix()}"
                     for p in (CHECKOUT / folder).rglob("*") if p.is_file() and p.suffix in {".yaml", ".ipynb"}
                     and ".ipynb_checkpoints" not in p.parts}
    assert expected - names == set()
    assert "kwanalytics/shipped/schemas/settings.yaml" in names
    assert "kwanalytics/shipped/notebooks/student_report.ipynb" in names


def test_installed_wheel_runs_demo_ingest_and_every_report_outside_the_checkout(wheel, tmp_path):
    env_dir = tmp_path / "venv"
    venv.create(env_dir, system_site_packages=False, with_pip=False)
    python = env_dir / "bin" / "python"
    purelib = Path(_run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                        cwd=tmp_path).stdout.strip())
    (purelib / "zz_kwa_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    # nbconvert's HTML templates and the kernel spec are data files under the venv's share/jupyter.
    (env_dir / "share").mkdir(exist_ok=True)
    (env_dir / "share" / "jupyter").symlink_to(Path(sys.prefix) / "share" / "jupyter")
    done = _run([sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--no-index", "--quiet",
                 wheel], cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]

    work = tmp_path / "school"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "KWA_WORKSPACE", "VIRTUAL_ENV"}}
    env["PATH"] = f"{env_dir / 'bin'}{os.pathsep}{env.get('PATH', '')}"

    where = _run([python, "-c", "import json, kwanalytics, kwanalytics.resources as r; print(json.dumps("
                  "[kwanalytics.__file__, str(r.SCHEMAS), str(r.NOTEBOOKS)]))"], cwd=work, env=env)
    assert where.returncode == 0, where.stderr
    for path in json.loads(where.stdout):
        assert Path(path).resolve().is_relative_to(purelib.resolve()), f"{path} is not the wheel's"
        assert not Path(path).resolve().is_relative_to(CHECKOUT), f"{path} comes from the checkout"

    kwa = env_dir / "bin" / "kwa"
    demo = _run([kwa, "demo", "--students", "12"], cwd=work, env=env)
    assert demo.returncode == 0, demo.stdout + demo.stderr
    raw = sorted(p.name for p in (work / "data" / "raw").iterdir())
    assert "students.csv" in raw and "sessions.csv" in raw and len(raw) >= 9

    ingest = _run([kwa, "ingest"], cwd=work, env=env)
    # The demo plants a few mistakes on purpose: some rows are rejected, which is exit 1 (README "Exit codes").
    assert ingest.returncode == 1, ingest.stdout + ingest.stderr
    assert "Traceback" not in ingest.stderr
    summary = json.loads((work / "data" / "processed" / "ingest_summary.json").read_text())
    assert sorted(f["path"] for f in summary["files"]) == raw
    for f in summary["files"]:
        assert f["rows_read"] == f["accepted"] + f["rejected"] + f["duplicates"] + f["skipped"], f
    for table in ("students", "sessions", "incidents", "interventions", "targets"):
        assert (work / "data" / "processed" / f"{table}.parquet").is_file(), table
    assert (work / "reports" / "validation.html").is_file()

    report = _run([kwa, "report", "all"], cwd=work, env=env)
    assert report.returncode == 0, report.stdout + report.stderr
    pupils = sorted((work / "reports" / "students").glob("*.html"))
    assert len(pupils) == 12
    for page in [work / "reports" / "cohort.html", work / "reports" / "patterns.html", *pupils]:
        assert page.stat().st_size > 10_000, page
