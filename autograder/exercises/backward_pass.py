"""Lesson 03-backward-pass: dense_backward, relu_backward, sigmoid_backward, softmax_cross_entropy,
softmax_backward, mlp_loss_and_grads.

Every expected gradient is a central-difference gradient (:func:`bplib.gradcheck.numerical_gradient`)
of trusted forward code, computed here on random inputs. The probes (how the learner's functions are
called) are in :mod:`bplib.probes.backward_pass`.
"""

import numpy as np

from autograder.exercises import AUTODIFF
from autograder.exercises.forward_pass import compare_with_mistakes, is_shape_error, n_times_too_large
from bplib.gradcheck import numerical_gradient
from bplib.grading import Case, Exercise, Mistake
from bplib.layers import sigmoid
from bplib.losses import log_softmax, softmax
from bplib.probes.backward_pass import (
    as_dict,
    dense_probe,
    mlp_probe,
    relu_probe,
    sigmoid_probe,
    softmax_probe,
)

# Finite differences agree with a right answer to ~1e-9; every typical mistake is off by far more.
RTOL, ATOL = 1e-5, 1e-8

# Finite differences of the forward pass would pass every check here without any backward pass:
# bplib's numerical_gradient (imported by the notebook for its demonstrations) is off limits in
# the answers, like bplib's own layers.
NUMERICAL = "bplib.gradcheck.numerical_gradient"


def _away_from_zero(rng, shape, low=0.1, high=3.0):
    """Random values with |v| in [low, high] and random signs: never near ReLU's kink."""
    return rng.uniform(low, high, shape) * rng.choice([-1.0, 1.0], shape)


# --- dense_backward -----------------------------------------------------------------------------

def _dense_gradients(x, W, b, dout):
    """(dx, dW, db) of sum(dense(x, W, b) * dout), by central differences."""
    x, W, b = x.copy(), W.copy(), b.copy()

    def forward():
        return x @ W + b
    return tuple(numerical_gradient(forward, a, dout=dout) for a in (x, W, b))


def dense_backward_cases(rng, hidden):
    x = np.array([[1.0, 2.0], [3.0, -1.0], [0.0, 1.0], [-2.0, 0.5]])
    W = np.array([[1.0, 0.0, -1.0], [0.5, 2.0, 1.0]])
    b = np.array([0.0, 1.0, 2.0])
    dout = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 2.0], [0.0, 1.0, 0.0], [1.0, 1.0, 1.0]])
    cases = [Case((x, W, b, dout), _dense_gradients(x, W, b, dout),
                  "N=4, D=2, M=3, x = [[1, 2], [3, -1], [0, 1], [-2, 0.5]], "
                  "dout = [[1, 0, 0], [0, 0, 2], [0, 1, 0], [1, 1, 1]]")]
    sizes = [(4, 3, 3), (5, 4, 2), (1, 3, 4)]
    if hidden:
        sizes += [tuple(int(n) for n in rng.integers(1, 8, 3)) for _ in range(3)]
    for n, d, m in sizes:
        scale = rng.uniform(0.5, 3.0) if hidden else 1.0
        x, W = rng.normal(0, scale, (n, d)), rng.normal(size=(d, m))
        b, dout = rng.normal(size=m), rng.normal(size=(n, m))
        cases.append(Case((x, W, b, dout), _dense_gradients(x, W, b, dout),
                          f"x {x.shape}, W {W.shape}, b {b.shape}, dout {dout.shape}"))
    return cases


def describe_dense_backward(x, W, b, dout):
    n, d = x.shape
    m = W.shape[1]
    return (f"dout (N, M) = {dout.shape}, cache: x (N, D) = {x.shape}, W (D, M) = {W.shape}, "
            f"b (M,) = {b.shape} -> dx (N, D) = {(n, d)}, dW (D, M) = {(d, m)}, db (M,) = {(m,)}")


def explain_dense_backward_error(text, case):
    if not is_shape_error(text):
        return None
    return (f"the shapes in this check: {describe_dense_backward(*case.args)}. Each gradient has "
            "the shape of its array, and only one product of the right arrays gives it: dx = "
            "dout @ W.T is (N, M) @ (M, D), dW = x.T @ dout is (D, N) @ (N, M). Write the shape "
            "next to every array in your products.")


