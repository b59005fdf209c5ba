"""Lesson 04-gradient-checking: numerical_gradient, relative_error, check_network_gradients, two bug
finders (wrong_parameters: every parameter whose gradient is wrong; wrong_layers: every layer whose
own backward is wrong), and two fixes (fix_1, fix_2: a corrected backward of a hand-written network).

Every expected value comes from :mod:`bplib.gradcheck` (finite differences of a trusted forward),
computed here, on the grading side. The bug finders are graded on networks with bugs from
:mod:`bplib.probes.planted_bugs`, planted in layers drawn at grading time, so a finder must check
gradients; a list of names remembered from the notebook's demos does not pass. The two hand-written
networks with a bug, :class:`bplib.probes.gradient_checking.TanhNetwork` and ``SigmoidNetwork``,
are written into the notebook's setup cells from their source, so the notebook and the grader use
the same code; their fixes are graded on random sizes (and, for SigmoidNetwork, random depths).
"""


import numpy as np

from autograder.exercises import AUTODIFF
from bplib import gradcheck
from bplib.grading import Case, Exercise, Mistake, compare_values, matching_hint
from bplib.probes.gradient_checking import (
    SigmoidNetwork,
    TanhNetwork,
    fixed_network_probe,
    loss_for,
    make_network,
    network_check_probe,
    numerical_gradient_probe,
    target_function,
    wrong_layers_probe,
    wrong_parameters_probe,
)
from bplib.probes.planted_bugs import build_network, layer_kind, network_spec, random_weights, relu_margin

# bplib's own versions of what each exercise asks for: an answer that calls one scores 0 for it.
# Each exercise lists only what does its own job, so that a call in an earlier answer (say, bplib's
# relative_error inside the learner's relative_error) costs that exercise's points and no others.
NUMERICAL = ("bplib.gradcheck.numerical_gradient",)
RELATIVE = ("bplib.gradcheck.relative_error", "bplib.gradcheck.relative_errors")
NETWORK_CHECKS = ("bplib.gradcheck.check_network", "bplib.gradcheck.sparse_check",
                  "bplib.gradcheck.directional_check")
LAYER_CHECK = ("bplib.gradcheck.check_layer",)
BACKWARDS = ("bplib.layers.Linear.backward", "bplib.layers.Tanh.backward",
             "bplib.layers.Sigmoid.backward")

# --- numerical_gradient -------------------------------------------------------------------------


def _gradient_case(kind, x, p, h=None, dout=None, label=""):
    x_ref = x.copy()
    expected = gradcheck.numerical_gradient(target_function(kind, x_ref, p), x_ref,
                                            1e-5 if h is None else h, dout)
    return Case((kind, x, p, h, dout), {"gradient": expected, "x restored": True},
                label or f"f = {kind}, x of shape {x.shape}" + (f", h = {h:g}" if h else ""))


def _layer_params(rng, d, m, n):
    return {"W": rng.normal(0, 1 / np.sqrt(d), (d, m)), "b": rng.normal(0, 0.3, m),
            "input": rng.normal(size=(n, d))}


