"""Exercise checks with messages written for learners.

An :class:`Exercise` says what the learner writes (``needs``: the names of their functions or
answers), how to call it (``probe``), which inputs to try (``cases``: random inputs drawn from a
seed, each with the output trusted reference code gives) and which typical mistakes to recognise
(``mistakes``). One definition serves two places:

* a notebook's test cell calls ``check("sigmoid", sigmoid)``: the cases run in the learner's kernel
  and the first failure is explained (which output, which element, by how much, a likely cause);
* the trusted grader (``autograder/``) runs the learner's code in a sandboxed process that sends
  back only plain numbers, and :func:`judge` compares them in the grader's own process.

Visible checks use fixed seeds; ``hidden=True`` draws a fresh seed each run (printed on failure,
so ``check(..., seed=that_seed)`` repeats it), so a hard-coded answer cannot pass.
"""

import copy
import os
import warnings
from dataclasses import dataclass, field

import numpy as np

__all__ = ["Case", "Mistake", "Exercise", "Result", "ExerciseFailed", "check_exercise", "judge",
           "run_case", "plain", "compare_values", "describe", "Opaque"]


class ExerciseFailed(AssertionError):
    """An exercise check failed; the message says what is wrong and hints at why."""


@dataclass(frozen=True)
class Case:
    """One input to try: ``args`` go to the probe, ``expected`` is what a correct answer gives."""
    args: tuple
    expected: object
    label: str = ""


@dataclass(frozen=True)
class Mistake:
    """A typical wrong answer, recognised by what it returns (``answer(*case.args)``) or by a
    property of the learner's output (``test(got, *case.args)`` is true)."""
    hint: str
    answer: object = None
    test: object = None


@dataclass(frozen=True)
class Exercise:
    """One graded exercise. ``name`` is the grade_id of its test cell in the notebook.

    ``probe(*learner_objects, *case.args)`` returns the output to judge; by default it calls the
    first needed function with the case's arguments. ``outputs`` names the parts of a tuple output
    (e.g. ``("dx", "dW", "db")``). ``strict_floats`` makes overflow and invalid operations (NaN)
    failures, for exercises that ask for a numerically stable formula. ``compare(got, case)``, if
    given, replaces the value comparison and returns a message or None.
    """
    name: str
    needs: tuple
    cases: object
    probe: object = None
    outputs: tuple = ()
    mistakes: tuple = ()
    rtol: float = 1e-6
    atol: float = 1e-9
    strict_floats: bool = False
    compare: object = None

    def call(self, objects, args):
        if self.probe is not None:
            return self.probe(*objects, *args)
        return objects[0](*args)


@dataclass
class Result:
    """The verdict on one exercise: ``passed`` and a message for the learner."""
    exercise: str
    passed: bool
    checks: int
    message: str
    failed_case: int = -1
    details: dict = field(default_factory=dict)


class Opaque:
    """Stands for a value that is not plain data (numbers, strings, arrays, tuples, dicts)."""

    def __init__(self, type_name):
        self.type_name = type_name

    def __repr__(self):
        return f"<a {self.type_name} object>"

    def __eq__(self, other):
        return isinstance(other, Opaque) and other.type_name == self.type_name


def plain(value, _depth=0):
    """Copy ``value`` into plain data: Python numbers, str, None, tuples, dicts of str, and base
    ``ndarray``s of numbers or bools (subclasses and object arrays are not kept). Anything else
    becomes :class:`Opaque`. Learner objects cannot fake equality after this."""
    if _depth > 8:
        return Opaque("deeply nested")
    if value is None or isinstance(value, (bool, np.bool_)):
        return None if value is None else bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value)
    if isinstance(value, str):
        return str(value)[:10_000]
    if isinstance(value, (tuple, list)):
        return tuple(plain(v, _depth + 1) for v in list(value)[:100])
    if isinstance(value, dict):
        return {str(k)[:200]: plain(v, _depth + 1) for k, v in list(value.items())[:100]}
    if isinstance(value, np.ndarray) or hasattr(value, "__array__"):
        try:
            array = np.array(value, subok=False, copy=True)
        except Exception:  # noqa: BLE001 - a learner object that cannot be converted
            return Opaque(type(value).__name__)
        if array.dtype.kind in "fiub":
            return array
        return Opaque(f"array of {array.dtype}")
    return Opaque(type(value).__name__)


def run_case(exercise, objects, case):
    """Run the learner's code on one case: ``("ok", plain output)`` or ``("error", "Type: text")``.

    The arguments are deep copies, so an answer that changes its inputs in place is still judged
    on the original inputs (and still passes if it returns the right values).
    """
    args = copy.deepcopy(case.args)
    try:
        with warnings.catch_warnings(), np.errstate(**_errstate(exercise)):
            warnings.simplefilter("ignore", RuntimeWarning)
            return "ok", plain(exercise.call(objects, args))
    except NotImplementedError:
        raise
    except Exception as error:  # noqa: BLE001 - the learner's code may raise anything
        return "error", f"{type(error).__name__}: {error}"[:2000]


