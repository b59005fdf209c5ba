"""The training loop: forward, loss, backward, update, over mini-batches, epoch after epoch."""

import math
import warnings
from dataclasses import dataclass, field

import numpy as np

from bplib.network import backward_parameters
from bplib.optim import clip_grad_norm

__all__ = ["fit", "History", "TrainingDivergedWarning", "predict", "accuracy"]


class TrainingDivergedWarning(RuntimeWarning):
    """The loss became NaN or infinite, so training stopped."""


@dataclass
class History:
    """What happened during :func:`fit`, one entry per epoch (``step_loss``: one per update).

    ``accuracy`` is the running accuracy over each epoch's batches, measured before each update
    (``None`` entries for regression). ``diverged`` is True if training stopped on a NaN/inf loss.
    """
    loss: list = field(default_factory=list)
    accuracy: list = field(default_factory=list)
    val_loss: list = field(default_factory=list)
    val_accuracy: list = field(default_factory=list)
    step_loss: list = field(default_factory=list)
    diverged: bool = False
    message: str = ""


def fit(model, loss, optimizer, X, y, epochs=10, batch_size=None, shuffle=True, rng=None,
        validation=None, clip_norm=None, progress=True):
    """Train ``model`` on ``(X, y)`` and return a :class:`History`.

    Each step: ``out = model.forward(xb)``; ``loss.forward(out, yb)``; ``model.backward(loss.backward())``;
    optionally clip the gradient norm to ``clip_norm``; ``optimizer.step()``.

    ``batch_size=None`` uses the whole set (full-batch gradient descent). Batches are reshuffled each
    epoch with ``rng`` (a seed makes it reproducible). ``validation=(X_val, y_val)`` adds
    ``val_loss``/``val_accuracy``. ``progress`` shows a progress bar (a widget in Jupyter, text
    elsewhere); ``progress=False`` is silent. If the loss becomes NaN/inf, training stops with a
    :class:`TrainingDivergedWarning` and ``history.diverged = True`` instead of running on.
    """
    X, y = np.asarray(X), np.asarray(y)
    if len(X) != len(y):
        raise ValueError(f"fit: X has {len(X)} rows but y has {len(y)}; they must match")
    if not (isinstance(epochs, (int, np.integer)) and epochs >= 1):
        raise ValueError(f"fit: epochs must be a positive integer, got {epochs!r}")
    n = len(X)
    batch_size = n if batch_size is None else int(batch_size)
    if batch_size < 1:
        raise ValueError(f"fit: batch_size must be at least 1, got {batch_size}")
    rng = np.random.default_rng(rng)
    history = History()
    bar = _progress(epochs, progress)
    step = 0
    try:
        for epoch in range(1, epochs + 1):
            order = rng.permutation(n) if shuffle else np.arange(n)
            total_loss = total_correct = 0.0
            for start in range(0, n, batch_size):
                idx = order[start:start + batch_size]
                xb, yb = X[idx], y[idx]
                step += 1
                try:
                    with np.errstate(over="ignore", invalid="ignore"):  # divergence is reported below
                        out = model.forward(xb)
                        batch_loss = loss.forward(out, yb)
                except FloatingPointError as error:  # a layer saw inf/NaN activations
                    batch_loss, cause = math.nan, str(error).split(".")[0]
                else:
                    cause = ""
                if not math.isfinite(batch_loss):
                    history.diverged = True
                    history.message = _divergence_message(epoch, step, batch_loss, optimizer, cause)
                    warnings.warn(history.message, TrainingDivergedWarning, stacklevel=2)
                    return history
                backward_parameters(model, loss.backward())
                if clip_norm is not None:
                    clip_grad_norm(model, clip_norm)
                optimizer.step()
                history.step_loss.append(batch_loss)
                total_loss += batch_loss * len(idx)
                correct = _correct(out, yb)
                total_correct = None if correct is None or total_correct is None else total_correct + correct
            history.loss.append(total_loss / n)
            history.accuracy.append(None if total_correct is None else total_correct / n)
            postfix = {"loss": f"{history.loss[-1]:.4f}"}
            if total_correct is not None:
                postfix["acc"] = f"{history.accuracy[-1]:.3f}"
            if validation is not None:
                X_val, y_val = validation
                out_val = model.forward(np.asarray(X_val))
                history.val_loss.append(loss.forward(out_val, np.asarray(y_val)))
                correct = _correct(out_val, np.asarray(y_val))
                history.val_accuracy.append(None if correct is None else correct / len(X_val))
                postfix["val_loss"] = f"{history.val_loss[-1]:.4f}"
            if bar is not None:
                bar.set_postfix(postfix, refresh=False)
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    return history


def _progress(epochs, progress):
    if not progress:
        return None
    from tqdm.auto import tqdm  # a notebook widget in Jupyter, a text bar in a terminal

    return tqdm(total=epochs, desc="training", unit="epoch")


def _divergence_message(epoch, step, value, optimizer, cause):
    rate = getattr(optimizer, "learning_rate", None)
    rate = f" (now {rate:g})" if rate is not None else ""
    cause = f" ({cause})" if cause else ""
    return (f"Training stopped at epoch {epoch}, step {step}: the loss became {value}{cause}. "
            "The updates grew until the numbers overflowed (exploding gradients / divergence). "
            f"Try a smaller learning_rate{rate}, clip_norm=1.0, or a smaller initialisation.")


def predict(model, X):
    """Class predictions: argmax of the outputs (N, C), or ``output > 0`` for one logit per row."""
    out = model.forward(np.asarray(X))
    if out.ndim == 2 and out.shape[1] > 1:
        return out.argmax(axis=1)
    return (out.reshape(len(out)) > 0).astype(int)


def accuracy(model, X, y):
    """Fraction of rows of ``X`` whose predicted class equals ``y``."""
    y = np.asarray(y).reshape(-1)
    return float(np.mean(predict(model, X) == y))


def _correct(out, y):
    """Number of correct class predictions in a batch, or None for regression targets."""
    y = np.asarray(y)
    if y.dtype.kind not in "iu" and not (y.dtype.kind == "f" and np.all((y == 0) | (y == 1))):
        return None
    if out.ndim == 2 and out.shape[1] > 1:
        return int(np.sum(out.argmax(axis=1) == y.reshape(-1)))
    return int(np.sum((out.reshape(-1) > 0) == (y.reshape(-1) > 0.5)))
