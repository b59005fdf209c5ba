"""Lesson 09-derive-it-yourself: your_checker (lesson 04's numerical_gradient and relative_error),
batchnorm_forward, batchnorm_backward, layernorm_backward, dropout, sgd_step_with_weight_decay,
adamw_step, embedding_backward, rmsprop_step and update_ratios.

The expected values of the layers come from bplib's own layers (:mod:`bplib.normalization`,
:mod:`bplib.embedding`), which tests/ checks against an independent five-point numerical oracle;
the update steps from their formulas (tests/test_optim.py checks bplib's optimisers against the
same formulas). Dropout is random, so it is judged by what every correct inverted dropout does:
each output is 0 or x / (1 - p), about a share p is dropped, the mask comes from the generator it
is given, and the backward uses the forward's mask.
"""

import math

import numpy as np

from autograder.exercises import AUTODIFF
from autograder.exercises.gradient_checking import (
    RELATIVE_ERROR,
    compare_numerical_gradient,
    numerical_gradient_cases,
    relative_error_cases,
)
from bplib.embedding import Embedding
from bplib.grading import Case, Exercise, Mistake, compare_values, describe, matching_hint
from bplib.normalization import BatchNorm, LayerNorm
from bplib.probes.derive_it_yourself import batchnorm_forward_probe, checker_probe, dropout_probe


def _first_hint(mistakes, got, case, answer_of=None):
    """``"\n  Hint: ..."`` for the first mistake ``got`` matches (:func:`bplib.grading.matching_hint`)."""
    hint = matching_hint(mistakes, got, case.args, answer_of)
    return f"\n  Hint: {hint}" if hint else ""


def _signed(rng, shape, low=0.2, high=2.0):
    """Values away from 0, with random signs."""
    return rng.uniform(low, high, shape) * rng.choice([-1.0, 1.0], shape)


# --- your_checker: lesson 04's two functions, with lesson 04's checks ----------------------------

def checker_cases(rng, hidden):
    cases = [Case(("numerical_gradient",) + c.args, c.expected, "numerical_gradient: " + c.label)
             for c in numerical_gradient_cases(rng, hidden)]
    cases += [Case(("relative_error",) + c.args, c.expected, "relative_error: " + c.label)
              for c in relative_error_cases(rng, hidden)]
    return cases


def compare_checker(got, case):
    part, inner = case.args[0], Case(case.args[1:], case.expected, case.label)
    if part == "numerical_gradient":
        problem = compare_numerical_gradient(got, inner)
        return f"your numerical_gradient: {problem}" if problem else None
    problem = compare_values(got, case.expected, (), RELATIVE_ERROR.rtol, RELATIVE_ERROR.atol)
    if problem:
        return f"your relative_error: {problem}" + _first_hint(RELATIVE_ERROR.mistakes, got, inner)
    return None


YOUR_CHECKER = Exercise(
    "your_checker", ("numerical_gradient", "relative_error"), checker_cases, probe=checker_probe,
    compare=compare_checker,
    implemented_by=("bplib.gradcheck.numerical_gradient", "bplib.gradcheck.relative_error",
                    "bplib.gradcheck.relative_errors"))


# --- batchnorm_forward -----------------------------------------------------------------------------

def reference_batchnorm_sequence(batches, modes, gamma, beta, running_mean, running_var, momentum, eps):
    """bplib's BatchNorm on each batch in turn: every output and the final running averages."""
    layer = BatchNorm(len(gamma), momentum=momentum, eps=eps)
    layer.params["gamma"][...], layer.params["beta"][...] = gamma, beta
    layer.running_mean[...], layer.running_var[...] = running_mean, running_var
    outputs = []
    for x, training in zip(batches, modes):
        outputs.append(layer.train(training).forward(x))
    return {"outputs": tuple(outputs), "running mean": layer.running_mean.copy(),
            "running var": layer.running_var.copy()}


def _sequence_case(batches, modes, gamma, beta, running_mean, running_var, momentum, eps, label=""):
    args = (batches, modes, gamma, beta, running_mean, running_var, momentum, eps)
    if not label:
        what = ", ".join("train" if m else "eval" for m in modes)
        label = (f"{len(batches)} batches of {batches[0].shape[1]} features ({what}), "
                 f"momentum {momentum:.3g}, eps {eps:g}")
    return Case(args, reference_batchnorm_sequence(*args), label)


