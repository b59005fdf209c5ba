"""Reverse-mode automatic differentiation on NumPy arrays: lesson 2's ``Value``, one array per node.

A :class:`Tensor` holds ``data`` (a float array) and ``grad`` (dLoss/d``data``: an array of the same
shape, zero until ``backward``). Every operation makes a new Tensor ``out`` and, right below the
line that computes it, a ``_backward`` closure that adds ``out.grad`` times the local derivative to
each input's ``grad``: the chain rule of lesson 2, applied to a whole array at once::

    out = Tensor(a.data @ b.data, (a, b), "@")
    def _backward():                  # lesson 3: dx = dout @ W.T, dW = x.T @ dout
        a.grad += out.grad @ b.data.T
        b.grad += a.data.T @ out.grad

**Broadcasting.** In ``a + b`` with ``a`` of shape (N, M) and ``b`` of shape (M,), NumPy adds ``b``
to every row: each entry of ``b`` is used N times, so its gradient is the *sum* of N gradients
(lesson 2: a value used several times receives the sum). :func:`unbroadcast` does that sum for any
NumPy broadcast, and every elementwise binary operation applies it to both inputs.

``root.backward()`` sets ``root.grad`` to ones and calls every ``_backward`` in reverse
topological order (:func:`topological_order`, lesson 2's, which reads only ``_children``).
Gradients accumulate (``+=``), so call ``root.zero_grad()`` before a second ``backward()``.

Shapes: batch first, ``x`` is (N, D); ``@`` takes 2-D arrays, (N, D) @ (D, M) -> (N, M). This is
the reference of lesson 10's graders, written to be read, not to be fast: every node gets a
gradient, the data's included (no ``requires_grad``), the graph is sorted on every backward, and
each ``_backward`` closure refers to its ``out``, which refers back to it (a reference cycle:
a finished graph is freed by Python's cyclic garbage collector, not at once).
"""

import numpy as np

from bplib.autograd import topological_order

__all__ = ["Tensor", "unbroadcast", "softmax_cross_entropy", "topological_order"]


def unbroadcast(grad, shape):
    """Sum ``grad`` (the shape of a broadcast result) down to ``shape`` (the shape of one input).

    NumPy broadcasting (aligned on the right) repeats an input along (1) leading axes it lacks and
    (2) its axes of length 1. Each repeat is a use of the same entry, so the entry's gradient is the
    sum over its repeats: sum (1) away and (2) with ``keepdims``. E.g. (N, M) -> (M,) is
    ``grad.sum(axis=0)`` (lesson 3's ``db``), and (N, M) -> (N, 1) is ``grad.sum(axis=1, keepdims=True)``.
    """
    grad = np.asarray(grad)
    while grad.ndim > len(shape):  # (1) leading axes the input did not have
        grad = grad.sum(axis=0)
    for axis, size in enumerate(shape):  # (2) axes where the input had length 1
        if size == 1 and grad.shape[axis] != 1:
            grad = grad.sum(axis=axis, keepdims=True)
    return grad


