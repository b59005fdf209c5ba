"""Trusted grading: the score of each exercise is decided here, outside the student's process.

For one submission: draw every exercise's cases from a seed chosen now; run the student's cells and
the exercises' probes in a sandboxed child (``child.py``) that receives only the inputs and how to
call the student's code (never the answer keys, :mod:`autograder.exercises`); read back plain data
(bounded, validated, never unpickled); judge it here against the references with
:func:`bplib.grading.judge`. The CPU time of each case is measured here, from outside the sandbox.
A cell or an exercise that hangs or kills the child costs only itself: the child is restarted
without it.
"""

import base64
import json
import os
import pickle
import secrets
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import psutil

from autograder import policy, sandbox
from autograder.exercises import exercises
from bplib.grading import Opaque, judge

CHILD = Path(__file__).resolve().parent / "child.py"
MAX_OUTPUT_BYTES = 64 * 1024 ** 2
MAX_LINE_BYTES = 16 * 1024 ** 2


@dataclass
class Timeouts:
    cell: float = 30.0         # seconds for one of the student's cells
    exercise: float = 60.0     # seconds for all cases of one exercise
    start: float = 30.0        # seconds for the child to start and read its request
    total: float = 300.0       # seconds for the whole submission
    notebook: float = 180.0    # seconds for nbgrader's own run of the whole notebook


@dataclass
class ExerciseResult:
    name: str
    passed: bool
    message: str
    not_implemented: bool = False  # failed because a needed function is still a stub


@dataclass
class TrustedGrade:
    """The verdict on one notebook: per exercise, and the anomalies seen while running it."""
    seed: int
    results: dict = field(default_factory=dict)      # name -> ExerciseResult
    cell_errors: dict = field(default_factory=dict)  # cell id -> error text (student's cells)
    skipped_cells: set = field(default_factory=set)  # cells that hung or killed the child: left out
    flags: list = field(default_factory=list)
    isolation: str = ""


class ChildDied(Exception):
    """The child stopped during ``step`` (a cell, an exercise, "start"), for ``reason``;
    ``last_cell``: the last of the student's cells it had started (None before any)."""

    def __init__(self, step, reason, last_cell=None):
        super().__init__(f"{step}: {reason}")
        self.step, self.reason, self.last_cell = step, reason, last_cell


class _Stopped(Exception):
    """Raised while reading the child's output: a deadline passed or it wrote too much."""


def draw_cases(lesson, seed):
    """{exercise name: [Case, ...]} drawn from ``seed`` (hidden cases)."""
    cases = {}
    for index, (name, exercise) in enumerate(exercises(lesson).items()):
        cases[name] = exercise.cases(np.random.default_rng([seed, index]), True)
    return cases


