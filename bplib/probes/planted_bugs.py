"""Networks with one planted backward bug, for grading the learner's gradient checkers (lessons 04
and 08): a checker must pass the correct networks and catch the wrong layer in the others.

A network travels to the grading child as plain data: ``spec``, one item per layer of the
Sequential, ``("linear", D, M, bug)`` or ``(activation, bug)`` with ``bug`` None for a correct
layer, and ``weights``, ``{layer index as a string: (W, b)}`` for its Linear layers.
:func:`build_network` turns them back into a model.
"""

import numpy as np

from bplib.layers import Linear, ReLU, Sigmoid, Tanh
from bplib.network import Sequential

__all__ = ["LINEAR_BUGS", "ACTIVATION_BUGS", "network_spec", "random_weights", "build_network"]


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


def network_spec(sizes, activation, bug=None, bug_layer=None):
    """The spec of an MLP with layer sizes ``sizes`` (Linear layers at even indices, ``activation``
    between them) whose layer ``bug_layer`` has ``bug`` (a Linear or an activation bug)."""
    spec = []
    for i, (d, m) in enumerate(zip(sizes[:-1], sizes[1:])):
        spec.append(("linear", int(d), int(m), bug if bug in LINEAR_BUGS and bug_layer == 2 * i else None))
        if i < len(sizes) - 2:
            spec.append((activation, bug if bug not in LINEAR_BUGS and bug_layer == 2 * i + 1 else None))
    return tuple(spec)


def random_weights(rng, sizes):
    """Weights for :func:`network_spec`'s Linear layers: W ~ N(0, 1.5 / sqrt(D)), b ~ N(0, 0.5)."""
    return {str(2 * i): (rng.normal(0, 1.5 / np.sqrt(d), (d, m)), rng.normal(0, 0.5, m))
            for i, (d, m) in enumerate(zip(sizes[:-1], sizes[1:]))}


def build_network(spec, weights):
    """The Sequential described by ``spec``, with ``weights`` copied into its Linear layers."""
    layers = []
    for item in spec:
        if item[0] == "linear":
            _, d, m, bug = item
            layer = LINEAR_BUGS[bug](d, m, rng=0)
            W, b = weights[str(len(layers))]
            layer.params["W"][...] = W
            layer.params["b"][...] = b
        else:
            layer = ACTIVATION_BUGS[tuple(item)]()
        layers.append(layer)
    return Sequential(*layers)
