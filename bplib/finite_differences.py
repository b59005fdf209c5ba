"""Finite differences, and why they can disagree with a correct backprop.

:func:`numerical_gradient` is the central difference (f(x + h) - f(x - h)) / 2h, one entry of x at
a time. :class:`Differences` keeps what a gradient check needs to tell a bug from the two things
that make a finite difference disagree with a *correct* backprop:

* a **kink** within h, a point where f's slope jumps (ReLU at 0; in float32, h = 1e-2, so many
  inputs lie that close): the central difference averages the slopes on both sides while backprop
  takes one. A failing entry counts as a kink when, measured closer to x (steps h/2, h/4, ..., or
  on one side of x only), f's slope agrees with backprop, or is still changing when round-off
  takes over; a smooth f is recognised by how its estimates change as the step is halved
  (:meth:`Differences._kink`).
* **round-off**: a computed difference f(x+h) - f(x) is off by up to ROUNDOFF * eps * |f|, so the
  central difference is uncertain by ROUNDOFF * eps * |f| / h, in float32 about 1e-4 |f|: smaller
  disagreements cannot be measured. (Measured in float32 against float64 over 1500 random steps:
  a median of 0.4 and at most 2.3 eps|f| for small networks' losses, 1.5 eps times the size of the
  terms for sums over a layer's output; ROUNDOFF = 8 leaves room for a loss computed from logits
  larger than itself.)
"""

import numpy as np

__all__ = ["numerical_gradient", "Differences", "along_entries", "ROUNDOFF"]

ROUNDOFF = 8  # f(x + d) - f(x), computed, is off by at most about ROUNDOFF * eps * |f|


def numerical_gradient(f, x, h=1e-5, dout=None):
    """Central-difference gradient of ``f`` with respect to the array ``x``. Shape: that of ``x``.

    ``f`` takes no arguments and reads ``x`` (which is changed in place, one entry at a time, and
    every entry is restored afterwards, even if ``f`` raises). If ``f`` returns an array, this is the
    gradient of ``sum(f() * dout)``; ``dout`` defaults to ones. Each entry costs two calls of ``f``.
    """
    if not isinstance(x, np.ndarray) or x.dtype.kind != "f":
        raise TypeError("numerical_gradient: x must be a float NumPy array that f reads in place")
    return along_entries(f, x, h, dout).central.reshape(x.shape).astype(x.dtype, copy=False)


