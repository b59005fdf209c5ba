"""Lesson 05-update-rule: how the grader calls your training loop.

The probe gives your ``train`` a fresh network and a loss, and watches them while your loop runs:
which rows of ``X`` each training step fed forward (recorded at the first layer, which every pass
through the network goes through), which labels went to the loss, and the weights at the end. It
judges nothing: the grader compares these observations with what plain mini-batch SGD does.
"""

import numpy as np

from bplib.losses import SoftmaxCrossEntropyLoss
from bplib.network import mlp
from bplib.train import predict


class FeedRecorder:
    """Records, for every backward pass through ``model``'s first layer, the indices (rows of ``X``)
    of the examples its last forward pass saw (-1: not a row of ``X``) and the labels the loss last
    received (-1 where they cannot be read as one label per example)."""

    def __init__(self, model, loss, X):
        self.rows = {row.tobytes(): i for i, row in enumerate(np.ascontiguousarray(X, dtype=float))}
        self.fed, self.labels, self.steps = None, None, []
        first = model.layers[0]
        forward, backward, loss_forward = first.forward, first.backward, loss.forward

        def recording_forward(x, *args, **kwargs):
            rows = np.ascontiguousarray(np.asarray(x, dtype=float))
            self.fed = np.array([self.rows.get(row.tobytes(), -1) for row in rows.reshape(len(rows), -1)],
                                dtype=np.int64)
            self.labels = None
            return forward(x, *args, **kwargs)

        def recording_backward(dout, *args, **kwargs):
            if self.fed is not None:
                labels = np.full(len(self.fed), -1, dtype=np.int64)
                if self.labels is not None and self.labels.size == len(self.fed):
                    labels = self.labels.reshape(-1).astype(np.int64)
                self.steps.append((self.fed, labels))
            return backward(dout, *args, **kwargs)

        def recording_loss(prediction, target, *args, **kwargs):
            self.labels = np.array(target, copy=True)
            return loss_forward(prediction, target, *args, **kwargs)

        first.forward, first.backward, loss.forward = recording_forward, recording_backward, recording_loss

    def record(self):
        """Plain data: every step's indices and labels in one array each, and each step's size."""
        if not self.steps:
            empty = np.zeros(0, dtype=np.int64)
            return {"order": empty, "labels": empty, "batch sizes": empty}
        return {"order": np.concatenate([fed for fed, _ in self.steps]),
                "labels": np.concatenate([labels for _, labels in self.steps]),
                "batch sizes": np.array([len(fed) for fed, _ in self.steps], dtype=np.int64)}


def probe_train(train, X_train, y_train, X_test, sizes, model_seed, epochs, batch_size, learning_rate,
                seed):
    """Train a fresh ``mlp(sizes)`` with the learner's loop; what it fed, and where it ended."""
    model, loss = mlp(sizes, rng=model_seed), SoftmaxCrossEntropyLoss()
    recorder = FeedRecorder(model, loss, X_train)
    try:
        train(model, loss, X_train, y_train, epochs=epochs, batch_size=batch_size,
              learning_rate=learning_rate, rng=seed)
    except FloatingPointError as error:  # raised by a Linear layer that sees inf/NaN
        raise FloatingPointError(
            f"the weights blew up during training ({str(error).split('. ')[0]}). With these settings "
            "a correct loop does not diverge: does the update step AGAINST the gradient, "
            "param - learning_rate * grad?") from None
    result = recorder.record()
    result["parameters"] = {name: param.copy() for name, param, _ in model.parameters()}
    with np.errstate(all="ignore"):
        result["predictions"] = predict(model, X_test)
    return result
