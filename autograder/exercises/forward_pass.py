"""Lesson 01-forward-pass: sigmoid, relu, dense_forward, mlp_forward, softmax, cross_entropy."""

import numpy as np

from bplib.grading import Case, Exercise, Mistake
from bplib.layers import sigmoid as stable_sigmoid
from bplib.losses import log_softmax
from bplib.losses import softmax as stable_softmax


def _shapes(rng, hidden, fixed):
    """The fixed shapes, plus (when hidden) three random ones of 1 to 3 dimensions."""
    extra = [tuple(int(n) for n in rng.integers(1, 7, size=rng.integers(1, 4))) for _ in range(3)]
    return list(fixed) + (extra if hidden else [])


# --- sigmoid ----------------------------------------------------------------------------------

def sigmoid_cases(rng, hidden):
    z = np.array([0.0, 1.0, -1.0, 3.0])
    cases = [Case((z,), stable_sigmoid(z), "z = [0, 1, -1, 3]")]
    for shape in _shapes(rng, hidden, [(5,), (3, 4)]):
        z = rng.normal(0, rng.uniform(1, 6), shape)
        cases.append(Case((z,), stable_sigmoid(z)))
    big = rng.uniform(500, 1e4, 3) if hidden else np.array([800.0, 1e4])
    z = np.concatenate([-big, [0.0], big])
    cases.append(Case((z,), stable_sigmoid(z), "very large |z|: must not overflow"))
    return cases


SIGMOID = Exercise(
    "sigmoid", ("sigmoid",), sigmoid_cases, strict_floats=True,
    mistakes=(Mistake("the sign inside exp is flipped: sigmoid(z) = 1 / (1 + exp(-z)).",
                      lambda z: stable_sigmoid(-z)),
              Mistake("that is tanh(z), not the sigmoid.", np.tanh)))


# --- relu ---------------------------------------------------------------------------------------

def relu_cases(rng, hidden):
    z = np.array([-2.0, -0.5, 0.0, 0.5, 2.0])
    cases = [Case((z,), np.maximum(z, 0), "z = [-2, -0.5, 0, 0.5, 2]")]
    for shape in _shapes(rng, hidden, [(6,), (4, 3)]):
        z = rng.normal(0, 3, shape)
        cases.append(Case((z,), np.maximum(z, 0)))
    return cases


RELU = Exercise(
    "relu", ("relu",), relu_cases,
    mistakes=(Mistake("negative inputs must become 0; abs(z) makes them positive instead.", np.abs),
              Mistake("that is min(z, 0): ReLU keeps the positive part, max(z, 0).",
                      lambda z: np.minimum(z, 0))))


# --- dense_forward ------------------------------------------------------------------------------

def dense_cases(rng, hidden):
    x = np.array([[1.0, 2.0]])
    W = np.array([[1.0, 0.0, -1.0], [0.5, 2.0, 1.0]])
    b = np.array([0.0, 1.0, 2.0])
    cases = [Case((x, W, b), x @ W + b, "one example, x = [[1, 2]]")]
    sizes = [(4, 3, 2), (1, 5, 5)] + ([tuple(int(n) for n in rng.integers(1, 8, 3)) for _ in range(3)]
                                      if hidden else [])
    for n, d, m in sizes:
        x, W, b = rng.normal(size=(n, d)), rng.normal(size=(d, m)), rng.normal(size=m)
        cases.append(Case((x, W, b), x @ W + b, f"x {x.shape}, W {W.shape}, b {b.shape}"))
    return cases


DENSE_FORWARD = Exercise(
    "dense_forward", ("dense_forward",), dense_cases,
    mistakes=(Mistake("the bias b is missing: out = x @ W + b.", lambda x, W, b: x @ W),
              Mistake("W is (D, M), so it is x @ W, not x @ W.T.", lambda x, W, b: x @ W.T + b)))


# --- mlp_forward --------------------------------------------------------------------------------

def reference_mlp(x, params):
    for i, (W, b) in enumerate(params):
        x = x @ W + b
        if i < len(params) - 1:
            x = np.maximum(x, 0)
    return x


