"""Weight initialisers. Each takes ``shape = (fan_in, fan_out)``, a ``rng`` and a ``dtype``.

Why the scale matters: with ``n = fan_in`` inputs of variance 1, ``x @ W`` has variance
``n * Var(W)``. Keeping that at 1 layer after layer keeps activations and gradients from shrinking
or growing exponentially with depth:

* Xavier / Glorot (tanh, sigmoid):  Var(W) = 2 / (fan_in + fan_out)
* He / Kaiming (ReLU, which zeroes half its inputs):  Var(W) = 2 / fan_in

``rng`` may be a seed (int), ``None`` (fresh randomness) or a ``numpy.random.Generator``.
"""

import numpy as np

__all__ = ["zeros", "normal", "xavier_uniform", "xavier_normal", "he_normal", "he_uniform", "get"]


def zeros(shape, rng=None, dtype=np.float64):
    """All zeros. Fine for biases; for weights every unit of a layer then learns the same thing."""
    return np.zeros(shape, dtype=dtype)


def normal(shape, rng=None, dtype=np.float64, std=0.01):
    """Normal with mean 0 and a fixed standard deviation ``std`` (0.01: "small"; 1.0: "large")."""
    return (np.random.default_rng(rng).standard_normal(shape) * std).astype(dtype, copy=False)


def xavier_uniform(shape, rng=None, dtype=np.float64):
    """Uniform on [-a, a] with a = sqrt(6 / (fan_in + fan_out)), so Var(W) = 2 / (fan_in + fan_out)."""
    fan_in, fan_out = _fans(shape)
    limit = np.sqrt(6.0 / (fan_in + fan_out))
    return np.random.default_rng(rng).uniform(-limit, limit, shape).astype(dtype, copy=False)


def xavier_normal(shape, rng=None, dtype=np.float64):
    """Normal with std = sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = _fans(shape)
    return normal(shape, rng, dtype, std=np.sqrt(2.0 / (fan_in + fan_out)))


def he_normal(shape, rng=None, dtype=np.float64):
    """Normal with std = sqrt(2 / fan_in) (He et al. 2015, for ReLU)."""
    fan_in, _ = _fans(shape)
    return normal(shape, rng, dtype, std=np.sqrt(2.0 / fan_in))


def he_uniform(shape, rng=None, dtype=np.float64):
    """Uniform on [-a, a] with a = sqrt(6 / fan_in), so Var(W) = 2 / fan_in."""
    fan_in, _ = _fans(shape)
    limit = np.sqrt(6.0 / fan_in)
    return np.random.default_rng(rng).uniform(-limit, limit, shape).astype(dtype, copy=False)


_BY_NAME = {
    "zeros": zeros, "normal": normal,
    "small": lambda shape, rng=None, dtype=np.float64: normal(shape, rng, dtype, std=0.01),
    "large": lambda shape, rng=None, dtype=np.float64: normal(shape, rng, dtype, std=1.0),
    "xavier": xavier_uniform, "xavier_uniform": xavier_uniform, "xavier_normal": xavier_normal,
    "glorot": xavier_uniform, "he": he_normal, "he_normal": he_normal, "he_uniform": he_uniform,
    "kaiming": he_normal,
}


def get(init):
    """The initialiser called ``init`` (a name above), or ``init`` itself if it is a function."""
    if callable(init):
        return init
    try:
        return _BY_NAME[init]
    except (KeyError, TypeError):
        raise ValueError(f"unknown initialiser {init!r}; choose one of {sorted(_BY_NAME)} "
                         "or pass a function init(shape, rng, dtype)") from None


def _fans(shape):
    if len(shape) != 2:
        raise ValueError(f"expected a weight shape (fan_in, fan_out), got {shape}")
    return shape
