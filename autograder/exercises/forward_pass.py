"""Lesson 01-forward-pass: sigmoid, relu, dense_forward, mlp_forward, softmax, cross_entropy,
cross_entropy_from_scores.

Also the message helpers that lessons 01-03 share (grading-side, like every answer key):
:func:`compare_with_mistakes` (mistakes recognised before the value comparison, and hints that
depend on the case, e.g. "N times too large, N = 4") and :func:`shapes_hint` (the shapes a case
expects, added to NumPy's shape errors).
"""

import copy
import warnings

import numpy as np

from autograder.exercises import AUTODIFF
from bplib.grading import Case, Exercise, Mistake, compare_values, plain
from bplib.layers import sigmoid as stable_sigmoid
from bplib.losses import log_softmax
from bplib.losses import softmax as stable_softmax

# --- messages shared by lessons 01-03 -----------------------------------------------------------

SHAPE_ERRORS = ("matmul: Input operand", "could not be broadcast", "shapes", "not aligned")


def hint_text(mistake, args):
    """A Mistake's hint; a callable hint is called with the case's arguments."""
    return mistake.hint(*args) if callable(mistake.hint) else mistake.hint


def matches(mistake, got, args):
    """Whether the learner's output ``got`` is the one ``mistake`` describes, for these args."""
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            if mistake.test is not None:
                return bool(mistake.test(got, *copy.deepcopy(args)))
            wrong = plain(mistake.answer(*copy.deepcopy(args)))
            return compare_values(got, wrong, (), 1e-6, 1e-9) is None
    except Exception:  # noqa: BLE001 - a mistake that does not apply to this case
        return False


def batch_size(args):
    return next((a.shape[0] for a in args if isinstance(a, np.ndarray) and a.ndim >= 1), None)


def compare_with_mistakes(mistakes=(), first=(), outputs=(), rtol=1e-6, atol=1e-9):
    """``Exercise.compare``: the value comparison of :func:`bplib.grading.compare_values`, with

    * ``first``: mistakes recognised before that comparison's own remarks (e.g. "transposed?"):
      when one matches a wrong answer, its hint is the whole message;
    * ``mistakes``: as ``Exercise.mistakes``, a hint added to the comparison's message.

    A hint may be a function of the case's arguments (``lambda probs, labels: f"N = {len(labels)}"``).
    """
    def compare(got, case):
        problem = compare_values(got, case.expected, outputs, rtol, atol, batch=batch_size(case.args))
        if problem is None:
            return None
        for mistake in first:
            if matches(mistake, got, case.args):
                return hint_text(mistake, case.args)
        for mistake in mistakes:
            if matches(mistake, got, case.args):
                return f"{problem}\n  Hint: {hint_text(mistake, case.args)}"
        return problem
    return compare


def is_shape_error(text):
    first_line = text.split("\n", 1)[0]
    return first_line.startswith(("ValueError", "TypeError")) and any(p in first_line for p in SHAPE_ERRORS)


def shapes_hint(describe):
    """``Exercise.explain_error`` for NumPy's shape errors: ``describe(*case.args)`` says the shapes
    this case expects, e.g. "x (N, D) = (4, 3), W (D, M) = (3, 2) -> out (N, M) = (4, 2)"."""
    def explain(text, case):
        if not is_shape_error(text):
            return None
        return (f"the shapes in this check: {describe(*case.args)}. Write the shape of each array "
                "next to each product: (N, D) @ (D, M) -> (N, M), the inner sizes must agree; a "
                "transpose (.T) is usually missing or extra.")
    return explain


def error_of(function, *args):
    """The first line of the error ``function(*args)`` raises with strict floats, or None."""
    try:
        with warnings.catch_warnings(), np.errstate(over="raise", invalid="raise", divide="raise"):
            warnings.simplefilter("ignore")
            function(*copy.deepcopy(args))
    except Exception as error:  # noqa: BLE001
        return f"{type(error).__name__}: {error}"
    return None