class Tensor:
    """A float array in a computational graph. ``data`` is the array, ``grad`` is dLoss/d``data``
    (same shape). ``label`` names the node, ``op`` is the operation that made it."""

    def __init__(self, data, children=(), op="", label=""):
        if isinstance(data, Tensor):
            raise TypeError("Tensor(data): data is already a Tensor; use it directly")
        data = np.asarray(data)
        self.data = data if data.dtype.kind == "f" else data.astype(np.float64)
        self.grad = np.zeros_like(self.data)
        self.label = label
        self.op = op
        self._children = tuple(children)
        self._backward = _no_backward

    shape = property(lambda self: self.data.shape, doc="the shape of ``data`` (and of ``grad``)")
    ndim = property(lambda self: self.data.ndim, doc="the number of axes of ``data``")
    children = property(lambda self: self._children, doc="the Tensors this one was computed from")

    def __repr__(self):
        name = f"{self.label}: " if self.label else ""
        return f"Tensor({name}shape={self.shape}, op={self.op!r})"

    # --- elementwise arithmetic, with broadcasting --------------------------------------------

    def __add__(self, other):
        other = as_tensor(other)
        out = Tensor(self.data + other.data, (self, other), "+")

        def _backward():  # d(a + b)/da = 1, d(a + b)/db = 1, summed over the broadcast copies
            self.grad += unbroadcast(out.grad, self.shape)
            other.grad += unbroadcast(out.grad, other.shape)
        out._backward = _backward
        return out

    def __mul__(self, other):
        other = as_tensor(other)
        out = Tensor(self.data * other.data, (self, other), "*")

        def _backward():  # d(a * b)/da = b, d(a * b)/db = a
            self.grad += unbroadcast(out.grad * other.data, self.shape)
            other.grad += unbroadcast(out.grad * self.data, other.shape)
        out._backward = _backward
        return out

    def __truediv__(self, other):
        other = as_tensor(other)
        out = Tensor(self.data / other.data, (self, other), "/")

        def _backward():  # d(a / b)/da = 1 / b, d(a / b)/db = -a / b**2
            self.grad += unbroadcast(out.grad / other.data, self.shape)
            other.grad += unbroadcast(-out.grad * self.data / other.data ** 2, other.shape)
        out._backward = _backward
        return out

    # --- matrix product, sums, shapes -----------------------------------------------------------

    def __matmul__(self, other):
        other = as_tensor(other)
        if self.ndim != 2 or other.ndim != 2:
            raise ValueError(f"Tensor @ Tensor takes 2-D arrays, (N, D) @ (D, M); got shapes "
                             f"{self.shape} and {other.shape}")
        out = Tensor(self.data @ other.data, (self, other), "@")  # (N, D) @ (D, M) -> (N, M)

        def _backward():  # lesson 3: dx = dout @ W.T (N, D), dW = x.T @ dout (D, M)
            self.grad += out.grad @ other.data.T
            other.grad += self.data.T @ out.grad
        out._backward = _backward
        return out

    def sum(self, axis=None, keepdims=False):
        """Sum over ``axis`` (None: all; an int or a tuple), like ``np.sum``."""
        out = Tensor(self.data.sum(axis=axis, keepdims=keepdims), (self,), "sum")

        def _backward():  # every summed entry has local derivative 1: copy out.grad back over them
            grad = out.grad if keepdims or axis is None else np.expand_dims(out.grad, axis)
            self.grad += np.broadcast_to(grad, self.shape)
        out._backward = _backward
        return out

    def reshape(self, *shape):
        """The same entries in a new shape, like ``np.reshape`` (``-1`` allowed)."""
        out = Tensor(self.data.reshape(*shape), (self,), "reshape")

        def _backward():  # each entry keeps its gradient; only the shape goes back
            self.grad += out.grad.reshape(self.shape)
        out._backward = _backward
        return out

    def transpose(self, axes=None):
        """Permute the axes, like ``np.transpose`` (None: reverse them; ``x.T`` for a matrix)."""
        out = Tensor(self.data.transpose(axes), (self,), "T")

        def _backward():  # undo the permutation: the inverse of `axes` is argsort(axes)
            self.grad += out.grad.transpose(None if axes is None else np.argsort(axes))
        out._backward = _backward
        return out

    # --- elementwise functions ------------------------------------------------------------------

    def exp(self):
        out = Tensor(np.exp(self.data), (self,), "exp")

        def _backward():  # d exp(a)/da = exp(a) = out
            self.grad += out.grad * out.data
        out._backward = _backward
        return out

    def log(self):
        out = Tensor(np.log(self.data), (self,), "log")

        def _backward():  # d log(a)/da = 1 / a
            self.grad += out.grad / self.data
        out._backward = _backward
        return out

    def tanh(self):
        out = Tensor(np.tanh(self.data), (self,), "tanh")

        def _backward():  # d tanh(a)/da = 1 - tanh(a)**2 = 1 - out**2
            self.grad += out.grad * (1.0 - out.data ** 2)
        out._backward = _backward
        return out

    def relu(self):
        out = Tensor(np.maximum(self.data, 0.0), (self,), "relu")

        def _backward():  # 1 where a > 0, else 0 (0 at the kink, as in lesson 3)
            self.grad += out.grad * (self.data > 0)
        out._backward = _backward
        return out

    # --- built from the operations above: no backward of their own ------------------------------

    def mean(self, axis=None, keepdims=False):
        """Mean over ``axis``: the sum times 1 / (number of entries summed)."""
        total = self.sum(axis=axis, keepdims=keepdims)
        return total * (total.data.size / self.data.size)

    @property
    def T(self):
        return self.transpose()

    def __neg__(self):
        return self * -1.0

    def __sub__(self, other):
        return self + (-as_tensor(other))

    def __radd__(self, other):
        return self + other

    def __rmul__(self, other):
        return self * other

    def __rsub__(self, other):
        return as_tensor(other) - self

    def __rtruediv__(self, other):
        return as_tensor(other) / self

    # --- the backward pass ----------------------------------------------------------------------

    def backward(self):
        """Fill ``grad`` of every node this one depends on with d(self)/d(node).

        ``self.grad`` starts as ones (dL/dL = 1 for a scalar loss; for an array, this is the
        gradient of its sum). Gradients accumulate: call :meth:`zero_grad` before a second call.
        """
        self.grad = np.ones_like(self.data)
        for node in reversed(topological_order(self)):
            node._backward()

    def zero_grad(self):
        """Set ``grad`` to zeros on this node and every node it depends on."""
        for node in topological_order(self):
            node.grad = np.zeros_like(node.data)


def softmax_cross_entropy(logits, labels):
    """Mean cross-entropy of softmax(logits) against integer ``labels``, fused into one node.

    Forward (stable, lesson 1): log p = z - max(z) - log(sum(exp(z - max(z)))) per row;
    loss = -mean(log p[n, labels[n]]). Backward (lesson 3): dlogits = dout * (P - Y) / N.
    Shapes: logits (N, C), labels (N,) integers in [0, C) -> a Tensor of shape ().
    """
    logits = as_tensor(logits)
    labels = np.asarray(labels)
    n = logits.shape[0]
    shifted = logits.data - logits.data.max(axis=1, keepdims=True)  # (N, C), at most 0
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    out = Tensor(-log_probs[np.arange(n), labels].mean(), (logits,), "softmax-xent")

    def _backward():  # (P - Y) / N: probabilities minus one-hot labels
        dlogits = np.exp(log_probs)
        dlogits[np.arange(n), labels] -= 1.0
        logits.grad += out.grad * dlogits / n
    out._backward = _backward
    return out


def as_tensor(x):
    """``x`` itself if it is a Tensor, else a constant Tensor (e.g. the 2 in ``a * 2``)."""
    return x if isinstance(x, Tensor) else Tensor(x)


def _no_backward():
    pass