def _errstate(exercise):
    return dict(over="raise", invalid="raise", divide="raise") if exercise.strict_floats else {}


def judge(exercise, outcomes, cases, seed=None):
    """Compare the outcomes of :func:`run_case` (one per case) with the expected outputs."""
    for index, (case, outcome) in enumerate(zip(cases, outcomes)):
        message = judge_case(exercise, index, len(cases), case, outcome, seed)
        if message:
            return Result(exercise.name, False, len(cases), message, index)
    if len(outcomes) < len(cases):
        return Result(exercise.name, False, len(cases),
                      f"{exercise.name}: only {len(outcomes)} of {len(cases)} checks ran")
    return Result(exercise.name, True, len(cases),
                  f"\u2714 {exercise.name}: all {len(cases)} checks passed.")


def judge_case(exercise, index, total, case, outcome, seed=None):
    """The learner-facing message for one failed case, or None if the outcome is right."""
    status, got = outcome
    if status == "error":
        problem = _error_message(exercise, got)
    elif exercise.compare is not None:
        problem = exercise.compare(got, case)
    else:
        problem = compare_values(got, case.expected, exercise.outputs, exercise.rtol, exercise.atol,
                                 batch=_batch_size(case.args))
        if problem:
            hint = _matching_mistake(exercise, got, case)
            problem += f"\n  Hint: {hint}" if hint else _generic_hint(got, case.expected)
    if not problem:
        return None
    where = f"check {index + 1} of {total} ({case.label or _describe_args(case.args)})"
    repeat = (f"\n  (These inputs came from seed {seed}: check({exercise.name!r}, ..., seed={seed}) "
              "repeats them.)") if seed is not None else ""
    return f"{exercise.name}: {where} failed.\n  {problem}{repeat}"


def _error_message(exercise, text):
    kind = text.split(":", 1)[0]
    if kind == "NotImplementedError":
        return ("not implemented yet: replace `raise NotImplementedError()` in "
                f"{', '.join(exercise.needs)} with your code")
    if kind == "FloatingPointError" and exercise.strict_floats:
        return (f"your code raised {text} -- an overflow or invalid operation (NaN). Use the "
                "numerically stable formula: never take exp of a large positive number.")
    return f"your code raised {text}"


def check_exercise(exercises, name, *objects, hidden=False, seed=None):
    """Run exercise ``name`` in this kernel; print a tick or raise :class:`ExerciseFailed`."""
    __tracebackhide__ = True
    if name not in exercises:
        raise KeyError(f"no exercise called {name!r}; this lesson has {sorted(exercises)}")
    exercise = exercises[name]
    if len(objects) != len(exercise.needs):
        raise TypeError(f"check({name!r}, ...) needs {len(exercise.needs)} object(s): "
                        f"{', '.join(exercise.needs)}; got {len(objects)}")
    if seed is None:
        seed = int.from_bytes(os.urandom(4), "little") if hidden else 0
    cases = exercise.cases(np.random.default_rng(seed), hidden)
    for index, case in enumerate(cases):
        try:
            outcome = run_case(exercise, objects, case)
        except NotImplementedError as error:
            raise NotImplementedError(f"{', '.join(exercise.needs)}: not implemented yet -- replace "
                                      "`raise NotImplementedError()` with your code") from error
        message = judge_case(exercise, index, len(cases), case, outcome, seed if hidden else None)
        if message:
            raise ExerciseFailed(message)
    print(f"\u2714 {exercise.name}: all {len(cases)} checks passed.")


# --- comparing values --------------------------------------------------------------------------

def compare_values(got, expected, names=(), rtol=1e-6, atol=1e-9, batch=None):
    """A message saying how ``got`` differs from ``expected`` (plain data), or None if it matches."""
    if isinstance(expected, tuple):
        if not isinstance(got, tuple) or len(got) != len(expected):
            what = f"{len(expected)} values ({', '.join(names)})" if names else f"{len(expected)} values"
            returned = (f"{len(got)} values" if isinstance(got, tuple) else describe(got))
            return f"should return {what} as a tuple; you returned {returned}"
        for i, (g, e) in enumerate(zip(got, expected)):
            name = names[i] if i < len(names) else f"output {i + 1}"
            problem = compare_values(g, e, (), rtol, atol, batch)
            if problem:
                return f"{name}: {problem}"
        return None
    if isinstance(expected, np.ndarray) or isinstance(expected, float):
        return _compare_numbers(got, expected, rtol, atol, batch)
    if isinstance(expected, dict):
        if not isinstance(got, dict):
            return f"should return a dict; you returned {describe(got)}"
        for key, e in expected.items():
            if key not in got:
                return f"the key {key!r} is missing"
            problem = compare_values(got[key], e, (), rtol, atol, batch)
            if problem:
                return f"[{key!r}]: {problem}"
        return None
    if isinstance(got, np.ndarray) and got.ndim == 0:
        got = got.item()
    if isinstance(expected, (bool, str)) or expected is None:
        same = type(got) is type(expected) and got == expected
    elif isinstance(expected, int):  # counts: an int, or a float holding a whole number
        same = isinstance(got, (int, float)) and not isinstance(got, bool) and got == expected
    else:
        same = got == expected
    return None if same else f"you returned {describe(got)}, expected {expected!r}"