def same_error(text, function, args):
    """Whether the learner's error ``text`` is the error ``function(*args)`` raises."""
    wrong = error_of(function, *args)
    return wrong is not None and text.split("\n", 1)[0] == wrong


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
        cases.append(Case((z,), stable_sigmoid(z), f"z of shape {shape}"))
    big = rng.uniform(500, 1e4, 3) if hidden else np.array([800.0, 1e4])
    z = np.concatenate([-big, [0.0], big])
    cases.append(Case((z,), stable_sigmoid(z), "very large |z|: must not overflow"))
    return cases


SIGMOID = Exercise(
    "sigmoid", ("sigmoid",), sigmoid_cases, strict_floats=True,
    implemented_by=("bplib.layers.sigmoid", "bplib.layers.Sigmoid", "bplib.autograd.Value.sigmoid"),
    mistakes=(Mistake("the sign inside exp is flipped: sigmoid(z) = 1 / (1 + exp(-z)).",
                      lambda z: stable_sigmoid(-z)),
              Mistake("that is tanh(z), not the sigmoid.", np.tanh)))


# --- relu ---------------------------------------------------------------------------------------

def relu_cases(rng, hidden):
    z = np.array([-2.0, -0.5, 0.0, 0.5, 2.0])
    cases = [Case((z,), np.maximum(z, 0), "z = [-2, -0.5, 0, 0.5, 2]")]
    for shape in _shapes(rng, hidden, [(6,), (4, 3)]):
        z = rng.normal(0, 3, shape)
        cases.append(Case((z,), np.maximum(z, 0), f"z of shape {shape}"))
    return cases


def _scales_negatives(got, z):
    """Positive entries kept, negative ones multiplied by one nonzero factor (a leaky ReLU)."""
    negative = z < 0
    if not isinstance(got, np.ndarray) or got.shape != z.shape or not negative.any():
        return False
    factor = got[negative] / z[negative]
    return (np.allclose(got[~negative], z[~negative]) and np.allclose(factor, factor[0])
            and abs(factor[0]) > 1e-9 and abs(factor[0] - 1) > 1e-9)


RELU = Exercise(
    "relu", ("relu",), relu_cases,
    implemented_by=("bplib.layers.ReLU", "bplib.layers.LeakyReLU", "bplib.autograd.Value.relu"),
    mistakes=(Mistake("negative inputs must become 0; abs(z) makes them positive instead.", np.abs),
              Mistake("that is min(z, 0): ReLU keeps the positive part, max(z, 0).",
                      lambda z: np.minimum(z, 0)),
              Mistake("negative inputs must become exactly 0; you multiplied them by a factor "
                      "(that is a 'leaky' ReLU). relu(z) = max(0, z): np.maximum(z, 0).",
                      test=_scales_negatives)))


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


def describe_dense(x, W, b):
    return (f"x (N, D) = {x.shape}, W (D, M) = {W.shape}, b (M,) = {b.shape} "
            f"-> out (N, M) = {(x.shape[0], W.shape[1])}")


DENSE_FORWARD = Exercise(
    "dense_forward", ("dense_forward",), dense_cases,
    implemented_by=("bplib.layers.Linear",),
    explain_error=shapes_hint(describe_dense),
    mistakes=(Mistake("the bias b is missing: out = x @ W + b.", lambda x, W, b: x @ W),
              Mistake("W is (D, M), so it is x @ W, not x @ W.T.", lambda x, W, b: x @ W.T + b),
              Mistake("each output is a weighted SUM of the inputs; you averaged them (divided by "
                      "D). out = x @ W + b.", lambda x, W, b: x @ W / W.shape[0] + b)))


# --- mlp_forward --------------------------------------------------------------------------------

def reference_mlp(x, params):
    for i, (W, b) in enumerate(params):
        x = x @ W + b
        if i < len(params) - 1:
            x = np.maximum(x, 0)
    return x


