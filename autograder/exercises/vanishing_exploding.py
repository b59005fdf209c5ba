"""Lesson 07-vanishing-exploding: layer_gradient_norms, xavier_init, he_init, clip_grad_norm and
deep_config (configurations that train deep networks, judged by training them).

The policy on calling bplib (``implemented_by``): ``xavier_init`` may not call bplib's Xavier
initialisers, ``he_init`` bplib's He initialisers, ``clip_grad_norm`` ``bplib.optim.clip_grad_norm``
or ``bplib.optim.gradient_norm`` (the joint norm). ``layer_gradient_norms`` names nothing: no bplib
function computes per-layer norms (the depth explorer's fallback is the reference below, which the
grading sandbox does not have). ``deep_config`` names nothing: it chooses, it does not implement.
The probes call only the learner's function (``norms_probe`` builds its network with bplib's
initialisers, which ``layer_gradient_norms`` does not forbid).

The probes and :func:`bplib.probes.vanishing_exploding.train_deep_network` (the training run that
grades ``deep_config``, which learners may call themselves) are learner-side code.
"""

import math

import numpy as np

from bplib import init
from bplib.grading import Case, Exercise, Mistake, compare_values, describe, matching_hint
from bplib.layers import Linear
from bplib.probes.vanishing_exploding import (
    ACTIVATIONS,
    CONFIG_ACTIVATIONS,
    DEPTH,
    DEPTHS,
    EPOCHS,
    INITS,
    REQUIRED_ACCURACY,
    clip_probe,
    config_probe,
    config_problem,
    init_probe,
    norms_probe,
    train_deep_network,
)

# --- references -----------------------------------------------------------------------------------

def reference_layer_gradient_norms(model):
    """The L2 (Frobenius) norm of each Linear layer's dW, from the input layer to the output layer."""
    return [float(np.linalg.norm(layer.grads["W"])) for layer in model.layers if isinstance(layer, Linear)]


def reference_xavier_init(fan_in, fan_out, rng):
    """Normal weights of shape (fan_in, fan_out) with Var(W) = 2 / (fan_in + fan_out)."""
    return init.xavier_normal((fan_in, fan_out), rng)


def reference_he_init(fan_in, fan_out, rng):
    """Normal weights of shape (fan_in, fan_out) with Var(W) = 2 / fan_in."""
    return init.he_normal((fan_in, fan_out), rng)


def reference_clip_grad_norm(grads, max_norm):
    """Scale the arrays in ``grads`` in place so their joint L2 norm is at most ``max_norm``;
    return the joint norm before clipping."""
    total = math.sqrt(sum(float(np.vdot(g, g)) for g in grads))
    if total > max_norm:
        for g in grads:
            g *= max_norm / total
    return total


def _hint(got, case, probe, wrong_answers, part=None):
    """``"\n  Hint: ..."`` for the first wrong answer whose output through ``probe`` equals ``got``
    (or, with ``part``, ``got[part]``): :func:`bplib.grading.matching_hint`."""
    mistakes = [Mistake(hint, answer=wrong) for hint, wrong in wrong_answers]
    found = matching_hint(mistakes, got, case.args, answer_of=probe, part=part, atol=0.0)
    return f"\n  Hint: {found}" if found else ""


# --- layer_gradient_norms -------------------------------------------------------------------------

def norms_cases(rng, hidden):
    specs = [((3, 4, 2), "relu", "he", "a 3-4-2 ReLU network"),
             ((4, 8, 8, 8, 3), "tanh", "xavier", "4-8-8-8-3, tanh, Xavier"),
             ((6,) * 10 + (3,), "sigmoid", "small", "10 sigmoid layers, small weights: tiny norms")]
    if hidden:
        for _ in range(4):
            sizes = tuple(int(n) for n in rng.integers(1, 10, int(rng.integers(2, 14))))
            specs.append((sizes, str(rng.choice(ACTIVATIONS)), str(rng.choice(INITS)), ""))
    cases = []
    for sizes, activation, init_name, label in specs:
        seed = int(rng.integers(2 ** 31))
        args = (sizes, activation, init_name, seed)
        expected = np.array(norms_probe(reference_layer_gradient_norms, *args))
        cases.append(Case(args, expected, label or f"sizes {'-'.join(map(str, sizes))}, {activation}, "
                                                    f"{init_name} init"))
    return cases


