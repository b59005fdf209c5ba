"""The training loop: forward, loss, backward, update, over mini-batches, epoch after epoch."""

import math
import warnings
from dataclasses import dataclass, field

import numpy as np

from bplib.network import backward_parameters
from bplib.optim import clip_grad_norm

__all__ = ["fit", "History", "TrainingDivergedWarning", "predict", "accuracy", "DIVERGENCE_FACTOR"]

# fit stops when a batch's loss exceeds DIVERGENCE_FACTOR x its reference: the larger of the first
# batch's loss and the loss of predicting all zeros on that batch (log C for cross-entropy over C
# classes, mean(y**2) for MSE). The second keeps a model that already fits (a tiny first loss)
# from being stopped for an ordinary wobble.
DIVERGENCE_FACTOR = 1e3


class TrainingDivergedWarning(RuntimeWarning):
    """The loss grew by orders of magnitude or became NaN/inf, so training stopped."""


@dataclass
class History:
    """What happened during :func:`fit`, one entry per epoch (``step_loss``: one per update).

    ``accuracy`` is the running accuracy over each epoch's batches, measured before each update
    (``None`` entries for regression). ``diverged`` is True if training stopped because the loss
    grew above ``DIVERGENCE_FACTOR`` x its reference or became NaN/inf; ``message`` says why and
    what to try.
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
    elsewhere); ``progress=False`` is silent. A model with ``train()``/``eval()`` (Sequential) is
    put in training mode for the updates and in evaluation mode for the validation pass (dropout
    off, batch normalisation's running averages used and left unchanged), and is left in
    evaluation mode at the end, ready for :func:`predict`.

    Diagnoses, instead of running on with meaningless numbers:

    * NaN or inf in ``X``, ``y`` or the validation data: a ValueError naming the rows of the
      arrays you passed, before any update.
    * Divergence: if a batch's loss exceeds ``DIVERGENCE_FACTOR`` (1000) x the larger of the first
      batch's loss and the loss of predicting all zeros (log C for cross-entropy over C classes),
      or becomes NaN/inf, training stops with a :class:`TrainingDivergedWarning` saying what to
      try, and ``history.diverged = True``. The model keeps the weights of that step.
    """
    X, y = np.asarray(X), np.asarray(y)
    if len(X) != len(y):
        raise ValueError(f"fit: X has {len(X)} rows but y has {len(y)}; they must match")
    if not (isinstance(epochs, (int, np.integer)) and epochs >= 1):
        raise ValueError(f"fit: epochs must be a positive integer, got {epochs!r}")
    _check_finite_data([("X", X), ("y", y)] + ([] if validation is None else [
        ("validation X", np.asarray(validation[0])), ("validation y", np.asarray(validation[1]))]))
    n = len(X)
    batch_size = n if batch_size is None else int(batch_size)
    if batch_size < 1:
        raise ValueError(f"fit: batch_size must be at least 1, got {batch_size}")
    rng = np.random.default_rng(rng)
    history = History()
    bar = _progress(epochs, progress)
    step, bound = 0, None
    try:
        for epoch in range(1, epochs + 1):
            _set_mode(model, training=True)
            order = rng.permutation(n) if shuffle else np.arange(n)
            total_loss = total_correct = 0.0
            for start in range(0, n, batch_size):
                idx = order[start:start + batch_size]
                xb, yb = X[idx], y[idx]
                step += 1
                try:
                    with np.errstate(over="ignore", invalid="ignore"):  # divergence is reported below
                        out = model.forward(xb)
                        if bound is None:  # the first batch sets the reference
                            bound = DIVERGENCE_FACTOR * _reference_loss(loss, out, yb)
                        batch_loss = loss.forward(out, yb)  # last, so backward() uses this batch
                except FloatingPointError as error:  # a layer saw inf/NaN activations
                    batch_loss, cause = math.nan, str(error).split(": input contains")[0]
                else:
                    cause = ""
                if not math.isfinite(batch_loss) or batch_loss > bound:
                    history.diverged = True
                    history.message = _divergence_message(epoch, step, batch_loss, bound, optimizer, cause)
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
                _set_mode(model, training=False)
                out_val = model.forward(np.asarray(X_val))
                history.val_loss.append(loss.forward(out_val, np.asarray(y_val)))
                correct = _correct(out_val, np.asarray(y_val))
                history.val_accuracy.append(None if correct is None else correct / len(X_val))
                postfix["val_loss"] = f"{history.val_loss[-1]:.4f}"
            if bar is not None:
                bar.set_postfix(postfix, refresh=False)
                bar.update(1)
    finally:
        _set_mode(model, training=False)
        if bar is not None:
            bar.close()
    return history


