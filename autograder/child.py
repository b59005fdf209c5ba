"""The untrusted half of trusted grading: runs INSIDE the sandbox, started by path
(``python -I child.py``), so it imports nothing from the autograder package.

It reads one pickled request from stdin::

    {"lesson": "01-forward-pass",
     "cells": [[cell_id, source], ...],           # setup cells, the student's answers and own cells
     "exercises": [[name, [args, args, ...]], ...]}  # the inputs of each case, no expected values

runs the cells in order, then calls each exercise's probe on each case's inputs, and writes JSON
lines to its original stdout (the student's prints go to /dev/null)::

    {"event": "cell", "id": ..., "status": "ok" | "error", "error": "..."}
    {"event": "exercise", "name": ...}                     # before the first case of an exercise
    {"event": "case", "name": ..., "index": i, "status": "ok" | "error", "value": <plain data>}
    {"event": "end"}

Nothing here is trusted: the student's code runs in this process and could rewrite any of it.
The grader only believes plain numbers that it compares with its own references, computed in its
own process for inputs drawn at grading time.
"""

import base64
import json
import os
import pickle
import sys
import traceback


def encode(value):
    """Plain data (as produced by bplib.grading.plain) as JSON-ready objects."""
    import numpy as np

    from bplib.grading import Opaque

    if isinstance(value, np.ndarray):
        return {"__ndarray__": base64.b64encode(np.ascontiguousarray(value).tobytes()).decode(),
                "dtype": value.dtype.str, "shape": list(value.shape)}
    if isinstance(value, tuple):
        return {"__tuple__": [encode(v) for v in value]}
    if isinstance(value, dict):
        return {"__dict__": [[k, encode(v)] for k, v in value.items()]}
    if isinstance(value, Opaque):
        return {"__opaque__": value.type_name}
    if isinstance(value, float) and value != value:
        return {"__float__": "nan"}
    if isinstance(value, float) and value in (float("inf"), float("-inf")):
        return {"__float__": "inf" if value > 0 else "-inf"}
    return value


def main():
    request = pickle.loads(sys.stdin.buffer.read())
    results = os.fdopen(os.dup(1), "w", buffering=1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)  # the student's prints and warnings go nowhere
    os.dup2(devnull, 2)
    sys.stdin = open(os.devnull)

    def send(**event):
        results.write(json.dumps(event, allow_nan=False) + "\n")

    namespace = {"__name__": "__main__", "get_ipython": _NoIPython}
    for cell_id, source in request["cells"]:
        send(event="cell-start", id=cell_id)
        try:
            exec(compile(_python(source), f"<cell {cell_id}>", "exec"), namespace)
            send(event="cell", id=cell_id, status="ok")
        except BaseException as error:  # noqa: BLE001 - SystemExit, KeyboardInterrupt too
            send(event="cell", id=cell_id, status="error", error=_describe(error))

    from bplib.exercises import exercises
    from bplib.grading import Case, run_case

    definitions = exercises(request["lesson"])
    for name, cases in request["exercises"]:
        exercise = definitions[name]
        send(event="exercise", name=name)
        missing = [need for need in exercise.needs if need not in namespace]
        if missing:
            send(event="missing", name=name, names=missing)
            continue
        objects = [namespace[need] for need in exercise.needs]
        for index, args in enumerate(cases):
            try:
                status, value = run_case(exercise, objects, Case(tuple(args), None))
            except BaseException as error:  # noqa: BLE001 - NotImplementedError, SystemExit, ...
                status, value = "error", _describe(error)
            send(event="case", name=name, index=index, status=status, value=encode(value))
    send(event="end")


def _python(source):
    """IPython syntax (%magics, !commands) as plain Python calling get_ipython()."""
    if "%" not in source and "!" not in source:
        return source
    from IPython.core.inputtransformer2 import TransformerManager

    return TransformerManager().transform_cell(source)


class _NoIPython:
    """What get_ipython() returns here: magics and shell commands do nothing."""

    def __init__(self):
        pass

    def __getattr__(self, name):
        return lambda *args, **kwargs: None


def _describe(error):
    text = "".join(traceback.format_exception_only(type(error), error)).strip()
    return text[:2000]


if __name__ == "__main__":
    main()