DENSE_BACKWARD = Exercise(
    "dense_backward", ("dense_backward",), dense_backward_cases, probe=dense_probe,
    outputs=("dx", "dW", "db"), rtol=RTOL, atol=ATOL,
    implemented_by=("bplib.layers.Linear.backward", NUMERICAL),
    explain_error=explain_dense_backward_error,
    mistakes=(
        Mistake("dW must have W's shape (D, M): dW = x.T @ dout. dout.T @ x is its transpose.",
                lambda x, W, b, dout: (dout @ W.T, dout.T @ x, dout.sum(axis=0))),
        Mistake("db must have b's shape (M,). b is added to every row of out, so its gradient is "
                "the sum of dout over the batch: db = dout.sum(axis=0).",
                lambda x, W, b, dout: (dout @ W.T, x.T @ dout, dout)),
        Mistake("db is the SUM of dout over the batch, not the mean: the same b is used by every "
                "example, and the gradients of all its uses add up (the 1/N of the mean loss is "
                "already inside dout).",
                lambda x, W, b, dout: (dout @ W.T, x.T @ dout, dout.mean(axis=0))),
        Mistake("do not divide dW by N: the 1/N of the mean loss is already inside dout, and a "
                "layer only applies the chain rule. dW = x.T @ dout.",
                lambda x, W, b, dout: (dout @ W.T, x.T @ dout / len(x), dout.sum(axis=0))),
        Mistake("the sum over the batch goes over axis 0 (the examples): db = dout.sum(axis=0).",
                lambda x, W, b, dout: (dout @ W.T, x.T @ dout, dout.sum(axis=1))),
        Mistake("dx = dout @ W.T: (N, M) @ (M, D) -> (N, D). Without the transpose the product "
                "only has the right shape by accident (when D = M).",
                lambda x, W, b, dout: (dout @ W, x.T @ dout, dout.sum(axis=0))),
    ))


# --- relu_backward ------------------------------------------------------------------------------

def _relu_gradient(x, dout):
    x = x.copy()
    return numerical_gradient(lambda: np.maximum(x, 0), x, dout=dout)


def relu_backward_cases(rng, hidden):
    x = np.array([[-2.0, -0.5, 0.5, 2.0]])
    dout = np.array([[1.0, -2.0, 3.0, -4.0]])
    cases = [Case((x, dout), _relu_gradient(x, dout),
                  "x = [[-2, -0.5, 0.5, 2]], dout = [[1, -2, 3, -4]]")]
    shapes = [(3, 5), (6, 2)]
    if hidden:
        shapes += [tuple(int(n) for n in rng.integers(1, 8, 2)) for _ in range(3)]
    for shape in shapes:
        x, dout = _away_from_zero(rng, shape), rng.normal(size=shape)
        cases.append(Case((x, dout), _relu_gradient(x, dout), f"x and dout of shape {shape}"))
    return cases


RELU_BACKWARD = Exercise(
    "relu_backward", ("relu_backward",), relu_backward_cases, probe=relu_probe,
    rtol=RTOL, atol=ATOL,
    implemented_by=("bplib.layers.ReLU", "bplib.layers.LeakyReLU", "bplib.autograd.Value.relu",
                    NUMERICAL),
    mistakes=(
        Mistake("multiply by dout: by the chain rule dx = dout * relu'(x). (x > 0) alone is only "
                "ReLU's local derivative.", lambda x, dout: (x > 0).astype(float)),
        Mistake("ReLU's derivative is 0 where x < 0: zero dout there, dx = dout * (x > 0). You "
                "passed dout through unchanged.", lambda x, dout: dout),
        Mistake("the mask is the wrong way round: the gradient passes where x > 0 (the unit was "
                "active) and is blocked where x < 0.", lambda x, dout: dout * (x < 0)),
        Mistake("the mask comes from the forward pass's input x (the cache), not from the sign of "
                "dout: dx = dout * (x > 0).", lambda x, dout: np.maximum(dout, 0)),
        Mistake("multiply by ReLU's derivative (0 or 1), not by its value max(0, x).",
                lambda x, dout: dout * np.maximum(x, 0)),
    ))


# --- sigmoid_backward ---------------------------------------------------------------------------

def _sigmoid_gradient(x, dout):
    x = x.copy()
    return numerical_gradient(lambda: sigmoid(x), x, dout=dout)