def _set_mode(model, training):
    """``model.train()`` or ``model.eval()``, for models that have them (learners' own may not)."""
    method = getattr(model, "train" if training else "eval", None)
    if callable(method):
        method()


def _progress(epochs, progress):
    if not progress:
        return None
    from tqdm.auto import tqdm  # a notebook widget in Jupyter, a text bar in a terminal

    return tqdm(total=epochs, desc="training", unit="epoch")


def _check_finite_data(arrays):
    """Raise a ValueError naming the first NaN/inf entry, and every row holding one, of each
    ``(name, array)`` with floating-point values."""
    for name, array in arrays:
        if array.dtype.kind not in "fc" or np.isfinite(array.sum()):  # one pass, no temporary
            continue
        bad = ~np.isfinite(array)
        if not bad.any():  # the sum overflowed, but every entry is finite
            continue
        rows = np.flatnonzero(bad.reshape(len(array), -1).any(axis=1))
        where = tuple(int(i) for i in np.argwhere(bad)[0])
        listed = ", ".join(str(r) for r in rows[:10]) + (", ..." if len(rows) > 10 else "")
        some = f"{len(rows)} rows of {name} contain" if len(rows) > 1 else f"1 row of {name} contains"
        raise ValueError(
            f"fit: {name}[{', '.join(map(str, where))}] = {array[where]}: {some} NaN or inf "
            f"(row{'s' if len(rows) > 1 else ''} {listed}; rows of the array you passed). Nothing was "
            "trained: drop those rows (from the inputs and the targets alike) or fill in the missing "
            "values, then call fit again.")


def _reference_loss(loss, out, yb):
    """The larger of the loss of ``out`` and the loss of predicting all zeros (inf if neither is a
    finite number, e.g. a loss that refuses zeros)."""
    values = []
    for prediction in (out, np.zeros_like(out)):
        try:
            values.append(float(loss.forward(prediction, yb)))
        except (ArithmeticError, ValueError, TypeError):
            continue
    finite = [v for v in values if math.isfinite(v)]
    return max(finite) if finite else math.inf


def _divergence_message(epoch, step, value, bound, optimizer, cause):
    cause = f" ({cause} received NaN or inf)" if cause else ""
    if step == 1:  # no update has happened: neither the learning rate nor the updates are to blame
        return (f"Training stopped at the first step, before any update: the loss is {value}{cause}. "
                "The forward pass (model and loss) gives NaN/inf on finite data: check the initial "
                "weights (no inf, NaN or huge values) and the forward code of the layers and the loss.")
    rate = getattr(optimizer, "learning_rate", None)
    smaller = f" (now {rate:g}; try {rate / 10:g})" if rate is not None else ""
    grew = (f"became {value}{cause}" if not math.isfinite(value) else
            f"reached {value:.3g}, more than {DIVERGENCE_FACTOR:g} times its starting level "
            f"({bound / DIVERGENCE_FACTOR:.3g})")
    return (f"Training stopped at epoch {epoch}, step {step}: the loss {grew}. Each update overshot "
            "further instead of going downhill (divergence, or exploding gradients). Try a smaller "
            f"learning_rate{smaller}, clip_norm=1.0, or a smaller initialisation.")


def predict(model, X):
    """Class predictions: argmax of the outputs (N, C), or ``output > 0`` for one logit per row.
    A model with a training mode is evaluated in evaluation mode, then put back as it was."""
    was_training = getattr(model, "training", None)
    _set_mode(model, training=False)
    try:
        out = model.forward(np.asarray(X))
    finally:
        if was_training:
            _set_mode(model, training=True)
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