def mlp_cases(rng, hidden):
    cases = []
    architectures = [[2, 3, 2], [4, 8, 8, 3]] + ([list(rng.integers(1, 9, rng.integers(2, 6)))
                                                   for _ in range(2)] if hidden else [])
    for sizes in architectures:
        params = [(rng.normal(size=(a, b)), rng.normal(size=b)) for a, b in zip(sizes[:-1], sizes[1:])]
        x = rng.normal(size=(int(rng.integers(1, 6)), sizes[0]))
        cases.append(Case((x, params), reference_mlp(x, params),
                          f"layer sizes {'-'.join(str(int(s)) for s in sizes)}, batch {len(x)}"))
    return cases


def _relu_everywhere(x, params):
    for W, b in params:
        x = np.maximum(x @ W + b, 0)
    return x


def _no_relu(x, params):
    for W, b in params:
        x = x @ W + b
    return x


MLP_FORWARD = Exercise(
    "mlp_forward", ("mlp_forward",), mlp_cases,
    mistakes=(Mistake("no ReLU after the last layer: the network's output is the raw scores "
                      "(logits), which softmax turns into probabilities.", _relu_everywhere),
              Mistake("apply relu after every layer except the last.", _no_relu)))


# --- softmax ------------------------------------------------------------------------------------

def softmax_cases(rng, hidden):
    z = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
    cases = [Case((z,), stable_softmax(z), "z = [[1, 2, 3], [0, 0, 0]]")]
    for n, c in [(4, 5), (1, 3)] + ([tuple(int(v) for v in rng.integers(1, 9, 2)) for _ in range(3)]
                                    if hidden else []):
        z = rng.normal(0, 3, (n, max(c, 2)))
        cases.append(Case((z,), stable_softmax(z)))
    z = np.array([[1000.0, 999.0, -1000.0], [-800.0, -800.0, -801.0]])
    if hidden:
        z = z + rng.uniform(-50, 50, (2, 1))
    cases.append(Case((z,), stable_softmax(z), "very large scores: must not overflow"))
    return cases


SOFTMAX = Exercise(
    "softmax", ("softmax",), softmax_cases, strict_floats=True,
    mistakes=(Mistake("each row must sum to 1, but your columns do: normalise over axis=1 "
                      "(with keepdims=True), not axis 0.",
                      test=lambda got, z: np.allclose(got.sum(axis=0), 1.0)),
              Mistake("each row must sum to 1; yours sum to other values. Divide each row by its "
                      "own sum: e / e.sum(axis=1, keepdims=True).",
                      test=lambda got, z: not np.allclose(got.sum(axis=1), 1.0))))


# --- cross_entropy ------------------------------------------------------------------------------

def reference_cross_entropy(probs, labels):
    return float(-np.mean(np.log(probs[np.arange(len(labels)), labels])))


def cross_entropy_cases(rng, hidden):
    probs = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]])
    labels = np.array([0, 2])
    cases = [Case((probs, labels), reference_cross_entropy(probs, labels), "two examples")]
    for n, c in [(5, 4), (1, 2)] + ([tuple(int(v) for v in rng.integers(1, 9, 2)) for _ in range(3)]
                                    if hidden else []):
        c = max(c, 2)
        probs = np.exp(log_softmax(rng.normal(0, 2, (n, c))))
        labels = rng.integers(0, c, n)
        cases.append(Case((probs, labels), reference_cross_entropy(probs, labels)))
    return cases


CROSS_ENTROPY = Exercise(
    "cross_entropy", ("cross_entropy",), cross_entropy_cases,
    mistakes=(Mistake("average over the batch: divide the sum by N (np.mean), so the loss does not "
                      "grow with the batch size.",
                      lambda p, y: float(-np.sum(np.log(p[np.arange(len(y)), y])))),
              Mistake("use only the probability of the correct class of each example: "
                      "probs[np.arange(N), labels].", lambda p, y: float(-np.mean(np.log(p)))),
              Mistake("cross-entropy is MINUS the mean log-probability (it is >= 0).",
                      lambda p, y: float(np.mean(np.log(p[np.arange(len(y)), y]))))))


EXERCISES = [SIGMOID, RELU, DENSE_FORWARD, MLP_FORWARD, SOFTMAX, CROSS_ENTROPY]
