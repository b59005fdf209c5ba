"""Lesson 04-gradient-checking: how the grader calls your numerical_gradient, your network check,
your bug finders and your fixed networks, and the two hand-written networks with a bug
(:class:`TanhNetwork` and :class:`SigmoidNetwork`, whose source the notebook shows: TanhNetwork
computes the gradient of 2.W transposed, silently since the matrix is square; SigmoidNetwork skips
one sigmoid derivative, so every gradient below it is wrong).

The bug finders are run on networks with bugs planted at grading time
(:mod:`bplib.probes.planted_bugs`, disguised so that only their gradients give them away).
"""

import inspect

import numpy as np

from bplib.layers import Linear, Tanh, sigmoid
from bplib.losses import MSELoss, SoftmaxCrossEntropyLoss
from bplib.network import Sequential
from bplib.probes.planted_bugs import build_network


def target_function(kind, x, p):
    """The function ``f`` (no arguments, reads ``x`` in place) of a numerical_gradient case."""
    if kind == "quadratic":  # x (D,): f = x.A.x / 2 + b.x
        return lambda: 0.5 * x @ p["A"] @ x + p["b"] @ x
    if kind == "tanh of a matrix product":  # x is a weight matrix (D, M)
        return lambda: np.sum(np.tanh(p["X"] @ x) * p["C"])
    if kind == "log-sum-exp":  # any shape
        return lambda: np.log(np.sum(np.exp(x)))
    if kind == "sum of x sin(x)":  # any shape
        return lambda: np.sum(x * np.sin(x))
    if kind in ("layer output, x = W", "layer output, x = the input"):  # array-valued: needs dout
        W = x if kind == "layer output, x = W" else p["W"]
        linear = Linear(W.shape[0], W.shape[1], rng=0)
        linear.params["W"], linear.params["b"] = W, p["b"]  # the layer reads W (maybe x) in place
        model = Sequential(linear, Tanh())
        if kind == "layer output, x = W":
            return lambda: model.forward(p["input"])
        return lambda: model.forward(x)
    raise ValueError(f"unknown function {kind!r}")

def numerical_gradient_probe(numerical_gradient, kind, x, p, h, dout):
    before = x.copy()
    f = target_function(kind, x, p)
    options = {} if h is None else {"h": h}
    if dout is not None:
        options["dout"] = dout
    gradient = numerical_gradient(f, x, **options)
    return {"gradient": gradient, "x restored": bool(np.array_equal(x, before))}

def loss_for(kind):
    """The loss of a case: \"mse\" or \"ce\" (softmax cross-entropy)."""
    return MSELoss() if kind == "mse" else SoftmaxCrossEntropyLoss()

def network_check_probe(check_network_gradients, spec, weights, x, y, loss_kind):
    result = check_network_gradients(build_network(spec, weights), loss_for(loss_kind), x, y)
    if isinstance(result, dict):
        return {str(k): np.asarray(v, dtype=float) if np.ndim(v) else float(v)
                for k, v in result.items()}
    return result

def _names(answer):
    """A list/tuple/set of strings as a sorted tuple without duplicates; anything else unchanged."""
    if isinstance(answer, str):
        return answer
    if isinstance(answer, (list, tuple, set, frozenset)) and all(isinstance(a, str) for a in answer):
        return tuple(sorted({a.strip() for a in answer}))
    return answer


def wrong_parameters_probe(wrong_parameters, spec, weights, x, y, loss_kind):
    """The learner's list of wrong parameters of a network with planted bugs (disguised)."""
    model = build_network(spec, weights, disguise=True)
    return _names(wrong_parameters(model, loss_for(loss_kind), x, y))


def wrong_layers_probe(wrong_layers, spec, weights, x):
    """The learner's list of layers (indices) whose backward is wrong, on a disguised network."""
    model = build_network(spec, weights, disguise=True)
    answer = wrong_layers(model, x)
    if isinstance(answer, (list, tuple, set, frozenset, np.ndarray)):
        items = list(np.asarray(answer).ravel()) if isinstance(answer, np.ndarray) else list(answer)
        if all(isinstance(i, (int, np.integer)) and not isinstance(i, bool) for i in items):
            return tuple(sorted({int(i) for i in items}))
    return answer