def batchnorm_forward_cases(rng, hidden):
    D = 3
    x = np.array([[1.0, 10.0, -2.0], [3.0, 20.0, -2.5], [5.0, 60.0, -1.0], [7.0, 30.0, -0.5]])
    ones, zeros = np.ones(D), np.zeros(D)
    gamma, beta = np.array([1.0, 2.0, 0.5]), np.array([0.0, -1.0, 3.0])
    cases = [
        _sequence_case([x], [True], ones, zeros, zeros, ones, 0.9, 1e-5,
                       "one training batch (4, 3), gamma = 1, beta = 0"),
        _sequence_case([x], [True], gamma, beta, zeros, ones, 0.9, 1e-5,
                       "one training batch, gamma = [1, 2, 0.5], beta = [0, -1, 3]"),
        _sequence_case([x[:2]], [False], gamma, beta, np.array([2.0, 15.0, -1.0]),
                       np.array([4.0, 100.0, 0.25]), 0.9, 1e-5,
                       "evaluation mode: running mean [2, 15, -1], running var [4, 100, 0.25]"),
        _sequence_case([x, x[::-1] * 2, x + 1, x[1:2]], [True, True, True, False], gamma, beta, zeros,
                       ones, 0.8, 1e-3, "three training batches, then one example in evaluation "
                                        "mode; momentum 0.8, eps 1e-3"),
        _sequence_case([np.array([[1.0, 0.0, 5.0], [1.02, 0.1, 5.0]])], [True], gamma, beta, zeros, ones,
                       0.9, 1e-2, "a batch of 2 with a small and a zero variance, eps = 0.01"),
    ]
    if hidden:
        for _ in range(4):
            D, n = int(rng.integers(1, 6)), int(rng.integers(2, 8))
            steps = int(rng.integers(1, 5))
            modes = [True] * steps + [bool(rng.random() < 0.3) for _ in range(int(rng.integers(1, 3)))]
            batches = [rng.normal(rng.normal(0, 3, D), rng.uniform(0.1, 5, D), (n, D)) for _ in modes]
            cases.append(_sequence_case(batches, modes, rng.normal(1, 0.5, D), rng.normal(0, 1, D),
                                        rng.normal(0, 1, D), rng.uniform(0.5, 2, D),
                                        float(rng.uniform(0.5, 0.99)), float(rng.choice([1e-5, 1e-3, 0.1]))))
    return cases


def _bn_forward_variant(batch_stats_in_eval=False, running_in_train=False, update=True, swapped=False,
                        eps_outside=False, ddof=0, axis=0, affine=True, var_as_std=False,
                        update_in_eval=False):
    """A batchnorm_forward with one typical mistake (for the hints)."""
    def forward(x, gamma, beta, running, training=True, momentum=0.9, eps=1e-5):
        batch_mean = x.mean(axis=axis, keepdims=axis == 1)
        batch_var = x.var(axis=axis, ddof=ddof, keepdims=axis == 1)
        kept, new = (1 - momentum, momentum) if swapped else (momentum, 1 - momentum)
        if (training and update) or (update_in_eval and not training):
            running["mean"] = kept * running["mean"] + new * batch_mean
            running["var"] = kept * running["var"] + new * (np.sqrt(batch_var) if var_as_std else batch_var)
        use_batch = (training and not running_in_train) or (not training and batch_stats_in_eval)
        mean, var = (batch_mean, batch_var) if use_batch else (running["mean"], running["var"])
        x_hat = (x - mean) / (np.sqrt(var) + eps if eps_outside else np.sqrt(var + eps))
        return (gamma * x_hat + beta if affine else x_hat), None
    return forward


_BN_FORWARD_MISTAKES = (
    Mistake("in evaluation mode (training=False), normalise with the running averages "
            "running['mean'] and running['var'], not with the statistics of the batch, and leave "
            "them unchanged.", answer=_bn_forward_variant(batch_stats_in_eval=True, update_in_eval=True)),
    Mistake("in evaluation mode (training=False), normalise with the running averages "
            "running['mean'] and running['var'], not with the statistics of the batch.",
            answer=_bn_forward_variant(batch_stats_in_eval=True)),
    Mistake("evaluation mode must not change the running averages: update them in training mode "
            "only.", answer=_bn_forward_variant(update_in_eval=True)),
    Mistake("in training mode, normalise with the mean and variance of THIS batch; the running "
            "averages are only for evaluation.", answer=_bn_forward_variant(running_in_train=True)),
    Mistake("the running averages were never updated: in training mode, set running['mean'] = "
            "momentum * running['mean'] + (1 - momentum) * batch mean (the same for 'var'). "
            "Assign into the dict you were given (running['mean'] = ...), not a new dict.",
            answer=_bn_forward_variant(update=False)),
    Mistake("momentum is the share of the OLD average that is kept: running = momentum * running "
            "+ (1 - momentum) * batch value (PyTorch's momentum=0.1 is the other way round).",
            answer=_bn_forward_variant(swapped=True)),
    Mistake("eps goes inside the square root: std = np.sqrt(var + eps).",
            answer=_bn_forward_variant(eps_outside=True)),
    Mistake("use the biased variance, divided by N (x.var(axis=0), NumPy's default), not N - 1.",
            answer=_bn_forward_variant(ddof=1)),
    Mistake("batch norm normalises each feature (column) over the batch: mean and variance over "
            "axis=0. Over axis=1 is layer norm.", answer=_bn_forward_variant(axis=1)),
    Mistake("scale and shift the normalised values: out = gamma * x_hat + beta.",
            answer=_bn_forward_variant(affine=False)),
    Mistake("the running average of the variance averages batch VARIANCES, not standard "
            "deviations.", answer=_bn_forward_variant(var_as_std=True)),
)