def numerical_gradient_cases(rng, hidden):
    A = np.array([[2.0, 1.0, 0.0], [1.0, 3.0, -1.0], [0.0, -1.0, 1.0]])
    cases = [_gradient_case("quadratic", np.array([1.0, -2.0, 0.5]),
                            {"A": A, "b": np.array([1.0, 0.0, -1.0])},
                            label="f(x) = x.A.x / 2 + b.x, x of shape (3,)"),
             _gradient_case("tanh of a matrix product", rng.normal(size=(3, 2)),
                            {"X": rng.normal(size=(4, 3)), "C": rng.normal(size=(4, 2))},
                            label="f(W) = sum(tanh(X @ W) * C), W of shape (3, 2)"),
             _gradient_case("sum of x sin(x)", rng.normal(size=(2, 3, 2)), {}, h=1e-2,
                            label="f(x) = sum(x sin x), x of shape (2, 3, 2), h = 0.01")]
    p = _layer_params(rng, 3, 2, 4)
    dout = rng.normal(size=(4, 2))
    cases.append(_gradient_case("layer output, x = W", p.pop("W"), p, dout=dout,
                                label="f = tanh(input @ W + b) (an array: needs dout), x = W (3, 2)"))
    p = _layer_params(rng, 3, 2, 4)
    cases.append(_gradient_case("layer output, x = the input", p.pop("input"), p, dout=dout,
                                label="f = tanh(x @ W + b) (an array: needs dout), x = input (4, 3)"))
    if not hidden:
        return cases
    for _ in range(2):
        d, m, n = (int(v) for v in rng.integers(1, 6, 3))
        B = rng.normal(size=(d, d))
        cases.append(_gradient_case("quadratic", rng.normal(0, 2, d),
                                    {"A": B + B.T, "b": rng.normal(size=d)}))
        cases.append(_gradient_case("tanh of a matrix product", rng.normal(size=(d, m)),
                                    {"X": rng.normal(size=(n, d)), "C": rng.normal(size=(n, m))}))
        shape = tuple(int(s) for s in rng.integers(1, 5, rng.integers(1, 4)))
        cases.append(_gradient_case(str(rng.choice(["log-sum-exp", "sum of x sin(x)"])),
                                    rng.normal(size=shape), {}, h=float(rng.choice([1e-5, 1e-2]))))
        p = _layer_params(rng, d, m, n)
        dout = rng.normal(size=(n, m))
        if rng.random() < 0.5:
            cases.append(_gradient_case("layer output, x = W", p.pop("W"), p, dout=dout))
        else:
            cases.append(_gradient_case("layer output, x = the input", p.pop("input"), p, dout=dout))
    return cases


def _forward_differences(kind, x, p, h, dout):
    f, h = target_function(kind, x, p), 1e-5 if h is None else h
    base = _value(f(), dout)
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        old = x[index]
        x[index] = old + h
        grad[index] = (_value(f(), dout) - base) / h
        x[index] = old
    return grad


def _value(out, dout):
    return float(np.sum(out * (1.0 if dout is None else dout)))


GRADIENT_MISTAKES = (
    Mistake("every entry is 0: does f see your perturbation? Change x itself, in place "
            "(x[index] = old + h), not a copy of x, and do not rebind the name x.",
            test=lambda got, *args: isinstance(got, np.ndarray) and not got.any()),
    Mistake("these are forward differences (f(x + h) - f(x)) / h, whose error shrinks only like h. "
            "Use central differences: (f(x + h) - f(x - h)) / (2h).",
            answer=_forward_differences),
    Mistake("f returns an array here, so use dout: the gradient of sum(f() * dout), i.e. "
            "np.sum(f() * dout) for f(x + h) and f(x - h). (With dout=None, sum f() as it is.)",
            answer=lambda kind, x, p, h, dout: gradcheck.numerical_gradient(
                target_function(kind, x, p), x, 1e-5 if h is None else h)),
    Mistake("every entry is twice the right value: the central difference divides by 2h, the "
            "distance between x - h and x + h.",
            answer=lambda kind, x, p, h, dout: 2 * gradcheck.numerical_gradient(
                target_function(kind, x, p), x, 1e-5 if h is None else h, dout)),
    Mistake("use the step h that was passed in (the default is only h=1e-5).",
            answer=lambda kind, x, p, h, dout: gradcheck.numerical_gradient(
                target_function(kind, x, p), x, 1e-5, dout)),
)


def compare_numerical_gradient(got, case):
    if not isinstance(got, dict) or "gradient" not in got:
        return "the probe could not read your result"  # the probe always returns a dict
    if not got["x restored"]:
        return ("x was not restored: when numerical_gradient returns, every entry of x must hold "
                "exactly its old value again (x is often a layer's weight matrix, which the network "
                "goes on using). Save old = x[index] before you change it and finish with "
                "x[index] = old; x[index] += h followed by x[index] -= h does not always give back "
                "the same float.")
    problem = compare_values(got["gradient"], case.expected["gradient"], rtol=1e-6, atol=1e-8)
    if problem:
        hint = matching_hint(GRADIENT_MISTAKES, got["gradient"], case.args)
        problem += f"\n  Hint: {hint}" if hint else ""
    return problem


NUMERICAL_GRADIENT = Exercise(
    "numerical_gradient", ("numerical_gradient",), numerical_gradient_cases,
    probe=numerical_gradient_probe, compare=compare_numerical_gradient, implemented_by=NUMERICAL)


# --- relative_error -----------------------------------------------------------------------------

