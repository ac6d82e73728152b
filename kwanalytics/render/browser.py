"""One headless Chromium kept open for a whole batch, driven over the DevTools protocol through a pipe.

Starting Chromium costs 1.5-3 s; printing one report in an open browser costs a fraction of a second. So a batch
starts one browser (``Browser``) for each of its workers (render/reports.py: one beside each warm kernel, so two
print side by side on two cores), each with one tab, and each report is loaded in that tab: wait until every chart has
drawn (``render/bundle.py`` sets ``<html data-kwa-charts="drawn">``), then ``Page.printToPDF`` for the PDF, or
``Plotly.toImage`` for each chart's picture in the Word file. The next report replaces it in the same tab.

Why a pipe (``--remote-debugging-pipe``) and not a port: nothing listens on a network socket, so no other program
on the machine can drive the browser that holds a pupil's report. The protocol over the pipe is JSON messages,
each ended by a NUL byte (Chrome DevTools Protocol: https://chromedevtools.github.io/devtools-protocol/; the
pipe transport: Chromium's ``--remote-debugging-pipe`` switch, fd 3 to the browser, fd 4 from it). The browser
runs with the network off, as for every print (``pdf.chromium_command``).
"""

from __future__ import annotations

import base64
import json
import os
import fcntl
import signal
import tempfile
import threading
import time
from pathlib import Path

from kwanalytics.errors import WorkspaceError

#: Printed in every PDF page's bottom margin: the report's title (a pupil pack's names the pupil) and
#: "Page n of N", so a page that comes loose from an annual-review pack still says whose it is. Chromium fills
#: the spans with class title, pageNumber and totalPages; the template needs its own font size.
PAGE_FOOTER = ('<div style="font: 8px sans-serif; color: #444; width: 100%; margin: 0 14mm; display: flex; '
               'justify-content: space-between;"><span class="title"></span>'
               '<span>Page <span class="pageNumber"></span> of <span class="totalPages"></span></span></div>')

#: Wall-clock limit for one step (start-up, loading a page, printing), seconds.
TIMEOUT_S = 120

_WAIT_CHARTS = ("new Promise(function (resolve) {"
                "  var root = document.documentElement;"
                "  function state() { return root.getAttribute('data-kwa-charts'); }"
                "  if (!document.getElementById('kwa-plotly')) { resolve('none'); return; }"
                "  (function poll() { var s = state(); if (s) resolve(s); else setTimeout(poll, 20); })();"
                "})")

_CHART_PNGS = ("Promise.all(Array.from(document.querySelectorAll('.plotly-graph-div')).map(function (gd) {"
               "  var l = gd._fullLayout || {};"
               "  return Plotly.toImage(gd, {format: 'png', width: %s || Math.round(l.width || 900),"
               "                             height: Math.round(l.height || 450), scale: %d})"
               "    .then(function (url) { return url; }, function () { return null; });"
               "}))")


class _Process:
    """The browser's process (started with posix_spawn): wait with a time limit, kill."""

    def __init__(self, pid: int):
        self.pid, self.returncode = pid, None

    def wait(self, timeout: float) -> int:
        deadline = time.monotonic() + timeout
        while self.returncode is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
            elif time.monotonic() > deadline:
                raise TimeoutError(f"process {self.pid} still running")
            else:
                time.sleep(0.05)
        return self.returncode

    def kill(self) -> None:
        if self.returncode is None:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


class BrowserError(WorkspaceError):
    pass


class TabGone(BrowserError):
    """The tab's renderer died (it happens now and then to a fresh browser's first tab): try again."""


