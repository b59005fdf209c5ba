"""The explorers in a real browser: JupyterLab runs a temp copy of the student notebooks of lessons 05
and 07 (Run All), and Voilà serves the workshop app; moving a slider must redraw the plot next to it.

Headless Debian Chromium (/usr/bin/chromium) driven by Playwright for Python. Screenshots of each
explorer before and after the change, and of the whole page at the end, go to tests/artifacts/.
Skipped when Playwright, Chromium or Voilà is missing, unless BPCOURSE_REQUIRE_BROWSER=1 (as in CI),
which turns the skip into a failure.
"""

import contextlib
import shutil
import statistics

import nbformat
import pytest
from browser_support import (
    REPO,
    Explorer,
    Stopwatch,
    jupyterlab,
    missing_requirement,
    open_in_lab,
    open_in_voila,
    run_all,
    screenshot,
    skip_or_fail,
    voila,
    voila_progress,
    wait_until_run_all_stopped,
)

from autograder import notebooks

LESSON_SLIDERS = {  # lesson -> the slider (by its description) whose change the test makes
    "05-update-rule": "learning rate",
    "07-vanishing-exploding": "depth",
}
APP = REPO / "workshop" / "explorers.ipynb"


@contextlib.contextmanager
def screenshot_at_exit(page, name):
    """A screenshot of the whole page as the block ends, passed or failed (the server still up)."""
    try:
        yield
    finally:
        screenshot(page, f"{name}-page")


def report_latency(explorer, where, presses=8):
    """Press the explorer's slider one step at a time and print the milliseconds from each key
    press to the new picture. Speed is measured here and in benchmarks/bench_widgets.py, not
    asserted (a shared machine's load would make any bound flaky); the behaviour is: every press
    gives exactly one new picture, in place."""
    before = explorer.plot_src()
    latency = explorer.measure_redraw_latency(presses)
    shown = sorted(latency["shown"])
    print(f"\nLATENCY {where} {explorer.description!r}: key press to new picture, {presses} single "
          f"steps: median {statistics.median(shown):.0f} ms, min {shown[0]:.0f}, max {shown[-1]:.0f} "
          f"(src changed after median {statistics.median(latency['changed']):.0f} ms); "
          f"each: {', '.join(f'{t:.0f}' for t in latency['shown'])}")
    assert len(latency["shown"]) == presses
    assert explorer.plots.count() == 1 and explorer.plot_src() != before
    return latency


def check_slider_redraws_plot(explorer, name, stopwatch):
    """Move the explorer's slider to its end: the readout changes, and the one plot shows a
    different PNG, in place: the same <img> element (not a new one, nor one stacked below)."""
    before = explorer.wait_for_plot()
    stopwatch.lap(f"{explorer.description!r} plot shown")
    readout = explorer.readout()
    screenshot(explorer.box, f"{name}-before")
    explorer.plots.first.evaluate("image => { image.dataset.bplibShown = 'before'; }")
    explorer.move_slider_to_end()
    after = explorer.wait_for_new_plots(before)
    stopwatch.lap(f"{explorer.description!r} redrawn")
    screenshot(explorer.box, f"{name}-after")
    assert explorer.readout() != readout, f"the {explorer.description!r} slider did not move"
    assert len(after) == 1, f"{len(after)} plots after one change: figures stack up instead of redrawing"
    assert after[0].startswith(("data:image/png;base64,", "blob:")) and after[0] != before
    assert explorer.plots.first.get_attribute("data-bplib-shown") == "before", (
        "the picture was replaced by a new <img> element instead of being updated in place")


def check_notebook_in_lab(page, tmp_path, lesson_dir, slider):
    """Serve a temp copy of ``lesson_dir`` with JupyterLab, Run All its notebook, move ``slider``."""
    root, stopwatch = tmp_path / "served", Stopwatch()
    shutil.copytree(lesson_dir, root / lesson_dir.name)
    with jupyterlab(root, tmp_path / "home") as lab, screenshot_at_exit(page, lesson_dir.name):
        stopwatch.lap("server up")
        open_in_lab(page, lab, f"{lesson_dir.name}/{lesson_dir.name}.ipynb")
        stopwatch.lap("kernel idle")
        run_all(page)
        try:
            explorer = Explorer(page, slider)
            explorer.wait_for_plot()
            wait_until_run_all_stopped(page)  # nothing scrolls the notebook or queues ahead of us now
            stopwatch.lap("run all stopped")
            report_latency(explorer, f"JupyterLab {lesson_dir.name}")
            stopwatch.lap(f"{explorer.description!r} latency measured")
            check_slider_redraws_plot(explorer, lesson_dir.name, stopwatch)
        finally:
            print(stopwatch)


def check_app_in_voila(page, tmp_path, app, sliders):
    """Serve a temp copy of ``app`` with Voilà; move each slider in turn: its own plot is redrawn,
    the other explorers' plots stay as they were."""
    reason = missing_requirement(voila=True)
    if reason:
        skip_or_fail(reason)
    (tmp_path / "app").mkdir()
    copy, stopwatch = tmp_path / "app" / app.name, Stopwatch()
    shutil.copy(app, copy)
    with voila(copy, tmp_path / "home") as server, screenshot_at_exit(page, f"voila-{app.stem}"):
        stopwatch.lap("server up")
        open_in_voila(page, server)
        explorers = [Explorer(page, slider) for slider in sliders]
        try:
            try:
                for explorer in explorers:
                    explorer.wait_for_plot()
            except AssertionError as error:
                raise AssertionError(
                    f"Voila did not show the {explorer.description!r} explorer; its page says "
                    f"{voila_progress(page)!r}. The server's log ends:\n{server.log_tail()}") from error
            stopwatch.lap("all plots shown")
            for explorer in explorers:
                report_latency(explorer, "Voila")
            stopwatch.lap("latency measured")
            for explorer in explorers:
                others = {e.description: e.plot_src() for e in explorers if e is not explorer}
                check_slider_redraws_plot(explorer, f"voila-{explorer.description}", stopwatch)
                assert {e.description: e.plot_src() for e in explorers if e is not explorer} == others
        finally:
            print(stopwatch)


@pytest.mark.browser
@pytest.mark.parametrize("lesson", LESSON_SLIDERS)
def test_lesson_explorer_redraws_when_its_slider_moves(lesson, page, tmp_path):
    check_notebook_in_lab(page, tmp_path, REPO / "lessons" / lesson, LESSON_SLIDERS[lesson])


@pytest.mark.browser
def test_workshop_app_redraws_each_explorer_in_voila(page, tmp_path):
    check_app_in_voila(page, tmp_path, APP, ["learning rate", "depth"])


def test_workshop_app_is_committed_clean_and_shows_both_explorers():
    """No browser needed: the app notebook is valid, has no outputs, and builds both explorers."""
    nb = notebooks.read(APP)
    nbformat.validate(nb)
    assert notebooks.is_clean(nb), f"{APP} carries outputs or execution counts"
    code = [cell.source.strip() for cell in nb.cells if cell.cell_type == "code"]
    assert "learning_rate_explorer()" in code and "depth_explorer()" in code
