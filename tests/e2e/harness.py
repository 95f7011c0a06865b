"""Starting a real `streamlit run app.py` server and a headless Chromium: the one copy, for tests and benchmarks.

Plain Python (no pytest), so ``benchmarks/browser.py`` uses it too; the pytest fixtures built on it are in
``conftest.py`` beside it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import weakref
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip
IDLE = "[data-testid=stApp][data-test-script-state=notRunning]"
# Every server the harness has started and not stopped: a wait that times out asks each for its threads' stacks.
LIVE: weakref.WeakSet = weakref.WeakSet()


def browser_missing() -> str | None:
    """Why a browser can't be driven here, or None when Playwright and Chromium are both present."""
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "Playwright is not installed (pip install -r requirements-dev.txt)"
    if not os.path.exists(CHROMIUM):
        return f"Chromium was not found at {CHROMIUM} (apt-get install chromium)"
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def healthy(url: str) -> bool:
    try:
        return urllib.request.urlopen(f"{url}/_stcore/health", timeout=5).read() == b"ok"
    except OSError:
        return False


class Server:
    """`streamlit run app.py` on a free port, healthy when the constructor returns.

    ``started`` is the perf_counter time of the launch and ``healthy_after`` the seconds it took to answer
    its health check. The output goes to a log file whose tail is in the error if the server fails to start.
    ``script`` is what `streamlit run` runs (``serve.py`` is the Docker image's entry). ``env`` adds
    environment variables for the server (e.g. ``CNN_PLAYGROUND_WORK_LOG``, see ``ui/common/compute.py``).
    """

    def __init__(self, timeout: float = 120, env: dict[str, str] | None = None, script: str = "app.py") -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = tempfile.NamedTemporaryFile(prefix="streamlit-", suffix=".log", delete=False)
        head = [sys.executable, "-m", "streamlit"]
        args = ["run", script, "--server.headless", "true", "--server.port", str(self.port),
                "--browser.gatherUsageStats", "false"]  # fmt: skip
        self.started = time.perf_counter()
        # CNN_PLAYGROUND_STACKS: the server writes every thread's stack to its log on SIGUSR1 (ui/common/service.py)
        env = {**os.environ, "CNN_PLAYGROUND_STACKS": "1", **(env or {})}
        self.proc = subprocess.Popen(head + args, cwd=ROOT, stdout=self.log, stderr=subprocess.STDOUT, env=env)
        LIVE.add(self)
        deadline = self.started + timeout
        while not healthy(self.url):
            if time.perf_counter() > deadline or self.proc.poll() is not None:
                code = self.proc.poll()
                tail = self.log_tail()
                self.stop()
                why = f"exited with status {code}" if code is not None else f"gave no health answer in {timeout:.0f} s"
                raise RuntimeError(f"streamlit on port {self.port} {why}; its log ends: {tail!r}")
            time.sleep(0.05)
        self.healthy_after = time.perf_counter() - self.started

    def log_tail(self, n: int = 600) -> str:
        try:
            return Path(self.log.name).read_text(encoding="utf-8", errors="replace")[-n:]
        except OSError:
            return ""

    def stacks(self, n: int = 40_000) -> str:
        """Every thread's Python stack in the server now (from its log), for a wait that timed out."""
        if self.proc.poll() is not None:
            return f"(the server has exited with status {self.proc.returncode})"
        try:
            before = os.path.getsize(self.log.name)
        except OSError:
            before = 0
        self.proc.send_signal(signal.SIGUSR1)
        time.sleep(2)  # faulthandler writes at once; give a loaded machine time to schedule it
        try:
            with open(self.log.name, "rb") as f:
                f.seek(before)
                written = f.read().decode("utf-8", errors="replace")
        except OSError:
            written = ""
        return written[-n:] or "(no stacks were written)"

    def stop(self) -> None:
        LIVE.discard(self)
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.log.close()
        with contextlib.suppress(OSError):
            os.unlink(self.log.name)

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