class Browser:
    """A headless Chromium over a DevTools pipe; use as a context manager. Safe to share between threads."""

    def __init__(self, executable: str | None = None):
        self.executable = executable
        self.proc = None
        self._next = 0
        self._lock = threading.Lock()  # one command at a time over the pipe: simple and enough (Chromium prints
        #                                one page at a time anyway)
        self._buffer = b""
        self._tab: str | None = None  # the session of the one tab every report is loaded in
        self._shown: tuple | None = None  # the report file (path, modified, size) the tab holds, charts drawn
        self._page_lock = threading.Lock()

    # -- lifecycle
    def start(self) -> "Browser":
        from kwanalytics.render.pdf import chromium_command, find_browser

        executable = self.executable or find_browser()  # a clear error before anything is made
        self._profile = tempfile.mkdtemp(prefix="kwa-chromium-")
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()

        cmd = chromium_command(executable, Path(self._profile), "--remote-debugging-pipe",
                               "--no-pdf-header-footer", "--run-all-compositor-stages-before-draw", "about:blank")
        # posix_spawn, not fork + preexec_fn: batches start the browser from a worker thread, and running Python
        # in a forked child of a threaded process can deadlock. The browser reads commands on fd 3 and writes
        # replies on fd 4; the pipe ends are first copied above 10 (close-on-exec), since a pipe end may itself
        # be fd 3 or 4 and dup2 onto itself would leave it closing at exec.
        high_r = fcntl.fcntl(to_browser_r, fcntl.F_DUPFD_CLOEXEC, 10)
        high_w = fcntl.fcntl(from_browser_w, fcntl.F_DUPFD_CLOEXEC, 10)
        try:
            pid = os.posix_spawnp(cmd[0], cmd, {**os.environ, "HOME": self._profile}, file_actions=[
                (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
                (os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0),
                (os.POSIX_SPAWN_OPEN, 2, os.devnull, os.O_WRONLY, 0),
                (os.POSIX_SPAWN_DUP2, high_r, 3),
                (os.POSIX_SPAWN_DUP2, high_w, 4)])
            self.proc = _Process(pid)
        finally:
            for fd in (to_browser_r, from_browser_w, high_r, high_w):
                os.close(fd)
        self.call("Browser.getVersion")
        return self

    def close(self) -> None:
        if self.proc is None:
            return
        try:
            with self._lock:
                self._send("Browser.close", {}, None)
            self.proc.wait(timeout=10)
        except Exception:  # noqa: BLE001 - a browser that will not close politely is killed
            self.proc.kill()
            self.proc.wait(timeout=10)
        finally:
            for fd in (self._to_browser, self._from_browser):
                try:
                    os.close(fd)
                except OSError:
                    pass
            import shutil

            shutil.rmtree(self._profile, ignore_errors=True)
            self.proc = None

    def __enter__(self) -> "Browser":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    # -- the protocol
    def _send(self, method: str, params: dict, session: str | None) -> int:
        self._next += 1
        message = {"id": self._next, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        data = json.dumps(message).encode("utf-8") + b"\0"
        while data:
            data = data[os.write(self._to_browser, data):]
        return self._next

    def _receive(self) -> dict:
        import select

        while b"\0" not in self._buffer:
            ready, _, _ = select.select([self._from_browser], [], [], TIMEOUT_S)
            chunk = os.read(self._from_browser, 1 << 20) if ready else b""
            if not chunk:
                raise BrowserError("Chromium stopped answering (it may have crashed or run out of memory); "
                                   "no PDF or Word file was written for this report.")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def call(self, method: str, params: dict | None = None, session: str | None = None,
             until_event: str | None = None) -> dict:
        """Send one command and return its result; with ``until_event``, also wait for that event of the same
        session (e.g. Page.loadEventFired after Page.navigate). Other events are dropped."""
        if self.proc is None:
            raise BrowserError("The browser is not running.")
        with self._lock:
            wanted = self._send(method, params or {}, session)
            result, seen = None, until_event is None
            while result is None or not seen:
                reply = self._receive()
                if reply.get("id") == wanted:
                    if "error" in reply:
                        raise BrowserError(f"Chromium refused {method}: {reply['error'].get('message')}")
                    result = reply.get("result", {})
                elif reply.get("method") == until_event and reply.get("sessionId") == session:
                    seen = True
                elif session and reply.get("method") == "Inspector.detached" and reply.get("sessionId") == session:
                    raise TabGone(f"Chromium's page for this report stopped ({reply['params'].get('reason')}).")
            return result

    # -- pages
    def _open(self, html_path: Path) -> str:
        """Load ``html_path`` in the browser's one tab (made on first use) and wait for its charts; the session."""
        if self._tab is None:
            target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
            session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
            self.call("Page.enable", {}, session)
            self._tab = session
        session = self._tab
        stat = html_path.stat()
        shown = (str(html_path.resolve()), stat.st_mtime_ns, stat.st_size)
        if shown == self._shown:  # its Word pictures were just drawn from this page: print it as it is
            return session
        self._shown = None
        self.call("Page.navigate", {"url": html_path.resolve().as_uri()}, session, until_event="Page.loadEventFired")
        state = self.evaluate(_WAIT_CHARTS, session)
        if state not in ("drawn", "none"):
            raise BrowserError(f"The charts of {html_path.name} did not draw ({state}).")
        self._shown = shown
        return session

    def evaluate(self, expression: str, session: str):
        result = self.call("Runtime.evaluate", {"expression": expression, "awaitPromise": True,
                                                "returnByValue": True}, session)
        if "exceptionDetails" in result:
            raise BrowserError(f"The report page failed: {result['exceptionDetails'].get('text', 'error')}")
        return result.get("result", {}).get("value")

    def _retry(self, job, html_path):
        # One page at a time in the one tab (a second thread waits): loading the next report replaces the last.
        with self._page_lock:
            try:
                return job(Path(html_path))
            except TabGone:
                self._tab = self._shown = None
                return job(Path(html_path))

    def pdf(self, html_path) -> bytes:
        """The report at ``html_path`` printed to PDF: A4 (print.css's @page sizes), backgrounds kept."""
        return self._retry(self._pdf, html_path)

    def chart_pngs(self, html_path, scale: int = 2, width: int | None = None) -> list[bytes | None]:
        """Each chart of the report at ``html_path`` as PNG bytes, in page order (None for one that failed);
        ``width`` in CSS pixels (default: as drawn on the page), times ``scale`` for sharp print."""
        return self._retry(lambda p: self._chart_pngs(p, scale, width), html_path)

    def _pdf(self, html_path: Path) -> bytes:
        session = self._open(html_path)
        result = self.call("Page.printToPDF", {"printBackground": True, "preferCSSPageSize": True,
                                               "displayHeaderFooter": True, "headerTemplate": "<div></div>",
                                               "footerTemplate": PAGE_FOOTER}, session)
        self._shown = None  # printing lays the page out for paper: the next use loads it afresh
        return base64.b64decode(result["data"])

    def _chart_pngs(self, html_path: Path, scale: int, width: int | None) -> list[bytes | None]:
        session = self._open(html_path)
        urls = self.evaluate(_CHART_PNGS % (int(width) if width else "null", int(scale)), session) or []
        return [base64.b64decode(u.split(",", 1)[1]) if u else None for u in urls]
