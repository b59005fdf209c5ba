"""Lesson 08-capstone: standardize, directional_check, train_digits, confusion_matrix.

``standardize`` and ``confusion_matrix`` are judged exactly against the references below.
``directional_check`` is judged against the same computation done here (one backprop, two forward
passes) on small networks, some with a deliberately wrong backward, and must leave the model's
parameters as it found them.

``train_digits(X_train, y_train) -> predict`` is judged by what it achieves on the real digits
bundled with bplib (:func:`bplib.data.load_digits`):

* visible check: one stratified split drawn from a fixed seed (1347 training images, 450 held out);
  at least :data:`VISIBLE_ACCURACY` of the held-out images must be right (a quick smoke test);
* hidden check: **4-fold cross-validation** at a seed drawn at grading time: the 1797 digits are
  split into 4 stratified folds, ``train_digits`` is called 4 times (each time on 3 folds, about
  1348 images) and predicts the fold it did not see, so every digit is predicted once by a model that
  never saw it. At least :data:`ACCURACY` (97%) of the 1797 predictions must be right.

Why 4 folds and not one held-out split: with 450 test images one image is 0.22% and the standard
error of an accuracy near 98% is about 0.7%, so the verdict would depend on luck. Measured with the
notebook's solution (``mlp([64, 256, 10])``, Adam 2e-3, batch 64, 30 epochs, standardised pixels)
over 200 seeds each: a single 25% split gave 96.0-99.6% (median 97.8%) and fell below 97% in 22 of
200 splits; 4-fold cross-validation gave 97.1-98.6% (median 97.9%, 1st percentile 97.3%) and
passed in 200 of 200. With the classes renamed and the extra calls of ``predict`` (below), measured
again over seeds 0-299 (``tests/reference_pass_rates.py train_digits``): 97.2-98.4% (median 97.8%,
1st percentile 97.3%), 300 of 300 passed. One call takes about 0.3 s of CPU on one core (1.0 s
for the hidden check).

Cheating: the full data set ships with bplib, so a "model" could look each test image up in
``load_digits()`` and return its label. Every case therefore

* shuffles the 64 pixel positions with a random permutation drawn from the case's seed (the same
  permutation for the training and the test images of that case). A multilayer perceptron does not
  care about pixel order: permuting its inputs only permutes the rows of the first weight matrix,
  whose initial entries are i.i.d., so training reaches the same accuracies (with the rows of the
  initial weights shuffled alike, the trained network is the same up to round-off, as the notebook
  shows), while an exact look-up finds nothing;
* renames the classes with a random derangement (a permutation that moves every class: the 3s may
  be labelled 7, the 7s 0, ...), the same for the training and the test labels of the case. The
  network's output units are i.i.d. at the start too, so renaming only permutes the columns of the
  last weight matrix: the network learns the new names as easily as the old ones.

The pixel shuffle alone did not stop a look-up: sorting an image's pixels gives a key that does not
depend on their order, and the 1797 digits have 1797 different keys, so looking the sorted pixels
up in ``load_digits()`` found every test image: it scored 100% on each of 100 hidden checks (seeds
0-99) before the renaming. With the renaming, the same look-up returns the original names, which a
derangement never uses: it scores 0% on each of them (``tests/reference_pass_rates.py attacks
100``; the fixture in ``tests/wrong_answers/capstone.py``). This raises the bar, it does not make
cheating impossible: a look-up that also finds the *training* images in ``load_digits()`` learns
the renaming from them and still scores 100% (measured by the same script). Only held-out images
that are not public would stop that. The probe also
cannot tell *how* the predictions were made: a k-nearest-neighbour classifier on the given
training images is honest machine learning and would pass; the notebook asks for a network.

``predict`` also gets a few test images on their own, and the images of one class as a batch of
their own, and must label them as it did in the whole test set: a ``predict`` that standardises new
images with their own statistics passed the accuracy threshold on large test sets, but a single
image has standard deviation 0 in every pixel.

Time: the probe limits BLAS to one thread (with threadpoolctl, when installed); the CPU time of a
whole check (every ``train_digits`` call and its predictions) is measured outside the learner's
code -- by the grader, from outside the sandbox, so patched clocks inside it change nothing -- and
fails above ``cpu_limit`` (:data:`SECONDS_PER_CALL` per call), with a message, before nbgrader's
per-cell timeout would cut it off.
"""