@contextlib.contextmanager
def chromium():
    """A headless Chromium (Debian's, through Playwright), closed on exit."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        _patient_navigation(browser)
        try:
            yield browser
        finally:
            browser.close()


# Playwright gives a page load 30 s by default. On a loaded 2-core machine (the suite beside a benchmark and
# other work, load 10–20) a first load once took longer, and the test failed with nothing wrong: tests check
# behaviour, so every context and page of the harness's browser waits up to this long for a page to load.
NAVIGATION_TIMEOUT_MS = 180_000
# Likewise an action (a click, a fill) and a wait given no timeout of its own: Playwright's 30 s once ran out
# for a click on the ten-sessions test at load 10–15 (ten pages' first runs queued on two cores). A call that
# names its own timeout keeps it.
ACTION_TIMEOUT_MS = 120_000


def _patient_navigation(browser) -> None:
    """Make every context and page this browser opens wait NAVIGATION_TIMEOUT_MS for a page load and
    ACTION_TIMEOUT_MS for an action or a wait without a timeout of its own."""
    new_context, new_page = browser.new_context, browser.new_page

    def patient_context(*args, **kwargs):
        context = new_context(*args, **kwargs)
        context.set_default_navigation_timeout(NAVIGATION_TIMEOUT_MS)
        context.set_default_timeout(ACTION_TIMEOUT_MS)
        return context

    def patient_page(*args, **kwargs):
        page = new_page(*args, **kwargs)
        page.set_default_navigation_timeout(NAVIGATION_TIMEOUT_MS)
        page.set_default_timeout(ACTION_TIMEOUT_MS)
        return page

    browser.new_context, browser.new_page = patient_context, patient_page


def wait_idle(page, timeout: int = 120_000) -> None:
    """Wait until the app has finished its script run (give a just-sent rerun time to start first)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    page.wait_for_timeout(300)
    try:
        page.wait_for_selector(IDLE, timeout=timeout)
    except PlaywrightTimeout as e:  # say what the page showed: a run that never ends, or a lost connection
        raise PlaywrightTimeout(f"{e}\nThe page at the time: {_page_status(page)}{_server_stacks()}") from None


def _server_stacks() -> str:
    """Every live server's thread stacks, as each wrote them on SIGUSR1: where a run that never ends is."""
    out = []
    for server in list(LIVE):
        out.append(f"\n--- server on port {server.port}: threads ---\n{server.stacks()}")
    return "".join(out)


def _page_status(page) -> str:
    """The app's script state, Streamlit's status widget (e.g. "Connecting") and how many elements are stale."""
    from playwright.sync_api import Error as PlaywrightError

    try:
        return page.evaluate(
            """() => {
              const app = document.querySelector('[data-testid=stApp]');
              const status = document.querySelector('[data-testid=stStatusWidget]');
              return `script state ${app && app.getAttribute('data-test-script-state')}; status widget `
                + `${JSON.stringify(status ? status.innerText : null)}; `
                + `${document.querySelectorAll('[data-stale=true]').length} stale elements; url ${location.href}`;
            }"""
        )
    except PlaywrightError as e:  # a closed or crashed page: only a diagnostic, the timeout is the failure
        return f"(could not be read: {e})"


def tree_rss(proc) -> int:
    """Resident memory of a process and all its children in bytes (children that exit meanwhile count 0)."""
    import psutil

    try:
        procs = [proc, *proc.children(recursive=True)]
    except psutil.Error:
        return 0
    total = 0
    for p in procs:
        try:
            total += p.memory_info().rss
        except psutil.Error:
            pass
    return total


# A phone's browser context (an iPhone-sized screen with touch), for the phone layout tests.
PHONE = {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True}


def phone_page(browser, url: str):
    """A new phone-sized context (``PHONE``) with a page opened at ``url`` and settled; close the context after."""
    context = browser.new_context(**PHONE)
    page = context.new_page()
    page.goto(url)
    wait_idle(page)
    return context, page
