"""Layers: each ``forward`` is followed directly by its ``backward``.

A layer caches what its backward needs during ``forward`` (never recomputing the forward pass) and
``backward(dout)`` returns ``dx`` and *overwrites* ``grads``. Shapes: ``x (N, D)`` batch first.

Every layer checks that its input is a float array; ``Linear`` also checks the shape and that the
input is finite (NaN/inf), so bad data is reported at the first layer, by name and index.

Every layer has a ``training`` flag (True after construction). Only :class:`Dropout` (and the
normalisation layers of :mod:`bplib.normalization`) behave differently in evaluation mode; switch a
whole network with ``model.train()`` / ``model.eval()`` (:class:`bplib.network.Sequential`).
"""

import numpy as np

from bplib import init as initializers

__all__ = ["Layer", "Linear", "ReLU", "LeakyReLU", "Sigmoid", "Tanh", "Dropout", "sigmoid"]


class Layer:
    """Base class: no parameters, input checks, the forward-before-backward rule, and the
    ``training`` flag (``train()`` / ``eval()``, as in PyTorch)."""

    def __init__(self):
        self.params = {}
        self.grads = {}
        self._cache = None
        self.training = True

    def __call__(self, x):
        return self.forward(x)

    def train(self, mode=True):
        """Training mode (``mode=False``: evaluation mode). Returns the layer."""
        self.training = bool(mode)
        return self

    def eval(self):
        """Evaluation mode: what a trained network uses to predict. Returns the layer."""
        return self.train(False)

    def _check_input(self, x, features=None):
        """Return ``x`` as an array after checking it is a float array (of shape (N, features))."""
        if type(x) is not np.ndarray:
            x = np.asarray(x)
        if x.dtype.kind != "f":
            raise TypeError(f"{self}: expected a floating-point array (float64 or float32), got "
                            f"dtype {x.dtype}. Convert it first, e.g. x.astype(np.float64).")
        if features is not None and (x.ndim != 2 or x.shape[1] != features):
            raise ValueError(f"{self}: expected input of shape (N, {features}), got {x.shape}"
                             + _shape_hint(x.shape, features))
        return x

    def _cached(self):
        if self._cache is None:
            raise RuntimeError(f"{self}: backward() was called before forward(). Run forward(x) on "
                               "the batch first: backward needs the values forward caches.")
        return self._cache

    def _check_dout(self, dout, shape):
        if getattr(dout, "shape", None) != shape:
            raise ValueError(f"{self}: backward expected dout of shape {shape} (the shape of this "
                             f"layer's output), got {np.shape(dout)}")
        return dout

    def __repr__(self):
        return f"{type(self).__name__}()"


class Linear(Layer):
    """Fully connected layer: out = x @ W + b.

    Backward: dx = dout @ W.T,  dW = x.T @ dout,  db = dout.sum(axis=0).
    Shapes: x (N, D), W (D, M), b (M,) -> out (N, M).

    ``backward(dout, need_dx=False)`` skips dx (and returns None): for the first layer of a
    network, x is the data, whose gradient nobody uses, and skipping it saves a large matmul.

    ``init`` names a weight initialiser from :mod:`bplib.init` ("xavier", "he", "normal", ...) or is
    a function ``init(shape, rng, dtype)``; ``b`` starts at zero. ``rng`` is a seed or a Generator.
    """

    def __init__(self, in_features, out_features, init="xavier", rng=None, dtype=np.float64):
        super().__init__()
        for name, n in (("in_features", in_features), ("out_features", out_features)):
            if not isinstance(n, (int, np.integer)) or n < 1:
                raise ValueError(f"Linear: {name} must be a positive integer, got {n!r}")
        self.in_features, self.out_features = int(in_features), int(out_features)
        init_fn = initializers.get(init)
        rng = np.random.default_rng(rng)
        self.params = {"W": init_fn((self.in_features, self.out_features), rng=rng, dtype=dtype),
                       "b": np.zeros(self.out_features, dtype=dtype)}
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}

    def forward(self, x):
        x = self._check_input(x, self.in_features)
        _check_finite(x, self)
        self._cache = x
        out = x @ self.params["W"]  # (N, M)
        out += self.params["b"]  # broadcast over the batch, in place
        return out

    def backward(self, dout, need_dx=True):
        x = self._cached()
        dout = self._check_dout(dout, (x.shape[0], self.out_features))
        np.matmul(x.T, dout, out=self.grads["W"])  # dW = x.T @ dout, (D, M), written in place
        np.matmul(self._ones(x.shape[0], dout.dtype), dout, out=self.grads["b"])  # db = sum of rows
        return dout @ self.params["W"].T if need_dx else None  # dx, (N, D)

    def _ones(self, n, dtype):
        """A row of n ones: ones @ dout sums dout over the batch, ~3x faster than dout.sum(axis=0)
        on small batches (one BLAS call instead of NumPy's general reduction)."""
        ones = getattr(self, "_ones_cache", None)
        if ones is None or ones.shape[0] != n or ones.dtype != dtype:
            ones = self._ones_cache = np.ones(n, dtype=dtype)
        return ones

    def __repr__(self):
        return f"Linear({self.in_features} -> {self.out_features})"