def sigmoid_backward_cases(rng, hidden):
    x = np.array([[0.0, 2.0, -2.0]])
    dout = np.array([[1.0, 1.0, 2.0]])
    cases = [Case((x, dout), _sigmoid_gradient(x, dout), "x = [[0, 2, -2]], dout = [[1, 1, 2]]")]
    shapes = [(3, 4), (5, 1)]
    if hidden:
        shapes += [tuple(int(n) for n in rng.integers(1, 8, 2)) for _ in range(3)]
    for shape in shapes:
        x = rng.normal(0, rng.uniform(1.0, 4.0) if hidden else 2.0, shape)
        dout = rng.normal(size=shape)
        cases.append(Case((x, dout), _sigmoid_gradient(x, dout), f"x and dout of shape {shape}"))
    return cases


SIGMOID_BACKWARD = Exercise(
    "sigmoid_backward", ("sigmoid_backward",), sigmoid_backward_cases,
    probe=sigmoid_probe, rtol=RTOL, atol=ATOL,
    # not bplib.layers.sigmoid: the probe's forward pass (like the notebook's) uses it
    implemented_by=("bplib.layers.Sigmoid", "bplib.autograd.Value.sigmoid", NUMERICAL),
    mistakes=(
        Mistake("the cache already holds the OUTPUT out = sigmoid(x), not the input x. The "
                "derivative is out * (1 - out) with that out: do not apply the sigmoid (or its "
                "derivative formula in terms of x) to it again.",
                lambda x, dout: dout * sigmoid(sigmoid(x)) * (1 - sigmoid(sigmoid(x)))),
        Mistake("multiply by dout (the chain rule): dx = dout * out * (1 - out). out * (1 - out) "
                "alone is the sigmoid's local derivative.",
                lambda x, dout: sigmoid(x) * (1 - sigmoid(x))),
        Mistake("you passed dout through unchanged: multiply it by the sigmoid's derivative "
                "out * (1 - out).", lambda x, dout: dout),
        Mistake("the sigmoid's derivative is out * (1 - out), not out.",
                lambda x, dout: dout * sigmoid(x)),
        Mistake("1 - out**2 is the derivative of tanh; the sigmoid's is out * (1 - out).",
                lambda x, dout: dout * (1 - sigmoid(x) ** 2)),
    ))


# --- softmax_cross_entropy ----------------------------------------------------------------------

def reference_loss(scores, labels):
    """Mean cross-entropy of softmax(scores) against integer labels (stable, via log-softmax)."""
    return float(-log_softmax(scores)[np.arange(len(labels)), labels].mean())


def _one_hot(labels, n_classes):
    return np.eye(n_classes)[labels]


def _softmax_ce_expected(scores, labels):
    scores = scores.copy()
    return (reference_loss(scores, labels),
            numerical_gradient(lambda: reference_loss(scores, labels), scores))


def softmax_ce_cases(rng, hidden):
    scores = np.array([[0.0, 0.0, 0.0], [1.0, 2.0, 3.0]])
    labels = np.array([0, 2])
    cases = [Case((scores, labels), _softmax_ce_expected(scores, labels),
                  "scores [[0, 0, 0], [1, 2, 3]], labels [0, 2]")]
    sizes = [(4, 3), (3, 5), (1, 4)]
    if hidden:
        sizes += [(int(rng.integers(1, 9)), int(rng.integers(2, 9))) for _ in range(3)]
    for n, c in sizes:
        scores = rng.normal(0, rng.uniform(0.5, 5.0) if hidden else 2.0, (n, c))
        labels = rng.integers(0, c, n)
        if n > 1 and len(set(labels.tolist())) == 1:  # distinct labels reveal indexing mistakes
            labels[0] = (labels[0] + 1) % c
        cases.append(Case((scores, labels), _softmax_ce_expected(scores, labels),
                          f"scores of shape {scores.shape}, labels {', '.join(map(str, labels))}"))
    # Scores far from 0: a softmax without each row's max shift overflows (or underflows to 0 / 0).
    scores = np.array([[1000.0, 999.0, 998.0], [-1000.0, -1001.0, -999.0]])
    if hidden:
        scores = scores + rng.uniform(-100, 100, (2, 1))
    labels = np.array([0, 2])
    cases.append(Case((scores, labels), _softmax_ce_expected(scores, labels),
                      "very large scores, [[1000, 999, 998], [-1000, -1001, -999]] (hidden: each "
                      "row shifted), labels 0, 2"))
    return cases


