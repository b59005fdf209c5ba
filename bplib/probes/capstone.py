"""Lesson 08-capstone: how the grader calls your directional_check and train_digits.

``train_digits`` is called once per task ``(X_train, y_train, X_test, rows_alone)``; its ``predict``
gets ``X_test``, then again some of its rows on their own (``X_test[rows]`` for each ``rows`` of
``rows_alone``: single images, and the images of one class), which must get the same labels as in
the whole set. The grader measures the CPU time from outside your code (outside the sandbox, in
grading), so the time limit does not depend on clocks inside it.
"""

import contextlib

import numpy as np

from bplib.losses import SoftmaxCrossEntropyLoss
from bplib.probes.planted_bugs import build_network


def directional_probe(directional_check, spec, weights, x, y, direction, h):
    model = build_network(spec, weights)
    before = {name: param.copy() for name, param, _ in model.parameters()}
    result = directional_check(model, SoftmaxCrossEntropyLoss(), x, y, direction, h)
    moved = tuple(name for name, param, _ in model.parameters()
                  if param.shape != before[name].shape
                  or not np.allclose(param, before[name], rtol=1e-12, atol=1e-14))
    if isinstance(result, (tuple, list)) and len(result) == 2:
        try:
            result = tuple(float(v) for v in result)
        except (TypeError, ValueError):
            pass
    return {"result": result, "moved": moved}

def _one_blas_thread():
    """Limit BLAS to one thread while the learner's code trains, if threadpoolctl is installed.

    For matrices this small, threads only add overhead; on a busy 2-core machine a multithreaded
    OpenBLAS made a 0.3 s training take 2-4 s (and as much CPU time, spent spinning), which would
    make the time limit and nbgrader's cell timeout depend on the machine's load."""
    try:
        from threadpoolctl import threadpool_limits

        return threadpool_limits(limits=1, user_api="blas")
    except Exception:  # noqa: BLE001 - not installed, or cannot inspect the process: no limit
        return contextlib.nullcontext()


def train_digits_probe(train_digits, tasks):
    with _one_blas_thread():
        return _train_and_predict(train_digits, tasks)


def _train_and_predict(train_digits, tasks):
    predictions, subsets = [], []
    for X_train, y_train, X_test, rows_alone in tasks:
        predict = train_digits(X_train, y_train)
        if not callable(predict):
            raise TypeError("train_digits must return a function predict(images) -> labels; it "
                            f"returned {type(predict).__name__}")
        predictions.append(predict(X_test))
        subsets.append(tuple(predict(X_test[rows]) for rows in rows_alone))
    return {"predictions": tuple(predictions), "subsets": tuple(subsets)}
