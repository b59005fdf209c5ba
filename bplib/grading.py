"""Exercise checks with messages written for learners.

An :class:`Exercise` says what the learner writes (``needs``: the names of their functions or
answers), how to call it (``probe``, a function of :mod:`bplib.probes`), which inputs to try
(``cases``: random inputs drawn from a seed, each with the output trusted reference code gives),
which typical mistakes to recognise (``mistakes``) and which bplib functions already implement it
(``implemented_by``: an answer that calls them scores 0). The definitions themselves are answer
keys and live on the grading side (:mod:`autograder.exercises`); this module holds what both sides
share and what a learner may read:

* :func:`run_case` runs the learner's code on one case's inputs and returns plain data; in grading
  it runs inside the sandbox, where the answer keys are absent;
* :func:`judge` compares plain data with the expected outputs and writes the message (which output,
  which element, by how much, a likely cause); in grading it runs in the grader's own process;
* :func:`check_exercise` does both in the learner's kernel, for a notebook's test cell
  (:func:`bplib.checks.checker`).

Visible checks use fixed seeds; ``hidden=True`` draws a fresh seed each run (printed on failure,
so ``check(..., hidden=True, seed=that_seed)`` repeats it), so a hard-coded answer cannot pass.
"""

import copy
import os
import sys
import time
import traceback
import warnings
from dataclasses import dataclass, field

import numpy as np

__all__ = ["Case", "Mistake", "Exercise", "Result", "ExerciseFailed", "check_exercise", "judge",
           "run_case", "plain", "compare_values", "describe", "Opaque", "Tripwire", "matching_hint"]


class ExerciseFailed(AssertionError):
    """An exercise check failed; the message says what is wrong and hints at why.

    In IPython (JupyterLab, nbgrader) it shows as a compact block, the message alone, with no
    traceback frames from this library: IPython calls :meth:`_render_traceback_` (see IPython's
    ``InteractiveShell.showtraceback``). The cell still fails, so nbgrader gives it no points.
    """

    def _render_traceback_(self):
        return render_block(str(self))


RED, BOLD, RESET = "\x1b[31m", "\x1b[1m", "\x1b[0m"


def render_block(message):
    """The lines IPython shows for a failed check: a red first line, the rest as they are."""
    first, *rest = str(message).splitlines() or [""]
    return [f"{RED}{BOLD}\u2718 {first}{RESET}", *rest]


def not_implemented(needs):
    """The one-line error a test cell shows while an exercise is still a stub."""
    error = NotImplementedError(f"{', '.join(needs)}: not implemented yet -- replace "
                                "`raise NotImplementedError()` with your code")
    error._render_traceback_ = lambda: [f"{RED}{error}{RESET}"]
    return error


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
    first needed function with the case's arguments; it must be a module-level function of
    :mod:`bplib.probes` (the sandbox imports it by name). ``outputs`` names the parts of a tuple
    output (e.g. ``("dx", "dW", "db")``). ``strict_floats`` makes overflow and invalid operations
    (NaN) failures, for exercises that ask for a numerically stable formula. ``compare(got, case)``,
    if given, replaces the value comparison and returns a message or None.

    ``implemented_by``: dotted names of the bplib functions, classes or methods that already do
    what the exercise asks (e.g. ``"bplib.layers.ReLU"``); an answer that calls one of them fails
    with a message naming it (the course's policy: a lesson's exercises are written by hand; later
    lessons use bplib freely). ``cpu_limit``: seconds of CPU time one case may take, measured
    outside the learner's code (by the grader, from outside the sandbox, in grading).
    ``explain_error(error_text, case)``, if given, may return a hint for an error the learner's code
    raised on ``case`` (e.g. the shapes that case expects); it is consulted before the generic ones.
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
    implemented_by: tuple = ()
    cpu_limit: float = None
    explain_error: object = None

    def call(self, objects, args):
        if self.probe is not None:
            return self.probe(*objects, *args)
        return objects[0](*args)

    @property
    def probe_name(self):
        """``"module:function"`` of the probe (None for the default call), for the sandbox."""
        if self.probe is None:
            return None
        return f"{self.probe.__module__}:{self.probe.__qualname__}"


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
    """Run the learner's code on one case: ``(status, value)`` with status

    * ``"ok"``: value is the output as :func:`plain` data;
    * ``"error"``: value is ``"Type: message"`` and where in the learner's code it was raised;
    * ``"forbidden"``: value is the dotted name of the bplib function the learner's code called
      (one of ``exercise.implemented_by``).

    The arguments are deep copies, so an answer that changes its inputs in place is still judged
    on the original inputs (and still passes if it returns the right values). NotImplementedError
    (a stub) is re-raised.
    """
    args = copy.deepcopy(case.args)
    tripwire = Tripwire(exercise.implemented_by)
    try:
        with warnings.catch_warnings(), np.errstate(**_errstate(exercise)), tripwire:
            warnings.simplefilter("ignore", RuntimeWarning)
            value = exercise.call(objects, args)
    except NotImplementedError:
        raise
    except Exception as error:  # noqa: BLE001 - the learner's code may raise anything
        if tripwire.called:
            return "forbidden", tripwire.called
        return "error", describe_error(error)
    if tripwire.called:
        return "forbidden", tripwire.called
    return "ok", plain(value)


