"""``check = checker("01-forward-pass")``: the function a lesson's test cells call.

``check("sigmoid", sigmoid)`` runs the exercise's visible checks (fixed inputs), and
``check("sigmoid", sigmoid, hidden=True)`` fresh random ones, in your own kernel: it prints a tick
or shows what is wrong (which output, which element, by how much, and the likely cause).

Where the answers come from: the expected values are computed by the course's answer keys
(:mod:`autograder.exercises`), which are installed with the course but are *not* available when a
submission is graded. There, nbgrader runs your notebook in a sandbox without them, and the grader
decides every exercise outside your notebook first; the sandbox then receives only those verdicts
(a read-only file named by ``BPCOURSE_VERDICTS``), and ``check`` reports them. So the test cells of
a graded notebook show the grader's own messages, and changing ``check`` cannot change a score.
"""

import json
import os

from bplib.grading import ExerciseFailed, check_exercise, not_implemented

VERDICTS_VARIABLE = "BPCOURSE_VERDICTS"


def checker(lesson):
    """``check(name, *your_functions, hidden=False, seed=None)`` for the test cells of ``lesson``.

    Raises KeyError for an unknown lesson, and ImportError (with what to install) when neither the
    answer keys nor a grader's verdicts are available.
    """
    verdicts = os.environ.get(VERDICTS_VARIABLE)
    if verdicts:
        return _reporter(lesson, verdicts)

    def check(name, *objects, hidden=False, seed=None):
        __tracebackhide__ = True
        check_exercise(_answer_keys(lesson), name, *objects, hidden=hidden, seed=seed)
    check.__doc__ = (f"Check an exercise of {lesson}: check(name, *your_functions). Prints a tick, "
                     "or raises an error that says what is wrong.")
    return check


def _answer_keys(lesson):
    """{name: Exercise} of ``lesson``, from the answer keys (imported at the first check, so a
    notebook's setup cell works where they are absent)."""
    try:
        from autograder.exercises import exercises
    except ImportError:
        raise ImportError("the checks need the course's answer keys (the `autograder` package), "
                          "which come with the course: install it with `pip install -e .` in the "
                          "course folder (the README's first command does it)") from None
    return exercises(lesson)


def _reporter(lesson, path):
    """In a graded notebook: report the grader's verdict on each exercise, once."""
    with open(path, encoding="utf-8") as file:
        table = json.load(file).get(lesson, {})
    reported = set()

    def check(name, *objects, hidden=False, seed=None):
        __tracebackhide__ = True
        verdict = table.get(name)
        if verdict is None:
            raise KeyError(f"no exercise called {name!r} in {lesson}")
        if verdict.get("status") == "not implemented":
            raise not_implemented(verdict.get("needs", [name])) from None
        if not verdict["passed"]:
            raise ExerciseFailed(verdict["message"]) from None
        if name not in reported:
            reported.add(name)
            print(verdict["message"])
    check.__doc__ = f"Report the grader's verdict on an exercise of {lesson}."
    return check
