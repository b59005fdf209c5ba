"""The learner's JupyterLab in a real browser: `bpcourse lab` as a learner starts it (their workspace,
no instructor tools, no news pop-up) against `bpcourse lab --instructor`, and what a failing check,
a stub and the progress notebook look like there.

Headless Debian Chromium (/usr/bin/chromium) driven by Playwright for Python, as in test_browser.py.
Every server reads Jupyter state from temp folders only, with an empty user config (so what the
learner's Lab hides, it hides by itself). Screenshots go to tests/artifacts/: the Labs, and each
failing check before (IPython's usual traceback, the library's frames in it) and after (the compact
feedback). Skipped when Playwright or Chromium is missing, unless BPCOURSE_REQUIRE_BROWSER=1 (CI).
"""

import contextlib
import os
import re
import secrets
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import nbformat
import pytest
from browser_support import (
    KERNEL_READY_TIMEOUT_MS,
    Server,
    Stopwatch,
    free_port,
    run_all,
    screenshot,
    wait_until_run_all_stopped,
)
from notebook_tools import filled_in, find_cell
from test_feedback import grade_learner_notebook

from autograder import notebooks, sandbox, workspace
from autograder.check import check
from autograder.course import REPO
from autograder.exercises import exercises
from bplib.grading import not_implemented

BPCOURSE = Path(sys.executable).parent / "bpcourse"
NEWS = "official Jupyter news"
VALIDATE = '[title="Validate Assignment"]'  # nbgrader's button in a notebook's toolbar
WRONG_RELU = "def relu(z):\n    return np.abs(z)"
LIBRARY_TRACES = ("grading.py", "checks.py", "The above exception", "Traceback")
# The "before" picture: IPython's usual traceback, as a failing check showed before the compact
# feedback (the same exceptions, without the hook IPython calls to render them).
WITHOUT_COMPACT_FEEDBACK = """\
import bplib.grading as grading
del grading.ExerciseFailed._render_traceback_
grading.not_implemented = lambda needs: NotImplementedError(f"{', '.join(needs)}: not implemented yet")"""


