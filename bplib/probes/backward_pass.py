"""Lesson 03-backward-pass: how the grader calls your backward functions.

For the three layer exercises the probe runs the forward pass itself, with :func:`dense_forward`,
:func:`relu_forward` and :func:`sigmoid_forward` below (the same code as the notebook's read-only
setup cell, so the cache has the documented layout whatever you redefine), then calls your
``backward(dout, cache)``; for softmax_backward, with bplib's stable softmax (cache = p).
"""

import numpy as np

from bplib.layers import sigmoid
from bplib.losses import softmax


def dense_forward(x, W, b):
    """out = x @ W + b; cache = (x, W, b). (As in the notebook's setup cell.)"""
    return x @ W + b, (x, W, b)


def relu_forward(x):
    """out = max(0, x); cache = x, the input. (As in the notebook's setup cell.)"""
    return np.maximum(x, 0), x


def sigmoid_forward(x):
    """out = sigmoid(x); cache = out, the output. (As in the notebook's setup cell.)"""
    out = sigmoid(x)
    return out, out


def dense_probe(dense_backward, x, W, b, dout):
    _, cache = dense_forward(x, W, b)
    return dense_backward(dout, cache)


def relu_probe(relu_backward, x, dout):
    _, cache = relu_forward(x)
    return relu_backward(dout, cache)


def sigmoid_probe(sigmoid_backward, x, dout):
    _, cache = sigmoid_forward(x)
    return sigmoid_backward(dout, cache)


def softmax_probe(softmax_backward, s, dout):
    """p = softmax(s) (bplib's, stable), then your ``softmax_backward(dout, cache=p)``."""
    return softmax_backward(dout, softmax(s))


def as_dict(loss, grads):
    """{"loss": loss, "dW1": ..., "db1": ..., ...} from (loss, [(dW1, db1), ...])."""
    out = {"loss": loss}
    for i, (dW, db) in enumerate(grads, 1):
        out[f"dW{i}"], out[f"db{i}"] = dW, db
    return out


def mlp_probe(mlp_loss_and_grads, x, labels, params):
    """Call ``mlp_loss_and_grads(x, labels, params)``; check the form of what it returns."""
    result = mlp_loss_and_grads(x, labels, params)
    if not (isinstance(result, tuple) and len(result) == 2):
        raise ValueError("mlp_loss_and_grads must return a pair (loss, grads)")
    loss, grads = result
    if not isinstance(grads, (list, tuple)) or len(grads) != len(params):
        got = (f"a {type(grads).__name__} of length {len(grads)}"
               if isinstance(grads, (list, tuple)) else f"a {type(grads).__name__}")
        raise ValueError(f"grads must be a list of {len(params)} pairs (dW, db), one per layer "
                         f"like params; got {got}")
    for i, pair in enumerate(grads):
        if not (isinstance(pair, (list, tuple)) and len(pair) == 2):
            raise ValueError(f"grads[{i}] must be a pair (dW{i + 1}, db{i + 1})")
    return as_dict(loss, grads)