_NORM_MISTAKES = (
    ("list the layers from the input to the output: model.layers is already in that order.",
     lambda model: reference_layer_gradient_norms(model)[::-1]),
    ("that is the squared norm: take the square root of the sum of squares (np.linalg.norm does).",
     lambda model: [float(np.sum(layer.grads["W"] ** 2)) for layer in model.layers
                    if isinstance(layer, Linear)]),
    ("that is the norm of the weights W (layer.params['W']); we want the norm of their gradient "
     "dW, layer.grads['W'].",
     lambda model: [float(np.linalg.norm(layer.params["W"])) for layer in model.layers
                    if isinstance(layer, Linear)]),
    ("use only the weight gradient dW = layer.grads['W'], not the bias gradient too.",
     lambda model: [float(np.sqrt(np.sum(layer.grads["W"] ** 2) + np.sum(layer.grads["b"] ** 2)))
                    for layer in model.layers if isinstance(layer, Linear)]),
    ("the norm is the square root of the sum of ALL squared entries, not their mean.",
     lambda model: [float(np.sqrt(np.mean(layer.grads["W"] ** 2))) for layer in model.layers
                    if isinstance(layer, Linear)]),
    ("that is the mean absolute entry of dW; the L2 norm is the square root of the sum of the "
     "squared entries, np.linalg.norm(dW).",
     lambda model: [float(np.mean(np.abs(layer.grads["W"]))) for layer in model.layers
                    if isinstance(layer, Linear)]),
    ("that is the largest entry; we want the L2 norm of the whole matrix, np.linalg.norm(dW).",
     lambda model: [float(np.abs(layer.grads["W"]).max()) for layer in model.layers
                    if isinstance(layer, Linear)]),
    ("that is the norm of the bias gradient db; we want the weight gradient dW = layer.grads['W'].",
     lambda model: [float(np.linalg.norm(layer.grads["b"])) for layer in model.layers
                    if isinstance(layer, Linear)]),
)


def compare_norms(got, case):
    expected = case.expected
    sizes = case.args[0]
    n_linear, n_layers = len(expected), 2 * len(expected) - 1
    if got is None:
        return "returned None -- did you forget the `return` statement?"
    if isinstance(got, np.ndarray) and got.ndim == 1:
        pass
    elif isinstance(got, tuple):
        return ("should return one number per Linear layer (the norm of its dW); yours contains "
                f"{describe(next((v for v in got if not np.isscalar(v)), got))}. Use np.linalg.norm "
                "to turn each dW into one number.")
    else:
        return f"should return a list of {n_linear} numbers (one per Linear layer); you returned " \
               f"{describe(got)}"
    if len(got) != n_linear:
        hint = ""
        if len(got) == n_layers and n_layers != n_linear:
            hint = (" -- one per Linear layer only: skip the activation layers "
                    "(isinstance(layer, Linear)).")
        elif len(got) == 2 * n_linear:
            hint = " -- one per layer, for dW only (not one for dW and one for db)."
        return (f"returned {len(got)} numbers, expected {n_linear} (the network has {n_linear} "
                f"Linear layers: sizes {'-'.join(map(str, sizes))})" + hint)
    problem = compare_values(got, expected, (), rtol=1e-6, atol=0.0)
    if problem:
        return problem + _hint(got, case, norms_probe, _NORM_MISTAKES)
    return None


LAYER_GRADIENT_NORMS = Exercise(
    "layer_gradient_norms", ("layer_gradient_norms",), norms_cases, probe=norms_probe,
    compare=compare_norms)


# --- xavier_init and he_init ------------------------------------------------------------------------

MIN_SAMPLE = 40_000  # entries needed to judge the variance (relative sd of the estimate <= 0.7%)
VARIANCE_TOLERANCE = 0.06
MEAN_TOLERANCE = 0.05  # |mean| below 5% of the target standard deviation


def _fan_pairs(rng, hidden, fixed):
    pairs = list(fixed)
    if hidden:
        while len(pairs) < len(fixed) + 3:
            a, b = (int(n) for n in rng.integers(60, 700, 2))
            if a * b >= MIN_SAMPLE and max(a, b) >= 1.6 * min(a, b):
                pairs.append((a, b))
        pairs.append(tuple(int(n) for n in rng.integers(1, 9, 2)))
    return pairs