def clean_env(home):
    """Jupyter state under ``home`` only, and an empty user config: nothing hides the news pop-up
    or nbgrader's tools but the learner's Lab itself."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("JUPYTER_CONFIG_PATH", "NBGRADER_EXECUTION", "BPCOURSE_HEADLESS")}
    for name, sub in [("JUPYTER_CONFIG_DIR", "config"), ("JUPYTER_RUNTIME_DIR", "runtime"),
                      ("JUPYTERLAB_SETTINGS_DIR", "settings"), ("JUPYTERLAB_WORKSPACES_DIR", "workspaces"),
                      ("IPYTHONDIR", "ipython")]:
        (home / sub).mkdir(parents=True, exist_ok=True)
        env[name] = str(home / sub)
    env["PYTHONUNBUFFERED"] = "1"
    return env


@contextlib.contextmanager
def bpcourse_lab(home, *options):
    """`bpcourse lab OPTIONS` as a learner or instructor runs it (plus a port, a token, no browser)."""
    port, token = free_port(), secrets.token_hex(16)
    argv = [str(BPCOURSE), "lab", *options, "--no-browser", "--ip=127.0.0.1", f"--port={port}",
            "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
            "--LabApp.extension_manager=readonly"]
    home.mkdir(parents=True, exist_ok=True)
    log = home / "lab.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(argv, env=clean_env(home), stdout=out, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    server = Server(f"http://127.0.0.1:{port}", token, log)
    try:
        deadline = time.monotonic() + 90
        while status(server, "/api/status") != 200:
            assert process.poll() is None, f"bpcourse lab exited:\n{server.log_tail()}"
            assert time.monotonic() < deadline, f"bpcourse lab not ready:\n{server.log_tail()}"
            time.sleep(0.2)
        yield server
    finally:
        process.terminate()  # the server shuts its kernels down
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)
            process.wait()


def status(server, path):
    try:
        with urllib.request.urlopen(f"{server.url}{path}?token={server.token}", timeout=2) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return None


def open_lab(page, server):
    from playwright.sync_api import expect

    page.goto(f"{server.url}/lab?token={server.token}&reset")
    expect(page.locator(".jp-DirListing-itemName").first).to_be_visible(timeout=KERNEL_READY_TIMEOUT_MS)


def menus(page):
    return [label.strip() for label in page.locator(".lm-MenuBar-itemLabel").all_inner_texts()]


def sidebar_tabs(page):
    return [tab.get_attribute("title") or "" for tab in page.locator(".lm-TabBar-tab").all()]


# --- the two Labs --------------------------------------------------------------------------------

@pytest.mark.browser
def test_the_instructor_lab_keeps_nbgrader_and_the_learner_lab_hides_it(page, tmp_path):
    from playwright.sync_api import expect

    stopwatch = Stopwatch()
    with bpcourse_lab(tmp_path / "instructor", "--instructor") as lab:
        assert status(lab, "/formgrader") is not None and status(lab, "/formgrader") != 404
        open_lab(page, lab)
        stopwatch.lap("instructor Lab open")
        news = page.locator(".Toastify__toast", has_text=NEWS)
        expect(news).to_be_visible(timeout=30_000)  # the pop-up this test must see missing below
        stopwatch.lap("news pop-up shown")
        news_after = max(stopwatch.laps[-1][1], 1.0)
        assert "Nbgrader" in menus(page)
        assert any("Create Assignment" in title for title in sidebar_tabs(page))
        names = page.locator(".jp-DirListing-itemName").all_inner_texts()
        assert "solutions" in names and "lessons" in names  # the whole course
        screenshot(page, "lab-instructor")
        released = REPO / "lessons" / "01-forward-pass" / "01-forward-pass.ipynb"
        before = released.read_bytes()
        page.goto(f"{lab.url}/lab/tree/lessons/01-forward-pass/01-forward-pass.ipynb?token={lab.token}")
        expect(page.locator(VALIDATE)).to_be_visible(timeout=KERNEL_READY_TIMEOUT_MS)
        page.goto("about:blank")  # closed unchanged (nothing of the repository is written)
    assert released.read_bytes() == before

    work = tmp_path / "learner" / "work"
    with bpcourse_lab(tmp_path / "learner", f"--workspace={work}") as lab:
        assert status(lab, "/formgrader") == 404
        open_lab(page, lab)
        expect(page.locator(".jp-DirListing-itemName", has_text="progress.ipynb")).to_be_visible()
        stopwatch.lap("learner Lab open")
        time.sleep(news_after * 2 + 2)  # longer than the instructor's Lab took to ask
        stopwatch.lap("no pop-up")
        screenshot(page, "lab-learner")
        assert page.locator(".Toastify__toast", has_text=NEWS).count() == 0
        assert "Nbgrader" not in menus(page) and "Run" in menus(page)
        assert not any("Create Assignment" in title or "Formgrader" in title for title in sidebar_tabs(page))
        names = page.locator(".jp-DirListing-itemName").all_inner_texts()
        assert names[:len(workspace.released_lessons())] == workspace.released_lessons()
        assert "solutions" not in names and "lessons" not in names
        page.goto(f"{lab.url}/lab/tree/01-forward-pass/01-forward-pass.ipynb?token={lab.token}")
        expect(page.locator("#jp-main-statusbar")).to_contain_text("| Idle", timeout=KERNEL_READY_TIMEOUT_MS)
        assert page.locator(".jp-NotebookPanel-toolbar").is_visible()
        assert page.locator(VALIDATE).count() == 0
    print(stopwatch)


# --- feedback in the notebook --------------------------------------------------------------------

def find_test_cell(page, call):
    """The code cell whose source is ``call`` (a test cell)."""
    return page.locator(".jp-CodeCell").filter(
        has=page.locator(".jp-InputArea .cm-content", has_text=re.compile(rf"^{re.escape(call)}$")))


def run_to_first_failure(page, server, notebook):
    from playwright.sync_api import expect

    page.goto(f"{server.url}/lab/tree/{notebook}?token={server.token}&reset")
    expect(page.locator("#jp-main-statusbar")).to_contain_text("| Idle", timeout=KERNEL_READY_TIMEOUT_MS)
    run_all(page)
    wait_until_run_all_stopped(page)


def failure_shown(page, call, name):
    """The text of the error under the test cell ``call``, after a screenshot of that cell."""
    from playwright.sync_api import expect

    cell = find_test_cell(page, call)
    error = cell.locator('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')
    expect(error).to_have_count(1, timeout=60_000)
    screenshot(cell, name)
    return error.inner_text()


def with_cell_on_top(nb, source):
    nb.cells.insert(0, nbformat.v4.new_code_cell(source))
    return nb


@pytest.mark.browser
def test_a_failing_check_and_a_stub_read_as_feedback_in_jupyterlab(page, tmp_path):
    """Run All in the learner's Lab stops at the first failing test cell: a wrong relu in a notebook
    otherwise solved, and the released lesson 02 with its first exercise still a stub. Each is run
    twice: without the compact feedback ("before": the library's frames show) and as it is."""
    work = tmp_path / "work"
    workspace.sync(work)
    lesson = work / "01-forward-pass"
    nbformat.write(filled_in("01-forward-pass", {"relu": WRONG_RELU}), str(lesson / "01-forward-pass.ipynb"))
    nbformat.write(with_cell_on_top(filled_in("01-forward-pass", {"relu": WRONG_RELU}),
                                    WITHOUT_COMPACT_FEEDBACK), str(lesson / "before.ipynb"))
    stub = work / "02-chain-rule"
    released = notebooks.read(stub / "02-chain-rule.ipynb")
    first_exercise = next(iter(notebooks.graded_cells(released)))
    stub_call = find_cell(released, first_exercise).source.strip()
    nbformat.write(with_cell_on_top(nbformat.read(str(stub / "02-chain-rule.ipynb"), 4),
                                    WITHOUT_COMPACT_FEEDBACK), str(stub / "before.ipynb"))
    stopwatch = Stopwatch()
    with bpcourse_lab(tmp_path / "home", f"--workspace={work}") as lab:
        run_to_first_failure(page, lab, "01-forward-pass/before.ipynb")
        before = failure_shown(page, 'check("relu", relu)', "feedback-wrong-answer-before")
        stopwatch.lap("wrong answer, before")
        run_to_first_failure(page, lab, "01-forward-pass/01-forward-pass.ipynb")
        after = failure_shown(page, 'check("relu", relu)', "feedback-wrong-answer-after")
        stopwatch.lap("wrong answer, after")
        run_to_first_failure(page, lab, "02-chain-rule/before.ipynb")
        stub_before = failure_shown(page, stub_call, "feedback-stub-before")
        stopwatch.lap("stub, before")
        run_to_first_failure(page, lab, "02-chain-rule/02-chain-rule.ipynb")
        stub_after = failure_shown(page, stub_call, "feedback-stub-after")
        stopwatch.lap("stub, after")
    print(stopwatch)

    # before: the test can see library frames when they are there
    assert "grading.py" in before and "Traceback" in before and "grading.py" in stub_before
    # after: the message and its hint, nothing of the library
    assert after.splitlines()[0].startswith("\u2718 relu: check 1 of 3 (")
    assert "wrong value" in after and "Hint: negative inputs must become 0" in after
    assert len(after.splitlines()) <= 4
    for trace in LIBRARY_TRACES:
        assert trace not in after and trace not in stub_after, trace
    assert stub_after.strip() == str(not_implemented(exercises("02-chain-rule")[first_exercise].needs))
    assert len(stub_after.strip().splitlines()) == 1


@pytest.mark.browser
@pytest.mark.grading
def test_the_progress_notebook_shows_the_view_in_jupyterlab(page, tmp_path):
    """The workspace's progress.ipynb, run in the learner's Lab: every lesson, the points of the
    checks, what to fix next, and links that open the notebooks."""
    from playwright.sync_api import expect

    work = tmp_path / "work"
    workspace.sync(work)
    nbformat.write(filled_in("01-forward-pass", {"relu": WRONG_RELU}),
                   str(work / "01-forward-pass" / "01-forward-pass.ipynb"))
    with bpcourse_lab(tmp_path / "home", f"--workspace={work}") as lab:
        run_to_first_failure(page, lab, "progress.ipynb")
        view = page.locator(".bp-progress")
        expect(view).to_be_visible(timeout=120_000)
        screenshot(view, "progress-notebook")
        text = view.inner_text()
        view.locator("a", has_text="02-chain-rule").click()  # a lesson's name opens its notebook
        expect(page.locator(".lm-TabBar-tab", has_text="02-chain-rule.ipynb")).to_be_visible()
    _, result = check(work / "01-forward-pass" / "01-forward-pass.ipynb")
    assert "fix relu: " in text and f"{result['score']:g} / {result['max_score']:g}" in text
    for lesson in workspace.released_lessons():
        assert lesson in text


@pytest.mark.browser
@pytest.mark.grading
def test_the_feedback_page_shows_the_compact_messages(page, tmp_path):
    """nbgrader's feedback HTML for the graded notebook of test_feedback.py (a stub, a wrong relu,
    an error in the learner's code), as a learner's browser shows it."""
    if not sandbox.capabilities().isolated:
        pytest.skip("grading needs isolation (bubblewrap)")
    _, html = grade_learner_notebook(tmp_path)
    page.set_content(html)
    for grade_id, name in [("relu", "feedback-page-wrong-answer"), ("sigmoid", "feedback-page-stub"),
                           ("dense_forward", "feedback-page-error-in-learner-code")]:
        cell = page.locator(f'[id="cell-id={grade_id}"]')
        error = cell.locator(".output_error")
        text = error.inner_text()
        screenshot(cell, name)
        for trace in LIBRARY_TRACES:
            assert trace not in text, f"{trace!r} in the feedback of {grade_id}"
        if grade_id == "sigmoid":
            assert text.strip() == str(not_implemented(("sigmoid",)))
        else:
            assert text.startswith(f"\u2718 {grade_id}: check 1 of "), text
    relu = page.locator('[id="cell-id=relu"] .output_error').inner_text()
    assert "Hint: negative inputs must become 0" in relu
