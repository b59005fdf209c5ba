"""The answer keys: each graded exercise's reference code, random cases and typical mistakes.

This package is grading-side code. The sandbox that runs student code does not contain it, so a
submission can neither import nor read it; the notebooks reach it only through
:func:`bplib.checks.checker` in the learner's own kernel (visible checks and ``bpcourse check``),
and in grading the scores are decided here, in the grader's process (:mod:`autograder.trusted`).

How the grader calls the learner's functions (the *probes*) is learner-side code in
:mod:`bplib.probes`: it runs inside the sandbox and holds no expected values.
"""

import dataclasses
import functools
import importlib

# bplib's automatic differentiation computes any derivative these lessons ask for by hand
AUTODIFF = ("bplib.autograd", "bplib.tensor")

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
    "09-derive-it-yourself": "derive_it_yourself",
    "10-autodiff-on-arrays": "autodiff_on_arrays",
}


@functools.cache
def exercises(lesson):
    """The lesson's exercises by name (the grade_id of each graded test cell). A lesson module's
    ``OFF_LIMITS`` (dotted names, e.g. whole modules such as ``"bplib.tensor"``) joins every one of
    its exercises' ``implemented_by``.

    Raises KeyError for a lesson that is not in :data:`LESSONS`.
    """
    if lesson not in LESSONS:
        raise KeyError(f"unknown lesson {lesson!r}; the lessons are {', '.join(LESSONS)}")
    module = importlib.import_module(f"{__name__}.{LESSONS[lesson]}")
    extra = tuple(getattr(module, "OFF_LIMITS", ()))
    by_name = {exercise.name: dataclasses.replace(exercise, implemented_by=exercise.implemented_by + tuple(
        name for name in extra if name not in exercise.implemented_by)) for exercise in module.EXERCISES}
    if len(by_name) != len(module.EXERCISES):
        raise ValueError(f"{lesson}: two exercises share a name")
    return by_name