def relative_error_cases(rng, hidden):
    fixed = [
        (np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.2, 3.0]), "a = [1, 2, 3], b = [1, 2.2, 3]"),
        (1e-3, 1.1e-3, "two numbers, 0.001 and 0.0011"),
        (np.zeros((2, 2)), np.zeros((2, 2)), "two arrays of zeros: the answer is 0"),
        (np.array([1e-12, 0.0]), np.array([3e-12, 0.0]), "tiny values: the floor 1e-8 applies"),
        (np.array([[1e3, 1e-3]]), np.array([[1e3 + 1.0, 1.1e-3]]),
         "one large and one small entry: the worst entry counts"),
        (np.array([3.0, 1.0]), np.array([3.0, -1.0]), "opposite signs"),
    ]
    cases = [Case((a, b), gradcheck.relative_error(a, b), label) for a, b, label in fixed]
    if hidden:
        for _ in range(5):
            shape = tuple(int(s) for s in rng.integers(1, 6, rng.integers(1, 3)))
            a = rng.normal(size=shape) * 10.0 ** rng.uniform(-9, 3, shape)
            b = a * (1 + rng.normal(0, 10.0 ** rng.uniform(-8, 0), shape))
            b.flat[rng.integers(b.size)] += rng.normal() * 10.0 ** rng.uniform(-10, 0)
            cases.append(Case((a, b), gradcheck.relative_error(a, b)))
    return cases


RELATIVE_ERROR = Exercise(
    "relative_error", ("relative_error",), relative_error_cases, rtol=1e-6, atol=1e-12,
    implemented_by=RELATIVE,
    mistakes=(
        Mistake("0 / 0 gives nan: divide by max(1e-8, |a| + |b|), elementwise (np.maximum), so two "
                "zero gradients have relative error 0.",
                test=lambda got, a, b: not np.all(np.isfinite(got))),
        Mistake("that is the mean over the entries; the check needs the worst entry: np.max.",
                answer=lambda a, b: float(np.mean(gradcheck.relative_errors(a, b)))),
        Mistake("divide by |a| + |b|, the sum, not by the larger of the two.",
                answer=lambda a, b: float(np.max(np.abs(np.subtract(a, b)) / np.maximum(
                    1e-8, np.maximum(np.abs(a), np.abs(b)))))),
        Mistake("that is a relative error of whole vectors (norms); here each entry is compared "
                "separately and the largest one is returned.",
                answer=lambda a, b: float(np.linalg.norm(np.subtract(a, b)) / max(
                    1e-8, np.linalg.norm(a) + np.linalg.norm(b)))),
        Mistake("the floor is max(1e-8, |a| + |b|), applied to each entry's denominator.",
                answer=lambda a, b: float(np.max(np.abs(np.subtract(a, b))) / max(
                    1e-8, float(np.max(np.abs(a) + np.abs(b)))))),
        Mistake("that is the absolute error max |a - b|; divide each entry by max(1e-8, |a| + |b|).",
                answer=lambda a, b: float(np.max(np.abs(np.subtract(a, b))))),
        Mistake("use the absolute values |a| + |b| in the denominator (and |a - b| on top).",
                answer=lambda a, b: float(np.max(np.abs(np.subtract(a, b)) / np.maximum(
                    1e-8, np.abs(np.add(a, b)))))),
    ))


# --- check_network_gradients: networks with one deliberately wrong layer ------------------------

def _network_case(rng, sizes, activation, loss_kind, bug=None, bug_layer=None, n=5, label=""):
    """A network case whose every parameter is clearly right (< 1e-7) or clearly wrong (> 1e-3)."""
    spec = network_spec(sizes, activation, bug, bug_layer)
    for _ in range(100):
        weights = random_weights(rng, sizes)
        x = rng.normal(size=(n, sizes[0]))
        y = rng.normal(size=(n, sizes[-1])) if loss_kind == "mse" else rng.integers(0, sizes[-1], n)
        report = gradcheck.check_network(build_network(spec, weights), loss_for(loss_kind), x, y)
        errors = {c.name: c.max_relative_error for c in report.checks}
        if all(e < 1e-7 or e > 1e-3 for e in errors.values()):
            break
    else:
        raise RuntimeError("could not draw a network case with clearly separated errors")
    what = f"{'-'.join(str(s) for s in sizes)} {activation} network, {loss_kind} loss"
    return Case((spec, weights, x, y, loss_kind), errors,
                label or what + (f", layer {bug_layer}: {bug}" if bug else ", a correct network"))


