"""Lesson 04-gradient-checking: numerical_gradient, relative_error, check_network_gradients, and two
find-the-bug items (name every parameter whose gradient is wrong, then fix the backward).

Every expected value comes from :mod:`bplib.gradcheck` (finite differences of a trusted forward).
The two networks with a bug, :class:`bplib.probes.gradient_checking.TanhNetwork` and ``SigmoidNetwork``,
are written into the notebook's setup cells from their source, so the notebook and the grader use
the same code.
"""

import copy
import warnings

import numpy as np

from bplib import gradcheck
from bplib.grading import Case, Exercise, Mistake, compare_values
from bplib.probes.gradient_checking import (
    SigmoidNetwork,
    TanhNetwork,
    fixed_network_probe,
    loss_for,
    named_parameters_probe,
    network_check_probe,
    numerical_gradient_probe,
    set_weights,
    target_function,
)
from bplib.probes.planted_bugs import build_network, network_spec, random_weights

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
        problem += _hint(GRADIENT_MISTAKES, got["gradient"], case)
    return problem


def _hint(mistakes, got, case):
    """The hint of the first mistake ``got`` matches (as grading does for exercises without a
    ``compare``), or ""."""
    for mistake in mistakes:
        try:
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                args = copy.deepcopy(case.args)
                if mistake.test is not None:
                    matches = bool(mistake.test(got, *args))
                else:
                    matches = compare_values(got, mistake.answer(*args), (), 1e-6, 1e-9) is None
        except Exception:  # noqa: BLE001 - a mistake that does not apply to this case
            continue
        if matches:
            return f"\n  Hint: {mistake.hint}"
    return ""


NUMERICAL_GRADIENT = Exercise(
    "numerical_gradient", ("numerical_gradient",), numerical_gradient_cases,
    probe=numerical_gradient_probe, compare=compare_numerical_gradient)


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
    probe=network_check_probe, compare=compare_network_errors)


# --- find the bug: two hand-written networks (bplib.probes.gradient_checking) --------------------

def _random_weights(rng, D, H, C):
    sizes = [D, H, H, C]
    weights = {}
    for i in range(3):
        weights[f"{2 * i}.W"] = rng.normal(0, 1.5 / np.sqrt(sizes[i]), (sizes[i], sizes[i + 1]))
        weights[f"{2 * i}.b"] = rng.normal(0, 0.5, sizes[i + 1])
    return weights


_BUGGY = {"tanh": (TanhNetwork, "mse"), "sigmoid": (SigmoidNetwork, "ce")}


def _bug_data(rng, which, D, H, C, N):
    network, loss_kind = _BUGGY[which]
    weights = _random_weights(rng, D, H, C)
    x = rng.normal(size=(N, D))
    y = rng.normal(size=(N, C)) if loss_kind == "mse" else rng.integers(0, C, N)
    return network, loss_kind, weights, x, y


def _sizes(rng, hidden):
    fixed = [(4, 5, 3, 6)]
    return fixed + ([tuple(int(v) for v in rng.integers(2, 7, 4)) for _ in range(2)] if hidden
                    else [])


def _named_cases(which):
    def cases(rng, hidden):
        result = []
        for D, H, C, N in _sizes(rng, hidden):
            for _ in range(100):  # data on which every gradient is clearly right or clearly wrong
                network, loss_kind, weights, x, y = _bug_data(rng, which, D, H, C, N)
                net = set_weights(network(D, H, C), weights)
                report = gradcheck.check_network(net, loss_for(loss_kind), x, y)
                errors = {c.name: c.max_relative_error for c in report.checks}
                if all(e < 1e-7 or e > 1e-3 for e in errors.values()):
                    break
            wrong = tuple(sorted(name for name, e in errors.items() if e > 1e-3))
            result.append(Case((), {"wrong": wrong, "errors": errors},
                               f"{network.__name__}({D}, {H}, {C}), a batch of {N}"))
        return result
    return cases


def compare_named_parameters(got, case):
    wrong, errors = case.expected["wrong"], case.expected["errors"]
    names = ", ".join(errors)
    if not (isinstance(got, tuple) and all(isinstance(g, str) for g in got)) or not got:
        return (f"give a list of parameter names (strings), e.g. ['0.W'] or ['0.W', '0.b']; you gave "
                f"{got!r}")
    for name in got:
        if name not in errors:
            return f"{name!r} is not a parameter of this network; model.parameters() yields {names}"
    for name in got:
        if name not in wrong:
            return (f"the gradient of {name} is right (its relative error is {errors[name]:.0e}): "
                    "name only the parameters whose check fails.")
    missing = len(set(wrong) - set(got))
    if missing:
        return (f"you named {len(got)} parameter(s), but {missing} more fail the check: look at the "
                "relative error of every parameter, not only the first one that fails.")
    return None


def _fix_cases(which):
    def cases(rng, hidden):
        result = []
        for D, H, C, N in _sizes(rng, hidden):
            network, loss_kind, weights, x, y = _bug_data(rng, which, D, H, C, N)
            result.append(Case((D, H, C, weights, x, y, loss_kind),
                               reference_gradients(network, D, H, C, weights, x, y, loss_kind),
                               f"{network.__name__}({D}, {H}, {C}) with random weights, a batch of {N}"))
        return result
    return cases


def reference_gradients(network, D, H, C, weights, x, y, loss_kind):
    """Central differences of the loss through ``network``'s forward (which is right)."""
    net = set_weights(network(D, H, C), weights)
    x = x.copy()
    loss = loss_for(loss_kind)

    def f():
        return loss.forward(net.forward(x), y)
    grads = {name: gradcheck.numerical_gradient(f, param) for name, param, _ in net.parameters()}
    grads["dx"] = gradcheck.numerical_gradient(f, x)
    return grads


def _buggy_gradients(network):
    return lambda D, H, C, weights, x, y, loss_kind: fixed_network_probe(
        network, D, H, C, weights, x, y, loss_kind)


def _named(which, number):
    return Exercise(f"bug_{number}", (f"bug_{number}",), _named_cases(which),
                    probe=named_parameters_probe, compare=compare_named_parameters)


def _fix(which, number, fixed_name):
    network = _BUGGY[which][0]
    return Exercise(
        f"fix_{number}", (fixed_name,), _fix_cases(which), probe=fixed_network_probe,
        rtol=1e-5, atol=1e-7,
        mistakes=(Mistake(f"these are exactly the gradients of the original {network.__name__}: "
                          "override backward in your class and correct the wrong line.",
                          answer=_buggy_gradients(network)),))


BUG_1 = _named("tanh", 1)
FIX_1 = _fix("tanh", 1, "FixedTanhNetwork")
BUG_2 = _named("sigmoid", 2)
FIX_2 = _fix("sigmoid", 2, "FixedSigmoidNetwork")

EXERCISES = [NUMERICAL_GRADIENT, RELATIVE_ERROR, CHECK_NETWORK_GRADIENTS, BUG_1, FIX_1, BUG_2, FIX_2]