class Differences:
    """Central differences (f(+h) - f(-h)) / (2h) along ``count`` directions, keeping the values
    and the steps actually taken (float32 rounds x + h), for a later diagnosis.

    ``evaluate(k, offset) -> (f, offset actually applied)`` moves along direction k by ``offset``
    and restores afterwards; ``base() -> (f, size)`` is f at the unmoved point and the size its
    round-off scales with. ``noise``: how far a computed difference f(x + d) - f(x) can be off
    (ROUNDOFF * eps * size), set when first needed."""

    def __init__(self, evaluate, count, h, dtype, base):
        self.evaluate, self.h, self._base, self._eps = evaluate, h, base, float(np.finfo(dtype).eps)
        self.plus, self.minus = np.empty(count), np.empty(count)
        self.up, self.down = np.empty(count), np.empty(count)
        for k in range(count):
            self.plus[k], self.up[k] = evaluate(k, h)
            self.minus[k], self.down[k] = evaluate(k, -h)
        # Divide by the step actually stored (float32 rounds old + h), not by the requested 2h.
        self.central = (self.plus - self.minus) / (self.up - self.down)
        self.f0 = self.noise = None

    def diagnose(self, k, analytic, threshold):
        """Why entry k's central difference disagrees with ``analytic`` by more than the relative
        ``threshold``: "round-off", "kink" or "wrong" (neither explains it)."""
        if self.f0 is None:
            self.f0, magnitude = self._base()
            self.noise = ROUNDOFF * self._eps * magnitude
        if abs(analytic - self.central[k]) <= self.resolution(k):
            return "round-off"
        return "kink" if self._kink(k, analytic, threshold) else "wrong"

    def resolution(self, k):
        """The round-off uncertainty of entry k's central difference: two differences from f(x),
        each uncertain by ``noise``, over the width 2h."""
        return 2 * self.noise / (self.up[k] - self.down[k]) if self.noise is not None else 0.0

    def _kink(self, k, analytic, threshold):
        """True if the step h is too coarse at entry k because f has a kink (or several) close to
        x, and backprop agrees with f's slope measured closer to x.

        With d = h/2, h/4, ... (d = h/2 always; smaller while round-off stays below a quarter of
        the disagreement), backprop is compared, within the tolerance, with:

        * the central difference with step d: it agrees once no kink lies within d of x;
        * a one-sided slope, (f(x+d) - f(x)) / d or (f(x) - f(x-d)) / d, that has stopped changing
          (it moved by less than a quarter of its distance from the central difference when d was
          halved): that side of x is free of kinks, as when x sits on a kink itself. For a smooth f
          it moves by half that distance, so a curved f is not taken for a kink.

        A smooth f shows itself as d is halved: the difference between the two one-sided slopes
        (d * f'') halves, and the central difference stays put (or its changes shrink, by 4x for a
        smooth f). Then backprop disagrees with f (False, usually after two more evaluations of f).
        Still changing when round-off takes over: a kink too close to x to measure (True)."""
        tolerance = threshold * (abs(analytic) + abs(self.central[k]))
        gap = abs(analytic - self.central[k])
        typical = self.noise / ROUNDOFF  # eps * |f|: most differences are off by less than this
        previous = (self.central[k], (self.plus[k] - self.f0) / self.up[k],
                    (self.f0 - self.minus[k]) / -self.down[k])
        step, last_change = self.h / 2, None
        while step == self.h / 2 or (step >= self.h / 256 and typical / step <= gap / 4):
            plus, up = self.evaluate(k, step)
            minus, down = self.evaluate(k, -step)
            estimates = ((plus - minus) / (up - down), (plus - self.f0) / up, (self.f0 - minus) / -down)
            if abs(estimates[0] - analytic) <= tolerance:
                return True  # no kink within this step of x any more
            for new, old in zip(estimates[1:], previous[1:]):
                if abs(new - analytic) <= tolerance and abs(new - old) <= 0.25 * abs(old - previous[0]):
                    return True  # a side of x free of kinks, and backprop has its slope
            noise = typical / step
            change = abs(estimates[0] - previous[0])
            asymmetry, before = estimates[1] - estimates[2], previous[1] - previous[2]
            halved = abs(asymmetry - before / 2) <= tolerance / 2 + 2 * noise  # d * f'' halves
            if halved and (change <= tolerance / 16 + noise
                           or (last_change is not None and change <= last_change / 2 + noise)):
                return False  # f is smooth here, and backprop disagrees with its slope
            last_change, previous = change, estimates
            step /= 2
        return True  # round-off takes over while the slopes still change: a kink too close to x


def along_entries(f, x, h, dout=None, indices=None):
    """:class:`Differences` of ``f`` along the entries ``indices`` of ``x`` (default: all, in
    C order)."""
    indices = list(np.ndindex(x.shape)) if indices is None else indices

    def evaluate(k, offset):
        index = indices[k]
        old = x[index]
        try:
            x[index] = old + offset
            moved = float(x[index]) - float(old)
            return _scalar(f(), dout), moved
        finally:
            x[index] = old

    def base():
        value = f()
        return _scalar(value, dout), _magnitude(value, dout)
    return Differences(evaluate, len(indices), h, x.dtype, base)


def _scalar(value, dout):
    if np.ndim(value) == 0:
        return float(value)
    return float(np.sum(value * (1.0 if dout is None else dout)))


def _magnitude(value, dout):
    """What the round-off of ``_scalar(value, dout)`` scales with: |f| for a scalar; for a sum of
    terms t, |sum t| + sqrt(sum t**2) (pairwise summation's error grows like the root of the sum
    of squares, not like sum |t|)."""
    if np.ndim(value) == 0:
        return abs(float(value))
    terms = np.asarray(value * (1.0 if dout is None else dout), dtype=np.float64)
    return abs(float(terms.sum())) + float(np.sqrt(np.vdot(terms, terms)))