import functools

import numpy as np

from bplib.data import load_digits, train_test_split
from bplib.grading import Case, Exercise, Mistake
from bplib.losses import SoftmaxCrossEntropyLoss
from bplib.probes.capstone import directional_probe, train_digits_probe
from bplib.probes.planted_bugs import build_network, network_spec, random_weights, relu_margin

ACCURACY = 0.97
VISIBLE_ACCURACY = 0.95
FOLDS = 4
SECONDS_PER_CALL = 5.0
N_CLASSES = 10


# --- standardize --------------------------------------------------------------------------------

def reference_standardize(X, X_train):
    """(X - mean) / std with the per-pixel mean and std (ddof=0) of X_train; std 0 -> divide by 1."""
    mean = X_train.mean(axis=0)
    std = X_train.std(axis=0)
    std = np.where(std == 0, 1.0, std)
    return (X - mean) / std


def standardize_cases(rng, hidden):
    X_train = np.array([[0.0, 5.0, 2.0], [2.0, 5.0, 4.0], [4.0, 5.0, 0.0]])
    cases = [Case((X_train, X_train), reference_standardize(X_train, X_train),
                  "X = X_train, 3 images of 3 pixels; the middle pixel is always 5 (std 0)")]
    X_train = rng.integers(0, 17, (6, 4)).astype(float)
    X_train[:, 2] = 0.0
    X = rng.integers(0, 17, (3, 4)).astype(float)
    X[0, 2] = 7.0
    cases.append(Case((X, X_train), reference_standardize(X, X_train),
                      "new images X (3, 4) scaled with X_train (6, 4)'s statistics; pixel 2 is "
                      "always 0 in X_train but not in X"))
    digits, _ = _digits()
    cases.append(Case((digits[100:120], digits[:100]), reference_standardize(digits[100:120], digits[:100]),
                      "20 real digits scaled with the statistics of 100 others"))
    cases.append(Case((digits[150:151], digits[:100]), reference_standardize(digits[150:151], digits[:100]),
                      "one new digit on its own, X (1, 64), scaled with the statistics of 100 others"))
    if hidden:
        for _ in range(3):
            n_train, n, d = (int(v) for v in rng.integers(2, 12, 3))
            X_train = rng.normal(rng.uniform(-5, 5, d), rng.uniform(0.1, 4, d), (n_train, d))
            constant = rng.random(d) < 0.3
            X_train[:, constant] = rng.integers(-3, 4)
            X = rng.normal(0, 4, (n, d))
            cases.append(Case((X, X_train), reference_standardize(X, X_train),
                              f"random X {X.shape}, X_train {X_train.shape}, "
                              f"{int(constant.sum())} constant pixel(s)"))
        rows = rng.permutation(len(digits))
        X_train, X = digits[rows[:int(rng.integers(20, 200))]], digits[rows[-int(rng.integers(1, 30)):]]
        cases.append(Case((X, X_train), reference_standardize(X, X_train),
                          f"{len(X)} random digits scaled with {len(X_train)} others"))
    return cases


def _std_plus_eps(X, X_train):
    return (X - X_train.mean(axis=0)) / (X_train.std(axis=0) + 1e-8)


STANDARDIZE = Exercise(
    "standardize", ("standardize",), standardize_cases,
    mistakes=(
        Mistake("some pixels are constant in X_train (std 0), so dividing by the std gives NaN or "
                "inf there. Where the std is 0, divide by 1 instead (np.where(std == 0, 1.0, std)).",
                test=lambda got, X, X_train: not np.all(np.isfinite(got))),
        Mistake("use the statistics of X_train for every X: new images must be scaled exactly like "
                "the training images (and computing them on the test set would leak it).",
                lambda X, X_train: reference_standardize(X, X)),
        Mistake("std + a small epsilon makes a pixel that was constant in training huge in a new "
                "image that has ink there (divided by 1e-8). Where the std is 0, divide by 1.",
                _std_plus_eps),
        Mistake("one mean and one std per *pixel* (a column): X_train.mean(axis=0), not a single "
                "number for the whole array.",
                lambda X, X_train: (X - X_train.mean()) / X_train.std()),
        Mistake("the statistics are per pixel, over the images (axis=0), not per image (axis=1).",
                lambda X, X_train: (X - X.mean(axis=1, keepdims=True)) / X.std(axis=1, keepdims=True)),
        Mistake("divide by the standard deviation, not the variance.",
                lambda X, X_train: (X - X_train.mean(axis=0)) / np.where(X_train.var(axis=0) == 0, 1.0,
                                                                         X_train.var(axis=0))),
        Mistake("use np.std's default (ddof=0, divide by N), not ddof=1.",
                lambda X, X_train: (X - X_train.mean(axis=0)) / np.where(
                    X_train.std(axis=0) == 0, 1.0, X_train.std(axis=0, ddof=1 if len(X_train) > 1 else 0))),
        Mistake("standardising is per pixel: subtract the pixel's mean over X_train, then divide by its "
                "std. Dividing by 16 only rescales.", lambda X, X_train: X / 16.0),
        Mistake("subtract the mean before dividing by the std.",
                lambda X, X_train: X / np.where(X_train.std(axis=0) == 0, 1.0, X_train.std(axis=0))),
    ))