class TanhNetwork:
    """Linear -> tanh -> Linear -> tanh -> Linear, written out by hand.

    Parameters are named as a Sequential would name them: "0.W", "0.b", "2.W", "2.b", "4.W", "4.b".
    Shapes: x (N, D) -> h1 (N, H) -> h2 (N, H) -> out (N, C).
    """

    def __init__(self, D, H, C, rng=None):
        rng = np.random.default_rng(rng)
        self.params = {"0.W": rng.normal(0, 1 / np.sqrt(D), (D, H)), "0.b": np.zeros(H),
                       "2.W": rng.normal(0, 1 / np.sqrt(H), (H, H)), "2.b": np.zeros(H),
                       "4.W": rng.normal(0, 1 / np.sqrt(H), (H, C)), "4.b": np.zeros(C)}
        self.grads = {name: np.zeros_like(p) for name, p in self.params.items()}

    def forward(self, x):
        p = self.params
        h1 = np.tanh(x @ p["0.W"] + p["0.b"])       # (N, H)
        h2 = np.tanh(h1 @ p["2.W"] + p["2.b"])      # (N, H)
        self.cache = (x, h1, h2)
        return h2 @ p["4.W"] + p["4.b"]             # (N, C)

    def backward(self, dout):
        p, g = self.params, self.grads
        x, h1, h2 = self.cache
        g["4.W"] = h2.T @ dout                      # (H, C)
        g["4.b"] = dout.sum(axis=0)                 # (C,)
        dh2 = dout @ p["4.W"].T                     # (N, H)
        dz2 = dh2 * (1 - h2 ** 2)                   # tanh' = 1 - tanh^2
        g["2.W"] = dz2.T @ h1                       # (H, H)
        g["2.b"] = dz2.sum(axis=0)                  # (H,)
        dh1 = dz2 @ p["2.W"].T                      # (N, H)
        dz1 = dh1 * (1 - h1 ** 2)
        g["0.W"] = x.T @ dz1                        # (D, H)
        g["0.b"] = dz1.sum(axis=0)                  # (H,)
        return dz1 @ p["0.W"].T                     # dx, (N, D)

    def parameters(self):
        for name, param in self.params.items():
            yield name, param, self.grads[name]


class SigmoidNetwork:
    """Linear layers with a sigmoid after each but the last, written as a loop over the layers.

    Parameters are named as a Sequential would name them: "0.W", "0.b", "2.W", "2.b", "4.W", "4.b"
    (with the default two hidden layers; every further hidden layer adds two more).
    Shapes: x (N, D) -> (N, H) -> ... -> (N, H) -> out (N, C).
    """

    def __init__(self, D, H, C, rng=None, hidden_layers=2):
        rng = np.random.default_rng(rng)
        sizes = [D] + [H] * hidden_layers + [C]
        self.n_layers = len(sizes) - 1
        self.params, self.grads = {}, {}
        for i in range(self.n_layers):
            m, n = sizes[i], sizes[i + 1]
            self.params[f"{2 * i}.W"] = rng.normal(0, 1 / np.sqrt(m), (m, n))
            self.params[f"{2 * i}.b"] = np.zeros(n)
        for name, param in self.params.items():
            self.grads[name] = np.zeros_like(param)

    def forward(self, x):
        self.inputs = []                            # the input of each Linear layer
        for i in range(self.n_layers):
            self.inputs.append(x)
            x = x @ self.params[f"{2 * i}.W"] + self.params[f"{2 * i}.b"]
            if i < self.n_layers - 1:               # no sigmoid after the last layer
                x = sigmoid(x)
        return x

    def backward(self, dout):
        for i in reversed(range(self.n_layers)):
            a = self.inputs[i]                      # this layer's input, (N, fan_in)
            self.grads[f"{2 * i}.W"] = a.T @ dout
            self.grads[f"{2 * i}.b"] = dout.sum(axis=0)
            dout = dout @ self.params[f"{2 * i}.W"].T   # gradient with respect to a
            if i > 1:                               # a = sigmoid(z): chain through sigmoid'
                dout = dout * a * (1 - a)
        return dout

    def parameters(self):
        for name, param in self.params.items():
            yield name, param, self.grads[name]


def set_weights(net, weights):
    """Copy ``weights`` ({parameter name: array}) into ``net``'s parameters, in place."""
    for name, param, _ in net.parameters():
        param[...] = weights[name]
    return net

def make_network(network, D, H, C, weights, rng=0):
    """``network(D, H, C)`` (with as many hidden layers as ``weights`` has, for SigmoidNetwork and
    its subclasses) holding ``weights``."""
    options = {}
    if "hidden_layers" in inspect.signature(network).parameters:  # SigmoidNetwork and subclasses
        options["hidden_layers"] = sum(name.endswith(".W") for name in weights) - 1
    return set_weights(network(D, H, C, rng=rng, **options), weights)


def fixed_network_probe(network, D, H, C, weights, x, y, loss_kind):
    """Backprop once through the learner's fixed network: every parameter gradient, dx, and how
    often backward ran the network forward again (a backward pass should only use the cache)."""
    net = make_network(network, D, H, C, weights)
    loss = loss_for(loss_kind)
    loss.forward(net.forward(x), y)
    calls, original = [0], net.forward

    def counting_forward(*args, **kwargs):
        calls[0] += 1
        return original(*args, **kwargs)

    net.forward = counting_forward
    try:
        dx = net.backward(loss.backward())
    finally:
        net.forward = original
    grads = {name: grad for name, _, grad in net.parameters()}
    grads["dx"] = dx
    return {"gradients": grads, "forward calls during backward": calls[0]}
