"""Lesson 05-update-rule: sgd_step, critical_learning_rate, momentum_step, adam_step, train.

The step functions follow :mod:`bplib.optim` (PyTorch's conventions): momentum keeps
``v <- momentum v + g`` and steps ``w <- w - learning_rate v``; Adam counts steps from ``t = 1``.
``train`` is judged by what the learner's loop does (:mod:`bplib.probes.update_rule` watches it on
a random two-circles data set drawn at grading time): every epoch must feed every example once, in
mini-batches of ``batch_size``, in a new random order, with the matching labels; and the trained
weights must be those of plain SGD replayed here on exactly the batches the loop fed.
"""

import math

import numpy as np

from bplib import data
from bplib.grading import Case, Exercise, Mistake
from bplib.losses import SoftmaxCrossEntropyLoss
from bplib.network import backward_parameters, mlp
from bplib.probes.update_rule import probe_train

# bplib's own versions of what the exercises ask for: an answer that calls one scores 0 for it.
SGD = ("bplib.optim.SGD",)
ADAM = ("bplib.optim.Adam",)
TRAINING_LOOP = ("bplib.train.fit", "bplib.optim.SGD", "bplib.optim.Adam", "bplib.optim.Optimizer.step")


def _shapes(rng, hidden, fixed):
    """The fixed shapes, plus (when hidden) three random ones of 1 to 3 dimensions."""
    extra = [tuple(int(n) for n in rng.integers(1, 6, size=rng.integers(1, 4))) for _ in range(3)]
    return list(fixed) + (extra if hidden else [])


def _rate(rng):
    return float(10 ** rng.uniform(-3, 0))


# --- sgd_step -----------------------------------------------------------------------------------

def reference_sgd_step(w, grad, learning_rate):
    """w - learning_rate * grad: one step of gradient descent (a new array; w is not changed)."""
    return w - learning_rate * grad


def sgd_cases(rng, hidden):
    w, grad = np.array([1.0, 2.0, 3.0]), np.array([0.5, -1.0, 0.0])
    cases = [Case((w, grad, 0.1), reference_sgd_step(w, grad, 0.1), "w = [1, 2, 3], grad = [0.5, -1, 0], "
                  "learning_rate = 0.1"),
             Case((1.0, 2.0, 0.1), reference_sgd_step(1.0, 2.0, 0.1), "a plain number: w = 1, grad = 2")]
    for shape in _shapes(rng, hidden, [(3, 2)]):
        w, grad, rate = rng.normal(size=shape), rng.normal(size=shape), _rate(rng)
        cases.append(Case((w, grad, rate), reference_sgd_step(w, grad, rate),
                          f"w and grad of shape {shape}, learning_rate = {rate:.3g}"))
    return cases


SGD_STEP = Exercise(
    "sgd_step", ("sgd_step",), sgd_cases, implemented_by=SGD,
    mistakes=(Mistake("the sign is flipped: the gradient points uphill, so step against it: "
                      "w - learning_rate * grad.", lambda w, g, r: w + r * g),
              Mistake("the learning rate is missing: w - learning_rate * grad.", lambda w, g, r: w - g),
              Mistake("multiply the gradient by the learning rate; do not divide by it.",
                      lambda w, g, r: w - g / r),
              Mistake("the gradient is missing: the step is learning_rate * grad.",
                      lambda w, g, r: w - r)))


# --- critical_learning_rate ---------------------------------------------------------------------

def reference_critical_learning_rate(A):
    """2 / lambda_max for the quadratic L(w) = 1/2 w^T A w (A symmetric positive definite)."""
    return float(2.0 / np.linalg.eigvalsh(A).max())


def random_spd(rng, size):
    """A random symmetric positive definite matrix, eigenvalues log-uniform in [0.01, 100]."""
    Q, _ = np.linalg.qr(rng.normal(size=(size, size)))
    return (Q * 10 ** rng.uniform(-2, 2, size)) @ Q.T


def critical_cases(rng, hidden):
    fixed = [(np.array([[4.0]]), "A = [[4]]: L = 2 w^2"),
             (np.diag([1.0, 20.0]), "A = diag(1, 20)"),
             (np.array([[2.0, 1.0], [1.0, 2.0]]), "A = [[2, 1], [1, 2]], eigenvalues 1 and 3")]
    if hidden:
        fixed += [(random_spd(rng, int(rng.integers(2, 7))), "a random symmetric positive definite A")
                  for _ in range(3)]
    return [Case((A,), reference_critical_learning_rate(A), label) for A, label in fixed]


