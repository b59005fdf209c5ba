"""Feedback reads as feedback (issue: the learner's experience, items 1 and 6), without a browser.

* In a real kernel (as JupyterLab runs it): a failing check shows the message alone, a compact block
  with no traceback frames from the library; a stub shows one line; an error raised inside the
  learner's code names the learner's function and line. The cell still fails (an error output), so
  nbgrader still gives it no points.
* In nbgrader's feedback HTML for a graded submission: the same compact messages.
* The advice to repeat a failure with a seed is given only when the failed inputs came from the
  seed, and the call it gives (hidden=True, that seed) repeats the failure, also when the failure
  was found by `bpcourse check`.

tests/test_learner_lab.py shows the same in JupyterLab in a real browser, with screenshots.
"""

import re

import nbclient
import nbformat
import numpy as np
import pytest
from notebook_tools import copy_course, errors, filled_in, find_cell

from autograder import sandbox
from autograder.check import check
from autograder.course import REPO
from autograder.exercises import exercises
from bplib.grading import ExerciseFailed, check_exercise

LESSON = "01-forward-pass"
WRONG_RELU = "def relu(z):\n    return np.abs(z)"
# Raised inside the learner's own code (a transpose too many), on line 2 of their cell.
ERROR_DENSE = "def dense_forward(x, W, b):\n    return x @ W.T + b"
ANSI = re.compile(r"\x1b\[[0-9;]*m")
LIBRARY_TRACES = ("grading.py", "checks.py", "The above exception", "Traceback (most recent call last)",
                  "site-packages", "File \"")


def learner_notebook():
    """Lesson 01 as a learner has it midway: sigmoid still a stub, a wrong relu, a dense_forward
    that raises inside their code; the rest solved."""
    nb = filled_in(LESSON, {"relu": WRONG_RELU, "dense_forward": ERROR_DENSE})
    find_cell(nb, "sigmoid-answer").source = find_cell(
        nbformat.read(str(REPO / "lessons" / LESSON / f"{LESSON}.ipynb"), 4), "sigmoid-answer").source
    assert "raise NotImplementedError()" in find_cell(nb, "sigmoid-answer").source
    return nb


def shown(output):
    """The text IPython shows for an error output (its traceback lines, colours removed)."""
    return ANSI.sub("", "\n".join(output.traceback))


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    folder = tmp_path_factory.mktemp("kernel")
    nb = learner_notebook()
    nbclient.NotebookClient(nb, allow_errors=True, timeout=120, kernel_name="python3",
                            resources={"metadata": {"path": str(folder)}}).execute()
    return nb


@pytest.mark.notebooks
def test_a_wrong_answer_shows_the_message_alone(executed):
    [error] = errors(find_cell(executed, "relu"))
    text = shown(error)
    assert error.ename == "ExerciseFailed"
    assert text.startswith("\u2718 relu: check 1 of 3 (")
    assert "wrong value" in text and "Hint: negative inputs must become 0" in text
    for trace in LIBRARY_TRACES:
        assert trace not in text, f"{trace!r} in what the learner sees:\n{text}"
    assert len(error.traceback) == len(error.evalue.splitlines()), "more than the message is shown"


@pytest.mark.notebooks
def test_a_stub_shows_one_line(executed):
    [error] = errors(find_cell(executed, "sigmoid"))
    assert error.ename == "NotImplementedError"
    assert shown(error) == ("sigmoid: not implemented yet -- replace `raise NotImplementedError()` "
                            "with your code")


@pytest.mark.notebooks
def test_an_error_in_the_learners_code_points_at_their_line(executed):
    [error] = errors(find_cell(executed, "dense_forward"))
    text = shown(error)
    assert text.startswith("\u2718 dense_forward: check 1 of ")
    assert "your code raised ValueError: matmul" in text
    assert re.search(r"\(raised in dense_forward: .*line 2: return x @ W\.T \+ b\)", text), text
    for trace in LIBRARY_TRACES:
        assert trace not in text, f"{trace!r} in what the learner sees:\n{text}"


# --- nbgrader's feedback ------------------------------------------------------------------------