def grade_cells(lesson, cells, seed=None, timeouts=None, limits=None, insecure=False):
    """Grade the student's ``cells`` ([(cell id, source), ...], in notebook order) for ``lesson``."""
    seed = secrets.randbits(32) if seed is None else seed
    timeouts = timeouts or Timeouts()
    caps = sandbox.capabilities()
    if not caps.isolated and not insecure:
        raise RuntimeError(f"this machine cannot isolate student code: {caps.describe()}. "
                           "Use --insecure to grade anyway.")
    isolated = caps.isolated
    grade = TrustedGrade(seed, isolation=caps.describe() if isolated else "NOT ISOLATED")
    definitions = exercises(lesson)
    cases = draw_cases(lesson, seed)
    outcomes = {name: [] for name in definitions}
    failed_steps = {}  # exercise name -> why it could not finish
    skip_cells = grade.skipped_cells
    pending = list(definitions)
    deadline = time.monotonic() + timeouts.total
    while pending:
        request = {"cells": [[cid, src] for cid, src in cells if cid not in skip_cells],
                   "exercises": [[name, interface(definitions[name]), [case.args for case in cases[name]]]
                                 for name in pending]}
        try:
            for event in _run_child(request, timeouts, limits, deadline, isolated):
                kind = event.get("event")
                if kind == "cell" and event.get("status") == "error":
                    grade.cell_errors[str(event.get("id"))] = str(event.get("error", ""))[:2000]
                elif kind == "missing" and event.get("name") in pending:
                    name = event["name"]
                    failed_steps[name] = (f"{', '.join(map(str, event.get('names', [])))[:200]} is "
                                          "not defined: did a cell fail, or was something renamed?")
                    pending.remove(name)
                elif kind == "case":
                    name = event.get("name")
                    if name not in pending or len(outcomes[name]) >= len(cases[name]):
                        raise ChildDied(str(name), "sent results the grader did not ask for")
                    outcomes[name].append((str(event.get("status")), decode(event.get("value")),
                                           event["cpu_seconds"]))
                    if len(outcomes[name]) == len(cases[name]):
                        pending.remove(name)
            pending = []  # the child finished
        except ChildDied as died:
            step = died.step
            if step.startswith("cell "):
                skip_cells.add(step[5:])
                grade.cell_errors[step[5:]] = died.reason
                grade.flags.append(f"cell {step[5:]} {died.reason}; it was skipped")
            elif step in pending:
                failed_steps[step] = died.reason
                pending.remove(step)
                grade.flags.append(f"exercise {step}: the student's code {died.reason}")
            elif died.last_cell is not None and died.last_cell not in skip_cells:
                # it died between steps, right after a cell ran: a cell that kills its own process
                # (e.g. its parent, whose death then takes it down) does so a moment late
                skip_cells.add(died.last_cell)
                grade.cell_errors[died.last_cell] = died.reason
                grade.flags.append(f"cell {died.last_cell}: the grading process {died.reason} right "
                                   "after it ran; it was skipped")
            else:  # the child died while starting, before any cell
                for name in pending:
                    failed_steps[name] = died.reason
                grade.flags.append(f"the grading process {died.reason}")
                pending = []
            if time.monotonic() > deadline:
                for name in pending:
                    failed_steps[name] = "grading time ran out"
                pending = []
    for cell_id, error in grade.cell_errors.items():
        if not any(cell_id in flag for flag in grade.flags):
            first_line = error.splitlines()[0][:300] if error else "an error"
            grade.flags.append(f"cell {cell_id} raised {first_line}")
    answers = _answer_sources(cells)
    for name, exercise in definitions.items():
        if name in failed_steps:
            grade.results[name] = ExerciseResult(name, False, f"{name}: {failed_steps[name]}")
            continue
        result = judge(exercise, outcomes[name], cases[name], seed)
        failed = outcomes[name][result.failed_case] if 0 <= result.failed_case < len(outcomes[name]) else None
        stub = bool(failed and failed[0] == "error" and str(failed[1]).startswith("NotImplementedError"))
        grade.results[name] = ExerciseResult(name, result.passed, result.message, stub)
        called = sorted({str(o[1]) for o in outcomes[name] if o[0] == "forbidden"})
        if called:
            grade.flags.append(f"{name}: the student's code called {', '.join(called)[:300]} "
                               "(the course's policy: 0 points)")
    _apply_policy(grade, definitions, answers,
                  [(cid, src) for cid, src in cells if str(cid).startswith("student-")])
    grade.flags = [inert_text(flag) for flag in grade.flags]
    for result in grade.results.values():
        result.message = inert_text(result.message)
    return grade


def inert_text(text):
    """``text`` without control or format characters but line breaks: a message may quote what a
    student's code printed or raised, and terminal escapes (colours, cursor moves) or bidirectional
    overrides in it must not change how the grader's own words look."""
    return "".join(c for c in str(text) if c == "\n" or unicodedata.category(c)[0] != "C")


def _answer_sources(cells):
    """{exercise name: [source of each of its answer cells]} (grade ids ``<name>-answer``)."""
    answers = {}
    for cell_id, source in cells:
        name, _, copy = str(cell_id).rpartition("-answer")
        if name and (not copy or copy.startswith("-copy")):  # copies: submission.load
            answers.setdefault(name, []).append(source)
    return answers