def init_cases(variance):
    def cases(rng, hidden):
        pairs = _fan_pairs(rng, hidden, [(400, 100), (128, 512), (3, 5)])
        return [Case((fan_in, fan_out, int(rng.integers(2 ** 31))), variance(fan_in, fan_out),
                     f"fan_in={fan_in}, fan_out={fan_out}" + ("" if fan_in * fan_out >= MIN_SAMPLE
                                                              else " (shape only)"))
                for fan_in, fan_out in pairs]
    return cases


def xavier_variance(fan_in, fan_out):
    return 2.0 / (fan_in + fan_out)


def he_variance(fan_in, fan_out):
    return 2.0 / fan_in


_SCALE_HINTS = {
    # name: [(variance as a function of fan_in, fan_out, hint), ...], the wrong variances to recognise
    "xavier_init": [
        (lambda i, o: 1 / (i + o), "the factor 2 is missing: Var(W) = 2 / (fan_in + fan_out)."),
        (lambda i, o: 1 / i, "that is 1 / fan_in (LeCun's initialisation); Xavier averages the two "
                             "fans: Var(W) = 2 / (fan_in + fan_out)."),
        (lambda i, o: 2 / i, "that is He's variance 2 / fan_in; Xavier uses 2 / (fan_in + fan_out)."),
        (lambda i, o: 1 / o, "that uses fan_out only; Xavier uses 2 / (fan_in + fan_out)."),
        (lambda i, o: 2 / o, "that uses fan_out only; Xavier uses 2 / (fan_in + fan_out)."),
        (lambda i, o: (2 / (i + o)) ** 2, "you used the variance as the standard deviation: "
                                          "std = sqrt(2 / (fan_in + fan_out))."),
        (lambda i, o: 2 / (3 * (i + o)), "a uniform distribution on [-a, a] has variance a**2 / 3, so "
                                         "the limit is a = sqrt(6 / (fan_in + fan_out))."),
        (lambda i, o: 6 / (i + o), "sqrt(6 / (fan_in + fan_out)) is the LIMIT a of the uniform version "
                                   "(variance a**2 / 3); as a normal's standard deviation it is too "
                                   "large. Use std = sqrt(2 / (fan_in + fan_out))."),
        (lambda i, o: 1.0, "these look like standard normal weights (variance 1): scale them."),
    ],
    "he_init": [
        (lambda i, o: 1 / i, "that is 1 / fan_in; ReLU zeroes half of its inputs, so He doubles it: "
                             "Var(W) = 2 / fan_in."),
        (lambda i, o: 2 / o, "use fan_in (the number of inputs of each unit), not fan_out."),
        (lambda i, o: 1 / o, "use fan_in (the number of inputs of each unit), and Var(W) = 2 / fan_in."),
        (lambda i, o: 2 / (i + o), "that is Xavier's variance; He uses 2 / fan_in."),
        (lambda i, o: (2 / i) ** 2, "you used the variance as the standard deviation: "
                                    "std = sqrt(2 / fan_in)."),
        (lambda i, o: 2 / (3 * i), "a uniform distribution on [-a, a] has variance a**2 / 3, so the "
                                   "limit is a = sqrt(6 / fan_in)."),
        (lambda i, o: 6 / i, "sqrt(6 / fan_in) is the LIMIT a of the uniform version (variance "
                             "a**2 / 3); as a normal's standard deviation it is too large. Use "
                             "std = sqrt(2 / fan_in)."),
        (lambda i, o: 1.0, "these look like standard normal weights (variance 1): scale them."),
    ],
}
_FORMULA = {"xavier_init": "2 / (fan_in + fan_out)", "he_init": "2 / fan_in"}


