"""Printing an HTML report to PDF with headless Chromium (Debian's ``chromium`` package).

The PDF is the HTML report itself, printed: one source of truth for figures and words. The printing is done by
the batch's one open Chromium (render/browser.py: the DevTools protocol's Page.printToPDF once every chart has
drawn). Page breaks are steered by ``render/assets/print.css`` (the reports include
every .css file in that folder): a chart, a table or a figure is never cut in half.

Network is off while printing: the report is self-contained, and a pupil's page must never fetch anything.
Where the kernel allows it the browser runs in an empty network namespace (``unshare -rn``); in any case host
names resolve to nothing and every request goes to a dead proxy.

Sources: Chromium command-line switches (https://peter.sh/experiments/chromium-command-line-switches/),
``--print-to-pdf`` / ``--no-pdf-header-footer`` from Chrome's headless mode documentation
(https://developer.chrome.com/docs/chromium/headless).
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
from pathlib import Path

from kwanalytics.errors import WorkspaceError

#: Where to look for a Chromium, in order. ``KWA_CHROMIUM`` (then ``BROWSER_PATH``, the variable other Chromium
#: drivers such as choreographer honour) lets a school point at another Chromium-based browser.
BROWSER_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")

# Flags shared with the browser tests: no sandbox (we may run as root in a container), no GPU, nothing in the
# background that talks to Google, a throw-away profile, and every network request sent nowhere.
_QUIET_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-default-apps",
    "--no-first-run",
    "--no-default-browser-check",
    "--mute-audio",
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--proxy-server=127.0.0.1:9",
    "--proxy-bypass-list=<-loopback>",
)


def find_browser() -> str:
    """The Chromium to use: ``KWA_CHROMIUM`` or ``BROWSER_PATH`` if set, else the first on PATH."""
    for var in ("KWA_CHROMIUM", "BROWSER_PATH"):
        if os.environ.get(var):
            path = os.environ[var]
            if Path(path).is_file() and os.access(path, os.X_OK):
                return path
            raise WorkspaceError(f"{var} is set to {path!r}, but no browser can be run from there. "
                                 f"Unset {var} or point it at a Chromium executable.")
    for name in BROWSER_NAMES:
        if found := shutil.which(name):
            return found
    raise WorkspaceError("Chromium is needed to make PDF and Word reports, but it is not installed. "
                         "Install Debian's package with `make browser` (or `sudo apt-get install chromium`), "
                         "or set KWA_CHROMIUM to the path of a Chromium-based browser.")


@functools.lru_cache(maxsize=1)
def _network_namespace_prefix() -> tuple[str, ...]:
    """``("unshare", "-rn")`` if this machine lets us run a program with no network at all, else ``()``."""
    unshare = shutil.which("unshare")
    if not unshare:
        return ()
    try:
        ok = subprocess.run([unshare, "-rn", "true"], capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.SubprocessError):
        ok = False
    return (unshare, "-rn") if ok else ()


def chromium_command(browser: str, profile_dir: Path, *extra: str) -> list[str]:
    """The full command line for one offline headless Chromium run (shared with the browser tests)."""
    return [*_network_namespace_prefix(), browser, *_QUIET_FLAGS, f"--user-data-dir={profile_dir}", *extra]


def print_pdf(html_path, pdf_path, browser=None) -> Path:
    """Print the HTML report at ``html_path`` to ``pdf_path`` (A4, no browser header/footer), owner-only.

    ``browser`` is the batch's open render.browser.Browser; without one a browser is started for this print
    alone. Written atomically, so a failed print never leaves a half-written PDF where the last good one was.
    Raises WorkspaceError (a clear message) when Chromium is missing or fails.
    """
    from kwanalytics.render.browser import Browser
    from kwanalytics.store import atomic_write

    html_path, pdf_path = Path(html_path).resolve(), Path(pdf_path)
    if not html_path.is_file():
        raise WorkspaceError(f"Cannot print {html_path} to PDF: the HTML report does not exist. "
                             "Make the HTML report first (`kwa report student --format html`).")
    try:
        if browser is None:
            with Browser() as own:
                data = own.pdf(html_path)
        else:
            data = browser.pdf(html_path)
    except OSError as exc:
        raise WorkspaceError(f"Chromium could not be started to print {html_path.name} ({exc}). "
                             "No PDF was written.") from None
    if not data.startswith(b"%PDF"):
        raise WorkspaceError(f"Chromium did not print {html_path.name}; no PDF was written.")
    return atomic_write(pdf_path, lambda tmp: Path(tmp).write_bytes(data))