def compare_batchnorm_forward(got, case):
    expected = case.expected
    if not isinstance(got, dict) or not isinstance(got.get("outputs"), tuple):
        return "the probe could not read your outputs"  # the probe always returns this dict
    modes = case.args[1]
    problem = None
    for i, (out, right) in enumerate(zip(got["outputs"], expected["outputs"])):
        problem = compare_values(out, right, (), 1e-6, 1e-9, batch=right.shape[0])
        if problem:
            mode = "training" if modes[i] else "evaluation"
            problem = f"the output for batch {i + 1} ({mode} mode): {problem}"
            break
    if problem is None:
        for key in ("running mean", "running var"):
            if got[key] is None:
                return f"running['{key.split()[1]}'] is missing: keep the keys 'mean' and 'var'"
            problem = compare_values(got[key], expected[key], (), 1e-6, 1e-9)
            if problem:
                problem = f"running['{key.split()[1]}'] after the last batch: {problem}"
                break
    if problem is None:
        return None
    return problem + _first_hint(_BN_FORWARD_MISTAKES, got, case,
                                 answer_of=lambda forward, *args: batchnorm_forward_probe(forward, *args))


BATCHNORM_FORWARD = Exercise(
    "batchnorm_forward", ("batchnorm_forward",), batchnorm_forward_cases,
    probe=batchnorm_forward_probe, compare=compare_batchnorm_forward,
    implemented_by=("bplib.normalization.BatchNorm",))


# --- batchnorm_backward and layernorm_backward: (dout, cache) -> (dx, dgamma, dbeta) --------------

def _normalization_case(kind, x, gamma, dout, eps, label=""):
    """The cache (x_hat, gamma, std) of the forward on ``x`` and the gradients bplib's layer gives."""
    axis = 0 if kind == "batch" else 1
    std = np.sqrt(x.var(axis=axis, keepdims=kind == "layer") + eps)  # (D,) or (N, 1)
    x_hat = (x - x.mean(axis=axis, keepdims=kind == "layer")) / std
    layer = (BatchNorm if kind == "batch" else LayerNorm)(x.shape[1], eps=eps)
    layer.params["gamma"][...] = gamma
    layer.forward(x)
    dx = layer.backward(dout)
    expected = (dx, layer.grads["gamma"].copy(), layer.grads["beta"].copy())
    n, d = x.shape
    return Case((dout, (x_hat, gamma.copy(), std)), expected,
                label or f"x of shape ({n}, {d}), eps {eps:g}")


def normalization_cases(kind):
    def cases(rng, hidden):
        shapes = [(4, 3), (2, 5), (6, 1) if kind == "batch" else (1, 6)]
        labels = ["x (4, 3)", "x (2, 5)", "one feature (6, 1)" if kind == "batch" else "one example (1, 6)"]
        if hidden:
            for _ in range(4):
                n, d = (int(v) for v in rng.integers(2, 9, 2))
                if n == d:
                    d += 1  # N != D, so that a sum over the wrong axis shows in the shapes
                shapes.append((n, d))
                labels.append("")
        result = []
        for (n, d), label in zip(shapes, labels):
            x = rng.normal(rng.normal(0, 2, d), rng.uniform(0.5, 3, d), (n, d))
            gamma = _signed(rng, d, 0.5, 2.0)
            eps = float(rng.choice([1e-5, 1e-3]))
            result.append(_normalization_case(kind, x, gamma, rng.normal(size=(n, d)), eps, label and
                                              f"{label}, random gamma and dout, eps {eps:g}"))
        return result
    return cases


def _norm_backward(axis, mean_path=True, var_path=True, with_gamma=True, size=None, over_std2=False,
                   swap=False, param_axis=0, means=False):
    """A (batch|layer)norm backward with one typical mistake (for the hints)."""
    def backward(dout, cache):
        x_hat, gamma, std = cache
        m = dout.shape[axis] if size is None else dout.shape[size]
        dgamma = (dout * x_hat).sum(axis=param_axis) / (dout.shape[param_axis] if means else 1)
        dbeta = dout.sum(axis=param_axis) / (dout.shape[param_axis] if means else 1)
        if means and axis == 0:  # the whole formula written with means: gamma / std * (dout - ...)
            return gamma / std * (dout - dbeta - x_hat * dgamma), dgamma, dbeta
        dx_hat = dout * gamma if with_gamma else dout
        dx = m * dx_hat
        if mean_path:
            dx = dx - dx_hat.sum(axis=axis, keepdims=True)
        if var_path:
            dx = dx - x_hat * (dx_hat * x_hat).sum(axis=axis, keepdims=True)
        dx = dx / (m * (std ** 2 if over_std2 else std))
        return (dx, dbeta, dgamma) if swap else (dx, dgamma, dbeta)
    return backward


