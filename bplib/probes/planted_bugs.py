"""Networks with one planted backward bug, for grading the learner's gradient checkers (lessons 04
and 08): a checker must pass the correct networks and catch the wrong layer in the others.

A network travels to the grading child as plain data: ``spec``, one item per layer of the
Sequential, ``("linear", D, M, bug)`` or ``(activation, bug)`` with ``bug`` None for a correct
layer, and ``weights``, ``{layer index as a string: (W, b)}`` for its Linear layers.
:func:`build_network` turns them back into a model; with ``disguise=True`` every layer, correct or
not, is an instance of its own subclass named like the public class ("Linear", "Tanh", ...) with
its own ``forward`` and ``backward``, so a learner's bug finder cannot tell the planted layers from
the correct ones by their type: it has to check the gradients.
"""

import numpy as np

from bplib.layers import Linear, ReLU, Sigmoid, Tanh
from bplib.network import Sequential

__all__ = ["LINEAR_BUGS", "ACTIVATION_BUGS", "network_spec", "random_weights", "build_network",
           "layer_kind", "relu_margin"]


class _TransposedWeightGradient(Linear):
    def backward(self, dout, need_dx=True):
        dx = super().backward(dout, need_dx)
        self.grads["W"] = self.grads["W"].T.copy()  # square W: the shape is right, the values not
        return dx


class _BiasFromFirstExample(Linear):
    def backward(self, dout, need_dx=True):
        dx = super().backward(dout, need_dx)
        self.grads["b"] = dout[0].copy()  # forgot to sum over the batch
        return dx


class _BiasAveraged(Linear):
    def backward(self, dout, need_dx=True):
        dx = super().backward(dout, need_dx)
        self.grads["b"] = dout.mean(axis=0)  # mean instead of sum: N times too small
        return dx


class _WeightGradientDoubled(Linear):
    def backward(self, dout, need_dx=True):
        dx = super().backward(dout, need_dx)
        self.grads["W"] = 2.0 * self.grads["W"]
        return dx


class _WeightDividedByN(Linear):
    def backward(self, dout, need_dx=True):
        dx = super().backward(dout, need_dx)
        self.grads["W"] = self.grads["W"] / len(dout)  # the batch size divided out twice
        return dx


class _WrongSignDx(Linear):
    def backward(self, dout, need_dx=True):
        dx = super().backward(dout, need_dx)
        return None if dx is None else -dx  # only the layers below see it


class _FreshArrays(Linear):
    """Correct, but stores new gradient arrays on every backward (as hand-written layers often do)."""

    def backward(self, dout, need_dx=True):
        x = self._cached()
        self.grads = {"W": x.T @ dout, "b": dout.sum(axis=0)}
        return dout @ self.params["W"].T if need_dx else None


class _NoDerivative:
    """Forgot the activation's derivative: passes dout through unchanged."""

    def backward(self, dout):
        self._cached()
        return dout


class _NoReLUDerivative(_NoDerivative, ReLU):
    pass


class _NoTanhDerivative(_NoDerivative, Tanh):
    pass


class _NoSigmoidDerivative(_NoDerivative, Sigmoid):
    pass


class _TanhDerivativeOfInput(Tanh):
    """1 - x**2 of the input x instead of 1 - tanh(x)**2."""

    def forward(self, x):
        self._input = x
        return super().forward(x)

    def backward(self, dout):
        self._cached()
        return dout * (1.0 - self._input ** 2)


LINEAR_BUGS = {None: Linear, "transposed dW": _TransposedWeightGradient,
               "db from the first example only": _BiasFromFirstExample,
               "db averaged instead of summed": _BiasAveraged, "dW doubled": _WeightGradientDoubled,
               "dW divided by N": _WeightDividedByN, "dx with the wrong sign": _WrongSignDx,
               "correct, new gradient arrays": _FreshArrays}