# --- directional_check --------------------------------------------------------------------------

def reference_directional_check(model, loss, X, y, direction, h=1e-5):
    """(analytic, numerical): sum of <dL/dparam, u_param> from one backprop, and the central
    difference (L(w + h u) - L(w - h u)) / 2h; every parameter is restored afterwards."""
    loss.forward(model.forward(X), y)
    model.backward(loss.backward())
    analytic = sum(float(np.vdot(grad, direction[name])) for name, _, grad in model.parameters())
    saved = {name: param.copy() for name, param, _ in model.parameters()}
    values = []
    try:
        for sign in (1.0, -1.0):
            for name, param, _ in model.parameters():
                param[...] = saved[name] + sign * h * direction[name]
            values.append(loss.forward(model.forward(X), y))
    finally:
        for name, param, _ in model.parameters():
            param[...] = saved[name]
    return analytic, (values[0] - values[1]) / (2 * h)


def _forward_difference(model, loss, X, y, direction, h):
    saved = {name: param.copy() for name, param, _ in model.parameters()}
    base = loss.forward(model.forward(X), y)
    for name, param, _ in model.parameters():
        param[...] = saved[name] + h * direction[name]
    plus = loss.forward(model.forward(X), y)
    for name, param, _ in model.parameters():
        param[...] = saved[name]
    return (plus - base) / h


def _directional_case(rng, sizes, activation, bug=None, bug_layer=None, n=4, h=1e-5):
    spec = network_spec(sizes, activation, bug, bug_layer)
    for _ in range(100):
        weights = random_weights(rng, sizes)
        x = rng.normal(size=(n, sizes[0]))
        if relu_margin(spec, weights, x) > 1e-3:
            break
    y = rng.integers(0, sizes[-1], n)
    direction = {f"{i}.{key}": rng.normal(size=np.shape(value))
                 for i, (W, b) in ((int(k), wb) for k, wb in weights.items())
                 for key, value in (("W", W), ("b", b))}
    norm = np.sqrt(sum(float(np.vdot(u, u)) for u in direction.values()))
    direction = {name: u / norm for name, u in direction.items()}  # a unit direction
    loss = SoftmaxCrossEntropyLoss()
    analytic, numerical = reference_directional_check(build_network(spec, weights), loss, x, y,
                                                      direction, h)
    forward = _forward_difference(build_network(spec, weights), loss, x, y, direction, h)
    where = f", layer {bug_layer}: {bug}" if bug else ", a correct network"
    return Case((spec, weights, x, y, direction, h),
                {"analytic": analytic, "numerical": numerical, "forward difference": forward},
                f"{'-'.join(str(s) for s in sizes)} {activation} network, batch {n}{where}")


def directional_cases(rng, hidden):
    cases = [_directional_case(rng, [4, 5, 3], "tanh"),
             _directional_case(rng, [6, 8, 3], "relu"),
             _directional_case(rng, [5, 4, 4, 3], "relu", "db averaged instead of summed", 2)]
    if hidden:
        bugs = [(None, None), ("db averaged instead of summed", "linear"), ("dW divided by N", "linear"),
                ("no derivative", "relu"), ("derivative of the input", "tanh")]
        for index in rng.choice(len(bugs), 4, replace=False):
            bug, where = bugs[index]
            depth = int(rng.integers(2, 4))  # Linear layers
            sizes = [int(s) for s in rng.integers(2, 9, depth + 1)]
            activation = where if where in ("relu", "tanh") else str(rng.choice(["relu", "tanh", "sigmoid"]))
            layer = (2 * int(rng.integers(0, depth)) if where == "linear"
                     else 2 * int(rng.integers(0, depth - 1)) + 1 if bug else None)
            cases.append(_directional_case(rng, sizes, activation, bug, layer, int(rng.integers(2, 7)),
                                           float(rng.choice([1e-5, 1e-4]))))
    return cases


