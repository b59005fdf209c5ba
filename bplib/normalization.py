"""Normalisation layers: :class:`BatchNorm` (over the batch) and :class:`LayerNorm` (over features).

Both standardise, then scale and shift with learned ``gamma`` and ``beta`` (one per feature):

    x_hat = (x - mean) / std,   std = sqrt(var + eps),   out = gamma * x_hat + beta.

BatchNorm takes ``mean`` and ``var`` of each feature over the batch (axis 0), LayerNorm of each
example over its features (the last axis). The backward pass is the same computation along that
axis, with ``M`` the number of values normalised together (the batch size N for BatchNorm, the
number of features D for LayerNorm) and sums over that axis:

    dx_hat = dout * gamma
    dx = (dx_hat * M - sum(dx_hat) - x_hat * sum(dx_hat * x_hat)) / (M * std)

(derived in lesson 09; Ioffe & Szegedy 2015, "Batch normalization", arXiv:1502.03167, Alg. 1 and
section 3; Ba, Kiros & Hinton 2016, "Layer normalization", arXiv:1607.06450). The two sums are the
paths through ``mean`` and ``var``: every value of a group influences every output of that group.
"""

import numpy as np

from bplib.layers import Layer

__all__ = ["BatchNorm", "LayerNorm"]


def _normalize_backward(dx_hat, x_hat, std, axis):
    """dx from dx_hat = dLoss/dx_hat, for x_hat = (x - mean) / std taken along ``axis``."""
    m = x_hat.shape[axis]
    total = dx_hat.sum(axis=axis, keepdims=True)  # the path through the mean
    correlation = (dx_hat * x_hat).sum(axis=axis, keepdims=True)  # the path through the variance
    return (m * dx_hat - total - x_hat * correlation) / (m * std)


class BatchNorm(Layer):
    """Batch normalisation of each feature over the batch (Ioffe & Szegedy 2015).

    Training mode (``training = True``, the default): ``mean`` and ``var`` (biased, divided by N)
    of each column of the batch; the running averages used for inference are updated as
    ``running = momentum * running + (1 - momentum) * batch_value`` (Keras' and CS231n's
    convention: ``momentum`` is the share kept; PyTorch's ``momentum=0.1`` is the share replaced,
    and PyTorch stores the unbiased variance). Evaluation mode (:meth:`eval`, or
    ``Sequential.eval()``): ``running_mean`` and ``running_var`` instead, so each example's output
    depends on that example alone.

    Backward (training): dx = gamma / (N std) * (N dout - dbeta - x_hat * dgamma),
    dgamma = sum_n dout * x_hat,  dbeta = sum_n dout. (Evaluation: dx = dout * gamma / std.)
    Shapes: x (N, D), gamma (D,), beta (D,) -> out (N, D). ``running_mean``, ``running_var`` (D,)
    are buffers, not parameters: they are not trained and ``parameters()`` does not yield them.

    In training mode the batch mean is subtracted, so the bias of a ``Linear`` layer just before
    has no effect: its gradient is exactly 0, and a finite-difference check of it measures only
    round-off (relative to the 1e-8 floor of ``relative_error`` that can exceed a threshold).
    """

    def __init__(self, num_features, momentum=0.9, eps=1e-5, dtype=np.float64):
        super().__init__()
        if not isinstance(num_features, (int, np.integer)) or num_features < 1:
            raise ValueError(f"BatchNorm: num_features must be a positive integer, got {num_features!r}")
        if not 0 <= momentum < 1:
            raise ValueError(f"BatchNorm: momentum must be in [0, 1), got {momentum!r}")
        self.num_features, self.momentum, self.eps = int(num_features), momentum, eps
        self.params = {"gamma": np.ones(self.num_features, dtype=dtype),
                       "beta": np.zeros(self.num_features, dtype=dtype)}
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}
        self.running_mean = np.zeros(self.num_features, dtype=dtype)
        self.running_var = np.ones(self.num_features, dtype=dtype)

    def forward(self, x):
        x = self._check_input(x, self.num_features)
        if self.training:
            if x.shape[0] < 2:
                raise ValueError(f"{self}: a batch of {x.shape[0]} in training mode: the batch "
                                 "variance of one example is 0, so every output would be beta. "
                                 "To predict single examples, switch to evaluation mode first "
                                 "(model.eval()), which uses the running averages.")
            mean = x.mean(axis=0)  # (D,)
            var = x.var(axis=0)  # (D,), biased: divided by N
            self.running_mean *= self.momentum
            self.running_mean += (1 - self.momentum) * mean
            self.running_var *= self.momentum
            self.running_var += (1 - self.momentum) * var
        else:
            mean, var = self.running_mean, self.running_var
        std = np.sqrt(var + self.eps)  # (D,)
        x_hat = (x - mean) / std  # (N, D)
        self._cache = (x_hat, std, self.training)
        return self.params["gamma"] * x_hat + self.params["beta"]

    def backward(self, dout):
        x_hat, std, training = self._cached()
        dout = self._check_dout(dout, x_hat.shape)
        self.grads["gamma"][...] = (dout * x_hat).sum(axis=0)  # (D,)
        self.grads["beta"][...] = dout.sum(axis=0)  # (D,)
        dx_hat = dout * self.params["gamma"]  # (N, D)
        if not training:  # mean and std are constants (the running averages)
            return dx_hat / std
        return _normalize_backward(dx_hat, x_hat, std, axis=0)

    def __repr__(self):
        return f"BatchNorm({self.num_features})"


class LayerNorm(Layer):
    """Layer normalisation of each example over its features (Ba, Kiros & Hinton 2016).

    Each row (each example; for inputs of more than two dimensions, each vector along the last
    axis) is standardised with its own mean and (biased) variance, in training and in evaluation
    alike: no batch statistics, no running averages, and a batch of one works.

    Backward: the formula of :class:`BatchNorm` along the last axis, with D in place of N;
    dgamma and dbeta still sum over the batch (every example uses the same gamma and beta).
    Shapes: x (N, D) (or (..., D)), gamma (D,), beta (D,) -> out like x.
    """

    def __init__(self, num_features, eps=1e-5, dtype=np.float64):
        super().__init__()
        if not isinstance(num_features, (int, np.integer)) or num_features < 1:
            raise ValueError(f"LayerNorm: num_features must be a positive integer, got {num_features!r}")
        self.num_features, self.eps = int(num_features), eps
        self.params = {"gamma": np.ones(self.num_features, dtype=dtype),
                       "beta": np.zeros(self.num_features, dtype=dtype)}
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}

    def forward(self, x):
        x = self._check_input(x)
        if x.ndim < 2 or x.shape[-1] != self.num_features:
            raise ValueError(f"{self}: expected input of shape (N, {self.num_features}), got {x.shape}")
        mean = x.mean(axis=-1, keepdims=True)  # (N, 1)
        std = np.sqrt(x.var(axis=-1, keepdims=True) + self.eps)  # (N, 1)
        x_hat = (x - mean) / std  # (N, D)
        self._cache = (x_hat, std)
        return self.params["gamma"] * x_hat + self.params["beta"]

    def backward(self, dout):
        x_hat, std = self._cached()
        dout = self._check_dout(dout, x_hat.shape)
        batch_axes = tuple(range(x_hat.ndim - 1))  # every axis but the features
        self.grads["gamma"][...] = (dout * x_hat).sum(axis=batch_axes)  # (D,)
        self.grads["beta"][...] = dout.sum(axis=batch_axes)  # (D,)
        return _normalize_backward(dout * self.params["gamma"], x_hat, std, axis=-1)

    def __repr__(self):
        return f"LayerNorm({self.num_features})"