def _errstate(exercise):
    return dict(over="raise", invalid="raise", divide="raise") if exercise.strict_floats else {}


# --- where an error was raised ------------------------------------------------------------------

_LIBRARY_PATHS = tuple({os.path.dirname(os.path.abspath(__file__)), os.path.dirname(os.__file__),
                        os.path.dirname(np.__file__)})


def _is_learner_frame(filename):
    """Code the learner wrote: a notebook cell, not a file of bplib, NumPy or the standard library."""
    if filename.startswith("<cell ") or filename.startswith("<ipython-input"):
        return True
    if filename.startswith("<"):
        return False
    path = os.path.abspath(filename)
    return not (path.startswith(_LIBRARY_PATHS) or "site-packages" in path or "dist-packages" in path)


def describe_error(error):
    """``"Type: message"`` plus, when it was raised in the learner's own code, where:
    ``"(in relu, line 3: return max(z, 0))"``, from the learner's innermost frame."""
    text = f"{type(error).__name__}: {error}"[:1500]
    frames = [f for f in traceback.extract_tb(error.__traceback__) if _is_learner_frame(f.filename)]
    if frames:
        frame = frames[-1]
        where = frame.filename[6:-1] if frame.filename.startswith("<cell ") else None
        place = f"your cell {where}, " if where else ""
        line = (frame.line or "").strip()
        code = f": {line[:160]}" if line else ""
        text += f"\n  (raised in {frame.name}: {place}line {frame.lineno}{code})"
    return text


# --- the policy on calling bplib ----------------------------------------------------------------

class Tripwire:
    """Notes the first call to any of ``names`` (dotted names of bplib functions, classes or
    methods) while active: ``with Tripwire(names) as wire: ...; wire.called``.

    A class stands for every function defined in its body. Implemented with ``sys.setprofile``
    (Python's profiling hook: one callback per Python-level call), so it is only installed for
    exercises that have ``implemented_by`` names. It sees calls however the function was reached
    (imported, looked up with getattr, passed around), in this thread and in threads started
    while it is active; code that removes the hook, reloads bplib's modules or runs in a thread
    started earlier escapes it, which is why the grader also reads the source of the answers and
    of the student's own cells.
    """

    def __init__(self, names):
        self.names = tuple(names)
        self.called = None
        self._codes = None
        self._previous = None

    def __enter__(self):
        if self.names:
            import threading

            self._codes = _code_objects(self.names)
            self._previous = sys.getprofile()
            sys.setprofile(self._hook)
            threading.setprofile(self._hook)  # threads started while it is active too
        return self

    def _hook(self, frame, event, arg):
        if event == "call" and self.called is None:
            name = self._codes.get(frame.f_code)
            if name is not None:
                self.called = name

    def __exit__(self, *exc):
        if self.names:
            import threading

            sys.setprofile(self._previous)
            threading.setprofile(None)
        return False