def _norm_mistakes(axis, name):
    other = 1 - axis
    what = "the batch (axis=0)" if axis == 0 else "the features of each example (axis=1)"
    return (
        Mistake(f"this treats the mean and the variance as constants (dx = dout * gamma / std). They "
                f"are computed from x, so x reaches the output along three paths: directly, through "
                f"the mean and through the variance. The mean and variance are taken over {what}: "
                f"dx = (M dx_hat - sum(dx_hat) - x_hat sum(dx_hat x_hat)) / (M std), summed over that "
                "axis, with M the number of values summed.",
                answer=_norm_backward(axis, mean_path=False, var_path=False)),
        Mistake("the path through the variance is missing: subtract x_hat * sum(dx_hat * x_hat) too.",
                answer=_norm_backward(axis, var_path=False)),
        Mistake("the path through the mean is missing: subtract sum(dx_hat) too.",
                answer=_norm_backward(axis, mean_path=False)),
        Mistake("dx_hat = dout * gamma: the output is gamma * x_hat + beta, so the gradient reaching "
                "x_hat is multiplied by gamma.", answer=_norm_backward(axis, with_gamma=False)),
        Mistake("dgamma and dbeta are swapped: dgamma = sum(dout * x_hat), dbeta = sum(dout), both "
                "over the batch.", answer=_norm_backward(axis, swap=True)),
        Mistake("divide by std = sqrt(var + eps), not by the variance.",
                answer=_norm_backward(axis, over_std2=True)),
        Mistake("dgamma and dbeta are SUMS over the batch (every example adds its share), not "
                "means; and dx = (M dx_hat - sum(dx_hat) - x_hat sum(dx_hat x_hat)) / (M std).",
                answer=_norm_backward(axis, means=True)),
        Mistake(f"{name} normalises over {what}: take the sums for dx along axis={axis}, not "
                f"axis={other}.", answer=_norm_backward(other)),
        Mistake(f"M is the number of values normalised together: {what} has "
                f"{'N = dout.shape[0]' if axis == 0 else 'D = dout.shape[1]'} of them.",
                answer=_norm_backward(axis, size=other)),
        Mistake("dgamma and dbeta sum over the batch (axis=0): every example uses the same gamma and "
                "beta, so their gradient has one entry per feature.",
                test=lambda got, dout, cache: isinstance(got, tuple) and len(got) == 3
                and np.shape(got[1]) == (dout.shape[0],) != (dout.shape[1],)),
    )


BATCHNORM_BACKWARD = Exercise(
    "batchnorm_backward", ("batchnorm_backward",), normalization_cases("batch"),
    outputs=("dx", "dgamma", "dbeta"), mistakes=_norm_mistakes(0, "batch norm"),
    implemented_by=("bplib.normalization.BatchNorm",))

LAYERNORM_BACKWARD = Exercise(
    "layernorm_backward", ("layernorm_backward",), normalization_cases("layer"),
    outputs=("dx", "dgamma", "dbeta"), mistakes=_norm_mistakes(1, "layer norm"),
    implemented_by=("bplib.normalization.LayerNorm", "bplib.normalization.BatchNorm"))


# --- dropout: dropout_forward and dropout_backward --------------------------------------------------

def dropout_cases(rng, hidden):
    def case(shape, p, training, label=""):
        x, dout = _signed(rng, shape, 0.1, 2.0), rng.normal(size=shape)
        mode = "training" if training else "evaluation"
        return Case((x, dout, p, training, int(rng.integers(2 ** 31))), None,
                    label or f"x of shape {shape}, p = {p:.3g}, {mode} mode")
    cases = [case((100, 100), 0.3, True), case((80, 75), 0.75, True), case((5, 4), 0.5, False),
             case((6, 5), 0.0, True, "p = 0 in training mode: nothing is dropped")]
    if hidden:
        for _ in range(3):
            shape = tuple(int(v) for v in rng.integers(60, 120, 2))
            p = float(rng.choice([rng.uniform(0.1, 0.4), rng.uniform(0.6, 0.9)]))
            cases.append(case(shape, p, True))
        cases.append(case(tuple(int(v) for v in rng.integers(1, 8, 2)), float(rng.uniform(0.1, 0.9)), False))
    return cases


