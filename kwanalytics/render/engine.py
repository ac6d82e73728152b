"""Warm-kernel batch execution of the report notebooks: the kernel start and the imports are paid once per batch.

A fresh kernel plus fresh imports (pandas, plotly, scipy) costs about 2 s; 200 pupil reports would spend minutes
just starting up. ``WarmKernel`` starts one IPython kernel, imports kwanalytics into it once, then runs each pupil's
notebook (parameters injected by papermill's ``parameterize_notebook``, cells executed by nbclient) in it.

Isolation between pupils, which matters more than speed:
- before each notebook the namespace is wiped (``%reset -f``, which also clears the output history ``Out``/``_``)
  and the kernel is *checked*: any user variable that survived is an error and the kernel is restarted;
- the only thing kept between pupils is ``workspace_data``: the whole workspace's tables (every pupil's, read
  once per kernel, keyed by workspace path and file modification times), handed out as copies so a notebook that
  changes a frame cannot change the next pupil's; no pupil-specific value is ever cached;
- a cell error or a timeout restarts the kernel, records (student_id, reason) and the batch goes on.
"""

from __future__ import annotations

import copy
import functools
import os
import shutil
import tempfile
from pathlib import Path

import nbformat

#: Variables a fresh IPython namespace holds that are not user data.
_CHECK = ("import json as _j\n"
          "_ip = get_ipython()\n"
          "print(_j.dumps(sorted(k for k in _ip.user_ns if not k.startswith('_') "
          "and k not in _ip.user_ns_hidden and k not in ('In', 'Out', 'exit', 'quit', 'get_ipython'))))\n"
          "del _ip, _j")

_WARM = "import kwanalytics.evidence.pupil, kwanalytics.evidence.charts, kwanalytics.evidence.cohort, kwanalytics.render.engine\n"


# --------------------------------------------------------------------------- cache used inside the kernel

_CACHE: dict = {}


def _stamp(workspace: Path) -> tuple:
    from kwanalytics.store import processed_dir

    files = sorted(processed_dir(workspace).glob("*.parquet"))
    schemas = sorted((workspace / "schemas").glob("*.yaml")) if (workspace / "schemas").is_dir() else []
    return tuple((f.name, f.stat().st_mtime_ns, f.stat().st_size) for f in files + schemas)


def workspace_data(workspace):
    """(tables, settings, calendar) for a workspace, read once per process and returned as fresh copies.

    The cache holds the workspace as a whole (every pupil), never anything derived for one pupil, and each call
    returns deep copies of the frames, so one report cannot alter what the next one reads.
    """
    from kwanalytics.workspace import load_workspace

    workspace = Path(workspace).resolve()
    key = (str(workspace), _stamp(workspace))
    if key not in _CACHE:
        _CACHE.clear()
        ws = load_workspace(workspace)
        _CACHE[key] = (ws.tables, ws.settings, ws.calendar)
    tables, settings, calendar = _CACHE[key]
    return {k: v.copy(deep=True) for k, v in tables.items()}, settings, calendar


def clear_caches() -> None:
    _CACHE.clear()


# --------------------------------------------------------------------------- notebooks

def parameterised(notebook: Path | nbformat.NotebookNode, parameters: dict) -> nbformat.NotebookNode:
    """The notebook with an ``injected-parameters`` cell after its ``parameters`` cell (papermill's own code)."""
    from papermill.parameterize import parameterize_notebook

    nb = notebook if isinstance(notebook, nbformat.NotebookNode) else _read(str(notebook))
    nb = copy.deepcopy(nb)
    nb.metadata.setdefault("papermill", {})
    for cell in nb.cells:  # papermill expects every cell to carry a tags list
        cell.metadata.setdefault("tags", [])
    return parameterize_notebook(nb, parameters, report_mode=False)


@functools.lru_cache(maxsize=8)
def _read_cached(path: str, mtime: int) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def _read(path: str) -> nbformat.NotebookNode:
    return _read_cached(path, os.stat(path).st_mtime_ns)


class CellError(RuntimeError):
    pass


