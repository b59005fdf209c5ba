"""Losses: ``forward(prediction, target) -> float`` (a mean over the batch), ``backward() -> dprediction``.

``backward`` takes no argument: the loss is the end of the graph, so dLoss/dLoss = 1 is implied.
"""

import numpy as np

from bplib.layers import sigmoid

__all__ = ["MSELoss", "SoftmaxCrossEntropyLoss", "BinaryCrossEntropyLoss", "softmax", "log_softmax"]


def log_softmax(logits):
    """log(softmax(logits)) along the last axis, stable: z - max(z) - log(sum(exp(z - max(z))))."""
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def softmax(logits):
    """exp(z) / sum(exp(z)) along the last axis; subtracting max(z) first keeps exp from overflowing."""
    e = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


class Loss:
    def __init__(self):
        self._cache = None

    def __call__(self, prediction, target):
        return self.forward(prediction, target)

    def _cached(self):
        if self._cache is None:
            raise RuntimeError(f"{type(self).__name__}: backward() was called before forward(). "
                               "Compute the loss first: backward needs what forward cached.")
        return self._cache

    def _check_prediction(self, prediction):
        if type(prediction) is not np.ndarray:
            prediction = np.asarray(prediction)
        if prediction.dtype.kind != "f":
            raise TypeError(f"{type(self).__name__}: prediction must be a float array, "
                            f"got dtype {prediction.dtype}")
        if prediction.ndim == 0 or prediction.shape[0] == 0:
            raise ValueError(f"{type(self).__name__}: prediction must be a non-empty batch "
                             f"(N, ...), got shape {prediction.shape}")
        return prediction

    def __repr__(self):
        return f"{type(self).__name__}()"


class MSELoss(Loss):
    """Mean squared error over every element: L = mean((prediction - target)**2).

    Backward: dprediction = 2 * (prediction - target) / prediction.size.
    Shapes: prediction and target (N, D) or (N,), the same.
    """

    def forward(self, prediction, target):
        prediction = self._check_prediction(prediction)
        target = np.asarray(target, dtype=prediction.dtype)
        if target.shape != prediction.shape:
            raise ValueError(f"MSELoss: target has shape {target.shape} but prediction has shape "
                             f"{prediction.shape}; they must match"
                             + _reshape_hint(target.shape, prediction.shape))
        diff = prediction - target
        self._cache = diff
        return float(np.vdot(diff, diff)) / diff.size  # the sum of squares in one BLAS call

    def backward(self):
        diff = self._cached()
        return diff * (2.0 / diff.size)


class SoftmaxCrossEntropyLoss(Loss):
    """Softmax followed by cross-entropy with integer class labels, fused for stability.

    L = mean_i( -log softmax(logits_i)[y_i] ) = mean_i( logsumexp(logits_i) - logits_i[y_i] ).
    Backward: dlogits = (softmax(logits) - onehot(y)) / N.
    Shapes: logits (N, C), target (N,) integers in [0, C).
    """

    def forward(self, prediction, target):
        logits = self._check_prediction(prediction)
        labels = _check_labels(target, logits, type(self).__name__)
        log_probs = log_softmax(logits)  # (N, C)
        n = logits.shape[0]
        self._cache = (log_probs, labels)
        return float(-log_probs[np.arange(n), labels].mean())

    def backward(self):
        log_probs, labels = self._cached()
        n = log_probs.shape[0]
        dlogits = np.exp(log_probs)  # softmax probabilities, (N, C)
        dlogits[np.arange(n), labels] -= 1.0
        return dlogits / n


class BinaryCrossEntropyLoss(Loss):
    """Binary cross-entropy **on logits** (like PyTorch's BCEWithLogitsLoss), stable for any logit.

    L = mean( log(1 + exp(z)) - t * z ), with t in {0, 1} (or any probability in [0, 1]).
    Backward: dz = (sigmoid(z) - t) / z.size.  Shapes: logits z and target t (N,) or (N, 1), the same.
    """

    def forward(self, prediction, target):
        z = self._check_prediction(prediction)
        t = np.asarray(target, dtype=z.dtype)
        if t.shape != z.shape:
            raise ValueError(f"BinaryCrossEntropyLoss: target has shape {t.shape} but the logits "
                             f"have shape {z.shape}; they must match" + _reshape_hint(t.shape, z.shape))
        if np.any((t < 0) | (t > 1)):
            raise ValueError("BinaryCrossEntropyLoss: targets must lie in [0, 1]")
        self._cache = (z, t)
        softplus = np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z)))  # log(1 + exp(z)), stable
        return float(np.mean(softplus - t * z))

    def backward(self):
        z, t = self._cached()
        return (sigmoid(z) - t) / z.size


def _check_labels(target, logits, who):
    if logits.ndim != 2:
        raise ValueError(f"{who}: expected logits of shape (N, C), got {logits.shape}")
    labels = np.asarray(target)
    n, n_classes = logits.shape
    if labels.dtype.kind not in "iu":
        raise TypeError(f"{who}: target must hold integer class labels (shape (N,)), got dtype "
                        f"{labels.dtype}. One-hot targets? Use target.argmax(axis=1).")
    if labels.shape != (n,):
        raise ValueError(f"{who}: expected target of shape ({n},) (one label per row of the "
                         f"logits), got {labels.shape}")
    if labels.size and (labels.min() < 0 or labels.max() >= n_classes):
        raise ValueError(f"{who}: labels must be in [0, {n_classes}), got values from "
                         f"{labels.min()} to {labels.max()}")
    return labels


def _reshape_hint(target_shape, prediction_shape):
    if np.prod(target_shape) == np.prod(prediction_shape):
        return f" (use target.reshape{prediction_shape})"
    return ""