def _ce_variant(scores, labels, gradient, total=False):
    n, c = scores.shape
    probs, targets = softmax(scores), _one_hot(labels, c)
    loss = reference_loss(scores, labels) * (n if total else 1)
    return loss, gradient(probs, targets, n)


def _ce_wrong_index(scores, labels):
    n = len(labels)
    dscores = softmax(scores)
    dscores[:, labels] -= 1.0
    return reference_loss(scores, labels), dscores / n


def _loss_not_finite(got, scores, labels):
    return isinstance(got, tuple) and len(got) == 2 and not np.all(np.isfinite(got[0]))


def _dscores_not_finite(got, scores, labels):
    return (isinstance(got, tuple) and len(got) == 2 and isinstance(got[1], np.ndarray)
            and not np.all(np.isfinite(got[1])))


def _ce_all_rows(scores, labels):
    n = len(labels)
    probs = softmax(scores)
    dscores = probs.copy()
    dscores[np.arange(n), labels] -= 1.0
    return float(-np.mean(np.log(probs[:, labels]))), dscores / n


SOFTMAX_CROSS_ENTROPY = Exercise(
    "softmax_cross_entropy", ("softmax_cross_entropy",), softmax_ce_cases,
    implemented_by=("bplib.losses.SoftmaxCrossEntropyLoss", NUMERICAL),
    compare=compare_with_mistakes(outputs=("loss", "dscores"), rtol=RTOL, atol=ATOL, mistakes=(
        Mistake("for these large scores your softmax gives NaN (and so do the loss and dscores): "
                "a softmax computed without subtracting each row's maximum overflows (exp(1000) = "
                "inf, and inf / inf = NaN), or underflows to 0 / 0 when one maximum serves the "
                "whole batch. Use the given `softmax`, or subtract scores.max(axis=1, "
                "keepdims=True) before np.exp.",
                test=_dscores_not_finite),
        Mistake(n_times_too_large("loss"),
                lambda s, y: _ce_variant(s, y, lambda p, t, n: (p - t) / n, total=True)),
        Mistake("probs[:, labels] picks the labels' columns in EVERY row, an (N, N) array: take "
                "one probability per example, probs[np.arange(N), labels].", _ce_all_rows),
        Mistake("dscores is the gradient of the MEAN loss over the batch: divide p - Y by N.",
                lambda s, y: _ce_variant(s, y, lambda p, t, n: p - t)),
        Mistake("you divided by N twice: the mean's 1/N appears once, dscores = (p - Y) / N.",
                lambda s, y: _ce_variant(s, y, lambda p, t, n: (p - t) / n ** 2)),
        Mistake("the sign is flipped: dscores = (p - Y) / N. (Raising the right class's score "
                "lowers the loss, so its gradient is negative.)",
                lambda s, y: _ce_variant(s, y, lambda p, t, n: (t - p) / n)),
        Mistake("subtract 1 at the right class of each example: dscores = (p - Y) / N, where Y is "
                "one-hot. You returned p / N.",
                lambda s, y: _ce_variant(s, y, lambda p, t, n: p / n)),
        Mistake("dscores[:, labels] subtracts 1 in EVERY row at every label's column. Pick one "
                "entry per row: dscores[np.arange(N), labels] -= 1.", _ce_wrong_index),
        Mistake("the loss is the mean over the batch, not the sum, and dscores = (p - Y) / N is "
                "the gradient of that mean.",
                lambda s, y: _ce_variant(s, y, lambda p, t, n: p - t, total=True)),
        Mistake("the loss is not a finite number. If you wrote dscores = probs (no copy), then "
                "dscores[...] -= 1 also changed probs: take the log before, or use probs.copy().",
                test=_loss_not_finite),
    )))


# --- softmax_backward ---------------------------------------------------------------------------

def _softmax_gradient(s, dout):
    s = s.copy()
    return numerical_gradient(lambda: softmax(s), s, dout=dout)


def softmax_backward_cases(rng, hidden):
    s = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
    dout = np.array([[1.0, 0.0, 0.0], [0.0, 2.0, -1.0]])
    cases = [Case((s, dout), _softmax_gradient(s, dout),
                  "s = [[1, 2, 3], [0, 0, 0]], dout = [[1, 0, 0], [0, 2, -1]]")]
    shapes = [(4, 3), (3, 5), (1, 4)]
    if hidden:
        shapes += [(int(rng.integers(1, 9)), int(rng.integers(2, 9))) for _ in range(3)]
    for shape in shapes:
        s, dout = rng.normal(0, 2, shape), rng.normal(size=shape)
        cases.append(Case((s, dout), _softmax_gradient(s, dout),
                          f"s and dout of shape {shape}"))
    return cases