CRITICAL_LEARNING_RATE = Exercise(
    "critical_learning_rate", ("critical_learning_rate",), critical_cases,
    mistakes=(Mistake("that is 2 / (smallest eigenvalue): the steepest direction, with the LARGEST "
                      "eigenvalue, is the first to blow up.",
                      lambda A: 2.0 / np.linalg.eigvalsh(A).min()),
              Mistake("that is 1 / lambda_max, the rate at which the steepest direction converges in "
                      "one step; divergence starts at twice that.",
                      lambda A: 1.0 / np.linalg.eigvalsh(A).max()),
              Mistake("the diagonal of A holds its eigenvalues only when A is diagonal; use "
                      "np.linalg.eigvalsh(A).", lambda A: 2.0 / np.max(np.diag(A))),
              Mistake("the trace is the SUM of the eigenvalues; you need the largest one.",
                      lambda A: 2.0 / np.trace(A)),
              Mistake("the Frobenius norm is larger than lambda_max; use np.linalg.eigvalsh(A).",
                      lambda A: 2.0 / np.linalg.norm(A))))


# --- momentum_step ------------------------------------------------------------------------------

def reference_momentum_step(w, grad, velocity, learning_rate, momentum):
    """v <- momentum v + grad;  w <- w - learning_rate v.  Returns (new_w, new_velocity)."""
    new_velocity = momentum * velocity + grad
    return w - learning_rate * new_velocity, new_velocity


def momentum_cases(rng, hidden):
    w, grad = np.array([1.0, -1.0]), np.array([0.5, 0.5])
    cases = [Case((w, grad, np.zeros(2), 0.1, 0.9),
                   reference_momentum_step(w, grad, np.zeros(2), 0.1, 0.9),
                   "first step: velocity = 0, learning_rate = 0.1, momentum = 0.9"),
             Case((w, grad, np.array([1.0, -2.0]), 0.1, 0.9),
                  reference_momentum_step(w, grad, np.array([1.0, -2.0]), 0.1, 0.9),
                  "velocity = [1, -2], learning_rate = 0.1, momentum = 0.9")]
    for shape in _shapes(rng, hidden, [(3, 2)]):
        w, grad, velocity = (rng.normal(size=shape) for _ in range(3))
        rate, momentum = _rate(rng), float(rng.uniform(0.5, 0.99))
        cases.append(Case((w, grad, velocity, rate, momentum),
                          reference_momentum_step(w, grad, velocity, rate, momentum),
                          f"shape {shape}, learning_rate = {rate:.3g}, momentum = {momentum:.3g}"))
    return cases


MOMENTUM_STEP = Exercise(
    "momentum_step", ("momentum_step",), momentum_cases, outputs=("new_w", "new_velocity"),
    implemented_by=SGD,
    mistakes=(Mistake("update the velocity first, then step with the NEW velocity: "
                      "v = momentum * v + grad; w = w - learning_rate * v.",
                      lambda w, g, v, r, m: (w - r * v, m * v + g)),
              Mistake("that is the other momentum convention (v = momentum v - learning_rate grad; "
                      "w = w + v). This course, bplib.optim.SGD and PyTorch use v = momentum v + grad; "
                      "w = w - learning_rate v.",
                      lambda w, g, v, r, m: (w + m * v - r * g, m * v - r * g)),
              Mistake("the old velocity must be multiplied by momentum: v = momentum * v + grad.",
                      lambda w, g, v, r, m: (w - r * (v + g), v + g)),
              Mistake("that is an average, v = momentum v + (1 - momentum) grad (Adam's first "
                      "moment); plain momentum adds the whole gradient: v = momentum * v + grad.",
                      lambda w, g, v, r, m: (w - r * (m * v + (1 - m) * g), m * v + (1 - m) * g)),
              Mistake("step against the velocity: w - learning_rate * v.",
                      lambda w, g, v, r, m: (w + r * (m * v + g), m * v + g))))


# --- adam_step ----------------------------------------------------------------------------------

