"""Lesson 07-vanishing-exploding: how the grader calls your functions, and the deep network that
``deep_config``'s configurations must train (:func:`train_deep_network`, which you may call
yourself).
"""

import math
import warnings
from dataclasses import dataclass

import numpy as np

from bplib import data
from bplib.grading import describe
from bplib.losses import SoftmaxCrossEntropyLoss
from bplib.network import mlp
from bplib.optim import SGD
from bplib.train import accuracy, fit

ACTIVATIONS = ("sigmoid", "tanh", "relu")
INITS = ("small", "large", "xavier", "he")


def network_after_backward(sizes, activation, init_name, seed, batch_size=5):
    """A bplib MLP of ``sizes`` after one forward and backward pass of a random batch (cross-entropy
    with random labels), so every layer's ``grads`` holds this batch's gradients."""
    rng = np.random.default_rng(seed)
    model = mlp(list(sizes), activation=activation, init=init_name, rng=rng)
    x = rng.normal(size=(batch_size, sizes[0]))
    labels = rng.integers(0, sizes[-1], batch_size)
    loss = SoftmaxCrossEntropyLoss()
    loss.forward(model.forward(x), labels)
    model.backward(loss.backward())
    return model

def norms_probe(layer_gradient_norms, sizes, activation, init_name, seed):
    """Build the case's network, run a backward pass with bplib, then call the learner's function."""
    model = network_after_backward(sizes, activation, init_name, seed)
    norms = layer_gradient_norms(model)
    try:
        return np.array([float(value) for value in norms])
    except (TypeError, ValueError):
        return norms  # judged (and explained) by compare_norms

def init_probe(init_function, fan_in, fan_out, seed):
    """The weights for one seed, and whether the same seed repeats them and another seed does not."""
    W = init_function(fan_in, fan_out, np.random.default_rng(seed))
    again = init_function(fan_in, fan_out, np.random.default_rng(seed))
    other = init_function(fan_in, fan_out, np.random.default_rng(seed + 1))
    W_array = np.asarray(W)
    return {"W": W_array, "type": type(W).__name__,
            "reproducible": bool(np.array_equal(W_array, np.asarray(again))),
            "varies": W_array.size <= 1 or not np.array_equal(W_array, np.asarray(other))}

def clip_probe(clip_grad_norm, grads, max_norm):
    """Call the learner's function on a list of arrays; return what it returned and the arrays
    themselves afterwards (the same array objects: clipping must change them in place)."""
    arrays = list(grads)
    returned = clip_grad_norm(grads, max_norm)
    return {"returned": returned, "grads": tuple(arrays)}

DEPTH = 20          # Linear layers of the network in the notebook's examples
DEPTHS = (8, 30)    # the depths the grader draws from (inclusive)
WIDTH = 32          # units per hidden layer
EPOCHS = 25
BATCH_SIZE = 40
MOMENTUM = 0.5
REQUIRED_ACCURACY = 0.9
CONFIG_KEYS = ("init", "learning_rate", "clip_norm")
CONFIG_ACTIVATIONS = ("relu", "tanh")  # the activations deep_config is asked about


@dataclass
class DeepRun:
    """What :func:`train_deep_network` did: the History, the final training accuracy, the model."""
    history: object
    accuracy: float
    model: object

    @property
    def trains(self):
        return not self.history.diverged and self.accuracy >= REQUIRED_ACCURACY


def deep_task_data(seed=0):
    """The task: XOR, 200 points near the corners of the square (no straight line separates them)."""
    return data.xor(n=200, noise=0.15, rng=seed)


def train_deep_network(activation, depth, config, seed=0):
    """Train an MLP of ``depth`` Linear layers (width 32, ``activation`` after every one but the
    last) on :func:`deep_task_data` with the ``config``'s initialisation, learning rate and gradient
    clipping: SGD with momentum 0.5, batches of 40, 25 epochs (125 steps).

    ``config`` is ``{"init": ..., "learning_rate": ..., "clip_norm": ...}``. Returns a
    :class:`DeepRun`; ``run.trains`` is what the grader requires (no divergence and a final
    training accuracy of at least 90%)."""
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {', '.join(map(repr, ACTIVATIONS))}; got {activation!r}")
    if isinstance(depth, bool) or not isinstance(depth, (int, np.integer)) or not 2 <= depth <= 60:
        raise ValueError(f"depth must be a whole number from 2 to 60; got {depth!r}")
    problem = config_problem(config)
    if problem:
        raise ValueError(problem)
    X, y = deep_task_data(seed)
    model = mlp([2] + [WIDTH] * (int(depth) - 1) + [2], activation=activation, init=config["init"],
                rng=seed + 1)
    optimizer = SGD(model, float(config["learning_rate"]), momentum=MOMENTUM)
    clip = config.get("clip_norm")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a divergence is reported in history.diverged
        history = fit(model, SoftmaxCrossEntropyLoss(), optimizer, X, y, epochs=EPOCHS,
                      batch_size=BATCH_SIZE, rng=seed + 2, clip_norm=None if clip is None else float(clip),
                      progress=False)
    final = float("nan") if history.diverged else accuracy(model, X, y)
    return DeepRun(history, final, model)


def config_problem(config, imposed_init=None):
    """What is wrong with the form of ``config`` (a message), or None. ``imposed_init``: the
    initialisation the grader imposed (the ``init`` argument of ``deep_config``), if any."""
    if not isinstance(config, dict):
        return (f"should return a dict with the keys {', '.join(CONFIG_KEYS)}; you returned "
                f"{describe(config)}")
    missing = [key for key in CONFIG_KEYS if key not in config]
    unknown = [key for key in config if key not in CONFIG_KEYS]
    if missing or unknown:
        hint = (" (the activation is an argument of deep_config, not part of its answer)"
                if "activation" in unknown else "")
        return (f"the dict needs exactly the keys {', '.join(CONFIG_KEYS)}"
                + (f"; missing: {', '.join(missing)}" if missing else "")
                + (f"; unknown: {', '.join(map(str, unknown))}" if unknown else "") + hint)
    if config["init"] not in INITS:
        return f"init must be one of {', '.join(map(repr, INITS))}; got {config['init']!r}"
    if imposed_init is not None and config["init"] != imposed_init:
        return (f"this check imposed init={imposed_init!r}, but your dict says init="
                f"{config['init']!r}. When the init argument is given, use it (and choose the "
                "learning rate and clipping that make it work); choose the init yourself only "
                "when it is None.")
    rate = config["learning_rate"]
    if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 < rate <= 10:
        return f"learning_rate must be a number between 0 and 10; got {rate!r}"
    clip = config["clip_norm"]
    if clip is not None and (isinstance(clip, bool) or not isinstance(clip, (int, float))
                             or not 0 < clip < math.inf):
        return f"clip_norm must be None (no clipping) or a positive number; got {clip!r}"
    return None


def config_probe(deep_config, activation, depth, init, seed):
    """The learner's configuration for one setting the grader drew; the grader then trains with it
    (``seed`` is the training's, not used here)."""
    return deep_config(activation, depth, init)