def compare_init(name):
    def compare(got, case):
        fan_in, fan_out, _ = case.args
        target = case.expected
        W = got.get("W") if isinstance(got, dict) else None
        if not isinstance(W, np.ndarray) or W.dtype.kind not in "fiub" or W.ndim == 0:
            returned = got.get("type") if isinstance(got, dict) else type(got).__name__
            if returned == "NoneType":
                return "returned None -- did you forget the `return` statement?"
            return f"should return a NumPy array of shape ({fan_in}, {fan_out}); you returned a {returned}"
        if W.shape != (fan_in, fan_out):
            hint = " -- transposed? Rows are inputs: shape (fan_in, fan_out)." \
                if W.shape == (fan_out, fan_in) else ""
            return f"has shape {W.shape}, expected ({fan_in}, {fan_out})" + hint
        if W.dtype.kind != "f":
            return f"has dtype {W.dtype}; weights must be floating-point numbers"
        if not np.isfinite(W).all():
            return "contains NaN or inf"
        if not got.get("reproducible"):
            return ("two calls with generators of the same seed gave different weights: draw every "
                    "random number from the `rng` you are given (rng.normal(...) or "
                    "rng.uniform(...)), not from np.random.")
        if not got.get("varies"):
            return ("generators with different seeds gave the same weights: draw the weights from the "
                    "`rng` argument instead of creating your own generator.")
        if W.size < MIN_SAMPLE:
            return None
        std = math.sqrt(target)
        mean, variance = float(W.mean()), float(W.var())
        if abs(mean) > MEAN_TOLERANCE * std:
            return (f"the weights should have mean 0; yours have mean {mean:.4g} (their standard "
                    f"deviation should be {std:.4g}). Centre them: rng.normal(0, std, ...) or "
                    "rng.uniform(-a, a, ...).")
        if abs(variance / target - 1) > VARIANCE_TOLERANCE:
            message = (f"the variance of your weights is {variance:.4g}, but it should be "
                       f"{_FORMULA[name]} = {target:.4g} for fan_in={fan_in}, fan_out={fan_out} "
                       f"(yours is {variance / target:.3g} times that).")
            for wrong_variance, hint in _SCALE_HINTS[name]:
                if abs(variance / wrong_variance(fan_in, fan_out) - 1) <= VARIANCE_TOLERANCE:
                    return message + f"\n  Hint: {hint}"
            return message
        return None
    return compare


XAVIER_INIT = Exercise("xavier_init", ("xavier_init",), init_cases(xavier_variance), probe=init_probe,
                       compare=compare_init("xavier_init"),
                       implemented_by=("bplib.init.xavier_normal", "bplib.init.xavier_uniform"))
HE_INIT = Exercise("he_init", ("he_init",), init_cases(he_variance), probe=init_probe,
                   compare=compare_init("he_init"),
                   implemented_by=("bplib.init.he_normal", "bplib.init.he_uniform"))


# --- clip_grad_norm ---------------------------------------------------------------------------------

def clip_cases(rng, hidden):
    specs = [([np.array([3.0, 4.0])], 1.0, "one array [3, 4] (norm 5), max_norm 1"),
             ([np.array([3.0]), np.array([[4.0]])], 10.0, "norm 5 below max_norm 10: untouched"),
             ([np.array([[1.0, 2.0], [2.0, 4.0]]), np.array([6.0, 10.0])], 5.0,
              "two arrays, joint norm 13, max_norm 5")]
    if hidden:
        for _ in range(4):
            grads = [rng.normal(0, rng.uniform(0.1, 100),
                                tuple(int(n) for n in rng.integers(1, 6, rng.integers(1, 3))))
                     for _ in range(int(rng.integers(2, 6)))]
            total = math.sqrt(sum(float(np.vdot(g, g)) for g in grads))
            max_norm = total * float(rng.choice([rng.uniform(0.05, 0.9), rng.uniform(1.1, 3)]))
            specs.append((grads, max_norm, ""))
    cases = []
    for grads, max_norm, label in specs:
        expected = clip_probe(reference_clip_grad_norm, [g.copy() for g in grads], max_norm)
        cases.append(Case((grads, max_norm), expected,
                          label or f"{len(grads)} arrays, max_norm {max_norm:.3g}"))
    return cases


def _per_array_clip(grads, max_norm):
    for g in grads:
        norm = float(np.linalg.norm(g))
        if norm > max_norm:
            g *= max_norm / norm
    return math.sqrt(sum(float(np.vdot(g, g)) for g in grads))


def _always_rescale(grads, max_norm):
    total = math.sqrt(sum(float(np.vdot(g, g)) for g in grads))
    for g in grads:
        g *= max_norm / total
    return total


def _value_clip(grads, max_norm):
    total = math.sqrt(sum(float(np.vdot(g, g)) for g in grads))
    for g in grads:
        np.clip(g, -max_norm, max_norm, out=g)
    return total


def _no_sqrt(grads, max_norm):
    total = sum(float(np.vdot(g, g)) for g in grads)
    if total > max_norm:
        for g in grads:
            g *= max_norm / total
    return total