def network_check_cases(rng, hidden):
    cases = [_network_case(rng, [3, 4, 2], "tanh", "mse"),
             _network_case(rng, [3, 4, 4, 2], "tanh", "ce", "transposed dW", 2),
             _network_case(rng, [3, 4, 3, 2], "sigmoid", "ce", "no derivative", 1)]
    if not hidden:
        return cases
    bugs = [None, "db from the first example only", "db averaged instead of summed", "dW doubled",
            "dx with the wrong sign", "correct, new gradient arrays", "no derivative"]
    for bug in [str(b) if b else None for b in rng.choice(np.array(bugs, dtype=object), 4,
                                                          replace=False)]:
        depth = int(rng.integers(2, 4))  # Linear layers
        sizes = [int(s) for s in rng.integers(2, 6, depth + 1)]
        if bug == "no derivative":
            layer = 2 * int(rng.integers(0, depth - 1)) + 1
        else:
            low = 1 if bug == "dx with the wrong sign" else 0  # the first layer's dx is unused
            layer = 2 * int(rng.integers(low, depth)) if bug else None
        cases.append(_network_case(rng, sizes, str(rng.choice(["tanh", "sigmoid"])),
                                   str(rng.choice(["mse", "ce"])), bug, layer,
                                   n=int(rng.integers(2, 6))))
    return cases


def compare_network_errors(got, case):
    expected = case.expected
    names = ", ".join(expected)
    if not isinstance(got, dict):
        return (f"should return a dict {{parameter name: relative error}}; you returned "
                f"{type(got).__name__ if not isinstance(got, np.ndarray) else 'an array'}")
    for name in expected:
        if name not in got:
            return (f"the key {name!r} is missing: use the names model.parameters() yields "
                    f"({names})")
    for name in got:
        if name not in expected:
            return (f"unexpected key {name!r}: one entry per parameter, named as in "
                    f"model.parameters() ({names})")
    for name, right in expected.items():
        value = got[name]
        if not isinstance(value, float):
            return (f"[{name!r}] should be one number, the largest relative error over the entries "
                    f"of {name}; you returned an array of shape {np.shape(value)}")
        if right < 1e-7 and not value < 1e-5:
            return (f"[{name!r}]: you report a relative error of {value:.1e}, but the backward pass "
                    f"of this parameter is correct (finite differences give {right:.0e}).\n  "
                    "Hint: are both sides gradients of the same loss? Run "
                    "loss.forward(model.forward(x), y) and model.backward(loss.backward()) first and "
                    "only then read the gradients from model.parameters() (before that they are 0 or "
                    "stale); and take the numerical gradient of the loss itself, "
                    "f = lambda: loss.forward(model.forward(x), y), not of the network's output.")
        if right > 1e-3 and not abs(value - right) <= 1e-4 * right:
            hint = (" Read the analytic gradients from model.parameters() *after* calling "
                    "model.backward(...) and copy them: a layer may store new gradient arrays "
                    "during backward, so arrays you picked up before it are stale."
                    if value < 1e-5 else "")
            return (f"[{name!r}]: you report a relative error of {value:.3g}, but this parameter's "
                    f"backward is wrong and its relative error is {right:.3g}.{hint}")
    return None


CHECK_NETWORK_GRADIENTS = Exercise(
    "check_network_gradients", ("check_network_gradients",), network_check_cases,
    probe=network_check_probe, compare=compare_network_errors,
    implemented_by=NETWORK_CHECKS[:1])


# --- the bug finders: networks with bugs planted at grading time (bplib.probes.planted_bugs) ------

RIGHT_BELOW, WRONG_ABOVE = 1e-7, 1e-3  # every error of a case is below the first or above the second
FRESH_ARRAYS = "correct, new gradient arrays"
PLANTED_ANEW = ("the bugs are planted anew for every check, in layers drawn at random (some networks "
                "get none), so names or numbers from the notebook's examples do not carry over.")
STALE_GRADIENTS = ("this layer is correct but stores NEW gradient arrays in backward, so arrays "
                   "picked up before backward are stale: read layer.grads (or model.parameters()) "
                   "after calling backward, and copy them")


def _separated(errors):
    return all(e < RIGHT_BELOW or e > WRONG_ABOVE for e in errors)


def _label(sizes, activation, spec, n, loss_kind=None):
    bugs = [f"layer {i}: {item[-1]}" for i, item in enumerate(spec) if item[-1]]
    loss = f", {loss_kind} loss" if loss_kind else ""
    return (f"{'-'.join(str(s) for s in sizes)} {activation} network{loss}, a batch of {n}, "
            + ("; ".join(bugs) if bugs else "no bug"))


