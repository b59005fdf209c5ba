"""The graded exercises of each lesson: trusted references, random cases and typical mistakes.

In a notebook, ``check = checker("01-forward-pass")`` gives ``check("sigmoid", sigmoid)``; the
trusted grader reads the same definitions through :func:`exercises`.
"""

import functools
import importlib

from bplib.grading import check_exercise

# lesson (nbgrader assignment name) -> module in this package
LESSONS = {
    "01-forward-pass": "forward_pass",
    "02-chain-rule": "chain_rule",
    "03-backward-pass": "backward_pass",
    "04-gradient-checking": "gradient_checking",
    "05-update-rule": "update_rule",
    "06-efficiency-and-scale": "efficiency",
    "07-vanishing-exploding": "vanishing_exploding",
    "08-capstone": "capstone",
}


@functools.cache
def exercises(lesson):
    """The lesson's exercises by name (the grade_id of each graded test cell)."""
    if lesson not in LESSONS:
        raise KeyError(f"unknown lesson {lesson!r}; the lessons are {', '.join(LESSONS)}")
    module = importlib.import_module(f"{__name__}.{LESSONS[lesson]}")
    by_name = {exercise.name: exercise for exercise in module.EXERCISES}
    if len(by_name) != len(module.EXERCISES):
        raise ValueError(f"{lesson}: two exercises share a name")
    return by_name


def checker(lesson):
    """``check(name, *your_functions, hidden=False, seed=None)`` for this lesson's test cells."""
    table = exercises(lesson)

    def check(name, *objects, hidden=False, seed=None):
        __tracebackhide__ = True
        check_exercise(table, name, *objects, hidden=hidden, seed=seed)
    check.__doc__ = (f"Check an exercise of {lesson}: check(name, *your_functions). Prints a tick, "
                     "or raises an error that says what is wrong.")
    return check