def _code_objects(names):
    """{code object: dotted name} of every function ``names`` stand for: a function or method
    itself; every function in a class's body; every function and class defined in a module."""
    import importlib
    import inspect

    codes = {}
    for name in names:
        module_name, _, attribute = name.partition(".")
        target, parts = importlib.import_module(module_name), attribute.split(".")
        while parts:  # the longest importable module prefix, then attributes
            try:
                target = importlib.import_module(f"{target.__name__}.{parts[0]}")
                parts.pop(0)
            except (ImportError, AttributeError):
                break
        for part in parts:
            target = getattr(target, part)
        if inspect.ismodule(target):
            members = [v for v in vars(target).values()
                       if (inspect.isfunction(v) or inspect.isclass(v)) and v.__module__ == target.__name__]
        else:
            members = [target]
        for member in members:
            functions = ([v for v in vars(member).values() if inspect.isfunction(v)]
                         if inspect.isclass(member) else [member])
            for function in functions:
                function = inspect.unwrap(function)
                if hasattr(function, "__code__"):
                    codes[function.__code__] = name
    return codes


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


def judge_case(exercise, index, total, case, outcome, seed=None, cases=None):
    """The learner-facing message for one failed case, or None if the outcome is right.

    ``outcome`` is ``(status, value)`` from :func:`run_case`, optionally with a third item, the CPU
    seconds the case took (checked against ``exercise.cpu_limit``). ``seed`` (hidden checks) is
    mentioned, with the call that repeats the case, when the case's inputs depend on it.
    """
    status, got = outcome[0], outcome[1]
    cpu = outcome[2] if len(outcome) > 2 else None
    if status == "error":
        problem = _error_message(exercise, got, case)
    elif status == "forbidden":
        problem = (f"your code calls {got}, bplib's own version of what this exercise asks you to "
                   "write. Write it yourself (NumPy is fine): an answer that calls it scores 0 "
                   "points. (Later lessons use bplib freely.)")
    elif exercise.cpu_limit is not None and cpu is not None and cpu > exercise.cpu_limit:
        problem = (f"this check took {cpu:.1f} s of CPU time; the limit is {exercise.cpu_limit:g} s. "
                   "Make it faster (fewer epochs, a smaller network, vectorised NumPy instead of "
                   "Python loops).")
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
    repeat = ""
    if seed is not None and _depends_on_seed(exercise, index, case, seed):
        repeat = (f"\n  (These inputs came from seed {seed}: check({exercise.name!r}, "
                  f"{', '.join(exercise.needs)}, hidden=True, seed={seed}) repeats them.)")
    return f"{exercise.name}: {where} failed.\n  {problem}{repeat}"


def _depends_on_seed(exercise, index, case, seed):
    """Whether case ``index`` of a hidden check changes with the seed (fixed cases do not)."""
    try:
        other = exercise.cases(np.random.default_rng(seed ^ 0x5EED), True)
        return index >= len(other) or not _same(other[index].args, case.args)
    except Exception:  # noqa: BLE001 - when in doubt, mention the seed
        return True


def _same(a, b):
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.shape == b.shape
                and a.dtype == b.dtype and bool(np.array_equal(a, b, equal_nan=True)))
    if isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    try:
        return bool(a == b)
    except Exception:  # noqa: BLE001
        return False


# Errors whose NumPy or Python wording points the wrong way, with what a learner should read.
ERROR_HINTS = (
    ("truth value of an array with more than one element is ambiguous",
     "Python's own `max`, `min`, `if` and `and` look at a whole array at once, and an array of "
     "several numbers is neither true nor false. Work elementwise with NumPy instead: "
     "np.maximum(z, 0), np.where(condition, a, b), np.abs(z)."),
    ("matmul: Input operand",
     "the inner dimensions of a matrix product must agree: (N, D) @ (D, M) -> (N, M). Write the "
     "shape of each array next to the product; a transpose (.T) is usually missing or extra."),
)