def compare_dropout(got, case):
    x, dout, p, training, _ = case.args
    if not isinstance(got, dict):
        return "the probe could not read your results"
    out, dx = got["out"], got["dx"]
    if not isinstance(out, np.ndarray) or out.shape != x.shape:
        return f"out should be an array of the shape of x, {x.shape}; you returned {describe(out)}"
    if not training or p == 0:
        if not np.allclose(out, x, rtol=1e-12, atol=0):
            if np.allclose(out, x * (1 - p), rtol=1e-9, atol=0) and p > 0:
                return ("in evaluation mode, inverted dropout is the identity: out = x. The scaling "
                        "by 1 / (1 - p) already happened during training (multiplying by 1 - p "
                        "here is the original, non-inverted dropout).")
            if not training:
                return ("in evaluation mode, nothing is dropped and nothing is scaled: return x "
                        "itself (and mask None).")
            return "with p = 0 nothing is dropped: out must equal x."
        if not isinstance(dx, np.ndarray) or dx.shape != dout.shape or not np.allclose(dx, dout):
            return ("when nothing was dropped (evaluation mode, or p = 0), the backward is the "
                    "identity too: dropout_backward(dout, None) returns dout.")
        return None
    kept = out != 0
    scaled = x / (1 - p)
    if not np.allclose(out[kept], scaled[kept], rtol=1e-9, atol=0):
        if np.allclose(out[kept], x[kept], rtol=1e-9, atol=0):
            return ("the kept entries equal x: inverted dropout divides them by 1 - p, so that "
                    "E[out] = x and evaluation mode needs no rescaling.")
        if np.allclose(out[kept], x[kept] / p, rtol=1e-9, atol=0):
            return ("the kept entries are x / p: p is the probability of DROPPING a unit, so the "
                    "kept ones are divided by 1 - p, the probability of keeping one.")
        return "every entry of out must be 0 (dropped) or x / (1 - p) (kept)."
    dropped = 1.0 - float(kept.mean())
    tolerance = 5 * math.sqrt(p * (1 - p) / x.size)
    if abs(dropped - p) > tolerance:
        message = (f"you dropped {dropped:.1%} of the {x.size} entries; with p = {p:.3g} about "
                   f"{p:.1%} should be dropped (give or take {tolerance:.1%}).")
        if abs(dropped - (1 - p)) <= tolerance:
            message += ("\n  Hint: p is the probability of DROPPING a unit: keep an entry where "
                        "rng.random(x.shape) >= p, which happens with probability 1 - p.")
        return message
    if not got["same seed, same output"]:
        return ("two calls with generators of the same seed dropped different entries: draw the "
                "mask from the `rng` you are given (rng.random(x.shape)), not from np.random.")
    if not got["another seed, another output"]:
        return ("generators with different seeds dropped the same entries: draw the mask from the "
                "`rng` argument.")
    if not isinstance(dx, np.ndarray) or dx.shape != dout.shape:
        return f"dropout_backward should return dx, of the shape of dout {dout.shape}; got {describe(dx)}"
    right = dout * (out / x)  # dout times the mask the forward used
    if np.allclose(dx, right, rtol=1e-9, atol=1e-12):
        return None
    if np.allclose(dx, dout * kept, rtol=1e-9, atol=1e-12):
        return ("dx = dout * (mask without the scale): the forward multiplied each kept entry by "
                "1 / (1 - p), so the backward must too. Cache the scaled mask (0 or 1 / (1 - p)) "
                "and return dout * mask.")
    if np.allclose(dx, dout, rtol=1e-9, atol=1e-12):
        return ("dx = dout: the dropped entries did not affect the output, so their gradient is 0. "
                "Multiply by the mask of the forward pass: dx = dout * mask.")
    if not np.array_equal(dx != 0, kept):
        return ("dx is not zero exactly where the forward pass dropped entries: the backward must "
                "use the mask the forward pass returned (cached), never a newly drawn one.")
    return ("dx should be dout * mask, with the mask the forward pass returned; "
            + compare_values(dx, right, (), 1e-9, 1e-12))


DROPOUT = Exercise(
    "dropout", ("dropout_forward", "dropout_backward"), dropout_cases, probe=dropout_probe,
    compare=compare_dropout, implemented_by=("bplib.layers.Dropout",))


# --- sgd_step_with_weight_decay --------------------------------------------------------------------

def _shapes(rng, hidden, fixed):
    extra = [tuple(int(n) for n in rng.integers(1, 6, size=rng.integers(1, 4))) for _ in range(3)]
    return list(fixed) + (extra if hidden else [])


def reference_sgd_step_with_weight_decay(w, grad, learning_rate, weight_decay):
    """w - learning_rate * (grad + weight_decay * w), i.e. (1 - learning_rate weight_decay) w minus the
    plain step learning_rate * grad."""
    return w - learning_rate * (grad + weight_decay * w)


def sgd_decay_cases(rng, hidden):
    w, grad = np.array([1.0, -2.0, 3.0]), np.array([0.5, 0.5, 0.0])
    cases = [Case((w, grad, 0.1, 0.01), reference_sgd_step_with_weight_decay(w, grad, 0.1, 0.01),
                  "w = [1, -2, 3], grad = [0.5, 0.5, 0], learning_rate 0.1, weight_decay 0.01"),
             Case((w, np.zeros(3), 0.5, 0.2), reference_sgd_step_with_weight_decay(w, np.zeros(3), 0.5, 0.2),
                  "a zero gradient: only the decay, learning_rate 0.5, weight_decay 0.2")]
    for shape in _shapes(rng, hidden, [(3, 2)]):
        w, grad = rng.normal(size=shape), rng.normal(size=shape)
        rate, decay = float(10 ** rng.uniform(-3, -0.5)), float(10 ** rng.uniform(-3, -0.3))
        cases.append(Case((w, grad, rate, decay), reference_sgd_step_with_weight_decay(w, grad, rate, decay),
                          f"shape {shape}, learning_rate {rate:.3g}, weight_decay {decay:.3g}"))
    return cases


SGD_STEP_WITH_WEIGHT_DECAY = Exercise(
    "sgd_step_with_weight_decay", ("sgd_step_with_weight_decay",), sgd_decay_cases,
    mistakes=(
        Mistake("the decay term must be multiplied by the learning rate too: it is part of the "
                "gradient, w - learning_rate * (grad + weight_decay * w).",
                answer=lambda w, g, r, lam: w - r * g - lam * w),
        Mistake("the penalty (weight_decay / 2) * sum(w**2) has the gradient weight_decay * w, "
                "not 2 * weight_decay * w.", answer=lambda w, g, r, lam: w - r * (g + 2 * lam * w)),
        Mistake("the decay pulls the weights towards 0: ADD weight_decay * w to the gradient "
                "(the step subtracts it).", answer=lambda w, g, r, lam: w - r * (g - lam * w)),
        Mistake("the weight decay term is missing: the gradient of the penalised loss is "
                "grad + weight_decay * w.", answer=lambda w, g, r, lam: w - r * g),
        Mistake("the gradient is missing: w - learning_rate * (grad + weight_decay * w).",
                answer=lambda w, g, r, lam: w - r * lam * w)),
    implemented_by=("bplib.optim.SGD",))