def _apply_policy(grade, definitions, answers, own_cells=()):
    """An answer that uses bplib's own implementation of its exercise, or imports the grader's
    package, scores 0 for that exercise, with a flag (:mod:`autograder.policy`). A cell of the
    student's own that uses such a name, and any answer or own cell that uses introspection, are
    flagged for the instructor to look at (no points change)."""
    all_names = {name for exercise in definitions.values() for name in exercise.implemented_by}
    for cell_id, source in own_cells:
        used, grader = policy.uses_of(source, all_names)
        if used:
            grade.flags.append(f"cell {cell_id} (the student's own) uses {', '.join(used)[:200]}, bplib's "
                               "own version of an exercise: check whether an answer relies on it")
        tools = policy.introspection(source)
        if tools:
            grade.flags.append(f"cell {cell_id} (the student's own) uses introspection "
                               f"({', '.join(tools)}), which can read the grader's objects: look at it")
    for name, sources in answers.items():
        tools = sorted({t for source in sources for t in policy.introspection(source)})
        if tools and name in definitions:
            grade.flags.append(f"{name}: the answer uses introspection ({', '.join(tools)}), which "
                               "can read the grader's objects: look at it")
    for name, exercise in definitions.items():
        used, grader = set(), False
        for source in answers.get(name, []):
            found, imports_grader = policy.uses_of(source, exercise.implemented_by)
            used.update(found)
            grader |= imports_grader
        if used:
            what = ", ".join(sorted(used))
            grade.results[name] = ExerciseResult(name, False, (
                f"{name}: your answer uses {what}, bplib's own version of what this exercise asks "
                "you to write. Write it yourself (NumPy is fine): an answer that uses it scores 0 "
                "points. (Later lessons use bplib freely.)"))
            grade.flags.append(f"{name}: the answer uses {what} (the course's policy: 0 points)")
        if grader:
            grade.results[name] = ExerciseResult(name, False, (
                f"{name}: your answer imports the course's grader (autograder), which holds the "
                "answer keys and is not available when a notebook is graded."))
            grade.flags.append(f"{name}: the answer imports the grader's package (autograder)")


def interface(exercise):
    """How the sandboxed child calls the student's code for ``exercise``: names only, no keys."""
    return {"needs": list(exercise.needs), "probe": exercise.probe_name,
            "strict_floats": exercise.strict_floats, "implemented_by": list(exercise.implemented_by)}


def cpu_seconds(pid):
    """CPU seconds (user + system) used so far by process ``pid`` and all its descendants,
    including descendants already waited for; 0.0 if it is gone (psutil, read from /proc)."""
    try:
        root = psutil.Process(pid)
        processes = [root] + root.children(recursive=True)
    except psutil.Error:
        return 0.0
    total = 0.0
    for process in processes:
        try:
            times = process.cpu_times()
        except psutil.Error:
            continue
        total += times.user + times.system + times.children_user + times.children_system
    return total


def _run_child(request, timeouts, limits, deadline, isolated=True):
    """Start the sandboxed child, feed it ``request``, yield its events; raise ChildDied."""
    workdir = tempfile.mkdtemp(prefix="bpcourse-child-")
    inside = f"{sandbox.INSIDE}/child.py"
    files = {str(CHILD): inside, str(CHILD.parent / "confine.py"): f"{sandbox.INSIDE}/confine.py"}
    policy = sandbox.Policy(files=files, insecure=not isolated,
                            limits=limits or sandbox.Limits(cpu_seconds=int(timeouts.total) + 5))
    command = sandbox.command_line(policy, [sys.executable, "-I", inside if isolated else str(CHILD)])
    process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=workdir,
                               stderr=subprocess.DEVNULL, start_new_session=True)
    step = "start"
    step_deadline = [time.monotonic() + timeouts.start]  # read by _lines as the step changes
    clock = {}  # exercise name -> CPU seconds of the child when its current case began
    last_cell = None
    try:
        process.stdin.write(pickle.dumps({"cells": request["cells"]}))
        process.stdin.flush()
        for line in _lines(process, lambda: min(step_deadline[0], deadline)):
            try:
                event = json.loads(line)
            except ValueError:
                event = None
            if not isinstance(event, dict):
                raise ChildDied(step, "sent something that is not grading output")
            kind = event.get("event")
            if kind == "cell-start":
                step, step_deadline[0] = f"cell {event.get('id')}", time.monotonic() + timeouts.cell
                last_cell = str(event.get("id"))
                continue
            if kind == "cells-done" and not process.stdin.closed:
                # the checks' inputs only now: a writer thread, so a child that does not read
                # them cannot block the grader (its deadline still applies)
                step, step_deadline[0] = "start", time.monotonic() + timeouts.start
                threading.Thread(target=_send_and_close, daemon=True, args=(
                    process.stdin, pickle.dumps({"exercises": request["exercises"]}))).start()
                continue
            if kind == "exercise":
                step, step_deadline[0] = str(event.get("name")), time.monotonic() + timeouts.exercise
                clock.setdefault(step, cpu_seconds(process.pid))  # the first one counts
            if kind == "case":
                # CPU since this exercise began or its previous case ended, read here from /proc:
                # clocks inside the sandbox (which the student can patch) play no part.
                now = cpu_seconds(process.pid)
                event["cpu_seconds"] = max(0.0, now - clock.get(step, 0.0))
                clock[step] = now
            if kind == "end":
                return
            yield event
        raise ChildDied(step, _death_reason(process), last_cell)
    except _Stopped as stop:
        raise ChildDied(step, str(stop), last_cell) from None
    except BrokenPipeError:
        raise ChildDied(step, _death_reason(process), last_cell) from None
    finally:
        _kill(process)
        shutil.rmtree(workdir, ignore_errors=True)