def _close(a, b, rtol, atol):
    return abs(a - b) <= atol + rtol * abs(b)


def compare_directional(got, case):
    result, expected = got["result"], case.expected
    if not (isinstance(result, tuple) and len(result) == 2
            and all(isinstance(v, float) for v in result)):
        return f"should return two numbers, (analytic, numerical); you returned {_describe(result)}"
    analytic, numerical = result
    if got["moved"]:
        return (f"after your function, parameter(s) {', '.join(got['moved'])} differ from before. "
                "Restore every parameter: keep a copy (saved = param.copy()) and put it back in "
                "place at the end (param[...] = saved).")
    if not _close(analytic, expected["analytic"], 1e-7, 1e-10):
        hint = ("it is 0: did you read the gradients before running forward and backward? "
                if abs(analytic) < 1e-14 else "")
        return (f"analytic: you returned {analytic:.10g}, expected {expected['analytic']:.10g}.\n  "
                f"Hint: {hint}Run loss.forward(model.forward(X), y) and "
                "model.backward(loss.backward()) once, then sum np.vdot(grad, direction[name]) over "
                "model.parameters().")
    right = expected["numerical"]
    if not _close(numerical, right, 1e-6, 1e-9):
        if _close(numerical, expected["forward difference"], 1e-9, 1e-12):
            hint = ("that is the one-sided difference (L(w + h u) - L(w)) / h; use the central one, "
                    "(L(w + h u) - L(w - h u)) / (2 h), whose error is far smaller.")
        elif _close(numerical, 2 * right, 1e-6, 1e-9):
            hint = "divide by 2 h, the distance between w - h u and w + h u."
        elif abs(numerical) < 1e-12:
            hint = ("the loss did not change: change the parameter arrays in place "
                    "(param[...] = saved + h * u, or param += ...): param = param + ... makes a new "
                    "array the model never sees.")
        else:
            hint = ("move *every* parameter at once, each by h times its own part of the direction, "
                    "compute the loss, then the same with -h.")
        return (f"numerical: you returned {numerical:.10g}, expected {right:.10g}.\n  Hint: {hint}")
    return None


def _describe(value):
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape}"
    text = repr(value)
    return text if len(text) < 60 else text[:57] + "..."


DIRECTIONAL_CHECK = Exercise(
    "directional_check", ("directional_check",), directional_cases, probe=directional_probe,
    compare=compare_directional, implemented_by=("bplib.gradcheck.directional_check",))


# --- train_digits -------------------------------------------------------------------------------

@functools.lru_cache(maxsize=1)
def _digits_cached():
    return load_digits()


def _digits():
    X, y = _digits_cached()
    return X.copy(), y.copy()


def stratified_folds(y, k, rng):
    """A fold number 0..k-1 for every example; each class is spread evenly over the folds."""
    fold = np.empty(len(y), dtype=int)
    for label in np.unique(y):
        members = rng.permutation(np.flatnonzero(y == label))
        fold[members] = (np.arange(len(members)) + rng.integers(k)) % k
    return fold


def derangement(n, rng):
    """A random permutation of range(n) that moves every element (so no class keeps its name)."""
    while True:
        order = rng.permutation(n)
        if not np.any(order == np.arange(n)):
            return order


def _subsets(y_test, rng, singles):
    """Rows of X_test that predict also gets on their own: ``singles`` images one at a time, and
    all the images of one class as one batch (whose statistics differ from the training set's)."""
    rows = rng.choice(len(y_test), singles, replace=False)
    one_class = np.flatnonzero(y_test == rng.choice(np.unique(y_test)))
    return tuple(np.array([int(i)]) for i in rows) + (one_class,)


