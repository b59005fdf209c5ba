"""What the real-browser tests need: JupyterLab or Voilà serving a temp directory, Debian's headless
Chromium driven by Playwright for Python, and the few UI steps the tests take.

Facts this relies on, each learned from a flaky or hanging run:
* JupyterLab's kernel is ready only when the status bar says "| Idle": the toolbar's indicator says
  idle before the kernel's socket is open, and a Run All clicked then silently does nothing.
* A server run as root exits at once without ``--allow-root``, so readiness loops watch the process.
* Voilà holds the page until the whole notebook has run, so it is opened with
  ``wait_until="commit"``; its ``/api/status`` answers 403, so its readiness is a TCP connect.
* Sliders have ``continuous_update=False``: each key press is one update, so one ``End`` press moves a
  slider to its maximum in exactly one update.
"""

import contextlib
import importlib.util
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest

REPO = Path(__file__).resolve().parent.parent
ARTIFACTS = REPO / "tests" / "artifacts"  # screenshots; git-ignored
CHROMIUM = Path("/usr/bin/chromium")  # Debian's package, never a browser downloaded by a test tool
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
REQUIRE_BROWSER = "BPCOURSE_REQUIRE_BROWSER"  # "1" in CI: a missing browser fails instead of skipping
SERVER_START_TIMEOUT = 60  # seconds
KERNEL_READY_TIMEOUT_MS = 60_000
PLOT_TIMEOUT_MS = 60_000  # Run All up to the explorer's first plot (the lessons run in ~15 s)
REDRAW_TIMEOUT_MS = 30_000
# An explorer's picture: an Image widget, or (older explorers) an image inside an Output widget.
PLOT_IMAGES = "img.widget-image, .widget-output img"


def missing_requirement(*, voila=False):
    """Why the browser tests cannot run here (a sentence), or None if they can."""
    if importlib.util.find_spec("playwright") is None:
        return "Playwright for Python is not installed (pip install -e '.[test]')"
    if not CHROMIUM.is_file():
        return f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)"
    if voila and importlib.util.find_spec("voila") is None:
        return "Voila is not installed (pip install -e '.[test]')"
    return None


def skip_or_fail(reason):
    """Skip with ``reason``, or fail if the environment says the browser tests must run."""
    if os.environ.get(REQUIRE_BROWSER) == "1":
        pytest.fail(f"{reason}; {REQUIRE_BROWSER}=1 requires the browser tests to run", pytrace=False)
    pytest.skip(f"{reason} (set {REQUIRE_BROWSER}=1 to make this a failure)")


# --- servers -------------------------------------------------------------------------------------

