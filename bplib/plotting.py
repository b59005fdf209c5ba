"""Pictures for the lessons. matplotlib is imported only when a function here is called.

Every function draws on ``ax`` (a new figure's axes if ``None``) and returns that ``ax``.
"""

import numpy as np

__all__ = ["plot_loss", "plot_decision_boundary", "plot_gradient_norms",
           "plot_finite_difference_error", "finite_difference_errors"]


def _axes(ax, figsize=(6, 4)):
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=figsize)[1]


def plot_loss(history, ax=None, log=False):
    """Loss per epoch (and validation loss if present) from a History or a list of numbers."""
    ax = _axes(ax)
    losses = getattr(history, "loss", history)
    epochs = np.arange(1, len(losses) + 1)
    ax.plot(epochs, losses, label="training loss")
    val = getattr(history, "val_loss", None)
    if val:
        ax.plot(epochs[:len(val)], val, label="validation loss")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    if log:
        ax.set_yscale("log")
    ax.legend()
    return ax


def plot_decision_boundary(model, X, y, ax=None, resolution=200, margin=0.3):
    """Colour the 2-D plane by the class ``model`` predicts and scatter the points ``X`` over it."""
    from bplib.train import predict

    ax = _axes(ax, (5, 5))
    X = np.asarray(X)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"plot_decision_boundary: needs 2-D points, X of shape (N, 2); got {X.shape}")
    (x0, y0), (x1, y1) = X.min(axis=0) - margin, X.max(axis=0) + margin
    gx, gy = np.meshgrid(np.linspace(x0, x1, resolution), np.linspace(y0, y1, resolution))
    grid = np.column_stack([gx.ravel(), gy.ravel()]).astype(_dtype_of(model))
    classes = predict(model, grid).reshape(gx.shape)
    ax.contourf(gx, gy, classes, alpha=0.3, cmap="coolwarm")
    ax.scatter(X[:, 0], X[:, 1], c=y, cmap="coolwarm", edgecolors="k", s=20)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    return ax


def _dtype_of(model):
    for _, param, _ in getattr(model, "parameters", lambda: [])():
        return param.dtype
    return np.float64


def plot_gradient_norms(norms, ax=None, labels=None, title="gradient norm per layer"):
    """Gradient norms per layer on a log axis. ``norms``: a list of numbers or a dict name -> list.

    A straight downward slope towards the input means vanishing gradients; upward, exploding.
    """
    ax = _axes(ax)
    series = norms if isinstance(norms, dict) else {"": norms}
    for name, values in series.items():
        values = np.asarray(values, dtype=float)
        ax.plot(np.arange(1, len(values) + 1), values, marker="o", label=name or None)
    ax.set_yscale("log")
    ax.set_xlabel("layer (1 = nearest the input)")
    ax.set_ylabel("gradient norm")
    ax.set_title(title)
    if isinstance(norms, dict):
        ax.legend()
    return ax


def finite_difference_errors(f, df, x, steps=None):
    """|finite difference - df(x)| for forward and central differences at each step h.

    ``f`` and ``df`` are scalar functions (the function and its exact derivative). Returns
    ``steps, forward_errors, central_errors`` as arrays.
    """
    steps = np.logspace(-15, -1, 57) if steps is None else np.asarray(steps, dtype=float)
    exact = df(x)
    forward = np.array([abs((f(x + h) - f(x)) / h - exact) for h in steps])
    central = np.array([abs((f(x + h) - f(x - h)) / (2 * h) - exact) for h in steps])
    return steps, forward, central


def plot_finite_difference_error(f, df, x, steps=None, ax=None):
    """The error of forward and central differences against h on log-log axes.

    Right of the minimum the truncation error dominates (slope 1 forward, slope 2 central); left of
    it round-off dominates and grows like 1/h.
    """
    steps, forward, central = finite_difference_errors(f, df, x, steps)
    ax = _axes(ax)
    ax.loglog(steps, np.maximum(forward, 1e-20), marker=".", label="forward (f(x+h)-f(x))/h")
    ax.loglog(steps, np.maximum(central, 1e-20), marker=".", label="central (f(x+h)-f(x-h))/2h")
    ax.set_xlabel("step h")
    ax.set_ylabel("absolute error")
    ax.set_title("finite-difference error vs step size")
    ax.legend()
    return ax