# --- adamw_step ------------------------------------------------------------------------------------

def reference_adamw_step(w, grad, m, v, t, learning_rate=0.001, weight_decay=0.01, beta1=0.9,
                         beta2=0.999, eps=1e-8):
    """AdamW (Loshchilov & Hutter 2019, Alg. 2; PyTorch's scaling): the moments see grad only, and
    w <- w - learning_rate * (m_hat / (sqrt(v_hat) + eps) + weight_decay * w)."""
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad * grad
    m_hat, v_hat = m / (1 - beta1 ** t), v / (1 - beta2 ** t)
    return w - learning_rate * (m_hat / (np.sqrt(v_hat) + eps) + weight_decay * w), m, v


def adamw_cases(rng, hidden):
    w, grad = np.array([1.0, 2.0, -1.0]), np.array([0.1, -0.2, 0.3])
    first = (w, grad, np.zeros(3), np.zeros(3), 1, 0.01, 0.1, 0.9, 0.999, 1e-8)
    later = (w, grad, np.array([0.05, -0.1, 0.0]), np.array([0.01, 0.04, 0.0]), 3, 0.01, 0.5, 0.9, 0.999,
             1e-3)
    cases = [Case(first, reference_adamw_step(*first), "first step (t = 1), weight_decay 0.1"),
             Case(later, reference_adamw_step(*later), "third step (t = 3), weight_decay 0.5, eps 1e-3")]
    for shape in _shapes(rng, hidden, [(3, 2)]):
        w, grad, m = rng.normal(size=shape), rng.normal(0, 0.1, shape), rng.normal(0, 0.1, shape)
        v = rng.normal(0, 0.1, shape) ** 2
        t = int(rng.integers(1, 60))
        args = (w, grad, m, v, t, float(10 ** rng.uniform(-3, -1)), float(10 ** rng.uniform(-2, 0)),
                float(rng.uniform(0.8, 0.95)), float(rng.uniform(0.99, 0.9999)),
                float(rng.choice([1e-8, 1e-3])))
        cases.append(Case(args, reference_adamw_step(*args),
                          f"shape {shape}, t = {t}, learning_rate {args[5]:.3g}, weight_decay {args[6]:.3g}"))
    return cases


def _adamw_variant(w, g, m, v, t, rate, lam, b1, b2, eps, coupled=False, times_rate=True, after=False,
                   correct=True, sign=1.0):
    grad = g + lam * w if coupled else g
    m = b1 * m + (1 - b1) * grad
    v = b2 * v + (1 - b2) * grad * grad
    m_hat, v_hat = (m / (1 - b1 ** t), v / (1 - b2 ** t)) if correct else (m, v)
    step = m_hat / (np.sqrt(v_hat) + eps)
    if coupled:
        return w - rate * step, m, v
    if after:
        return (w - rate * step) * (1 - rate * lam), m, v
    decay = sign * lam * w
    return (w - rate * (step + decay) if times_rate else w - rate * step - decay), m, v


def _adamw_corrected_state(w, g, m, v, t, rate, lam, b1, b2, eps):
    new_w, m, v = reference_adamw_step(w, g, m, v, t, rate, lam, b1, b2, eps)
    return new_w, m / (1 - b1 ** t), v / (1 - b2 ** t)


ADAMW_STEP = Exercise(
    "adamw_step", ("adamw_step",), adamw_cases, outputs=("new_w", "new_m", "new_v"),
    mistakes=(
        Mistake("this is Adam with L2 in the gradient (grad + weight_decay * w goes into m and v): "
                "then the decay is divided by sqrt(v_hat) like everything else. AdamW DECOUPLES it: m "
                "and v see grad only, and the decay is added to the step: w - learning_rate * "
                "(m_hat / (sqrt(v_hat) + eps) + weight_decay * w).",
                answer=lambda *a: _adamw_variant(*a, coupled=True)),
        Mistake("the decay is multiplied by the learning rate too (as in PyTorch's AdamW): "
                "w - learning_rate * (m_hat / (sqrt(v_hat) + eps) + weight_decay * w).",
                answer=lambda *a: _adamw_variant(*a, times_rate=False)),
        Mistake("decay the OLD weights: both the Adam step and the decay start from w, "
                "w - learning_rate * (adam step + weight_decay * w); you shrank the weights after the "
                "step.", answer=lambda *a: _adamw_variant(*a, after=True)),
        Mistake("the bias correction is missing: divide m by (1 - beta1**t) and v by (1 - beta2**t) "
                "inside the step (return the uncorrected m and v).",
                answer=lambda *a: _adamw_variant(*a, correct=False)),
        Mistake("return the UNcorrected averages m and v: the next step continues from them (m_hat "
                "and v_hat are only used inside the update).",
                answer=lambda *a: _adamw_corrected_state(*a)),
        Mistake("the decay pulls the weights towards 0: w - learning_rate * (... + weight_decay * w).",
                answer=lambda *a: _adamw_variant(*a, sign=-1.0)),
        Mistake("the weight decay is missing: add weight_decay * w to the step.",
                answer=lambda *a: _adamw_variant(*a, sign=0.0))),
    implemented_by=("bplib.optim.Adam",))