def mlp_cases(rng, hidden):
    cases = []
    architectures = [[2, 3, 2], [4, 8, 8, 3]] + ([list(rng.integers(2, 9, rng.integers(3, 6)))
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


def _first_layer_only(got, x, params):
    W, b = params[0]
    first = x @ W + b
    return any(compare_values(got, out, (), 1e-6, 1e-9) is None for out in (first, np.maximum(first, 0)))


def describe_mlp(x, params):
    layers = ", ".join(f"W{i} {W.shape}" for i, (W, b) in enumerate(params, 1))
    return f"x (N, D) = {x.shape}, {layers} -> scores (N, C) = {(x.shape[0], params[-1][0].shape[1])}"


MLP_FORWARD = Exercise(
    "mlp_forward", ("mlp_forward",), mlp_cases,
    implemented_by=("bplib.network.Sequential", "bplib.network.mlp", "bplib.layers.Linear",
                    "bplib.layers.ReLU"),
    explain_error=shapes_hint(describe_mlp),
    compare=compare_with_mistakes(
        first=(Mistake("you returned the output of the FIRST layer only: is your `return` inside "
                       "the `for` loop? Then the function returns during the first pass through "
                       "the loop. Dedent the `return` so that it runs after the loop, once every "
                       "layer has been applied.", test=_first_layer_only),),
        mistakes=(Mistake("no ReLU after the last layer: the network's output is the raw scores "
                          "(logits), which softmax turns into probabilities.", _relu_everywhere),
                  Mistake("apply relu after every layer except the last.", _no_relu))))


# --- softmax ------------------------------------------------------------------------------------

def softmax_cases(rng, hidden):
    s = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
    cases = [Case((s,), stable_softmax(s), "s = [[1, 2, 3], [0, 0, 0]]")]
    for n, c in [(4, 5), (1, 3)] + ([tuple(int(v) for v in rng.integers(1, 9, 2)) for _ in range(3)]
                                    if hidden else []):
        s = rng.normal(0, 3, (n, max(c, 2)))
        cases.append(Case((s,), stable_softmax(s), f"s of shape {s.shape}"))
    s = np.array([[1000.0, 999.0, -1000.0], [-800.0, -800.0, -801.0]])
    if hidden:
        s = s + rng.uniform(-50, 50, (2, 1))
    cases.append(Case((s,), stable_softmax(s), "very large scores, s = [[1000, 999, -1000], "
                      "[-800, -800, -801]] (hidden: each row shifted): must not overflow"))
    return cases


def global_max_softmax(s):
    """The typical mistake: one maximum for the whole array, s.max(), instead of each row's."""
    e = np.exp(s - s.max())
    return e / e.sum(axis=1, keepdims=True)


GLOBAL_MAX_HINT = (
    "you subtracted ONE maximum, the largest score of the whole array (s.max()). A row whose scores "
    "are all far below it then underflows: exp gives 0 for every entry, and 0 / 0 is NaN. Subtract "
    "each row's OWN maximum: s - s.max(axis=1, keepdims=True) (keepdims keeps the shape (N, 1), so "
    "it broadcasts across the row).")


def explain_softmax_error(text, case):
    if same_error(text, global_max_softmax, case.args):
        return GLOBAL_MAX_HINT
    return None


SOFTMAX = Exercise(
    "softmax", ("softmax",), softmax_cases, strict_floats=True,
    implemented_by=("bplib.losses.softmax", "bplib.losses.log_softmax"),
    explain_error=explain_softmax_error,
    mistakes=(Mistake("each row must sum to 1, but your columns do: normalise over axis=1 "
                      "(with keepdims=True), not axis 0.",
                      test=lambda got, s: np.allclose(got.sum(axis=0), 1.0)),
              Mistake("each row must sum to 1; yours sum to other values. Divide each row by its "
                      "own sum: e / e.sum(axis=1, keepdims=True).",
                      test=lambda got, s: not np.allclose(got.sum(axis=1), 1.0))))


# --- cross_entropy ------------------------------------------------------------------------------

def reference_cross_entropy(probs, labels):
    return float(-np.mean(np.log(probs[np.arange(len(labels)), labels])))


def cross_entropy_cases(rng, hidden):
    probs = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]])
    labels = np.array([0, 2])
    cases = [Case((probs, labels), reference_cross_entropy(probs, labels),
                  "two examples, probs = [[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]], labels = [0, 2]")]
    for n, c in [(5, 4), (1, 2)] + ([tuple(int(v) for v in rng.integers(1, 9, 2)) for _ in range(3)]
                                    if hidden else []):
        c = max(c, 2)
        probs = np.exp(log_softmax(rng.normal(0, 2, (n, c))))
        labels = rng.integers(0, c, n)
        cases.append(Case((probs, labels), reference_cross_entropy(probs, labels),
                          f"probs of shape {probs.shape}"))
    return cases


