"""Networks: layers applied in order, and gradients passed back through them in reverse order."""

import functools
import inspect

import numpy as np

from bplib.layers import Dropout, LeakyReLU, Linear, ReLU, Sigmoid, Tanh
from bplib.normalization import BatchNorm, LayerNorm

__all__ = ["Sequential", "mlp", "backward_parameters"]


class Sequential:
    """``Sequential(Linear(2, 16), ReLU(), Linear(16, 1))``: the layers, in order, in ``.layers``.

    ``forward(x)`` applies each layer to the output of the previous one; ``backward(dout)`` calls
    each layer's backward in reverse order (the chain rule, one layer at a time) and returns ``dx``.

    ``train()`` and ``eval()`` switch every layer between training mode (the default: dropout
    drops, batch norm uses the batch's statistics) and evaluation mode (dropout is the identity,
    batch norm uses its running averages). Call ``eval()`` before predicting and ``train()``
    before training again. Layers without a ``training`` flag are left as they are.
    """

    def __init__(self, *layers):
        for i, layer in enumerate(layers):
            if not (hasattr(layer, "forward") and hasattr(layer, "backward")):
                raise TypeError(f"Sequential: item {i} ({layer!r}) is not a layer: it needs "
                                "forward(x) and backward(dout) methods")
        self.layers = list(layers)
        self.training = True

    def __call__(self, x):
        return self.forward(x)

    def train(self, mode=True):
        """Put every layer in training mode (``mode=False``: evaluation mode). Returns the model."""
        self.training = bool(mode)
        for layer in self.layers:
            if callable(getattr(layer, "train", None)):
                layer.train(mode)
            elif hasattr(layer, "training"):
                layer.training = bool(mode)
        return self

    def eval(self):
        """Put every layer in evaluation mode, for predictions. Returns the model."""
        return self.train(False)

    def forward(self, x):
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def backward(self, dout, need_dx=True):
        """Backpropagate ``dout`` (dLoss/doutput) through every layer; return dx (dLoss/dinput).

        ``need_dx=False`` skips the gradient with respect to the input data when the first layer
        is a Linear (training never uses it) and returns None.
        """
        for i in range(len(self.layers) - 1, 0, -1):
            dout = self.layers[i].backward(dout)
        first = self.layers[0]
        return first.backward(dout, need_dx=False) if not need_dx and isinstance(first, Linear) \
            else first.backward(dout)

    def parameters(self):
        """Yield ``(name, param, grad)`` for every parameter, e.g. ``("0.W", W, dW)``.

        ``name`` is the layer's index and the parameter's key; ``param`` and ``grad`` are the arrays
        the layer itself holds, so updating ``param`` in place updates the network.
        """
        for i, layer in enumerate(self.layers):
            for key, param in getattr(layer, "params", {}).items():
                yield f"{i}.{key}", param, layer.grads[key]

    def num_parameters(self):
        return sum(param.size for _, param, _ in self.parameters())

    def __len__(self):
        return len(self.layers)

    def __getitem__(self, i):
        return self.layers[i]

    def __repr__(self):
        inner = "".join(f"\n  ({i}) {layer!r}" for i, layer in enumerate(self.layers))
        return f"Sequential({inner}\n)"


_ACTIVATIONS = {"relu": ReLU, "tanh": Tanh, "sigmoid": Sigmoid, "leaky_relu": LeakyReLU}
_DEFAULT_INIT = {"relu": "he", "leaky_relu": "he", "tanh": "xavier", "sigmoid": "xavier"}
_NORMS = {"batch": BatchNorm, "layer": LayerNorm}


def mlp(sizes, activation="relu", init=None, rng=None, dtype=np.float64, norm=None, dropout=0.0):
    """A multilayer perceptron: ``Linear`` layers of the given ``sizes`` with ``activation`` between.

    ``mlp([2, 16, 16, 1])`` is Linear(2 -> 16), ReLU, Linear(16 -> 16), ReLU, Linear(16 -> 1): no
    activation after the last layer (the loss applies softmax/sigmoid itself). ``init`` defaults to
    He for ReLU and Xavier for tanh/sigmoid; ``rng`` (seed or Generator) makes it reproducible.

    ``norm="batch"`` (or ``"layer"``) puts a BatchNorm (LayerNorm) between each hidden Linear and
    its activation, as Ioffe & Szegedy (2015) place it; ``dropout=p`` puts a Dropout(p) after each
    hidden activation. Neither follows the last Linear layer.
    """
    sizes = list(sizes)
    if len(sizes) < 2:
        raise ValueError(f"mlp: need at least an input and an output size, got sizes={sizes}")
    if activation not in _ACTIVATIONS:
        raise ValueError(f"mlp: unknown activation {activation!r}; choose one of "
                         f"{sorted(_ACTIVATIONS)}")
    if norm is not None and norm not in _NORMS:
        raise ValueError(f"mlp: unknown norm {norm!r}; choose None, 'batch' or 'layer'")
    init = init or _DEFAULT_INIT[activation]
    rng = np.random.default_rng(rng)
    layers = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(Linear(n_in, n_out, init=init, rng=rng, dtype=dtype))
        if i < len(sizes) - 2:
            if norm is not None:
                layers.append(_NORMS[norm](n_out, dtype=dtype))
            layers.append(_ACTIVATIONS[activation]())
            if dropout:
                layers.append(Dropout(dropout, rng=rng))
    return Sequential(*layers)


def backward_parameters(model, dout):
    """``model.backward(dout)`` for training: only the parameter gradients are wanted, so the
    gradient of the input data is skipped when the model's backward accepts ``need_dx``."""
    if _accepts_need_dx(type(model).backward):
        model.backward(dout, need_dx=False)
    else:  # a model of the learner's own, whose backward takes only dout
        model.backward(dout)


@functools.lru_cache(maxsize=64)
def _accepts_need_dx(backward):
    return "need_dx" in inspect.signature(backward).parameters