def _inverted(grads, max_norm):
    total = math.sqrt(sum(float(np.vdot(g, g)) for g in grads))
    if total > max_norm:
        for g in grads:
            g *= total / max_norm
    return total


_CLIP_MISTAKES = (
    ("clip the JOINT norm of all the arrays together (one scale factor for all), not each array "
     "on its own.", _per_array_clip),
    ("leave the gradients untouched when their norm is already at most max_norm: clipping only "
     "ever shrinks them.", _always_rescale),
    ("np.clip limits each entry separately and changes the direction; gradient-norm clipping "
     "multiplies every entry by the same factor max_norm / norm.", _value_clip),
    ("the norm is the square root of the sum of squares.", _no_sqrt),
    ("the factor is max_norm / norm (less than 1), not norm / max_norm.", _inverted),
)


def compare_clip(got, case):
    expected = case.expected
    returned, grads = got.get("returned"), got.get("grads")
    original = case.args[0]
    unchanged = isinstance(grads, tuple) and all(
        isinstance(g, np.ndarray) and g.shape == o.shape and np.array_equal(g, o)
        for g, o in zip(grads, original))
    needs_clipping = expected["returned"] > case.args[1]
    if isinstance(returned, tuple):
        problem = compare_values(returned, expected["grads"], (), 1e-6, 1e-12)
        if problem is None and needs_clipping and unchanged:
            return ("returned new clipped arrays, but the arrays you were given are unchanged: scale "
                    "them in place (g *= factor, or g[...] = ...), and return the norm before "
                    "clipping. In training, the optimiser reads the layers' own gradient arrays.")
        return ("should return the joint norm before clipping (one number); you returned "
                f"{describe(returned)}")
    if needs_clipping and unchanged:
        return ("the arrays you were given are unchanged: scale each array in place, g *= factor. "
                "`g = g * factor` (or `grads[i] = grads[i] * factor`) makes a new array, and the "
                "layers, which hold the original arrays, would never see it.")
    problem = compare_values(grads, expected["grads"], (), 1e-6, 1e-12)
    if problem:
        return "the gradients after clipping are wrong: " + problem.replace("output ", "array ") + \
            _hint(got, case, clip_probe, _CLIP_MISTAKES, part="grads")
    if returned is None:
        return ("returned None: return the joint norm of the gradients before clipping (useful to "
                "log and plot).")
    problem = compare_values(returned, expected["returned"], (), 1e-6, 1e-12)
    if problem:
        hint = ""
        if isinstance(returned, (int, float)) and abs(returned - min(expected["returned"],
                                                                     case.args[1])) < 1e-9:
            hint = "\n  Hint: return the norm BEFORE clipping, not after."
        return "the returned norm is wrong: " + problem + hint
    return None


CLIP_GRAD_NORM = Exercise("clip_grad_norm", ("clip_grad_norm",), clip_cases, probe=clip_probe,
                          compare=compare_clip,
                          implemented_by=("bplib.optim.clip_grad_norm", "bplib.optim.gradient_norm"))


# --- deep_config: configurations that train deep networks (bplib.probes.vanishing_exploding) ------

CONFIG_CPU_SECONDS = 0.5  # per call of deep_config: it decides, it does not train (one run ~0.1 s)
DEEP_RELU = 27  # the hidden check's first network: 27 to 30 ReLU layers, where Xavier's scale fails


def reference_deep_config(activation, depth, imposed_init=None):
    """The notebook's answer: the initialisation that matches the activation (He for ReLU, Xavier
    for tanh; section 5), and clipping at 1 as a safety net (section 6), which also makes imposed
    N(0, 1) weights trainable; those weights are 4 times He's scale, hence a larger learning rate.

    Measured (``tests/reference_pass_rates.py deep_config 300``): it passed 300 of 300 hidden
    checks (seeds 0-299, 1200 trainings). With 0.02 instead of 0.1 for imposed N(0, 1) weights, 4 of
    363 of those trainings failed (depths 21-30); 0.05 still left one of those four untrained; 0.1
    trained all four, and 400 of 400 other random depths and seeds."""
    chosen = imposed_init or ("he" if activation == "relu" else "xavier")
    return {"init": chosen, "learning_rate": 0.1 if chosen == "large" else 0.05, "clip_norm": 1.0}


