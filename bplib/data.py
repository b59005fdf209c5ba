"""Datasets as NumPy arrays: seeded synthetic 2-D problems, a 1-D regression, and real digits.

Every generator takes ``rng`` (a seed, ``None`` or a ``numpy.random.Generator``) and returns
``X`` of shape ``(N, D)`` (float64) and ``y``: integer class labels ``(N,)`` for classification,
``(N, 1)`` floats for regression. Same seed, same data.
"""

import gzip
from importlib import resources

import numpy as np

__all__ = ["spiral", "moons", "circles", "xor", "regression_1d", "load_digits", "train_test_split",
           "one_hot"]


def spiral(n_per_class=100, n_classes=3, noise=0.2, rng=None):
    """``n_classes`` interleaved spiral arms (cs231n's classic): not linearly separable."""
    rng = np.random.default_rng(rng)
    X, y = [], []
    for k in range(n_classes):
        r = np.linspace(0.1, 1.0, n_per_class)  # from 0.1: at r = 0 every arm meets the others
        theta = np.linspace(k * 4.0, (k + 1) * 4.0, n_per_class) + rng.normal(0, noise, n_per_class)
        X.append(np.column_stack([r * np.sin(theta), r * np.cos(theta)]))
        y.append(np.full(n_per_class, k))
    return np.concatenate(X), np.concatenate(y)


def moons(n=200, noise=0.1, rng=None):
    """Two interleaving half circles, labels 0 and 1."""
    rng = np.random.default_rng(rng)
    n_top = n // 2
    t_top, t_bottom = np.linspace(0, np.pi, n_top), np.linspace(0, np.pi, n - n_top)
    X = np.concatenate([np.column_stack([np.cos(t_top), np.sin(t_top)]),
                        np.column_stack([1 - np.cos(t_bottom), 0.5 - np.sin(t_bottom)])])
    y = np.concatenate([np.zeros(n_top, int), np.ones(n - n_top, int)])
    return X + rng.normal(0, noise, X.shape), y


def circles(n=200, noise=0.05, factor=0.5, rng=None):
    """A small circle (label 1) inside a large one (label 0); ``factor`` is the ratio of radii."""
    rng = np.random.default_rng(rng)
    n_outer = n // 2
    t_outer = np.linspace(0, 2 * np.pi, n_outer, endpoint=False)
    t_inner = np.linspace(0, 2 * np.pi, n - n_outer, endpoint=False)
    X = np.concatenate([np.column_stack([np.cos(t_outer), np.sin(t_outer)]),
                        factor * np.column_stack([np.cos(t_inner), np.sin(t_inner)])])
    y = np.concatenate([np.zeros(n_outer, int), np.ones(n - n_outer, int)])
    return X + rng.normal(0, noise, X.shape), y


def xor(n=200, noise=0.1, rng=None):
    """Points near the four corners (+-1, +-1); label 1 where the signs of x1 and x2 differ."""
    rng = np.random.default_rng(rng)
    corners = rng.choice([-1.0, 1.0], size=(n, 2))
    y = (corners[:, 0] != corners[:, 1]).astype(int)
    return corners + rng.normal(0, noise, corners.shape), y


def regression_1d(n=100, noise=0.1, rng=None):
    """y = sin(3x) + noise for x uniform in [-1, 1]. Shapes: X (n, 1), y (n, 1)."""
    rng = np.random.default_rng(rng)
    X = np.sort(rng.uniform(-1.0, 1.0, (n, 1)), axis=0)
    return X, np.sin(3.0 * X) + rng.normal(0, noise, X.shape)


def load_digits():
    """The 1,797 real 8x8 handwritten digits bundled with bplib (no download).

    Returns X (1797, 64) float64 pixel intensities in [0, 16] (each row is an image, row-major:
    ``X[i].reshape(8, 8)``) and y (1797,) integer labels 0..9. Source: bplib/datasets/README.md.
    """
    with resources.files("bplib.datasets").joinpath("digits.csv.gz").open("rb") as raw:
        table = np.loadtxt(gzip.open(raw), delimiter=",")
    return table[:, :-1], table[:, -1].astype(int)


def train_test_split(X, y, test_fraction=0.25, rng=None, stratify=True):
    """Shuffle and split into ``X_train, X_test, y_train, y_test``.

    With ``stratify`` (for integer labels) each class keeps its proportion in both parts.
    """
    X, y = np.asarray(X), np.asarray(y)
    if len(X) != len(y):
        raise ValueError(f"train_test_split: X has {len(X)} rows but y has {len(y)}")
    if not 0 < test_fraction < 1:
        raise ValueError(f"train_test_split: test_fraction must be in (0, 1), got {test_fraction}")
    rng = np.random.default_rng(rng)
    if stratify and y.ndim == 1 and y.dtype.kind in "iu":
        test = []
        for label in np.unique(y):
            members = rng.permutation(np.flatnonzero(y == label))
            test.append(members[:int(round(test_fraction * len(members)))])
        test = np.concatenate(test)
    else:
        test = rng.permutation(len(X))[:int(round(test_fraction * len(X)))]
    is_test = np.zeros(len(X), bool)
    is_test[test] = True
    train = rng.permutation(np.flatnonzero(~is_test))
    test = rng.permutation(test)
    return X[train], X[test], y[train], y[test]


def one_hot(labels, n_classes=None):
    """Integer labels (N,) -> one-hot rows (N, C)."""
    labels = np.asarray(labels)
    n_classes = int(labels.max()) + 1 if n_classes is None else n_classes
    out = np.zeros((labels.size, n_classes))
    out[np.arange(labels.size), labels] = 1.0
    return out
