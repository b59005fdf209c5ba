"""The untrusted half of trusted grading: runs INSIDE the sandbox, started by path
(``python -I child.py``), so it imports nothing from the autograder package (the sandbox does not
contain it: no answer keys in here).

It reads two pickled messages from stdin: first the cells, ``{"cells": [[cell_id, source], ...]}``
(setup cells, the student's answers and own cells), which it runs; then, once it has said
``cells-done``, the checks, ``{"exercises": [[name, interface, [args, args, ...]], ...]}``. So no
input of a check exists in this process while the student's cells run (none can be worked on
ahead, out of the checks' CPU-time accounting). ``interface`` says how to call the student's code,
without expected values::

    {"needs": [name, ...], "probe": "bplib.probes.<module>:<function>" or None,
     "strict_floats": bool, "implemented_by": [dotted bplib name, ...]}

It runs the cells in order, then calls each exercise's probe on each case's inputs, and writes
JSON lines to its original stdout (the student's prints go to /dev/null)::

    {"event": "cell-start", "id": ...}  then  {"event": "cell", "id": ..., "status": "ok" | "error", ...}
    {"event": "cells-done"}                                # now send the checks
    {"event": "exercise", "name": ...}                     # before the first case of an exercise
    {"event": "missing", "name": ..., "names": [...]}      # a needed name is not defined
    {"event": "case", "name": ..., "index": i, "status": "ok" | "error" | "forbidden", "value": ...}
    {"event": "end"}

Nothing here is trusted: the student's code runs in this process and could rewrite any of it.
The grader only believes plain numbers that it compares with its own references, computed in its
own process for inputs drawn at grading time, and it measures time from outside.
"""

import base64
import importlib
import json
import linecache
import os
import pickle
import sys
import traceback

PROBE_PACKAGE = "bplib.probes."


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


def load_probe(name):
    """The probe function ``"bplib.probes.<module>:<function>"`` (None: the default call)."""
    if name is None:
        return None
    module, _, function = name.partition(":")
    if not module.startswith(PROBE_PACKAGE):
        raise ValueError(f"not a probe: {name}")
    return getattr(importlib.import_module(module), function)


def _confine():
    """Landlock's signal scope (autograder/confine.py, beside this file): the student's code
    cannot signal this process's parent, whose death would end this process a moment later."""
    import importlib.util

    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "confine.py")
    if os.path.exists(path):
        spec = importlib.util.spec_from_file_location("_bpcourse_confine", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        module.scope_signals()


def main():
    _confine()
    requests = os.fdopen(os.dup(0), "rb")
    cells = pickle.load(requests)["cells"]
    results = os.fdopen(os.dup(1), "w", buffering=1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)  # the student's prints and warnings go nowhere
    os.dup2(devnull, 2)
    os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
    sys.stdin = open(os.devnull)

    def send(**event):
        results.write(json.dumps(event, allow_nan=False) + "\n")

    namespace = {"__name__": "__main__", "get_ipython": _NoIPython}
    for cell_id, source in cells:
        send(event="cell-start", id=cell_id)
        filename = f"<cell {cell_id}>"
        try:
            code = _python(source)
            linecache.cache[filename] = (len(code), None, code.splitlines(True), filename)
            exec(compile(code, filename, "exec"), namespace)
            send(event="cell", id=cell_id, status="ok")
        except BaseException as error:  # noqa: BLE001 - SystemExit, KeyboardInterrupt too
            send(event="cell", id=cell_id, status="error", error=_describe(error))

    from bplib.grading import Case, Exercise, run_case

    send(event="cells-done")
    for name, interface, cases in pickle.load(requests)["exercises"]:
        send(event="exercise", name=name)
        exercise = Exercise(name, tuple(interface["needs"]), None, load_probe(interface["probe"]),
                            strict_floats=bool(interface["strict_floats"]),
                            implemented_by=tuple(interface["implemented_by"]))
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
    try:
        from bplib.grading import describe_error

        return describe_error(error)[:2000]
    except Exception:  # noqa: BLE001 - the student may have broken bplib.grading
        return "".join(traceback.format_exception_only(type(error), error)).strip()[:2000]


if __name__ == "__main__":
    main()