def digits_tasks(rng, hidden):
    """The (X_train, y_train, X_test, subsets) tasks of one check and the true labels of each
    X_test. The pixels are shuffled by one random permutation and the classes renamed by one
    random derangement (see the module docstring); ``subsets`` are rows of X_test that predict
    also gets on their own (:func:`_subsets`)."""
    X, y = _digits()
    X = X[:, rng.permutation(X.shape[1])]
    y = derangement(N_CLASSES, rng)[y]  # class c is called renamed[c], in training and test alike
    if not hidden:
        X_train, X_test, y_train, y_test = train_test_split(X, y, test_fraction=0.25, rng=rng)
        return ((X_train, y_train, X_test, _subsets(y_test, rng, 3)),), (y_test,)
    fold = stratified_folds(y, FOLDS, rng)
    tasks = tuple((X[fold != i], y[fold != i], X[fold == i], _subsets(y[fold == i], rng, 2))
                  for i in range(FOLDS))
    return tasks, tuple(y[fold == i] for i in range(FOLDS))


def train_digits_cases(rng, hidden):
    tasks, labels = digits_tasks(rng, hidden)
    if hidden:
        label = (f"{FOLDS}-fold cross-validation on all 1797 digits, pixels shuffled and classes "
                 f"renamed: at least {ACCURACY:.0%} must be right")
    else:
        label = (f"one split, {len(tasks[0][0])} training and {len(labels[0])} held-out digits, "
                 f"pixels shuffled and classes renamed: at least {VISIBLE_ACCURACY:.0%} must be right")
    return [Case((tasks,), {"labels": labels,
                            "accuracy": ACCURACY if hidden else VISIBLE_ACCURACY}, label)]


def _labels_problem(predicted, n):
    """What is wrong with the form of predict's output for n images, or None."""
    if not isinstance(predicted, np.ndarray):
        return (f"predict(images) should return a NumPy array of {n} labels; it returned "
                f"{_describe(predicted)}")
    if predicted.shape == (n, N_CLASSES):
        return (f"predict returned an array of shape {predicted.shape}: one score per class. "
                "Return the labels, scores.argmax(axis=1), of shape (N,). (Returning the model "
                "itself instead of a predict function also gives scores.)")
    if predicted.shape == (N_CLASSES,) and n != N_CLASSES:
        return (f"predict returned 10 values for {n} images: an argmax over axis 0 (the images)? "
                "Take it over axis=1 (the classes), one label per image.")
    if predicted.shape != (n,):
        return f"predict returned an array of shape {predicted.shape} for {n} images; expected ({n},)"
    if not (np.all(np.isfinite(predicted)) and np.all(predicted == np.round(predicted))
            and predicted.min() >= 0 and predicted.max() < N_CLASSES):
        return "the labels must be whole numbers from 0 to 9"
    return None


def _consistency_problem(got, case):
    """A message if predict labels some images differently when it gets them on their own."""
    tasks = case.args[0]
    for (_, _, _, subsets), predicted, again in zip(tasks, got["predictions"], got["subsets"]):
        for rows, labels in zip(subsets, again):
            alone = "on its own" if len(rows) == 1 else f"in a batch of {len(rows)} images of one class"
            problem = _labels_problem(labels, len(rows))
            if problem:
                return f"for an image {alone}: {problem}" if len(rows) == 1 else f"{alone}: {problem}"
            changed = int(np.sum(labels != predicted[rows]))
            if changed:
                what = ("an image it got on its own" if len(rows) == 1 else
                        f"{changed} of {len(rows)} images it got {alone}")
                return (f"predict gave a different label to {what} than to the same image(s) in "
                        "the whole held-out set. A prediction must depend only on the image "
                        "(and what was learned from the training set).\n  Hint: does predict "
                        "standardise the new images with their own mean and std "
                        "(standardize(images, images))? A single image has std 0 in every pixel. "
                        "Use the training statistics: standardize(images, X_train).")
    return None