# --- embedding_backward ----------------------------------------------------------------------------

def reference_embedding_backward(dout, indices, num_embeddings):
    """bplib's Embedding backward: dW (num_embeddings, D), the scatter-add of dout's rows."""
    layer = Embedding(num_embeddings, dout.shape[-1], rng=0)
    layer.forward(indices)
    layer.backward(dout)
    return layer.grads["W"].copy()


def embedding_cases(rng, hidden):
    specs = [(np.array([1, 3, 1, 0]), 5, 2, "indices [1, 3, 1, 0] (1 twice), 5 rows"),
             (np.array([2, 0, 4]), 5, 3, "indices [2, 0, 4], no index twice"),
             (np.array([[0, 1, 1], [1, 1, 2]]), 4, 2, "indices of shape (2, 3): index 1 four times"),
             (np.array([3, 3, 3]), 4, 1, "one index three times, embedding dim 1")]
    if hidden:
        for _ in range(4):
            V, D = int(rng.integers(2, 8)), int(rng.integers(1, 5))
            shape = tuple(int(s) for s in rng.integers(1, 7, rng.integers(1, 3)))
            specs.append((rng.integers(0, V, shape), V, D, ""))
    cases = []
    for indices, V, D, label in specs:
        dout = rng.normal(size=indices.shape + (D,))
        cases.append(Case((dout, indices, V), reference_embedding_backward(dout, indices, V),
                          label or f"indices of shape {indices.shape}, {V} rows of {D}"))
    return cases


def _fancy_add(dout, indices, V):
    dW = np.zeros((V, dout.shape[-1]))
    dW[indices] += dout
    return dW


def _fancy_set(dout, indices, V):
    dW = np.zeros((V, dout.shape[-1]))
    dW[indices] = dout
    return dW


EMBEDDING_BACKWARD = Exercise(
    "embedding_backward", ("embedding_backward",), embedding_cases,
    mistakes=(
        Mistake("dW[indices] += dout (or = dout) keeps only ONE gradient of a repeated index: NumPy "
                "reads the rows dW[indices], adds dout, and writes each row back, so the last write "
                "of a repeated row wins. An index used k times needs the sum of its k gradients: "
                "np.add.at(dW, indices, dout) adds every one.", answer=_fancy_add),
        Mistake("that is the gradient with the rows of dW in the wrong place: row indices[n] of dW "
                "receives dout[n] (np.add.at(dW, indices, dout)).",
                test=lambda got, dout, indices, V: isinstance(got, np.ndarray)
                and got.shape == (V, dout.shape[-1])
                and np.allclose(got.sum(axis=0), dout.reshape(-1, dout.shape[-1]).sum(axis=0))),
    ),
    implemented_by=("bplib.embedding.Embedding",))


# --- rmsprop_step ----------------------------------------------------------------------------------

def reference_rmsprop_step(w, grad, s, learning_rate=0.01, decay_rate=0.99, eps=1e-8):
    """s <- decay_rate s + (1 - decay_rate) grad**2;  w <- w - learning_rate grad / (sqrt(s) + eps)."""
    s = decay_rate * s + (1 - decay_rate) * grad * grad
    return w - learning_rate * grad / (np.sqrt(s) + eps), s


def rmsprop_cases(rng, hidden):
    w, grad = np.array([1.0, -1.0, 2.0]), np.array([0.5, -0.01, 0.0])
    first = (w, grad, np.zeros(3), 0.01, 0.99, 1e-8)
    later = (w, grad, np.array([0.04, 1e-4, 0.01]), 0.1, 0.9, 1e-3)
    cases = [Case(first, reference_rmsprop_step(*first), "first step (s = 0), learning_rate 0.01"),
             Case(later, reference_rmsprop_step(*later), "s = [0.04, 1e-4, 0.01], decay_rate 0.9, eps 1e-3")]
    for shape in _shapes(rng, hidden, [(3, 2)]):
        w, grad, s = rng.normal(size=shape), rng.normal(0, 0.5, shape), rng.normal(0, 0.3, shape) ** 2
        args = (w, grad, s, float(10 ** rng.uniform(-3, -1)), float(rng.uniform(0.8, 0.999)),
                float(rng.choice([1e-8, 1e-3, 0.1])))
        cases.append(Case(args, reference_rmsprop_step(*args),
                          f"shape {shape}, decay_rate {args[4]:.3g}, eps {args[5]:g}"))
    return cases


def _rmsprop_variant(w, g, s, rate, rho, eps, eps_inside=False, root=True, old=False, average=True,
                     square=True, corrected=False):
    new_s = rho * s + ((1 - rho) if average else 1.0) * (g * g if square else np.abs(g))
    scale = s if old else new_s
    if corrected:
        scale = scale / (1 - rho)
    denominator = np.sqrt(scale + eps) if eps_inside else (np.sqrt(scale) if root else scale) + eps
    return w - rate * g / denominator, new_s