def config_settings(rng, hidden):
    """(activation, depth, imposed init) of each check. The visible check asks about 20 layers; the
    hidden one draws depths from DEPTHS and always has a deep ReLU network (Xavier's scale, half of
    He's, trains shallow ReLU networks but not deep ones: with a learning rate of 0.02 and clipping
    at 1, measured over 60 seeds per depth, 19 of 60 trained at depth 22, 6 at 24, 1 at 26 and none
    at 27 to 29), a tanh network, and a ReLU network with imposed N(0, 1) weights (which only train
    with a capped step)."""
    if not hidden:
        return [("relu", DEPTH, None), ("tanh", DEPTH, None), ("relu", DEPTH, "large")]
    low, high = DEPTHS
    settings = [("relu", int(rng.integers(DEEP_RELU, high + 1)), None),
                ("tanh", int(rng.integers(low, high + 1)), None),
                ("relu", int(rng.integers(low, high + 1)), "large")]
    activation = str(rng.choice(CONFIG_ACTIVATIONS))
    settings.append((activation, int(rng.integers(low, high + 1)),
                     "large" if activation == "relu" and rng.random() < 0.5 else None))
    return settings


def config_cases(rng, hidden):
    cases = []
    for activation, depth, imposed in config_settings(rng, hidden):
        seed = int(rng.integers(1, 2 ** 31)) if hidden else 0
        call = f"deep_config({activation!r}, {depth}" + (f", init={imposed!r})" if imposed else ")")
        cases.append(Case((activation, depth, imposed, seed), None, f"{call}, training seed {seed}"))
    return cases


def _config_advice(activation, depth, config, run):
    """Why this configuration does not train this network, in the lesson's terms."""
    chosen, rate, clip = config["init"], config["learning_rate"], config["clip_norm"]
    if chosen == "small":
        return ("N(0, 0.01^2) weights ignore the layer width: each layer down multiplies the gradient "
                f"by about slope x 0.01 x sqrt(32) (section 3), so through {depth} layers it vanishes. "
                "Choose the scale from the width: Xavier or He (section 5).")
    if chosen == "large" and clip is None:
        return ("with N(0, 1) weights the gradients are enormous (about 1e11 for 20 layers, "
                "section 4) and the first steps blow the network up: cap the step with clip_norm "
                "(section 6).")
    if chosen == "large" and activation == "tanh":
        return ("N(0, 1) weights saturate the tanh units (section 3), and clipping does not "
                "unsaturate them: choose Xavier's scale.")
    if activation == "relu" and chosen == "xavier":
        return ("Xavier's variance 2 / (n + n) is half of He's: a ReLU layer keeps only half the "
                f"variance, so the signal shrinks by sqrt(2) per layer (section 5), 2**({depth}/2) in "
                "all. He's initialisation is made for ReLU.")
    if run.history.diverged:
        return ("the loss exploded (it grew past 1000 times its start, or became NaN or infinite): "
                "lower the learning rate, or cap the step with clip_norm (section 6).")
    if rate < 0.005:
        return "the learning rate is tiny: 125 steps of that length barely move the weights."
    return ("try another learning rate (between 0.005 and 0.1), and clipping at about 1 as a safety "
            "net; try your configuration with train_deep_network for several depths and seeds.")


def compare_config(got, case):
    activation, depth, imposed, seed = case.args
    problem = config_problem(got, imposed)
    if problem:
        return problem
    run = train_deep_network(activation, depth, got, seed=seed)
    if run.trains:
        return None
    losses = run.history.loss
    if run.history.diverged:
        what = ("training diverged: the loss grew past 1000 times its start or became NaN or "
                "infinite (exploding updates).")
    else:
        what = (f"after {EPOCHS} epochs the training accuracy is {run.accuracy:.0%} (at least "
                f"{REQUIRED_ACCURACY:.0%} needed); the loss went from {losses[0]:.3g} to "
                f"{losses[-1]:.3g}.")
    return (f"your configuration {got} does not train {depth} {activation} layers: {what}\n"
            f"  Hint: {_config_advice(activation, depth, got, run)}")


DEEP_CONFIG = Exercise("deep_config", ("deep_config",), config_cases, probe=config_probe,
                       compare=compare_config, cpu_limit=CONFIG_CPU_SECONDS)


EXERCISES = [LAYER_GRADIENT_NORMS, XAVIER_INIT, HE_INIT, CLIP_GRAD_NORM, DEEP_CONFIG]