class ReLU(Layer):
    """out = max(0, x). Backward: dx = dout * (x > 0) (we take 0 as the derivative at the kink)."""

    def forward(self, x):
        x = self._check_input(x)
        self._cache = x > 0
        return np.maximum(x, 0)

    def backward(self, dout):
        positive = self._cached()
        return self._check_dout(dout, positive.shape) * positive


class LeakyReLU(Layer):
    """out = x if x > 0 else slope * x. Backward: dx = dout * (1 if x > 0 else slope)."""

    def __init__(self, slope=0.01):
        super().__init__()
        self.slope = slope

    def forward(self, x):
        x = self._check_input(x)
        self._cache = x > 0
        return np.where(self._cache, x, self.slope * x)

    def backward(self, dout):
        positive = self._cached()
        dout = self._check_dout(dout, positive.shape)
        return np.where(positive, dout, self.slope * dout)

    def __repr__(self):
        return f"LeakyReLU(slope={self.slope:g})"


def sigmoid(x):
    """Numerically stable logistic function 1 / (1 + exp(-x)), elementwise, any shape.

    Uses exp(-|x|), which never overflows: for x >= 0 it is 1 / (1 + e), for x < 0 it is e / (1 + e).
    """
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0, e) / (1.0 + e)


class Sigmoid(Layer):
    """out = 1 / (1 + exp(-x)), stable for any |x|. Backward: dx = dout * out * (1 - out)."""

    def forward(self, x):
        out = sigmoid(self._check_input(x))
        self._cache = out
        return out

    def backward(self, dout):
        out = self._cached()
        return self._check_dout(dout, out.shape) * out * (1.0 - out)


class Tanh(Layer):
    """out = tanh(x). Backward: dx = dout * (1 - out**2)."""

    def forward(self, x):
        out = np.tanh(self._check_input(x))
        self._cache = out
        return out

    def backward(self, dout):
        out = self._cached()
        return self._check_dout(dout, out.shape) * (1.0 - out * out)


class Dropout(Layer):
    """Inverted dropout (Srivastava et al. 2014, JMLR 15; the "inverted" scaling as in CS231n).

    Training: each entry is dropped (set to 0) with probability ``p`` and the kept ones are scaled
    by 1 / (1 - p), so E[out] = x and evaluation needs no rescaling:
    mask = (u >= p) / (1 - p) with u uniform on [0, 1), out = x * mask.  Evaluation: out = x.
    Backward: dx = dout * mask, the mask of the forward pass (cached, never drawn again).
    Shapes: x any shape -> out like x. ``rng`` (seed or Generator) makes the masks reproducible.

    Gradient checks must hold the mask fixed: finite differences call ``forward`` many times, and
    each call in training mode draws a new mask. Check in evaluation mode, or give the layer a
    fresh generator with the same seed before every forward (``layer.rng = default_rng(0)``).
    """

    def __init__(self, p=0.5, rng=None):
        super().__init__()
        if not 0 <= p < 1:
            raise ValueError(f"Dropout: p (the probability of dropping a unit) must be in [0, 1), "
                             f"got {p!r}")
        self.p = p
        self.rng = np.random.default_rng(rng)

    def forward(self, x):
        x = self._check_input(x)
        if not self.training or self.p == 0:
            self._cache = (None, x.shape)  # the identity: dx = dout
            return x
        mask = self.rng.random(x.shape) >= self.p  # True: kept, with probability 1 - p
        mask = mask.astype(x.dtype) / x.dtype.type(1 - self.p)  # 0 or 1 / (1 - p)
        self._cache = (mask, x.shape)
        return x * mask

    def backward(self, dout):
        mask, shape = self._cached()
        dout = self._check_dout(dout, shape)
        return dout if mask is None else dout * mask

    def __repr__(self):
        return f"Dropout(p={self.p:g})"


def _check_finite(x, layer):
    # Fast path: the sum of squares (one BLAS call) is finite when every entry is. It can also
    # overflow for entries beyond ~1e154, so only when it is not finite do we scan each entry.
    if np.isfinite(np.vdot(x, x)) or np.isfinite(x).all():
        return
    where = tuple(int(i) for i in np.argwhere(~np.isfinite(x))[0])
    raise FloatingPointError(
        f"{layer}: input contains {x[where]} at index {where}. NaN or inf propagate through every "
        "later layer: check the data (np.isnan(X).any()). If this happens during training, the "
        "weights have blown up (exploding gradients): lower the learning rate, clip gradients or "
        "check the initialisation.")


def _shape_hint(shape, features):
    if len(shape) == 1:
        return f". A single example must still be a batch: use x.reshape(1, {features})."
    if len(shape) == 2 and shape[0] == features:
        return ". It looks transposed: rows are examples, columns are features (use x.T)."
    return ""
