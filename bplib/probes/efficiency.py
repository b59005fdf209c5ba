"""Lesson 06-efficiency-and-scale: how the grader calls count_forward_calls and time_gradients.

Networks are ``bplib.network.mlp(sizes)``: Linear layers of the given sizes with tanh between them.
"""

import math
import time

import numpy as np

from bplib.gradcheck import numerical_gradient
from bplib.losses import SoftmaxCrossEntropyLoss
from bplib.network import backward_parameters, mlp


def problem(sizes, batch, seed):
    """A tanh MLP, a softmax cross-entropy loss and a random batch: (model, loss, x, y)."""
    rng = np.random.default_rng(seed)
    model = mlp(sizes, activation="tanh", rng=rng)
    x = rng.normal(size=(batch, sizes[0]))
    y = rng.integers(0, sizes[-1], size=batch)
    return model, SoftmaxCrossEntropyLoss(), x, y

def count_runs(count, sizes, batch, seed, k, parameter):
    """Count four runs on one network with ``count``; then say whether forward was restored."""
    model, loss, x, y = problem(sizes, batch, seed)
    params = {name: p for name, p, _ in model.parameters()}

    def loss_value():
        return loss.forward(model.forward(x), y)

    def backprop():
        loss_value()
        backward_parameters(model, loss.backward())

    def all_parameters():
        for p in params.values():
            numerical_gradient(loss_value, p)

    counts = (_count(count, model, lambda: [model.forward(x) for _ in range(k)]),
              _count(count, model, lambda: numerical_gradient(loss_value, params[parameter])),
              _count(count, model, backprop),
              _count(count, model, all_parameters))
    restored = getattr(model.forward, "__func__", None) is type(model).forward
    return (*counts, bool(restored))

def _count(count, model, run):
    """``count(model, run)``, with a word on the classic slip of a counter in a closure."""
    try:
        return count(model, run)
    except UnboundLocalError as error:
        raise UnboundLocalError(
            f"{error} -- if that is your counter: `calls += 1` inside the wrapper assigns to calls, "
            "which makes it a new local variable of the wrapper. Declare `nonlocal calls` in the "
            "wrapper first (or keep the count in a list and change its item).") from None


def fastest_seconds(fn, calls=40):
    fn()
    best = math.inf
    for _ in range(calls):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def time_probe(time_gradients, sizes, batch, seed):
    """What ``time_gradients`` returns, the fastest forward pass seen around it (seconds), and how
    many forward and backward passes of the model it ran: the timings must come from real work."""
    model, loss, x, y = problem(sizes, batch, seed)
    forward = fastest_seconds(lambda: loss.forward(model.forward(x), y))
    calls = {"forward": 0, "backward": 0}

    def counted(name, method):
        def wrapper(*args, **kwargs):
            calls[name] += 1
            return method(*args, **kwargs)
        return wrapper

    model.forward, model.backward = counted("forward", model.forward), counted("backward", model.backward)
    try:
        result = time_gradients(model, loss, x, y)
    finally:
        del model.forward, model.backward
    forward = min(forward, fastest_seconds(lambda: loss.forward(model.forward(x), y)))
    return {"result": result, "forward_seconds": forward,
            "forward_calls": calls["forward"], "backward_calls": calls["backward"]}