def grade_learner_notebook(course):
    """`bpcourse grade` on a temp copy of the course (in the empty folder ``course``) with the
    notebook above as one submission: (the autograded notebook, the feedback HTML)."""
    from autograder.grade import grade
    from autograder.trusted import Timeouts

    copy_course(course, (LESSON,))
    submitted = course / "autograder" / "submitted" / "learner" / LESSON
    submitted.mkdir(parents=True)
    nbformat.write(learner_notebook(), str(submitted / f"{LESSON}.ipynb"))
    result = grade(LESSON, root=course, workers=1, log=lambda *a: None,
                   timeouts=Timeouts(cell=20, exercise=30, total=180, notebook=120))
    assert result["students"]["learner"]["status"] == "graded", result
    autograded = nbformat.read(str(course / "autograder" / "autograded" / "learner" / LESSON
                                   / f"{LESSON}.ipynb"), 4)
    page = (course / "autograder" / "feedback" / "learner" / LESSON / f"{LESSON}.html").read_text()
    return autograded, page


@pytest.fixture(scope="module")
def feedback(tmp_path_factory):
    if not sandbox.capabilities().isolated:
        pytest.skip("grading needs isolation (bubblewrap)")
    return grade_learner_notebook(tmp_path_factory.mktemp("course"))


@pytest.mark.grading
def test_nbgrader_sees_the_cells_fail_with_the_compact_messages(feedback):
    autograded, _ = feedback
    [relu] = errors(find_cell(autograded, "relu"))
    [stub] = errors(find_cell(autograded, "sigmoid"))
    [dense] = errors(find_cell(autograded, "dense_forward"))
    assert shown(relu).startswith("\u2718 relu: check ") and "Hint: negative inputs" in shown(relu)
    assert len(relu.traceback) == len(relu.evalue.splitlines())
    assert len(stub.traceback) == 1 and "sigmoid: not implemented yet" in shown(stub)
    assert "raised in dense_forward" in shown(dense)
    assert not errors(find_cell(autograded, "softmax")), "a right answer failed"


@pytest.mark.grading
def test_the_feedback_page_shows_the_messages_without_library_frames(feedback):
    _, page = feedback
    text = re.sub(r"<[^>]+>", "", page).replace("&#39;", "'").replace("&quot;", '"').replace("&gt;", ">")
    assert "relu: check " in text and "Hint: negative inputs must become 0" in text
    assert "sigmoid: not implemented yet -- replace `raise NotImplementedError()` with your code" in text
    assert "raised in dense_forward" in text
    for trace in ("grading.py", "checks.py", "The above exception", "site-packages"):
        assert trace not in text, f"{trace!r} in the feedback page"


# --- repeating a failure with its seed ----------------------------------------------------------

def memorising_relu():
    """A relu right on the visible (fixed) inputs only: it fails on the random ones alone."""
    fixed = [case.args[0] for case in exercises(LESSON)["relu"].cases(np.random.default_rng(0), False)]

    def relu(z):
        if any(np.shape(z) == np.shape(f) and np.array_equal(z, f) for f in fixed):
            return np.maximum(z, 0)
        return np.abs(z)
    return relu, fixed


def message(*args, **kwargs):
    with pytest.raises(ExerciseFailed) as failure:
        check_exercise(exercises(LESSON), "relu", *args, **kwargs)
    return str(failure.value)


def test_a_failure_on_fixed_inputs_gives_no_seed_advice():
    text = message(np.abs, hidden=True, seed=12345)
    assert "check 1 of" in text and "seed" not in text
    assert "seed" not in message(np.abs)


def test_the_seed_advice_of_a_check_in_the_kernel_repeats_the_failure():
    relu, fixed = memorising_relu()
    check_exercise(exercises(LESSON), "relu", relu)  # the visible checks pass
    text = message(relu, hidden=True, seed=424242)
    assert "check 1 of" not in text and "check('relu', relu, hidden=True, seed=424242)" in text
    assert message(relu, hidden=True, seed=424242) == text


def test_the_seed_advice_of_bpcourse_check_repeats_the_failure(tmp_path):
    """The grader draws the hidden inputs; the call its message gives draws the same in a kernel."""
    relu, fixed = memorising_relu()
    source = (f"FIXED = {[f.tolist() for f in fixed]!r}\n\ndef relu(z):\n"
              "    if any(np.shape(z) == np.shape(f) and np.allclose(z, f) for f in FIXED):\n"
              "        return np.maximum(z, 0)\n    return np.abs(z)")
    path = tmp_path / f"{LESSON}.ipynb"
    nbformat.write(filled_in(LESSON, {"relu": source}), str(path))
    _, result = check(path)
    graded = result["cells"]["relu"]["message"]
    advice = re.search(r"check\('relu', relu, hidden=True, seed=(\d+)\) repeats them", graded)
    assert advice, graded
    assert message(relu, hidden=True, seed=int(advice.group(1))) == graded
