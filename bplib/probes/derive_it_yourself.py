"""Lesson 09-derive-it-yourself: how the grader calls your checker, your batch-norm forward over a
sequence of batches (training and evaluation mode), and your dropout forward and backward.

The other exercises are called directly with the case's inputs: ``batchnorm_backward(dout, cache)``
and ``layernorm_backward(dout, cache)`` with a cache ``(x_hat, gamma, std)`` the grader computes,
``embedding_backward(dout, indices, num_embeddings)``, the update steps with their arguments in the
order of their ``def`` line, and ``update_ratios(before, after)``.
"""

import numpy as np

from bplib.probes.gradient_checking import numerical_gradient_probe


def checker_probe(numerical_gradient, relative_error, part, *args):
    """Your lesson-04 functions on one case of lesson 04's checks: ``part`` says which one."""
    if part == "numerical_gradient":
        return numerical_gradient_probe(numerical_gradient, *args)
    return relative_error(*args)


def _two_values(result, name):
    if not (isinstance(result, (tuple, list)) and len(result) == 2):
        what = f"a {type(result).__name__}" if not isinstance(result, np.ndarray) else "one array"
        raise TypeError(f"{name} should return two values, (out, cache); it returned {what}")
    return result


def batchnorm_forward_probe(batchnorm_forward, batches, modes, gamma, beta, running_mean, running_var,
                            momentum, eps):
    """Your forward on each batch in turn (``modes[i]``: training?), with ONE running dict that
    starts at ``running_mean``, ``running_var``. Returns every output and the final averages."""
    running = {"mean": running_mean.copy(), "var": running_var.copy()}
    outputs = []
    for x, training in zip(batches, modes):
        out, _ = _two_values(batchnorm_forward(x, gamma, beta, running, training, momentum, eps),
                             "batchnorm_forward")
        outputs.append(out)
    return {"outputs": tuple(outputs), "running mean": running.get("mean"),
            "running var": running.get("var")}


def dropout_probe(dropout_forward, dropout_backward, x, dout, p, training, seed):
    """Your forward with a generator seeded ``seed`` (twice, and once with another seed), then your
    backward with the mask of the first call."""
    out, mask = _two_values(dropout_forward(x.copy(), p, training, np.random.default_rng(seed)),
                            "dropout_forward")
    out = np.array(out, dtype=float, copy=True)  # before the backward could change it
    again, _ = _two_values(dropout_forward(x.copy(), p, training, np.random.default_rng(seed)),
                           "dropout_forward")
    other, _ = _two_values(dropout_forward(x.copy(), p, training, np.random.default_rng(seed + 1)),
                           "dropout_forward")
    dx = dropout_backward(dout.copy(), mask)
    return {"out": out, "dx": dx,
            "same seed, same output": bool(np.array_equal(out, np.asarray(again, dtype=float))),
            "another seed, another output": bool(not np.array_equal(out, np.asarray(other, dtype=float)))}