def reference_adam_step(w, grad, m, v, t, learning_rate=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
    """One Adam step (t = 1 for the first). Returns (new_w, new_m, new_v)."""
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad * grad
    m_hat, v_hat = m / (1 - beta1 ** t), v / (1 - beta2 ** t)
    return w - learning_rate * m_hat / (np.sqrt(v_hat) + eps), m, v


def adam_cases(rng, hidden):
    w, grad = np.array([1.0, 2.0, -1.0]), np.array([0.1, -0.2, 0.3])
    first = (w, grad, np.zeros(3), np.zeros(3), 1, 0.01, 0.9, 0.999, 1e-8)
    later = (w, grad, np.array([0.05, -0.1, 0.0]), np.array([0.01, 0.04, 0.0]), 3, 0.01, 0.9, 0.999, 1e-3)
    cases = [Case(first, reference_adam_step(*first), "first step (t = 1, m = v = 0)"),
             Case(later, reference_adam_step(*later), "third step (t = 3), eps = 1e-3")]
    for shape in _shapes(rng, hidden, [(3, 2)]):
        w, grad, m = rng.normal(size=shape), rng.normal(0, 0.1, shape), rng.normal(0, 0.1, shape)
        v = rng.normal(0, 0.1, shape) ** 2
        t = int(rng.integers(1, 60))
        beta1, beta2 = float(rng.uniform(0.8, 0.95)), float(rng.uniform(0.99, 0.9999))
        eps = float(rng.choice([1e-8, 1e-3, 0.1]))
        args = (w, grad, m, v, t, _rate(rng), beta1, beta2, eps)
        cases.append(Case(args, reference_adam_step(*args),
                          f"shape {shape}, t = {t}, beta1 = {beta1:.3g}, beta2 = {beta2:.4g}, eps = {eps:g}"))
    return cases


def _adam_variant(w, grad, m, v, t, rate, beta1, beta2, eps, correct=True, eps_inside=False,
                  t_shift=0, square=True, root=True):
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * (grad * grad if square else np.abs(grad))
    if correct:
        m_hat, v_hat = m / (1 - beta1 ** (t + t_shift)), v / (1 - beta2 ** (t + t_shift))
    else:
        m_hat, v_hat = m, v
    scale = np.sqrt(v_hat + eps) if eps_inside else (np.sqrt(v_hat) if root else v_hat) + eps
    return w - rate * m_hat / scale, m, v


def _adam_corrected_state(w, grad, m, v, t, rate, beta1, beta2, eps):
    new_w, m, v = reference_adam_step(w, grad, m, v, t, rate, beta1, beta2, eps)
    return new_w, m / (1 - beta1 ** t), v / (1 - beta2 ** t)


ADAM_STEP = Exercise(
    "adam_step", ("adam_step",), adam_cases, outputs=("new_w", "new_m", "new_v"),
    implemented_by=ADAM,
    mistakes=(Mistake("the bias correction is missing: divide m by (1 - beta1**t) and v by "
                      "(1 - beta2**t) before the update (new_m and new_v themselves stay uncorrected).",
                      lambda *a: _adam_variant(*a, correct=False)),
              Mistake("return the UNcorrected averages m and v: the next step continues from them "
                      "(the bias-corrected m_hat and v_hat are only used inside the update).",
                      lambda *a: _adam_corrected_state(*a)),
              Mistake("eps goes outside the square root: m_hat / (sqrt(v_hat) + eps).",
                      lambda *a: _adam_variant(*a, eps_inside=True)),
              Mistake("t is the number of this step, starting at 1: use beta**t, not beta**(t+1).",
                      lambda *a: _adam_variant(*a, t_shift=1)),
              Mistake("v averages the SQUARED gradient: v = beta2 v + (1 - beta2) grad**2.",
                      lambda *a: _adam_variant(*a, square=False)),
              Mistake("divide by the square root of v_hat: m_hat / (np.sqrt(v_hat) + eps).",
                      lambda *a: _adam_variant(*a, root=False))))


# --- train --------------------------------------------------------------------------------------

TRAIN_SETTINGS = dict(epochs=30, batch_size=20, learning_rate=0.1)
TRAIN_SIZES = [2, 32, 32, 2]


def circles_task(rng, n_train=200, n_test=1000):
    """A random two-circles problem: (X_train, y_train, X_test, y_test, description)."""
    noise, factor = float(rng.uniform(0.05, 0.1)), float(rng.uniform(0.45, 0.6))
    X, y = data.circles(n_train + n_test, noise=noise, factor=factor, rng=rng)
    X_train, X_test, y_train, y_test = data.train_test_split(
        X, y, test_fraction=n_test / (n_train + n_test), rng=rng)
    return X_train, y_train, X_test, y_test, (f"two circles (noise {noise:.2f}, radius ratio "
                                              f"{factor:.2f}), {n_train} training points")


def train_cases(rng, hidden):
    seeds = [20250] + ([int(s) for s in rng.integers(0, 2**31, 4)] if hidden else [])
    cases = []
    for seed in seeds:
        X_train, y_train, X_test, y_test, description = circles_task(np.random.default_rng(seed))
        args = (X_train, y_train, X_test, TRAIN_SIZES, seed + 1, TRAIN_SETTINGS["epochs"],
                TRAIN_SETTINGS["batch_size"], TRAIN_SETTINGS["learning_rate"], seed)
        cases.append(Case(args, y_test, description))
    return cases


def replay_sgd(sizes, model_seed, X, y, order, batch_sizes, learning_rate, update_first=False):
    """Plain SGD on exactly the batches a loop fed (``order`` cut into ``batch_sizes``), from the
    network the probe gave it: {parameter name: final value}. ``update_first``: the update of each
    step comes before its backward pass (so it uses the previous batch's gradients)."""
    model, loss = mlp(sizes, rng=model_seed), SoftmaxCrossEntropyLoss()
    start = 0
    with np.errstate(all="ignore"):
        for size in batch_sizes:
            batch = order[start:start + size]
            start += size
            loss.forward(model.forward(X[batch]), y[batch])
            if update_first:
                _update(model, learning_rate)
            backward_parameters(model, loss.backward())
            if not update_first:
                _update(model, learning_rate)
    return {name: param for name, param, _ in model.parameters()}


def _update(model, learning_rate):
    for _, param, grad in model.parameters():
        param -= learning_rate * grad


def _same_weights(got, expected):
    return all(isinstance(got.get(name), np.ndarray) and got[name].shape == value.shape
               and np.allclose(got[name], value, rtol=1e-6, atol=1e-8)
               for name, value in expected.items())


def _epochs_structure(sizes, n, batch_size, epochs):
    """A message if the steps' batch sizes are not ``epochs`` epochs of ``n`` examples in batches of
    ``batch_size``; else None."""
    per_epoch = math.ceil(n / batch_size)
    last = n - batch_size * (per_epoch - 1)
    expected = ([batch_size] * (per_epoch - 1) + [last]) * epochs
    if list(sizes) == expected:
        return None
    steps = len(sizes)
    what = (f"{epochs} epochs of N = {n} examples in batches of {batch_size} make "
            f"{epochs * per_epoch} updates ({per_epoch} per epoch, the last batch of each epoch holding "
            f"{last})")
    if steps == epochs and all(s == batch_size for s in sizes):
        hint = ("one update per epoch, on the first batch only. An epoch visits all N examples: loop "
                "over the batches, for start in range(0, N, batch_size).")
    elif sizes.size and all(s == n for s in sizes):
        hint = ("every update used all N examples (full-batch gradient descent). Cut each epoch's "
                "order into mini-batches of batch_size: order[start:start + batch_size].")
    elif steps == epochs * per_epoch:
        hint = ("the right number of updates, but batches of other sizes. Slice the order into "
                "consecutive pieces of batch_size examples: order[start:start + batch_size] for "
                "start in range(0, N, batch_size).")
    else:
        hint = (f"do you run `epochs` epochs of ceil(N / batch_size) batches each, with one forward, "
                f"one backward and one update per batch? (Batch sizes your loop used, in order: "
                f"{', '.join(str(s) for s in sizes[:12])}{', ...' if steps > 12 else ''}.)")
    return f"your loop made {steps} updates; {what}.\n  Hint: {hint}"


def _order_problem(order, n, epochs):
    """A message if some epoch does not feed every example exactly once, or the order is never
    reshuffled; else None."""
    epoch_orders = order.reshape(epochs, n)
    for e, fed in enumerate(epoch_orders, start=1):
        counts = np.bincount(fed, minlength=n)
        if not np.all(counts == 1):
            twice, never = int(np.argmax(counts)), int(np.argmin(counts))
            return (f"in epoch {e} your loop fed example {twice} {int(counts[twice])} times and "
                    f"example {never} {int(counts[never])} times.\n  Hint: each epoch must visit "
                    "every example exactly once: draw ONE permutation per epoch and cut it into "
                    "consecutive batches, order[start:start + batch_size].")
    if np.array_equal(epoch_orders[0], np.arange(n)):
        return ("your loop fed the examples in their stored order, 0, 1, 2, ..., never shuffled.\n  "
                "Hint: at the start of every epoch, draw a new random order with "
                "rng.permutation(N) and take the batches from it.")
    for e in range(1, epochs):
        if np.array_equal(epoch_orders[e], epoch_orders[e - 1]):
            again = ("every epoch" if all(np.array_equal(o, epoch_orders[0]) for o in epoch_orders)
                     else f"epoch {e + 1}")
            return (f"{again} fed the examples in the same order as the epoch before: the data is "
                    "shuffled once, but never reshuffled. Then every epoch sees the same batches, and "
                    "SGD's noise, which shuffling keeps random, repeats itself.\n  Hint: call "
                    "rng.permutation(N) INSIDE the epoch loop, once per epoch.")
    return None


def compare_train(got, case):
    X_train, y_train, _, sizes, model_seed, epochs, batch_size, learning_rate, _ = case.args
    if not (isinstance(got, dict) and isinstance(got.get("order"), np.ndarray)):
        return "the probe could not read what your loop did"  # the probe always returns a dict
    order, labels, steps = got["order"], got["labels"], got["batch sizes"]
    n = len(X_train)
    if not len(steps):
        return ("your loop never ran a backward pass through the model it was given.\n  Hint: train "
                "the `model` passed to train (do not build a new one): for each batch, "
                "loss.forward(model.forward(X[batch]), y[batch]), then "
                "model.backward(loss.backward()), then update.")
    if np.any(order < 0):
        return ("your loop fed the network rows that are not rows of X.\n  Hint: feed X[batch] as "
                "it is, with batch an array of row indices (no scaling, no reshaping).")
    known = labels >= 0
    if np.any(labels[known] != y_train[order[known]]):
        return ("the labels your loop gave the loss are not the labels of the examples it fed "
                "forward.\n  Hint: index X and y with the same indices: X[batch] and y[batch].")
    problem = _epochs_structure(steps, n, batch_size, epochs) or _order_problem(order, n, epochs)
    if problem:
        return problem
    expected = replay_sgd(sizes, model_seed, X_train, y_train, order, steps, learning_rate)
    weights = got.get("parameters")
    if not isinstance(weights, dict):
        return "the probe could not read your trained weights"
    if _same_weights(weights, expected):
        return None
    accuracy = float(np.mean(got.get("predictions") == case.expected))
    intro = (f"your loop fed the right batches, in a good order, but its trained weights are not those "
             f"of plain SGD on those batches (held-out accuracy {accuracy:.0%}).\n  Hint: ")
    start = {name: param for name, param, _ in mlp(sizes, rng=model_seed).parameters()}
    if _same_weights(weights, start):
        return intro + ("the weights never changed. Update every parameter IN PLACE, "
                        "param[...] = sgd_step(param, grad, learning_rate); `param = ...` only gives "
                        "the name param a new array, and the network never sees it.")
    variants = [
        (learning_rate / batch_size, False, "they match SGD with learning_rate / batch_size. The loss "
         "already averages over the batch: use learning_rate as given."),
        (learning_rate ** 2, False, "they match SGD with learning_rate squared: pass learning_rate to "
         "sgd_step once, as given."),
        (-learning_rate, False, "they match steps UPHILL: param - learning_rate * grad, against the "
         "gradient."),
        (learning_rate, True, "they match updates made BEFORE the backward pass of each batch (with "
         "the previous batch's gradients): per batch, forward, loss, backward, and only then update."),
    ]
    for rate, update_first, hint in variants:
        try:
            variant = replay_sgd(sizes, model_seed, X_train, y_train, order, steps, rate, update_first)
        except FloatingPointError:  # this variant diverges (a Linear layer saw inf or NaN)
            continue
        if _same_weights(weights, variant):
            return intro + hint
    worst = max(expected, key=lambda name: float(np.max(np.abs(weights[name] - expected[name])))
                if isinstance(weights.get(name), np.ndarray) and weights[name].shape == expected[name].shape
                else np.inf)
    return intro + (f"{worst} differs most. Per batch: forward, loss, backward, then one "
                    "param[...] = sgd_step(param, grad, learning_rate) for EVERY parameter of "
                    "model.parameters(), exactly once.")


TRAIN = Exercise("train", ("train",), train_cases, probe=probe_train, compare=compare_train,
                 implemented_by=TRAINING_LOOP)


EXERCISES = [SGD_STEP, CRITICAL_LEARNING_RATE, MOMENTUM_STEP, ADAM_STEP, TRAIN]