def _draw_case(rng, sizes, activation, bugs, n, loss_kind, errors_of):
    """Weights and data on which every error ``errors_of`` measures is clearly right or wrong,
    and no Linear layer sees an all-zero input (all ReLUs below it dead hide any dW bug)."""
    spec = network_spec(sizes, activation, bugs=bugs)
    for _ in range(200):
        weights = random_weights(rng, sizes)
        x = rng.normal(size=(n, sizes[0]))
        y = rng.normal(size=(n, sizes[-1])) if loss_kind == "mse" else rng.integers(0, sizes[-1], n)
        if relu_margin(spec, weights, x) < 1e-3 or _dead_input(spec, weights, x):
            continue
        errors = errors_of(spec, weights, x, y)
        if _separated(_flat(errors)):
            return spec, weights, x, y, errors
    raise RuntimeError("could not draw a case with clearly separated errors")


def _dead_input(spec, weights, x):
    """Whether some Linear layer's input is all zeros (every ReLU feeding it is inactive)."""
    h = x
    for i, item in enumerate(spec):
        if item[0] == "linear":
            if not np.any(h):
                return True
            W, b = weights[str(i)]
            h = h @ W + b
        elif item[0] == "relu":
            h = np.maximum(h, 0)
    return False


def _flat(errors):
    if isinstance(errors, dict):
        return list(errors.values())
    return [e for layer in errors for e in layer.values()]