def n_times_too_large(what):
    """A hint for a loss summed over the batch instead of averaged: it is exactly N times too large."""
    def hint(*args):
        n = len(args[-1])
        return (f"your {what} is exactly N times too large, N = {n} examples: you summed over the "
                "batch. The loss is the MEAN over the examples (np.mean, or the sum divided by N), "
                "so that it does not grow with the batch size.")
    return hint


def _summed(loss_function):
    """The loss summed over the batch (N times the mean), for recognising that mistake."""
    return lambda *args: loss_function(*args) * len(args[-1])


ALL_ROWS_HINT = ("probs[:, labels] picks the labels' columns in EVERY row: an (N, N) array, not one "
                 "probability per example. Pick one entry per row, the right class of that "
                 "example: probs[np.arange(N), labels].")


CROSS_ENTROPY = Exercise(
    "cross_entropy", ("cross_entropy",), cross_entropy_cases,
    implemented_by=("bplib.losses.SoftmaxCrossEntropyLoss",),
    compare=compare_with_mistakes(mistakes=(
        Mistake(n_times_too_large("loss"), _summed(reference_cross_entropy)),
        Mistake(ALL_ROWS_HINT, lambda p, y: float(-np.mean(np.log(p[:, y])))),
        Mistake("use only the probability of the correct class of each example: "
                "probs[np.arange(N), labels].", lambda p, y: float(-np.mean(np.log(p)))),
        Mistake("cross-entropy is MINUS the mean log-probability (it is >= 0).",
                lambda p, y: float(np.mean(np.log(p[np.arange(len(y)), y])))))))


# --- cross_entropy_from_scores ------------------------------------------------------------------

def reference_loss_from_scores(scores, labels):
    """Mean of -log softmax(scores)[n, labels[n]], by the stable log-softmax."""
    return float(-log_softmax(scores)[np.arange(len(labels)), labels].mean())


def loss_from_scores_cases(rng, hidden):
    scores, labels = np.array([[2.0, 1.0, 0.1], [0.5, 2.5, -1.0]]), np.array([0, 2])
    cases = [Case((scores, labels), reference_loss_from_scores(scores, labels),
                  "scores = [[2, 1, 0.1], [0.5, 2.5, -1]], labels = [0, 2]")]
    for n, c in [(5, 4), (1, 2)] + ([tuple(int(v) for v in rng.integers(1, 9, 2)) for _ in range(3)]
                                    if hidden else []):
        c = max(c, 2)
        scores, labels = rng.normal(0, 3, (n, c)), rng.integers(0, c, n)
        cases.append(Case((scores, labels), reference_loss_from_scores(scores, labels),
                          f"scores of shape {scores.shape}"))
    # A probability that underflows, then two rows far apart (each row's own maximum matters).
    tiny = np.array([[0.0, 800.0, -5.0]]) + (rng.uniform(-100, 100) if hidden else 0.0)
    apart = np.array([[1000.0, 999.0, 998.0], [-1000.0, -1200.0, -999.0]])
    if hidden:
        apart = apart + rng.uniform(-100, 100, (2, 1))
    cases.append(Case((tiny, np.array([0])), reference_loss_from_scores(tiny, np.array([0])),
                      "scores = [[0, 800, -5]] (hidden: shifted), label 0: the right class has "
                      "probability exp(-800), which is 0.0 in float64, but the loss is 800"))
    cases.append(Case((apart, np.array([1, 2])), reference_loss_from_scores(apart, np.array([1, 2])),
                      "very large scores in rows far apart, [[1000, 999, 998], [-1000, -1200, -999]] "
                      "(hidden: each row shifted), labels = [1, 2]"))
    return cases


