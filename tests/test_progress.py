"""`bpcourse progress` (autograder/progress.py): every lesson of a workspace checked as `bpcourse
check` does, in parallel, cached by the notebook's code, with what to do next; as text, JSON, an
HTML page in the workspace and the workspace's progress.ipynb.

The course here is a temp copy of three released lessons: the first filled in with the solutions
but one typical wrong answer, the others untouched (then one of their exercises is written).
"""

import json
import shutil
import time

import nbformat
import pytest
from notebook_tools import filled_in, find_cell

from autograder import cli, progress, workspace
from autograder.check import check
from autograder.course import REPO

LESSONS = ("01-forward-pass", "02-chain-rule", "03-backward-pass")
WRONG_RELU = "def relu(z):\n    return np.abs(z)"

pytestmark = pytest.mark.grading


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    root = tmp_path_factory.mktemp("course")
    for lesson in LESSONS:
        shutil.copytree(REPO / "lessons" / lesson, root / "lessons" / lesson)
    return root


@pytest.fixture(scope="module")
def work(course, tmp_path_factory):
    """A workspace: lesson 01 filled in but for a wrong relu, lessons 02 and 03 as released."""
    folder = tmp_path_factory.mktemp("learner") / "work"
    workspace.sync(folder, course)
    nbformat.write(filled_in("01-forward-pass", {"relu": WRONG_RELU}),
                   str(folder / "01-forward-pass" / "01-forward-pass.ipynb"))
    return folder


@pytest.fixture(scope="module")
def first(work, course):
    """The first call (nothing cached) and the second (everything cached), timed."""
    started = time.monotonic()
    one = progress.progress(work, course, workers=2)
    first_seconds = time.monotonic() - started
    started = time.monotonic()
    two = progress.progress(work, course, workers=2)
    print(f"progress of {len(LESSONS)} lessons: first call {first_seconds:.1f} s, "
          f"second call {time.monotonic() - started:.2f} s")
    return one, two


def by_lesson(summary):
    return {entry["lesson"]: entry for entry in summary["lessons"]}


def test_points_per_exercise_are_those_of_bpcourse_check(first, work):
    summary, _ = first
    assert [entry["lesson"] for entry in summary["lessons"]] == list(LESSONS)
    for lesson in LESSONS:
        _, result = check(work / lesson / f"{lesson}.ipynb")
        entry = by_lesson(summary)[lesson]
        assert {e["name"]: (e["score"], e["max_score"]) for e in entry["exercises"]} == \
            {name: (c["score"], c["max_score"]) for name, c in result["cells"].items()}, lesson
    assert summary["score"] == sum(e["score"] for e in summary["lessons"])
    assert summary["max_score"] == sum(e["max_score"] for e in summary["lessons"])


def test_each_lesson_says_what_to_do_next(first):
    summary, _ = first
    lessons = by_lesson(summary)
    started = lessons["01-forward-pass"]
    states = {e["name"]: e["state"] for e in started["exercises"]}
    assert states["relu"] == "failed" and states["sigmoid"] == "passed"
    assert started["state"] == "in progress"
    assert started["next"].startswith("fix relu: ") and "wrong value" in started["next"]
    untouched = lessons["02-chain-rule"]
    first_exercise = untouched["exercises"][0]["name"]
    assert untouched["state"] == "not started" and untouched["score"] == 0
    assert untouched["next"] == f"write {first_exercise}"
    assert {e["state"] for e in untouched["exercises"]} == {"not started"}
    assert summary["next"] == f"01-forward-pass: {started['next']}"


def test_a_second_call_checks_nothing_again(first, work, course, monkeypatch):
    one, two = first
    assert one["checked"] == len(LESSONS) and one["from_cache"] == 0
    assert two["checked"] == 0 and two["from_cache"] == len(LESSONS)
    strip = ("seconds", "checked", "from_cache")
    same = [{k: v for k, v in entry.items() if k not in ("cached", "checked_at")} for entry in two["lessons"]]
    assert same == [{k: v for k, v in entry.items() if k not in ("cached", "checked_at")}
                    for entry in one["lessons"]]
    assert {k: v for k, v in two.items() if k not in strip + ("lessons",)} == \
        {k: v for k, v in one.items() if k not in strip + ("lessons",)}

    # a third call cannot check anything: every result comes from the cache
    monkeypatch.setattr(progress, "_check", lambda path: pytest.fail(f"{path} was checked again"))
    assert progress.progress(work, course, workers=1)["from_cache"] == len(LESSONS)