def _random_bugs(rng, sizes, activation, count):
    """{layer index: bug} for ``count`` layers drawn at random (sizes made square where a
    transposed dW needs it; changes ``sizes`` in place)."""
    layers = sorted(int(i) for i in rng.choice(2 * len(sizes) - 3, count, replace=False))
    bugs = {}
    for layer in layers:
        if layer % 2 == 0:
            bug = str(rng.choice(LINEAR_BUG_NAMES))
            if bug == "transposed dW":
                sizes[layer // 2 + 1] = sizes[layer // 2]
        else:
            bug = str(rng.choice(["no derivative", "derivative of the input"]
                                 if activation == "tanh" else ["no derivative"]))
        bugs[layer] = bug
    return bugs


LINEAR_BUG_NAMES = ("transposed dW", "db from the first example only", "db averaged instead of summed",
                    "dW doubled", "dW divided by N", "dx with the wrong sign",
                    "correct, new gradient arrays")


def _random_network(rng):
    depth = int(rng.integers(2, 4))  # Linear layers
    sizes = [int(s) for s in rng.integers(2, 6, depth + 1)]
    activation = str(rng.choice(["tanh", "sigmoid", "relu"]))
    count = int(rng.choice([0, 1, 1, 2]))
    return sizes, activation, _random_bugs(rng, sizes, activation, count), int(rng.integers(2, 6))


# --- wrong_parameters --------------------------------------------------------------------------

def network_errors(spec, weights, x, y, loss_kind):
    """{parameter name: largest relative error} of bplib's full check of the planted network."""
    report = gradcheck.check_network(build_network(spec, weights), loss_for(loss_kind), x, y)
    return {c.name: c.max_relative_error for c in report.checks}


def _wrong_parameters_case(rng, sizes, activation, bugs, n, loss_kind):
    spec, weights, x, y, errors = _draw_case(
        rng, sizes, activation, bugs, n, loss_kind,
        lambda spec, weights, x, y: network_errors(spec, weights, x, y, loss_kind))
    wrong = tuple(sorted(name for name, e in errors.items() if e > WRONG_ABOVE))
    return Case((spec, weights, x, y, loss_kind), {"wrong": wrong, "errors": errors},
                _label(sizes, activation, spec, n, loss_kind))


def wrong_parameters_cases(rng, hidden):
    cases = [_wrong_parameters_case(rng, [3, 4, 2], "tanh", {}, 5, "mse"),
             _wrong_parameters_case(rng, [3, 4, 4, 2], "tanh", {2: "transposed dW"}, 5, "ce"),
             _wrong_parameters_case(rng, [3, 4, 3, 2], "sigmoid", {1: "no derivative"}, 4, "ce"),
             _wrong_parameters_case(rng, [4, 5, 5, 3], "tanh", {2: "dx with the wrong sign",
                                                                4: "correct, new gradient arrays"},
                                    5, "mse")]
    if hidden:
        for _ in range(4):
            sizes, activation, bugs, n = _random_network(rng)
            cases.append(_wrong_parameters_case(rng, sizes, activation, bugs, n,
                                                str(rng.choice(["mse", "ce"]))))
    return cases


def compare_wrong_parameters(got, case):
    wrong, errors = case.expected["wrong"], case.expected["errors"]
    names = ", ".join(errors)
    if not (isinstance(got, tuple) and all(isinstance(g, str) for g in got)):
        return (f"should return a list of parameter names (strings), e.g. [] or ['0.W', '0.b']; you "
                f"returned {got!r:.120}")
    for name in got:
        if name not in errors:
            return (f"{name!r} is not a parameter of this network; model.parameters() yields {names}."
                    "\n  Hint: name parameters as model.parameters() does, not layers or numbers.")
    for name in got:
        if name not in wrong:
            layer = _layer_of(name)
            if case.args[0][layer][-1] == FRESH_ARRAYS:
                hint = STALE_GRADIENTS + " (in check_network_gradients: read them after backward)"
            else:
                hint = (PLANTED_ANEW + " Run your check_network_gradients on the model you are given "
                        "and keep the names whose relative error is above the threshold (1e-5 is "
                        "bplib's)")
            none = " This network has no bug at all." if not wrong else ""
            return (f"the gradient of {name} is right (finite differences agree to a relative error "
                    f"of {errors[name]:.0e}): name only the parameters whose check fails.{none}"
                    f"\n  Hint: {hint}.")
    missing = [name for name in wrong if name not in got]
    if missing:
        shown = ", ".join(f"{m} ({errors[m]:.2g})" for m in missing)
        if not got:
            hint = ("you named none: return every name whose relative error is above the threshold "
                    "(a wrong gradient scores 1e-3 or more, a right one 1e-7 or less)")
        else:
            hint = ("a wrong dx or a missing activation derivative makes every parameter BELOW it "
                    "fail too: name all of them, not only the first one that fails")
        return (f"you named {len(got)} parameter(s), but {len(missing)} more fail the check: "
                f"{shown}.\n  Hint: {hint}.")
    return None


WRONG_PARAMETERS = Exercise(
    "wrong_parameters", ("wrong_parameters",), wrong_parameters_cases,
    probe=wrong_parameters_probe, compare=compare_wrong_parameters,
    implemented_by=NETWORK_CHECKS)


# --- wrong_layers ------------------------------------------------------------------------------

PART_NAMES = {"x": "dx", "W": "dW", "b": "db"}


def layer_errors(spec, weights, x, seed=0):
    """[{"dx": error, "dW": error, ...} for each layer]: bplib's check of every layer on its own, at
    the input it gets in the network, with a random dout."""
    model = build_network(spec, weights)
    inputs, h = [], x
    for layer in model.layers:
        inputs.append(h)
        h = layer.forward(h)
    return [{PART_NAMES[c.name]: c.max_relative_error
             for c in gradcheck.check_layer(layer, inp, rng=seed + i).checks}
            for i, (layer, inp) in enumerate(zip(model.layers, inputs))]


def _wrong_layers_case(rng, sizes, activation, bugs, n):
    spec, weights, x, _, errors = _draw_case(
        rng, sizes, activation, bugs, n, "ce", lambda spec, weights, x, y: layer_errors(spec, weights, x))
    wrong = tuple(i for i, parts in enumerate(errors) if max(parts.values()) > WRONG_ABOVE)
    return Case((spec, weights, x), {"wrong": wrong, "errors": errors,
                                     "kinds": tuple(layer_kind(item) for item in spec),
                                     "planted": tuple(item[-1] for item in spec)},
                _label(sizes, activation, spec, n))


def wrong_layers_cases(rng, hidden):
    cases = [_wrong_layers_case(rng, [3, 5, 2], "tanh", {}, 4),
             _wrong_layers_case(rng, [3, 4, 4, 2], "sigmoid", {1: "no derivative"}, 4),
             _wrong_layers_case(rng, [4, 5, 5, 3], "tanh", {0: "dx with the wrong sign"}, 5),
             _wrong_layers_case(rng, [3, 4, 4, 2], "relu", {2: "correct, new gradient arrays",
                                                            4: "dW doubled"}, 4),
             _wrong_layers_case(rng, [3, 4, 4, 2], "tanh", {0: "db averaged instead of summed",
                                                            3: "derivative of the input"}, 3)]
    if hidden:
        for _ in range(3):
            sizes, activation, bugs, n = _random_network(rng)
            cases.append(_wrong_layers_case(rng, sizes, activation, bugs, n))
    return cases


def compare_wrong_layers(got, case):
    wrong, errors, kinds = case.expected["wrong"], case.expected["errors"], case.expected["kinds"]
    if not (isinstance(got, tuple) and all(isinstance(g, int) and not isinstance(g, bool)
                                           for g in got)):
        return (f"should return a list of layer indices (integers, positions in model.layers), e.g. "
                f"[] or [1, 4]; you returned {got!r:.120}")
    for i in got:
        if not 0 <= i < len(kinds):
            return (f"{i} is not a layer of this network: model.layers has {len(kinds)} layers, "
                    f"0 to {len(kinds) - 1}.")

    def what(i):
        return f"layer {i} ({kinds[i]})"

    for i in got:
        if i not in wrong:
            worst = max(errors[i].values())
            if case.expected["planted"][i] == FRESH_ARRAYS:
                hint = STALE_GRADIENTS
            elif any(j > i for j in wrong):
                hint = ("a layer below a wrong one receives a wrong dout, but its own backward is "
                        "still right. Check each layer on its own: call its forward on its input "
                        "in the network, then its backward with a dout you choose (e.g. random "
                        "numbers of the output's shape), and compare with your numerical_gradient "
                        "of np.sum(layer.forward(x_i) * dout)")
            else:
                hint = (PLANTED_ANEW + " Check every layer on its own, at its input x_i in the "
                        "network, against your numerical_gradient of np.sum(layer.forward(x_i) * dout)")
            none = " This network has no bug at all." if not wrong else ""
            return (f"{what(i)} is correct: every gradient its backward computes agrees with finite "
                    f"differences (largest relative error {worst:.0e}). Name only the layers whose "
                    f"own backward is wrong.{none}\n  Hint: {hint}.")
    missing = [i for i in wrong if i not in got]
    if missing:
        i = missing[0]
        parts = [name for name, e in errors[i].items() if e > WRONG_ABOVE]
        shown = ", ".join(f"{name} ({errors[i][name]:.2g})" for name in parts)
        if kinds[i] != "Linear":
            hint = ("a layer without parameters is checked through what its backward returns: "
                    "compare layer.backward(dout) with numerical_gradient(lambda: layer.forward(x_i), "
                    "x_i, dout=dout), where x_i is the layer's input in the network")
        elif parts == ["dx"]:
            hint = ("check dx too (what backward returns), not only the parameter gradients"
                    + (": even in the first layer, whose dx training never uses, a wrong dx is a "
                       "wrong backward" if i == 0 else ""))
        else:
            hint = ("compare every gradient the layer computes (its dx and each of layer.grads) with "
                    "your numerical_gradient, one layer at a time")
        return (f"{what(i)} has a wrong backward: {shown} disagree with finite differences, but "
                f"you did not name it.\n  Hint: {hint}.")
    return None


WRONG_LAYERS = Exercise(
    "wrong_layers", ("wrong_layers",), wrong_layers_cases, probe=wrong_layers_probe,
    compare=compare_wrong_layers, implemented_by=LAYER_CHECK)


# --- fix_1, fix_2: two hand-written networks (bplib.probes.gradient_checking) --------------------

def _random_weights(rng, sizes):
    weights = {}
    for i, (m, n) in enumerate(zip(sizes[:-1], sizes[1:])):
        weights[f"{2 * i}.W"] = rng.normal(0, 1.5 / np.sqrt(m), (m, n))
        weights[f"{2 * i}.b"] = rng.normal(0, 0.5, n)
    return weights


_BUGGY = {"tanh": (TanhNetwork, "mse"), "sigmoid": (SigmoidNetwork, "ce")}


def _fix_settings(rng, which, hidden):
    """(D, H, C, N, hidden layers) of each case: the notebook's sizes first."""
    settings = [(4, 5, 3, 6, 2)]
    if which == "sigmoid":
        settings.append((3, 4, 2, 5, 3))  # deeper than the notebook's: the fix must not count layers
    if hidden:
        for _ in range(2):
            D, H, C, N = (int(v) for v in rng.integers(2, 7, 4))
            settings.append((D, H, C, N, int(rng.integers(1, 4)) if which == "sigmoid" else 2))
    return settings


def _fix_cases(which):
    network, loss_kind = _BUGGY[which]

    def cases(rng, hidden):
        result = []
        for D, H, C, N, hidden_layers in _fix_settings(rng, which, hidden):
            weights = _random_weights(rng, [D] + [H] * hidden_layers + [C])
            x = rng.normal(size=(N, D))
            y = rng.normal(size=(N, C)) if loss_kind == "mse" else rng.integers(0, C, N)
            depth = f", hidden_layers={hidden_layers}" if which == "sigmoid" else ""
            result.append(Case((D, H, C, weights, x, y, loss_kind),
                               reference_gradients(network, D, H, C, weights, x, y, loss_kind),
                               f"{network.__name__}({D}, {H}, {C}{depth}) with random weights, "
                               f"a batch of {N}"))
        return result
    return cases


def reference_gradients(network, D, H, C, weights, x, y, loss_kind):
    """Central differences of the loss through ``network``'s forward (which is right)."""
    net = make_network(network, D, H, C, weights)
    x = x.copy()
    loss = loss_for(loss_kind)

    def f():
        return loss.forward(net.forward(x), y)
    grads = {name: gradcheck.numerical_gradient(f, param) for name, param, _ in net.parameters()}
    grads["dx"] = gradcheck.numerical_gradient(f, x)
    return grads


def _layer_of(name):
    return int(name.split(".")[0])


def _compare_fixed(network):
    def compare(got, case):
        if not (isinstance(got, dict) and isinstance(got.get("gradients"), dict)):
            return "the probe could not read your network's gradients"  # the probe returns a dict
        calls = got["forward calls during backward"]
        if calls:
            return (f"your backward ran the network's forward {calls} time(s). A backward pass only "
                    "uses what forward cached (self.cache, self.inputs): finite differences inside "
                    "backward are not a fix.\n  Hint: correct the wrong line of the original "
                    "backward instead.")
        grads, expected = got["gradients"], case.expected
        if grads.get("dx") is None:
            return ("backward returned None: like the original, it must return dx, the gradient with "
                    "respect to the input x (its last line).")
        problems = {}
        for name, right in expected.items():
            problem = compare_values(grads.get(name), right, (), 1e-5, 1e-7)
            if problem:
                problems[name] = problem
        if not problems:
            return None
        buggy = fixed_network_probe(network, *case.args)["gradients"]
        if all(compare_values(plain_value, buggy[name], (), 1e-9, 1e-12) is None
               for name, plain_value in grads.items() if name in buggy):
            return (f"these are exactly the gradients of the original {network.__name__}.\n  Hint: "
                    "override backward in your class and correct the wrong line.")
        wrong = list(problems)
        right = [name for name in expected if name not in problems]
        first = wrong[0]
        parameters = [name for name in wrong if name != "dx"]
        if not parameters:
            hint = ("every parameter gradient is right and only dx, what backward returns, is "
                    "wrong: look at the last step, from the first layer's dout to the input x")
        else:
            top = max(parameters, key=_layer_of)
            hint = (f"the highest wrong parameter is {top}: the mistake is in the line that computes "
                    f"it, or in the chain (dout, dh, dz) between layer {_layer_of(top)} and the layer "
                    "above it; a wrong dout there makes every gradient below it wrong too")
        return (f"{len(wrong)} of {len(expected)} gradients are wrong ({', '.join(wrong)}); right: "
                f"{', '.join(right) or 'none'}.\n  {first}: {problems[first]}\n  Hint: {hint}.")
    return compare


def _fix(which, number, fixed_name):
    network = _BUGGY[which][0]
    return Exercise(f"fix_{number}", (fixed_name,), _fix_cases(which), probe=fixed_network_probe,
                    compare=_compare_fixed(network), implemented_by=BACKWARDS)


FIX_1 = _fix("tanh", 1, "FixedTanhNetwork")
FIX_2 = _fix("sigmoid", 2, "FixedSigmoidNetwork")

# bplib's automatic differentiation computes any derivative asked for here by hand
OFF_LIMITS = AUTODIFF

EXERCISES = [NUMERICAL_GRADIENT, RELATIVE_ERROR, CHECK_NETWORK_GRADIENTS, WRONG_PARAMETERS, FIX_1,
             WRONG_LAYERS, FIX_2]