def explain_softmax_backward_error(text, case):
    if not is_shape_error(text):
        return None
    n, c = case.args[0].shape
    return (f"here p and dout are ({n}, {c}), (N, C). A sum over each row, (dout * p).sum(axis=1), "
            f"has shape ({n},); with keepdims=True it keeps the shape ({n}, 1), which broadcasts "
            "across the row.")


SOFTMAX_BACKWARD = Exercise(
    "softmax_backward", ("softmax_backward",), softmax_backward_cases, probe=softmax_probe,
    rtol=RTOL, atol=ATOL, implemented_by=(NUMERICAL,),
    explain_error=explain_softmax_backward_error,
    mistakes=(
        Mistake("that is only the diagonal of the Jacobian, diag(p): each probability depends on "
                "EVERY score of its row (the -p p^T part), so subtract the coupling term: "
                "ds = p * (dout - sum_i dout_i p_i).", lambda s, dout: softmax(s) * dout),
        Mistake("p * (1 - p) is the diagonal of the Jacobian only, the sigmoid's rule: the "
                "softmax also couples the entries of a row through -p p^T.",
                lambda s, dout: dout * softmax(s) * (1 - softmax(s))),
        Mistake("the sum_i dout_i p_i runs over the classes of ONE example, axis=1 (with "
                "keepdims=True), not over the batch.",
                lambda s, dout: softmax(s) * (dout - (dout * softmax(s)).sum(axis=0, keepdims=True))),
        Mistake("the sign of the coupling term is flipped: ds = p * (dout - sum_i dout_i p_i), from "
                "the -p p^T of the Jacobian.",
                lambda s, dout: softmax(s) * (dout + (dout * softmax(s)).sum(axis=1, keepdims=True))),
        Mistake("the coupling term is sum_i dout_i p_i, weighted by p: (dout * p).sum(axis=1, "
                "keepdims=True). An unweighted dout.sum(...) misses the p_i.",
                lambda s, dout: softmax(s) * (dout - dout.sum(axis=1, keepdims=True))),
    ))


# --- mlp_loss_and_grads -------------------------------------------------------------------------

def _forward(x, params, relu_last=False):
    """Scores of the ReLU MLP and the pre-activations of every layer."""
    pre = []
    for i, (W, b) in enumerate(params):
        z = x @ W + b
        pre.append(z)
        x = np.maximum(z, 0) if (i < len(params) - 1 or relu_last) else z
    return x, pre


def reference_mlp_loss(x, labels, params):
    return reference_loss(_forward(x, params)[0], labels)


def reference_loss_and_grads(x, labels, params, relu_backward=True, relu_last=False):
    """Analytic backprop (for recognising mistakes; the expected values are numerical)."""
    scores, pre = _forward(x, params, relu_last)
    n, c = scores.shape
    loss = reference_loss(scores, labels)
    dout = (softmax(scores) - _one_hot(labels, c)) / n
    grads = [None] * len(params)
    for i in reversed(range(len(params))):
        if relu_backward and (i < len(params) - 1 or relu_last):
            dout = dout * (pre[i] > 0)
        inputs = x if i == 0 else np.maximum(pre[i - 1], 0)
        W = params[i][0]
        grads[i] = (inputs.T @ dout, dout.sum(axis=0))
        dout = dout @ W.T
    return loss, grads


def _random_network(rng, sizes, batch, scale):
    while True:  # redraw until no pre-activation is near ReLU's kink, where finite differences fail
        params = [(rng.normal(0, 1.5 / np.sqrt(a), (a, b)), rng.normal(0, 0.5, b))
                  for a, b in zip(sizes[:-1], sizes[1:])]
        x = rng.normal(0, scale, (batch, sizes[0]))
        pre = _forward(x, params)[1][:-1]
        if all(np.abs(z).min() > 1e-3 for z in pre):
            return x, params


def _mlp_expected(x, labels, params):
    params = [(W.copy(), b.copy()) for W, b in params]

    def loss():
        return reference_mlp_loss(x, labels, params)
    grads = [(numerical_gradient(loss, W), numerical_gradient(loss, b)) for W, b in params]
    return as_dict(loss(), grads)