def compare_train_digits(got, case):
    labels, threshold = case.expected["labels"], case.expected["accuracy"]
    correct = total = 0
    for predicted, truth in zip(got["predictions"], labels):
        problem = _labels_problem(predicted, len(truth))
        if problem:
            return problem
        correct += int(np.sum(predicted == truth))
        total += len(truth)
    problem = _consistency_problem(got, case)
    if problem:
        return problem
    accuracy = correct / total
    if accuracy >= threshold:
        return None
    message = (f"{correct} of {total} held-out digits are right: accuracy {accuracy:.1%}, "
               f"at least {threshold:.0%} needed.\n  Hint: ")
    if accuracy < 0.3:
        return message + ("that is close to chance (10%): the network has hardly learned anything "
                          "(too few epochs, too small a learning rate?), or your code relies on the "
                          "pixel order or on what the labels mean, or looks images up. The grader "
                          "shuffles the pixel positions and renames the classes (the same way in "
                          "the training and the held-out images): learn from the images and labels "
                          "you are given.")
    return message + ("standardise the pixels with the training statistics (in predict too), use a "
                      "hidden layer of a few hundred ReLU units, Adam with a learning rate of about "
                      "2e-3, mini-batches of 64, and enough epochs (about 30): check the learning "
                      "curves.")


TRAIN_DIGITS = Exercise(
    "train_digits", ("train_digits",), train_digits_cases, probe=train_digits_probe,
    compare=compare_train_digits, cpu_limit=FOLDS * SECONDS_PER_CALL)


# --- confusion_matrix ---------------------------------------------------------------------------

def reference_confusion_matrix(y_true, y_pred, n_classes):
    """C[i, j] = number of examples of true class i predicted as class j."""
    matrix = np.zeros((n_classes, n_classes), dtype=int)
    np.add.at(matrix, (np.asarray(y_true), np.asarray(y_pred)), 1)
    return matrix


def confusion_cases(rng, hidden):
    y_true, y_pred = np.array([0, 0, 1, 2, 2, 2]), np.array([0, 1, 1, 2, 0, 2])
    cases = [Case((y_true, y_pred, 3), reference_confusion_matrix(y_true, y_pred, 3),
                  "y_true = [0, 0, 1, 2, 2, 2], y_pred = [0, 1, 1, 2, 0, 2], 3 classes")]
    y_true, y_pred = np.array([1, 1, 1, 0, 0, 2, 1]), np.array([1, 1, 0, 0, 0, 2, 1])
    cases.append(Case((y_true, y_pred, 4), reference_confusion_matrix(y_true, y_pred, 4),
                      "4 classes, class 3 never appears; pairs repeat"))
    sizes = [(50, 10)] + ([(int(rng.integers(1, 300)), int(rng.integers(2, 13))) for _ in range(3)]
                          if hidden else [])
    for n, c in sizes:
        y_true = rng.integers(0, c, n)
        y_pred = np.where(rng.random(n) < rng.uniform(0.3, 0.95), y_true, rng.integers(0, c, n))
        cases.append(Case((y_true, y_pred, c), reference_confusion_matrix(y_true, y_pred, c),
                          f"{n} examples, {c} classes"))
    if hidden:
        c = int(rng.integers(4, 12))
        y_true = rng.integers(0, c - 2, 40)  # the last two classes never occur
        y_pred = rng.integers(0, c - 1, 40)
        cases.append(Case((y_true, y_pred, c), reference_confusion_matrix(y_true, y_pred, c),
                          f"{c} classes, the last ones missing from y_true"))
    return cases


def _fancy_index_increment(y_true, y_pred, n_classes):
    matrix = np.zeros((n_classes, n_classes), dtype=int)
    matrix[y_true, y_pred] += 1
    return matrix


CONFUSION_MATRIX = Exercise(
    "confusion_matrix", ("confusion_matrix",), confusion_cases,
    mistakes=(
        Mistake("rows are the true classes and columns the predictions: C[true, predicted]. Yours "
                "is the transpose.",
                lambda t, p, c: reference_confusion_matrix(t, p, c).T),
        Mistake("C[y_true, y_pred] += 1 counts a repeated (true, predicted) pair only once: NumPy "
                "adds to each distinct index once. Use np.add.at(C, (y_true, y_pred), 1), or a loop.",
                _fancy_index_increment),
        Mistake("the matrix must be n_classes x n_classes even when some classes never occur: size "
                "it with n_classes, not with the largest label.",
                lambda t, p, c: reference_confusion_matrix(t, p, int(max(np.max(t), np.max(p))) + 1)),
        Mistake("count the examples; do not normalise the rows.",
                lambda t, p, c: (lambda m: m / np.maximum(m.sum(axis=1, keepdims=True), 1))(
                    reference_confusion_matrix(t, p, c))),
    ))


EXERCISES = [STANDARDIZE, DIRECTIONAL_CHECK, TRAIN_DIGITS, CONFUSION_MATRIX]
