"""An independent, more accurate numerical derivative for testing bplib's analytic gradients.

bplib's own ``numerical_gradient`` (central differences, error O(h^2)) is what learners build and
use; testing the library against itself could hide a shared mistake, and its round-off (~1e-11)
is too large to show agreement to 1e-7 on small gradient entries. The five-point stencil

    f'(x) ~ [8 (f(x+h) - f(x-h)) - (f(x+2h) - f(x-2h))] / 12h,   error O(h^4),

allows h = 1e-3 (round-off ~1e-13) with negligible truncation error for smooth functions.
"""

import numpy as np


def five_point_gradient(f, x, h=1e-3, dout=None):
    """Gradient of ``f()`` (or of ``sum(f() * dout)``) with respect to ``x``, perturbed in place."""
    grad = np.zeros(x.shape)
    for index in np.ndindex(x.shape):
        old = x[index]
        values = []
        for step in (h, -h, 2 * h, -2 * h):
            x[index] = old + step
            out = f()
            values.append(float(np.sum(out * (1.0 if dout is None else dout))))
        x[index] = old
        grad[index] = (8 * (values[0] - values[1]) - (values[2] - values[3])) / (12 * h)
    return grad


def signed_uniform(rng, shape, low, high):
    """Values with |v| in [low, high] and random signs: away from 0 (ReLU's kink, tiny gradients)."""
    return rng.uniform(low, high, shape) * rng.choice([-1.0, 1.0], shape)


def well_conditioned(analytic, numeric):
    """Every entry is at least 1e-4 in size, or exactly 0 on both sides (an input that does not
    reach the output, a dead ReLU). Smaller entries cannot be measured to 1e-7 relative error in
    float64 (round-off alone is ~1e-13 / 1e-4), so draws that have them are skipped."""
    magnitude = np.abs(analytic)
    return bool(np.all((magnitude >= 1e-4) | ((magnitude == 0) & (numeric == 0))))