def _forgot_max_outside(scores, labels):
    """-(s_y - m) + log sum exp(s - m) with m dropped outside the log: off by the row maximum."""
    n = len(labels)
    m = scores.max(axis=1, keepdims=True)
    log_sum = np.log(np.exp(scores - m).sum(axis=1))
    return float(np.mean(-scores[np.arange(n), labels] + log_sum))


def _global_max_loss(scores, labels):
    n = len(labels)
    m = scores.max()
    return float(np.mean(m - scores[np.arange(n), labels] + np.log(np.exp(scores - m).sum(axis=1))))


def _through_probabilities(scores, labels):
    return reference_cross_entropy(stable_softmax(scores), labels)


def explain_loss_from_scores_error(text, case):
    if same_error(text, _global_max_loss, case.args):
        return ("you subtracted ONE maximum, the largest score of the whole array (scores.max()): "
                "in a row far below it every exp underflows to 0, and log(0) = -inf. Use each "
                "row's own maximum, scores.max(axis=1, keepdims=True).")
    if same_error(text, _through_probabilities, case.args):
        return ("a probability underflowed to 0.0 and you took its log (log(0) = -inf). The "
                "softmax is fine, but probabilities like exp(-800) do not exist in float64. Do not "
                "compute probabilities at all: write -log p_y with the softmax formula and "
                "simplify on paper first; the log undoes the exp.")
    if text.startswith("FloatingPointError: overflow"):
        return ("exp of a large positive score overflowed. In log(sum_j exp(s_j)), factor out "
                "exp(m) with m the row's maximum: log(sum_j exp(s_j)) = m + log(sum_j exp(s_j - m)).")
    return None


CROSS_ENTROPY_FROM_SCORES = Exercise(
    "cross_entropy_from_scores", ("cross_entropy_from_scores",), loss_from_scores_cases,
    strict_floats=True,
    implemented_by=("bplib.losses.SoftmaxCrossEntropyLoss", "bplib.losses.log_softmax"),
    explain_error=explain_loss_from_scores_error,
    compare=compare_with_mistakes(mistakes=(
        Mistake(n_times_too_large("loss"), _summed(reference_loss_from_scores)),
        Mistake("you subtracted the row maximum m inside the log-sum-exp but did not add it back: "
                "log(sum_j exp(s_j)) = m + log(sum_j exp(s_j - m)).", _forgot_max_outside),
        Mistake(ALL_ROWS_HINT.replace("probs", "scores").replace("probability", "score"),
                lambda s, y: float(np.mean(-s[:, y] + np.log(np.exp(
                    s - s.max(axis=1, keepdims=True)).sum(axis=1)) + s.max(axis=1)))),
        Mistake("the sign is flipped: the loss -log p_y is >= 0, and -log p_y = "
                "-s_y + log(sum_j exp(s_j)).",
                lambda s, y: -reference_loss_from_scores(s, y)))))


# bplib's automatic differentiation computes any derivative asked for here by hand
OFF_LIMITS = AUTODIFF

EXERCISES = [SIGMOID, RELU, DENSE_FORWARD, MLP_FORWARD, SOFTMAX, CROSS_ENTROPY,
             CROSS_ENTROPY_FROM_SCORES]