def mlp_cases(rng, hidden):
    architectures = [[2, 3, 2], [4, 6, 5, 3]]
    if hidden:
        architectures += [[int(n) for n in rng.integers(1, 8, rng.integers(2, 6))] for _ in range(3)]
    cases = []
    for sizes in architectures:
        sizes[-1] = max(sizes[-1], 2)  # at least two classes
        batch = 3 if not hidden else int(rng.integers(2, 7))
        x, params = _random_network(rng, sizes, batch, rng.uniform(0.5, 2.0) if hidden else 1.0)
        labels = rng.integers(0, sizes[-1], batch)
        cases.append(Case((x, labels, params), _mlp_expected(x, labels, params),
                          f"layer sizes {'-'.join(str(s) for s in sizes)}, batch {batch}"))
    return cases


def _mistake(**options):
    return lambda x, labels, params: as_dict(*reference_loss_and_grads(x, labels, params, **options))


def _reversed_grads(x, labels, params):
    loss, grads = reference_loss_and_grads(x, labels, params)
    return as_dict(loss, grads[::-1])


def _in_reverse_order(got, x, labels, params):
    """grads listed last layer first: each (dW, db) has the shapes of the mirrored layer's."""
    if not isinstance(got, dict) or len(params) < 2:
        return False
    shapes = [(W.shape, b.shape) for W, b in params]
    try:
        got_shapes = [(np.shape(got[f"dW{i}"]), np.shape(got[f"db{i}"])) for i in range(1, len(params) + 1)]
    except KeyError:
        return False
    return got_shapes != shapes and got_shapes == shapes[::-1]


def _reverse_order_hint(x, labels, params):
    last = len(params)
    return (f"your grads are in reverse order: grads[0] has the shapes of the LAST layer's "
            f"parameters (dW{last} {params[-1][0].shape}, where W1 is {params[0][0].shape}). grads "
            "must be in the same order as params: grads[0] = (dW1, db1) for the first layer. The "
            "backward pass visits the layers last to first, so fill grads by index "
            "(grads[i] = (dW, db)) or reverse the list at the end.")


def describe_mlp_backward(x, labels, params):
    layers = ", ".join(f"W{i} {W.shape}" for i, (W, b) in enumerate(params, 1))
    outputs = ", ".join(f"({x.shape[0]}, {W.shape[1]}) for layer {i}"
                        for i, (W, b) in enumerate(params, 1))
    return f"x (N, D) = {x.shape}, {layers}; each layer's output, and so the dout it receives: {outputs}"


def explain_mlp_error(text, case):
    if not is_shape_error(text):
        return None
    return (f"the shapes in this check: {describe_mlp_backward(*case.args)}. Each layer's backward "
            "must receive the gradient of ITS output: dscores for the last layer, then for each "
            "layer below, the dx that the layer above it returned (relu_backward, then "
            "dense_backward).")


MLP_LOSS_AND_GRADS = Exercise(
    "mlp_loss_and_grads", ("mlp_loss_and_grads",), mlp_cases, probe=mlp_probe,
    implemented_by=("bplib.network.Sequential", "bplib.network.mlp", "bplib.network.backward_parameters",
                    "bplib.layers.Linear.backward", "bplib.layers.ReLU.backward",
                    "bplib.losses.SoftmaxCrossEntropyLoss", NUMERICAL),
    explain_error=explain_mlp_error,
    compare=compare_with_mistakes(
        rtol=RTOL, atol=ATOL,
        first=(Mistake(_reverse_order_hint, test=_in_reverse_order),),
        mistakes=(
        Mistake("between two dense layers the gradient must go back through the ReLU: call "
                "relu_backward (with that ReLU's cache) before the dense_backward below it.",
                _mistake(relu_backward=False)),
        Mistake("no ReLU after the last layer: the scores go straight into softmax_cross_entropy.",
                _mistake(relu_last=True)),
        Mistake("grads must be in the same order as params: grads[0] = (dW1, db1) for the first "
                "layer. The backward pass visits the layers last to first, so fill grads by index "
                "(or reverse the list at the end).", _reversed_grads),
    )))


# bplib's automatic differentiation computes any derivative asked for here by hand
OFF_LIMITS = AUTODIFF

EXERCISES = [DENSE_BACKWARD, RELU_BACKWARD, SIGMOID_BACKWARD, SOFTMAX_CROSS_ENTROPY,
             SOFTMAX_BACKWARD, MLP_LOSS_AND_GRADS]