class WarmKernel:
    """One IPython kernel reused for many notebooks; use as a context manager."""

    def __init__(self, cwd: str | Path | None = None, timeout: int = 120, startup_timeout: int = 60):
        self.cwd = str(cwd) if cwd else os.getcwd()
        self.timeout = timeout
        self.startup_timeout = startup_timeout
        self.km = None
        self.kc = None
        self.restarts = 0
        self._clean = False  # True right after a reset proved the namespace empty, until code runs again

    # -- lifecycle
    def start(self) -> "WarmKernel":
        from jupyter_client.manager import KernelManager

        # Local socket files in a private folder, not TCP on localhost: nothing of a pupil's data goes over a
        # network socket, and no "running over TCP without encryption" warning.
        self._ipc_dir = tempfile.mkdtemp(prefix="kwa-kernel-")
        self.km = KernelManager(kernel_name="python3", transport="ipc", ip=os.path.join(self._ipc_dir, "k"))
        # No history database per kernel: it is slow to open and would keep pupils' code cells on disk.
        self.km.start_kernel(cwd=self.cwd, extra_arguments=["--HistoryManager.enabled=False"])
        self.kc = self.km.client()
        self.kc.start_channels()
        self.kc.wait_for_ready(timeout=self.startup_timeout)
        # nbclient drives cells with an asyncio client; a second client on the same kernel (each filters the
        # replies to its own requests by message id).
        from jupyter_client.asynchronous import AsyncKernelClient

        self.akc = AsyncKernelClient()
        self.akc.load_connection_info(self.km.get_connection_info())
        self.akc.start_channels()
        self.run_code(_WARM)  # not clean after it: run_code says so
        return self

    def stop(self) -> None:
        for client in (self.kc, getattr(self, "akc", None)):
            if client is not None:
                client.stop_channels()
        self.akc = None
        if self.km is not None and self.km.has_kernel:
            self.km.shutdown_kernel(now=True)
        self.km = self.kc = None
        if getattr(self, "_ipc_dir", None):
            shutil.rmtree(self._ipc_dir, ignore_errors=True)
            self._ipc_dir = None

    def restart(self) -> None:
        self.stop()
        self.restarts += 1
        self.start()

    def __enter__(self) -> "WarmKernel":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- running code outside any notebook
    def run_code(self, code: str, timeout: int | None = None) -> str:
        """Run code in the kernel; its printed output, or CellError with the kernel's error."""
        self._clean = False
        out: list[str] = []
        err: list[str] = []

        def hook(msg):
            kind, content = msg["header"]["msg_type"], msg["content"]
            if kind == "stream":
                out.append(content["text"])
            elif kind == "error":
                err.append(f"{content['ename']}: {content['evalue']}")

        reply = self.kc.execute_interactive(code, output_hook=hook, timeout=timeout or self.timeout,
                                            store_history=False, allow_stdin=False)
        if reply["content"]["status"] != "ok" or err:
            raise CellError("; ".join(err) or reply["content"].get("evalue", "error"))
        return "".join(out)

    def reset(self) -> None:
        """Wipe the namespace, then prove that no user variable survived (restart the kernel if one did)."""
        import json

        # One round trip: wipe (also the output history Out/_), then list what is left. What survives a reset
        # is the kernel's own (modules, the workspace cache): gc.freeze() sets it aside, so the next reset's
        # garbage collection walks only what the next pupil's notebook made (it walked the whole cached
        # workspace each time: 0.2 s a collection at 3,000 pupils, two a reset).
        code = ("get_ipython().run_line_magic('reset', '-f')\n"
                "import gc as _gc\n_gc.freeze()\ndel _gc\n" + _CHECK)
        left = json.loads(self.run_code(code).strip().splitlines()[-1])
        if left:
            self.restart()
            left = json.loads(self.run_code(_CHECK).strip().splitlines()[-1])
            if left:
                raise RuntimeError(f"the kernel namespace could not be cleared: {left}")
        self._clean = True

    # -- running a notebook
    def execute(self, nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
        """Execute every code cell of ``nb`` (in place) in a freshly reset namespace; CellError on the first error."""
        from nbclient import NotebookClient
        from nbclient.exceptions import CellExecutionError, CellTimeoutError

        if not self._clean:  # the reset after the last notebook proved it empty, and nothing has run since
            self.reset()
        self._clean = False
        client = NotebookClient(nb, km=self.km, timeout=self.timeout, allow_errors=False,
                                record_timing=False, resources={"metadata": {"path": self.cwd}})
        client.kc = self.akc
        try:
            for index, cell in enumerate(nb.cells):
                client.execute_cell(cell, index)
        except CellTimeoutError as exc:
            self.restart()
            raise CellError(f"a cell took longer than {self.timeout} s ({str(exc).splitlines()[0][:200]})") from None
        except CellExecutionError as exc:
            text = exc.evalue if getattr(exc, "evalue", None) else str(exc).strip().splitlines()[-1]
            name = getattr(exc, "ename", "") or "Error"
            self.restart()  # a failed notebook may have left anything behind
            raise CellError(f"{name}: {str(text)[:300]}") from None
        except Exception as exc:  # the kernel died, a channel broke
            self.restart()
            raise CellError(f"{type(exc).__name__}: {str(exc)[:300]}") from None
        finally:
            # Nothing of this notebook stays in the kernel once it is done: wiped, and proved empty for the next.
            try:
                if self.km is not None and self.km.is_alive():
                    self.reset()
            except Exception:
                self.restart()
        return nb


def strip_outputs(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A notebook as committed: no outputs, no execution counts."""
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        cell.metadata.pop("execution", None)
    return nb