@dataclass
class Server:
    url: str  # e.g. http://127.0.0.1:PORT
    token: str
    log: Path

    def log_tail(self, lines=25):
        return _log_tail(self.log, lines)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def isolated_env(home):
    """The environment of a server that reads and writes Jupyter state only under ``home``, and
    whose kernels are interactive (nothing marks them as nbgrader's or a batch run)."""
    env = {k: v for k, v in os.environ.items() if k not in ("NBGRADER_EXECUTION", "BPCOURSE_HEADLESS")}
    for name, sub in [("JUPYTER_CONFIG_DIR", "config"), ("JUPYTER_RUNTIME_DIR", "runtime"),
                      ("JUPYTERLAB_SETTINGS_DIR", "settings"), ("JUPYTERLAB_WORKSPACES_DIR", "workspaces"),
                      ("IPYTHONDIR", "ipython")]:
        (home / sub).mkdir(parents=True, exist_ok=True)
        env[name] = str(home / sub)
    # No announcements pop-up (it asks to fetch news from the internet) over the notebook.
    (home / "config" / "labconfig").mkdir(exist_ok=True)
    (home / "config" / "labconfig" / "page_config.json").write_text(json.dumps(
        {"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True}}))
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _log_tail(log, lines=40):
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


@contextlib.contextmanager
def _running(argv, env, cwd, log, ready):
    """Run ``argv`` until the block ends; wait for ``ready()`` first, failing with the log's end if
    the process exits or takes longer than SERVER_START_TIMEOUT."""
    with open(log, "wb") as log_file:
        process = subprocess.Popen(argv, env=env, cwd=cwd, stdout=log_file, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while not ready():
            if process.poll() is not None:
                raise RuntimeError(f"{argv[2]} exited with status {process.returncode}:\n{_log_tail(log)}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"{argv[2]} not ready after {SERVER_START_TIMEOUT} s:\n{_log_tail(log)}")
            time.sleep(0.1)
        yield process
    finally:
        process.terminate()  # a Jupyter server shuts its kernels down on SIGTERM
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)  # its kernels exit when their parent is gone
            process.wait()


def _answers_http(url):
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def _accepts_tcp(port):
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
        return True
    return False


def _root_flag():
    return ["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []


@contextlib.contextmanager
def jupyterlab(root, home):
    """JupyterLab serving the directory ``root`` (a temp copy: autosave writes outputs into it)."""
    port, token = free_port(), secrets.token_hex(16)
    argv = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
            "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
            f"--ServerApp.root_dir={root}", "--LabApp.extension_manager=readonly", *_root_flag()]
    url = f"http://127.0.0.1:{port}"
    log = home / "jupyterlab.log"
    with _running(argv, isolated_env(home), root, log,
                  ready=lambda: _answers_http(f"{url}/api/status?token={token}")):
        yield Server(url, token, log)


@contextlib.contextmanager
def voila(notebook, home):
    """Voilà serving the app ``notebook`` (kernel cwd: the notebook's directory)."""
    port, token = free_port(), secrets.token_hex(16)
    argv = [sys.executable, "-m", "voila", str(notebook), "--no-browser", "--Voila.ip=127.0.0.1",
            f"--port={port}", "--Voila.port_retries=0", f"--Voila.token={token}"]
    log = home / "voila.log"
    with _running(argv, isolated_env(home), Path(notebook).parent, log, ready=lambda: _accepts_tcp(port)):
        yield Server(f"http://127.0.0.1:{port}", token, log)


# --- the browser ---------------------------------------------------------------------------------

@contextlib.contextmanager
def chromium():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def _is_local(url):
    return urlsplit(url).hostname == "127.0.0.1"


@contextlib.contextmanager
def new_page(browser):
    """A page in a fresh context that can reach 127.0.0.1 only (no fonts, news or trackers)."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.route("**/*", lambda route: route.continue_() if _is_local(route.request.url) else route.abort())
    page = context.new_page()
    page.set_default_timeout(30_000)
    try:
        yield page
    finally:
        context.close()


class Stopwatch:
    """Seconds taken by each named step, printed by the tests (pytest shows it when one fails)."""

    def __init__(self):
        self.laps, self._last = [], time.monotonic()

    def lap(self, step):
        now = time.monotonic()
        self.laps.append((step, now - self._last))
        self._last = now

    def __str__(self):
        return ", ".join(f"{step} {seconds:.1f} s" for step, seconds in self.laps)


def screenshot(target, name):
    """Save a screenshot of a page or of an element (a Locator) as tests/artifacts/<name>.png."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{re.sub(r'[^A-Za-z0-9_.-]+', '-', name)}.png"
    if hasattr(target, "bounding_box"):
        # JupyterLab renders off-screen cells lazily (CSS content-visibility), so scrolling to an
        # element re-lays out the cells above it and moves it: wait until it stays put.
        target.scroll_into_view_if_needed()
        _wait_until_still(target)
    target.screenshot(path=str(path))
    return path


def _wait_until_still(locator, timeout=5.0):
    previous, deadline = None, time.monotonic() + timeout
    while time.monotonic() < deadline:
        box = locator.bounding_box()
        if box == previous:
            return
        previous = box
        time.sleep(0.1)


# --- UI steps ------------------------------------------------------------------------------------

def open_in_lab(page, lab, notebook_name):
    """Open ``notebook_name`` (relative to the served root) and wait until its kernel is ready."""
    from playwright.sync_api import expect

    page.goto(f"{lab.url}/lab/tree/{notebook_name}?token={lab.token}&reset")
    expect(page.locator("#jp-main-statusbar")).to_contain_text("| Idle", timeout=KERNEL_READY_TIMEOUT_MS)


def run_all(page):
    page.get_by_role("menuitem", name="Run", exact=True).click()
    page.locator('.lm-Menu-item[data-command="runmenu:run-all"]').click()


def wait_until_run_all_stopped(page):
    """Wait until no cell is queued or running ("[*]") and the kernel is idle: Run All has run to
    the end or stopped at the first error (in a student notebook, the first unfinished exercise)."""
    from playwright.sync_api import expect

    expect(page.locator(".jp-InputArea-prompt", has_text="[*]")).to_have_count(0, timeout=PLOT_TIMEOUT_MS)
    expect(page.locator("#jp-main-statusbar")).to_contain_text("| Idle")


def open_in_voila(page, server):
    page.goto(f"{server.url}/?token={server.token}", wait_until="commit")


def voila_progress(page):
    """Voilà's loading text ("Executing 3 of 6") while it still runs the notebook, else ""."""
    text = page.locator("#loading_text")
    return text.inner_text() if text.count() else ""


class Explorer:
    """An explorer on the page, found by the description of one of its sliders: the slider, and
    the plot(s) in the nearest enclosing widget box that holds an Output with an image."""

    def __init__(self, page, slider_description):
        label = page.locator("label.widget-label",
                             has_text=re.compile(rf"^\s*{re.escape(slider_description)}\s*$"))
        self.description = slider_description
        self.slider = page.locator(".widget-slider").filter(has=label)
        self.box = self.slider.locator(
            "xpath=ancestor::div[contains(concat(' ', normalize-space(@class), ' '), ' widget-box ')]"
            "[.//img[contains(concat(' ', normalize-space(@class), ' '), ' widget-image ')]"
            " or .//div[contains(concat(' ', normalize-space(@class), ' '), ' widget-output ')]//img][1]")
        self.plots = self.box.locator(PLOT_IMAGES)

    def wait_for_plot(self, timeout=PLOT_TIMEOUT_MS):
        """Wait until the explorer shows exactly one plot; return its ``src``."""
        from playwright.sync_api import expect

        expect(self.plots).to_have_count(1, timeout=timeout)
        return self.plot_src()

    def plot_src(self):
        return self.plots.first.get_attribute("src")

    def readout(self):
        return self.slider.locator(".widget-readout").inner_text()

    def move_slider_to_end(self):
        """One key press, so one update: the slider goes to its maximum."""
        handle = self.slider.locator(".noUi-handle")
        handle.scroll_into_view_if_needed()
        handle.focus()
        handle.press("End")

    def wait_for_new_plots(self, old_src, timeout_ms=REDRAW_TIMEOUT_MS):
        """The ``src`` of every plot in the explorer, once they are no longer just ``[old_src]``
        (so a figure stacked below the old one is returned too, not waited out)."""
        deadline = time.monotonic() + timeout_ms / 1000
        while True:
            sources = self.plots.evaluate_all("images => images.map(image => image.getAttribute('src'))")
            if sources and sources != [old_src]:
                return sources
            assert time.monotonic() < deadline, f"the {self.description!r} plot did not change in time"
            time.sleep(0.05)

    def measure_redraw_latency(self, presses=8, key="ArrowRight", pause=0.3):
        """Press ``key`` on the slider's handle ``presses`` times, one update each, and return the
        milliseconds from each key press to the new picture: ``{"changed": [...], "shown": [...]}``
        (the image's ``src`` replaced; the new image decoded and ready to paint). Timed in the page
        with ``performance.now()``, so the test's own polling adds nothing."""
        page = self.slider.page
        self.box.evaluate(_LATENCY_PROBE, PLOT_IMAGES)
        handle = self.slider.locator(".noUi-handle")
        handle.scroll_into_view_if_needed()
        handle.focus()
        for count in range(1, presses + 1):
            time.sleep(pause)  # the previous picture has settled: each press is timed alone
            handle.press(key)
            page.wait_for_function("n => window.__bplibLatency.shown.length >= n", arg=count,
                                   timeout=REDRAW_TIMEOUT_MS)
        return page.evaluate("""() => {
            const {inputs, changed, shown} = window.__bplibLatency;
            return {changed: changed.map((t, i) => t - inputs[i]), shown: shown.map((t, i) => t - inputs[i])};
        }""")


# In the page: note the time of every key press on the page and of every change of the explorer's
# first picture (a new src on the same <img>, or a new <img>), and when the new image is decoded.
_LATENCY_PROBE = """(box, selector) => {
    const state = {inputs: [], changed: [], shown: []};
    window.__bplibLatency = state;
    document.addEventListener("keydown", () => state.inputs.push(performance.now()), true);
    let last = box.querySelector(selector)?.getAttribute("src");
    const check = () => {
        const image = box.querySelector(selector);
        const src = image?.getAttribute("src");
        if (!src || src === last) return;
        last = src;
        state.changed.push(performance.now());
        image.decode().catch(() => null).then(() => state.shown.push(performance.now()));
    };
    new MutationObserver(check).observe(box, {subtree: true, childList: true, attributes: true,
                                              attributeFilter: ["src"]});
}"""