def _error_message(exercise, text, case=None):
    kind = text.split(":", 1)[0]
    if kind == "NotImplementedError":
        return ("not implemented yet: replace `raise NotImplementedError()` in "
                f"{', '.join(exercise.needs)} with your code")
    if exercise.explain_error is not None and case is not None:
        try:
            hint = exercise.explain_error(text, case)
        except Exception:  # noqa: BLE001 - a hint that does not apply to this case
            hint = None
        if hint:
            return f"your code raised {text}\n  Hint: {hint}"
    if kind == "FloatingPointError" and exercise.strict_floats:
        return (f"your code raised {text} -- an overflow or invalid operation (NaN). Use the "
                "numerically stable formula: never take exp of a large positive number.")
    for pattern, hint in ERROR_HINTS:
        if pattern in text:
            return f"your code raised {text}\n  Hint: {hint}"
    return f"your code raised {text}"


def check_exercise(exercises, name, *objects, hidden=False, seed=None):
    """Run exercise ``name`` in this kernel; print a tick or raise :class:`ExerciseFailed`.

    ``exercises``: {name: Exercise}. Raises KeyError for an unknown name, TypeError for the wrong
    number of objects, NotImplementedError (one line in IPython) while a needed function is a stub.
    """
    __tracebackhide__ = True
    if name not in exercises:
        raise KeyError(f"no exercise called {name!r}; this lesson has {', '.join(sorted(exercises))}")
    exercise = exercises[name]
    if len(objects) != len(exercise.needs):
        raise TypeError(f"check({name!r}, ...) needs {len(exercise.needs)} object(s): "
                        f"{', '.join(exercise.needs)}; got {len(objects)}")
    if seed is None:
        seed = int.from_bytes(os.urandom(4), "little") if hidden else 0
    # Hidden inputs come from the grader's stream (autograder.trusted.draw_cases: the seed and the
    # exercise's place in the lesson), so the seed a grader's message names repeats them here.
    rng = np.random.default_rng([seed, list(exercises).index(name)] if hidden else seed)
    cases = exercise.cases(rng, hidden)
    for index, case in enumerate(cases):
        start = time.process_time()
        try:
            status, value = run_case(exercise, objects, case)
        except NotImplementedError:
            raise not_implemented(exercise.needs) from None
        outcome = (status, value, time.process_time() - start)
        message = judge_case(exercise, index, len(cases), case, outcome, seed if hidden else None)
        if message:
            raise ExerciseFailed(message) from None
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
                return f"{key}: {problem}"
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
    return matching_hint(exercise.mistakes, got, case.args)


def matching_hint(mistakes, got, args, answer_of=None, part=None, atol=1e-9):
    """The hint of the first of ``mistakes`` that ``got`` matches, or "": a Mistake with a
    ``test`` matches when ``test(got, *args)`` is true; one with an ``answer`` when ``got`` equals
    (rtol 1e-6) what the wrong answer gives, ``answer(*args)``, or ``answer_of(answer, *args)``
    (e.g. the wrong answer run through the exercise's probe). With ``part``, only ``got[part]``
    is compared. A mistake that raises on these inputs does not apply."""
    for mistake in mistakes:
        try:
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                inputs = copy.deepcopy(args)
                if mistake.test is not None:
                    matches = bool(mistake.test(got, *inputs))
                else:
                    wrong = plain(mistake.answer(*inputs) if answer_of is None
                                  else answer_of(mistake.answer, *inputs))
                    mine = got if part is None else got[part]
                    wrong = wrong if part is None else wrong[part]
                    matches = compare_values(mine, wrong, (), 1e-6, atol) is None
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