def _send_and_close(stream, data):
    try:
        stream.write(data)
        stream.close()
    except (OSError, ValueError):  # the child died or was killed
        pass


def _lines(process, deadline):
    """Lines from the child's stdout until it closes; _Stopped on a deadline or too much output."""
    buffer, total = b"", 0
    fd = process.stdout.fileno()
    while True:
        remaining = deadline() - time.monotonic()
        ready = select.select([fd], [], [], max(remaining, 0))[0] if remaining > 0 else []
        if not ready:
            raise _Stopped("did not finish in time (an endless loop?)")
        chunk = os.read(fd, 1 << 16)
        if not chunk:
            return
        total += len(chunk)
        buffer += chunk
        *lines, buffer = buffer.split(b"\n")
        if total > MAX_OUTPUT_BYTES or len(buffer) > MAX_LINE_BYTES:
            raise _Stopped("produced too much output")
        yield from lines


def _death_reason(process):
    try:
        code = process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        return "did not finish in time (an endless loop?)"
    if code in (128 + signal.SIGXCPU, -signal.SIGXCPU, 128 + signal.SIGKILL, -signal.SIGKILL):
        return "was stopped: it used too much CPU time or memory"
    if code == 0:
        return "stopped the grading early (exit)"
    return f"crashed the process (exit status {code})"


def _kill(process):
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGKILL)  # the launcher; its sandbox dies with it
        except OSError:
            pass
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass
    for stream in (process.stdin, process.stdout):
        try:
            stream.close()
        except (OSError, ValueError):
            pass


def decode(value, depth=0):
    """The child's JSON back to plain data; anything unexpected becomes Opaque."""
    if depth > 10:
        return Opaque("deeply nested")
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, list):
        return tuple(decode(v, depth + 1) for v in value[:1000])
    if not isinstance(value, dict):
        return Opaque(type(value).__name__)
    if "__ndarray__" in value:
        try:
            dtype = np.dtype(str(value["dtype"]))
            shape = tuple(int(n) for n in value["shape"])
            if dtype.kind not in "fiub" or any(n < 0 for n in shape):
                return Opaque("array")
            data = base64.b64decode(value["__ndarray__"], validate=True)
            if len(data) != dtype.itemsize * int(np.prod(shape, dtype=np.int64)):
                return Opaque("array")
            return np.frombuffer(data, dtype=dtype).reshape(shape).copy()
        except (TypeError, ValueError, KeyError):
            return Opaque("array")
    if "__tuple__" in value:
        return tuple(decode(v, depth + 1) for v in list(value["__tuple__"])[:1000])
    if "__dict__" in value:
        try:
            return {str(k): decode(v, depth + 1) for k, v in list(value["__dict__"])[:1000]}
        except (TypeError, ValueError):
            return Opaque("dict")
    if "__float__" in value:
        return {"nan": float("nan"), "inf": float("inf"), "-inf": float("-inf")}.get(
            value["__float__"], Opaque("float"))
    if "__opaque__" in value:
        return Opaque(str(value["__opaque__"])[:100])
    return Opaque("object")