RMSPROP_STEP = Exercise(
    "rmsprop_step", ("rmsprop_step",), rmsprop_cases, outputs=("new_w", "new_s"),
    mistakes=(
        Mistake("eps goes outside the square root: grad / (np.sqrt(s) + eps).",
                answer=lambda *a: _rmsprop_variant(*a, eps_inside=True)),
        Mistake("divide by the ROOT mean square: grad / (np.sqrt(s) + eps).",
                answer=lambda *a: _rmsprop_variant(*a, root=False)),
        Mistake("update s first, then step with the NEW s (it already contains this gradient).",
                answer=lambda *a: _rmsprop_variant(*a, old=True)),
        Mistake("s is a weighted average: s = decay_rate * s + (1 - decay_rate) * grad**2.",
                answer=lambda *a: _rmsprop_variant(*a, average=False)),
        Mistake("s averages the SQUARED gradient: (1 - decay_rate) * grad**2.",
                answer=lambda *a: _rmsprop_variant(*a, square=False)),
        Mistake("RMSProp has no bias correction (that is Adam's addition): divide by np.sqrt(s).",
                answer=lambda *a: _rmsprop_variant(*a, corrected=True))),
    implemented_by=("bplib.optim.RMSProp",))


# --- update_ratios ---------------------------------------------------------------------------------

def reference_update_ratios(before, after):
    """{name: std(after - before) / std(before)}: each parameter's update-to-data ratio."""
    return {name: float(np.std(after[name] - before[name]) / np.std(before[name])) for name in before}


def update_ratio_cases(rng, hidden):
    before = {"0.W": np.array([[1.0, -1.0], [2.0, 0.0]]), "2.W": np.array([[0.5, 0.5, -0.5]])}
    after = {"0.W": np.array([[1.01, -1.0], [1.98, 0.003]]), "2.W": np.array([[0.5, 0.52, -0.5]])}
    specs = [(before, after, "two small weight matrices")]
    for label, count in [("weights with a non-zero mean, one update", 1), ("three layers", 3)]:
        b, a = {}, {}
        for i in range(count):
            shape = tuple(int(v) for v in rng.integers(2, 6, 2))
            b[f"{2 * i}.W"] = rng.normal(0.5, 0.3, shape)  # non-zero means: std != norm / sqrt(size)
            a[f"{2 * i}.W"] = b[f"{2 * i}.W"] + rng.normal(0.01, 10 ** rng.uniform(-4, -1), shape)
        specs.append((b, a, label))
    if hidden:
        for _ in range(3):
            b, a = {}, {}
            for i in range(int(rng.integers(1, 5))):
                shape = tuple(int(v) for v in rng.integers(1, 8, 2))
                if shape == (1, 1):
                    shape = (2, 3)
                b[f"{2 * i}.W"] = rng.normal(rng.normal(0, 0.5), rng.uniform(0.05, 2), shape)
                update = rng.normal(rng.normal(0, 0.01), 10 ** rng.uniform(-5, 0), shape)
                a[f"{2 * i}.W"] = b[f"{2 * i}.W"] + update
            specs.append((b, a, ""))
    return [Case((b, a), reference_update_ratios(b, a), label or f"{len(b)} weight matrices")
            for b, a, label in specs]


def _ratios(function):
    return lambda before, after: {name: float(function(before[name], after[name])) for name in before}


UPDATE_RATIOS = Exercise(
    "update_ratios", ("update_ratios",), update_ratio_cases, rtol=1e-6, atol=1e-12,
    mistakes=(
        Mistake("that is the ratio of the norms; the update-to-data ratio compares standard "
                "deviations: np.std(after - before) / np.std(before).",
                answer=_ratios(lambda b, a: np.linalg.norm(a - b) / np.linalg.norm(b))),
        Mistake("divide by the spread of the weights BEFORE the update: np.std(before).",
                answer=_ratios(lambda b, a: np.std(a - b) / np.std(a))),
        Mistake("the numerator is the spread of the UPDATE, after - before, not of the new weights.",
                answer=_ratios(lambda b, a: np.std(a) / np.std(b))),
        Mistake("return the ratio itself, not its log10 (plot it on a log axis instead).",
                answer=_ratios(lambda b, a: np.log10(np.std(a - b) / np.std(b)))),
        Mistake("use the standard deviation, np.std, not the mean of the absolute values.",
                answer=_ratios(lambda b, a: np.mean(np.abs(a - b)) / np.mean(np.abs(b)))),
        Mistake("that is the ratio of the variances; take standard deviations (np.std).",
                answer=_ratios(lambda b, a: np.var(a - b) / np.var(b)))))


# bplib's automatic differentiation computes any derivative asked for here by hand
OFF_LIMITS = AUTODIFF + ("bplib.normalization",)

EXERCISES = [YOUR_CHECKER, BATCHNORM_FORWARD, BATCHNORM_BACKWARD, LAYERNORM_BACKWARD, DROPOUT,
             SGD_STEP_WITH_WEIGHT_DECAY, ADAMW_STEP, EMBEDDING_BACKWARD, RMSPROP_STEP, UPDATE_RATIOS]