def _compare_numbers(got, expected, rtol, atol, batch):
    expected = np.asarray(expected, dtype=float)
    if got is None:
        return "returned None -- did you forget the `return` statement?"
    if isinstance(got, (int, float)):
        got = np.asarray(float(got))
    if not isinstance(got, np.ndarray):
        return f"returned {describe(got)}; expected a NumPy array of shape {expected.shape}"
    if got.shape != expected.shape:
        return f"has shape {got.shape}, expected {expected.shape}" + _shape_hint(got, expected, batch)
    got = got.astype(float)
    finite = np.isfinite(expected)
    bad_nonfinite = ~np.isfinite(got) & finite
    if bad_nonfinite.any():
        index = _index(np.argwhere(bad_nonfinite)[0])
        return (f"contains {got[index] if index else got} at index {index} where {expected[index]:.6g} "
                "was expected -- an overflow, or a division by zero?")
    tolerance = atol + rtol * np.abs(expected)
    error = np.abs(got - expected)
    wrong = ~(error <= tolerance) & finite
    wrong |= ~finite & (got != expected)
    if not wrong.any():
        return None
    worst = _index(np.unravel_index(int(np.argmax(np.where(wrong, error / tolerance, -1))),
                                    expected.shape)) if expected.ndim else ()
    g, e = float(got[worst]), float(expected[worst])
    relative = abs(g - e) / max(1e-12, abs(g) + abs(e))
    at = f" at index {worst}" if worst else ""
    count = f" ({int(wrong.sum())} of {wrong.size} entries are wrong)" if expected.size > 1 else ""
    return (f"wrong value{at}: you returned {g:.6g}, expected {e:.6g} (relative error "
            f"{relative:.1e}){count}")


def _shape_hint(got, expected, batch):
    if got.shape == expected.shape[::-1] and got.ndim == 2:
        return " -- transposed? (check the order of the matrix product)"
    if batch and got.ndim == expected.ndim + 1 and got.shape[0] == batch and got.shape[1:] == expected.shape:
        return " -- did you forget to sum over the batch (axis=0)?"
    if got.ndim == expected.ndim - 1 and expected.shape[:1] == (batch,) and got.shape == expected.shape[1:]:
        return " -- you reduced over the batch, but the result needs one row per example"
    if got.size == expected.size:
        return f" -- the right number of entries; reshape to {expected.shape}?"
    return ""


def _generic_hint(got, expected):
    """Recognise a flipped sign, a constant factor or a transpose in a wrong tuple element or array."""
    pairs = list(zip(got, expected)) if isinstance(expected, tuple) and isinstance(got, tuple) \
        else [(got, expected)]
    for g, e in pairs:
        if not (isinstance(g, np.ndarray) and isinstance(e, np.ndarray)) or g.shape != e.shape:
            continue
        if not np.allclose(g, e, rtol=1e-6, atol=1e-9):
            e = e.astype(float)
            big = np.abs(e) > 1e-6 * max(1.0, np.abs(e).max())
            if big.sum() >= 1:
                ratio = g[big] / e[big]
                c = float(np.median(ratio))
                if np.allclose(ratio, c, rtol=1e-4) and abs(c - 1) > 1e-3:
                    if abs(c + 1) < 1e-3:
                        return "\n  Hint: every entry has the wrong sign."
                    return (f"\n  Hint: every entry is {c:.4g} times the right value: a missing or "
                            "extra factor (e.g. dividing by the batch size N twice, or not at all).")
            if g.ndim == 2 and g.shape[0] == g.shape[1] and np.allclose(g.T, e, rtol=1e-6, atol=1e-9):
                return "\n  Hint: your result is the transpose of the right one."
    return ""


def _matching_mistake(exercise, got, case):
    for mistake in exercise.mistakes:
        try:
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                if mistake.test is not None:
                    matches = bool(mistake.test(got, *copy.deepcopy(case.args)))
                else:
                    wrong = plain(mistake.answer(*copy.deepcopy(case.args)))
                    matches = compare_values(got, wrong, (), 1e-6, 1e-9) is None
        except Exception:  # noqa: BLE001 - a mistake that does not apply to this case
            continue
        if matches:
            return mistake.hint
    return ""


def _batch_size(args):
    for arg in args:
        if isinstance(arg, np.ndarray) and arg.ndim >= 1:
            return arg.shape[0]
    return None


def describe(value):
    """A few words for a learner about a returned value: "an array of shape (3, 4)", "None", ..."""
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape}"
    if isinstance(value, tuple):  # plain() makes lists and tuples alike into tuples
        return f"a sequence of {len(value)} values"
    text = repr(value)
    return text if len(text) < 60 else text[:57] + "..."


def _describe_args(args):
    parts = [f"shape {a.shape}" if isinstance(a, np.ndarray) else type(a).__name__ for a in args]
    return "inputs: " + ", ".join(parts) if parts else "no inputs"


def _index(index):
    return tuple(int(i) for i in index)