ACTIVATION_BUGS = {("relu", None): ReLU, ("tanh", None): Tanh, ("sigmoid", None): Sigmoid,
                   ("relu", "no derivative"): _NoReLUDerivative,
                   ("tanh", "no derivative"): _NoTanhDerivative,
                   ("sigmoid", "no derivative"): _NoSigmoidDerivative,
                   ("tanh", "derivative of the input"): _TanhDerivativeOfInput}


def network_spec(sizes, activation, bug=None, bug_layer=None, bugs=None):
    """The spec of an MLP with layer sizes ``sizes`` (Linear layers at even indices, ``activation``
    between them) whose layer ``bug_layer`` has ``bug`` (a Linear or an activation bug).

    ``bugs``, ``{layer index: bug}``, plants several (together with ``bug`` at ``bug_layer``).
    """
    planted = dict(bugs or {})
    if bug is not None:
        planted[bug_layer] = bug
    spec = []
    for i, (d, m) in enumerate(zip(sizes[:-1], sizes[1:])):
        linear_bug = planted.get(2 * i)
        spec.append(("linear", int(d), int(m), linear_bug if linear_bug in LINEAR_BUGS else None))
        if i < len(sizes) - 2:
            activation_bug = planted.get(2 * i + 1)
            spec.append((activation, activation_bug if activation_bug not in LINEAR_BUGS else None))
    return tuple(spec)


def layer_kind(item):
    """What a learner would call the layer of a spec item: "Linear", "tanh", "relu", "sigmoid"."""
    return "Linear" if item[0] == "linear" else item[0]


def random_weights(rng, sizes):
    """Weights for :func:`network_spec`'s Linear layers: W ~ N(0, 1.5 / sqrt(D)), b ~ N(0, 0.5)."""
    return {str(2 * i): (rng.normal(0, 1.5 / np.sqrt(d), (d, m)), rng.normal(0, 0.5, m))
            for i, (d, m) in enumerate(zip(sizes[:-1], sizes[1:]))}


def build_network(spec, weights, disguise=False):
    """The Sequential described by ``spec``, with ``weights`` copied into its Linear layers.

    ``disguise=True``: every layer gets a class of its own, named like the public class, whose
    ``forward`` and ``backward`` are its own functions (calling the planted or correct code)."""
    layers = []
    for item in spec:
        if item[0] == "linear":
            _, d, m, bug = item
            cls = LINEAR_BUGS[bug]
            layer = (_disguised(cls, "Linear") if disguise else cls)(d, m, rng=0)
            W, b = weights[str(len(layers))]
            layer.params["W"][...] = W
            layer.params["b"][...] = b
        else:
            cls = ACTIVATION_BUGS[tuple(item)]
            layer = (_disguised(cls, _PUBLIC_NAMES[item[0]]) if disguise else cls)()
        layers.append(layer)
    return Sequential(*layers)


_PUBLIC_NAMES = {"relu": "ReLU", "tanh": "Tanh", "sigmoid": "Sigmoid"}


def _disguised(cls, name):
    """A subclass of ``cls`` called ``name``, with forward and backward functions of its own."""

    def forward(self, x):
        return cls.forward(self, x)

    def backward(self, dout, *args, **kwargs):
        return cls.backward(self, dout, *args, **kwargs)

    return type(name, (cls,), {"forward": forward, "backward": backward, "__module__": "bplib.layers",
                               "__qualname__": name, "__doc__": Linear.__doc__ if name == "Linear"
                               else None})


def relu_margin(spec, weights, x):
    """The smallest |pre-activation| entering a ReLU (inf without ReLUs): a kink closer than the
    step h would make even a correct gradient disagree with finite differences."""
    margin, h = np.inf, x
    for i, item in enumerate(spec):
        if item[0] == "linear":
            W, b = weights[str(i)]
            h = h @ W + b
        else:
            if item[0] == "relu":
                margin = min(margin, float(np.abs(h).min()))
            h = {"relu": lambda z: np.maximum(z, 0), "tanh": np.tanh,
                 "sigmoid": lambda z: 1 / (1 + np.exp(-z))}[item[0]](h)
    return margin