def test_running_cells_keeps_the_cache_and_an_edit_rechecks_that_lesson_only(first, work, course):
    path = work / "02-chain-rule" / "02-chain-rule.ipynb"
    nb = nbformat.read(str(path), 4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = [nbformat.v4.new_output("stream", text="ran\n")]
            cell.execution_count = 1
    nbformat.write(nb, str(path))
    assert progress.progress(work, course, workers=2)["checked"] == 0

    done = filled_in("02-chain-rule")
    name = by_lesson(first[0])["02-chain-rule"]["exercises"][0]["name"]
    find_cell(nb, f"{name}-answer").source = find_cell(done, f"{name}-answer").source
    nbformat.write(nb, str(path))
    again = progress.progress(work, course, workers=2)
    assert again["checked"] == 1 and again["from_cache"] == len(LESSONS) - 1
    entry = by_lesson(again)["02-chain-rule"]
    assert entry["exercises"][0]["state"] == "passed" and entry["state"] == "in progress"


def test_a_missing_notebook_says_how_to_get_it_back(first, work, course):
    path = work / "03-backward-pass" / "03-backward-pass.ipynb"
    path.rename(path.with_name("renamed.ipynb"))
    try:
        entry = by_lesson(progress.progress(work, course))["03-backward-pass"]
        assert entry["state"] == "missing" and "bpcourse update" in entry["next"] and entry["score"] == 0
    finally:
        path.with_name("renamed.ipynb").rename(path)


def test_the_html_page_and_the_text_show_the_same_view(first, work, course):
    summary = progress.progress(work, course)
    page = (work / "progress.html").read_text()
    text = progress.render_text(summary)
    for entry in summary["lessons"]:
        assert entry["lesson"] in page and entry["lesson"] in text
        assert f'href="{entry["notebook"]}"' in page
        assert f"{entry['score']:g} / {entry['max_score']:g}" in page
    assert f"{summary['score']:g} / {summary['max_score']:g} points" in text
    assert "fix relu: " in text and "fix relu: " in page
    assert "\u2718 relu 0/1" in text and "\u2714 sigmoid 2/2" in text


def test_bpcourse_progress_json(first, work, capsys):
    """`bpcourse progress --json` on the real course (every released lesson, missing ones too)."""
    assert cli.main(["progress", "--workspace", str(work), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert set(summary) == {"workspace", "score", "max_score", "next", "lessons", "seconds", "checked",
                            "from_cache"}
    assert [e["lesson"] for e in summary["lessons"]] == workspace.released_lessons()
    for entry in summary["lessons"]:
        assert {"lesson", "notebook", "state", "next", "score", "max_score", "exercises"} <= set(entry)
        for exercise in entry["exercises"]:
            assert exercise["state"] in ("passed", "failed", "not started")


def test_the_progress_notebook_shows_the_view(first, work):
    """The workspace's progress.ipynb, executed as JupyterLab would: its output is the HTML view."""
    import nbclient

    nb = nbformat.read(str(work / "progress.ipynb"), 4)
    nbclient.NotebookClient(nb, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(work)}}).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    shown = "".join(o.get("data", {}).get("text/html", "") for o in outputs)
    assert not [o for o in outputs if o.output_type == "error"], outputs
    assert 'class="bp-progress"' in shown and "fix relu: " in shown


def test_a_new_version_of_the_checks_rechecks_everything(first, work, course, monkeypatch):
    monkeypatch.setattr(progress, "code_version", lambda: "another version of the checks")
    assert progress.progress(work, course, workers=2)["checked"] == len(LESSONS)
