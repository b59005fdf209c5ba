"""Gradient checking: compare backprop's gradients with finite differences.

* :func:`numerical_gradient`: central differences, (f(x + h) - f(x - h)) / 2h, one entry at a time.
* :func:`relative_error`: ``max_i |a_i - b_i| / max(1e-8, |a_i| + |b_i|)``, the largest elementwise
  relative error (cs231n's formula). Below ~1e-7 in float64: correct; above ~1e-2: a bug.
* :func:`check_layer`, :func:`check_loss`, :func:`check_network`: full checks of every entry;
  :func:`sparse_check` (k random entries) and :func:`directional_check` (one random direction, two
  forward passes) for networks too large for a full check. All return a :class:`GradCheckReport`.

Kinks and round-off, which make finite differences disagree with a correct backprop, are
recognised by :mod:`bplib.finite_differences`; the reports count those entries and say why.
"""

import warnings
from dataclasses import dataclass, field

import numpy as np

from bplib.finite_differences import Differences, along_entries, numerical_gradient
from bplib.network import backward_parameters

__all__ = ["numerical_gradient", "relative_error", "relative_errors", "GradCheckReport",
           "ParameterCheck", "check_layer", "check_loss", "check_network", "sparse_check",
           "directional_check", "default_step", "default_threshold"]

_STEP = {np.dtype(np.float64): 1e-5, np.dtype(np.float32): 1e-2}
# float64: 1e-5. With 1e-6, about 1 in 10 correct small networks "failed" on round-off at tiny
# gradient entries or a ReLU kink (measured on 2-16-16-3 nets); real bugs give 1e-2 or more.
_THRESHOLD = {np.dtype(np.float64): 1e-5, np.dtype(np.float32): 2e-2}
MAX_FULL_CHECK_PARAMS = 10_000
# Per checked array, failing entries are examined for kinks and round-off (2-4 more evaluations of
# f each), worst first, until this many are confirmed wrong: then it has a bug, and the rest count.
CONFIRMED_WRONG = 10


def default_step(dtype):
    """Finite-difference step h: 1e-5 in float64, 1e-2 in float32 (round-off grows as h shrinks)."""
    return _STEP.get(np.dtype(dtype), 1e-5)


def default_threshold(dtype):
    """Largest relative error that passes: 1e-5 in float64, 2e-2 in float32."""
    return _THRESHOLD.get(np.dtype(dtype), 1e-6)


def relative_errors(a, b):
    """Elementwise |a - b| / max(1e-8, |a| + |b|) (the floor keeps 0-vs-0 from dividing by zero)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"relative_error: shapes differ, {a.shape} vs {b.shape}")
    return np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))


def relative_error(a, b):
    """The largest elementwise relative error ``max |a - b| / max(1e-8, |a| + |b|)``; 0 if empty."""
    errors = relative_errors(a, b)
    return float(errors.max()) if errors.size else 0.0


@dataclass
class ParameterCheck:
    """How one parameter (or input) fared: its largest relative error and where it occurred, over
    the ``entries`` compared. ``kinks`` entries lie within h of a kink and ``unresolved`` ones are
    below the finite difference's round-off (``resolution``): neither kind is compared."""
    name: str
    max_relative_error: float
    worst_index: tuple
    analytic: float
    numerical: float
    shape: tuple
    passed: bool
    problem: str = ""
    entries: int = 0
    kinks: int = 0
    unresolved: int = 0
    resolution: float = 0.0


@dataclass
class GradCheckReport:
    """The result of a gradient check, one :class:`ParameterCheck` per checked array."""
    what: str
    checks: list
    threshold: float
    dtype: str
    method: str = "full"
    notes: list = field(default_factory=list)
    h: float = None

    @property
    def passed(self):
        return all(c.passed for c in self.checks)

    @property
    def max_relative_error(self):
        return max((c.max_relative_error for c in self.checks), default=0.0)

    @property
    def kinks(self):
        """How many entries were not compared because a kink lies within h of them."""
        return sum(c.kinks for c in self.checks)

    @property
    def unresolved(self):
        """How many entries were not compared because they are below the round-off."""
        return sum(c.unresolved for c in self.checks)

    @property
    def failed(self):
        """Names of the parameters whose gradient disagrees with finite differences."""
        return [c.name for c in self.checks if not c.passed]

    def __getitem__(self, name):
        for check in self.checks:
            if check.name == name:
                return check
        raise KeyError(f"no check named {name!r}; have {[c.name for c in self.checks]}")

    def __repr__(self):
        verdict = "PASSED" if self.passed else f"FAILED ({', '.join(self.failed)})"
        lines = [f"Gradient check of {self.what} [{self.method}, {self.dtype}, threshold "
                 f"{self.threshold:.0e}]: {verdict}",
                 f"  {'name':<10} {'shape':<12} {'max rel err':>11}  {'worst at':<10} "
                 f"{'analytic':>12} {'numerical':>12}"]
        for c in self.checks:
            mark = "ok" if c.passed else "WRONG"
            skipped = c.kinks + c.unresolved
            lines.append(f"  {c.name:<10} {str(c.shape):<12} {c.max_relative_error:>11.2e}  "
                         f"{str(c.worst_index):<10} {c.analytic:>12.5g} {c.numerical:>12.5g}  {mark}"
                         + (f": {c.problem}" if c.problem else "")
                         + (f" ({skipped} of {c.entries} not compared)" if skipped else ""))
        lines += [f"  note: {note}" for note in self.notes + self._skipped_notes()]
        if not self.passed and self.max_relative_error < 1e-3:
            lines.append("  note: just above the threshold: round-off at a tiny gradient entry or a "
                         "ReLU kink within h of an input can do this; a real bug is usually 1e-2 or more")
        return "\n".join(lines)

    def _skipped_notes(self):
        """What the entries that were not compared are, in words."""
        entries = sum(c.entries for c in self.checks)
        if not self.kinks + self.unresolved:
            return []
        step = f"h = {self.h:g}" if self.h is not None else "h"
        where = ", ".join(f"{c.name}: {c.kinks + c.unresolved}" for c in self.checks
                          if c.kinks + c.unresolved)
        notes = [f"{self.kinks + self.unresolved} of {entries} entries were not compared ({where})."]
        if self.kinks:
            notes.append(
                f"{self.kinks} lie within {step} of a kink, a point where the slope jumps (like ReLU "
                "at 0): there the finite difference (f(x+h) - f(x-h)) / 2h averages the slopes on both "
                "sides, while backprop rightly takes the slope on one side. Measured closer to the "
                "point (smaller steps, or one side only), the slope agreed with backprop, or the kink "
                f"was too close to tell in {self.dtype}. Not a bug.")
        if self.unresolved:
            resolution = max(c.resolution for c in self.checks)
            notes.append(
                f"{self.unresolved} disagree with the finite difference by less than its round-off "
                f"(up to {resolution:.1e} here: the rounding error of f divided by h), so in "
                f"{self.dtype} the disagreement cannot be measured.")
        if self.dtype != "float64":
            notes.append("A check in float64 (h = 1e-5) compares almost all of them.")
        return notes


def _compare(name, analytic, numerical, threshold, differences=None, entries=None):
    """A :class:`ParameterCheck` of ``analytic`` against ``numerical``. With ``differences`` (the
    :class:`~bplib.finite_differences.Differences` behind ``numerical``, entry k = flat entry k),
    failing entries that a kink or round-off explains are not counted. ``entries`` (for sparse
    checks): the index of each."""
    if np.shape(analytic) != np.shape(numerical):
        hint = " (transposed?)" if np.shape(analytic) == np.shape(numerical)[::-1] else ""
        return ParameterCheck(name, float("inf"), (), float("nan"), float("nan"),
                              tuple(np.shape(numerical)), False,
                              f"gradient has shape {np.shape(analytic)}, expected "
                              f"{np.shape(numerical)}{hint}", entries=int(np.size(numerical)))
    analytic, numerical = np.asarray(analytic), np.asarray(numerical)
    errors = relative_errors(analytic, numerical).ravel()
    counted = np.ones(errors.size, dtype=bool)
    skipped = {"kink": 0, "round-off": 0}
    resolution = 0.0
    if differences is not None:
        failing = np.flatnonzero(errors > threshold)
        wrong = 0
        for k in failing[np.argsort(-errors[failing], kind="stable")]:  # the worst first
            verdict = differences.diagnose(k, float(analytic.ravel()[k]), threshold)
            if verdict != "wrong":
                counted[k] = False
                skipped[verdict] += 1
            else:
                wrong += 1
                if wrong == CONFIRMED_WRONG:  # a bug for sure: the rest stay counted, unexamined
                    break
        resolution = max((differences.resolution(k) for k in range(errors.size)), default=0.0)
    check = ParameterCheck(name, 0.0, (), float("nan"), float("nan"), tuple(analytic.shape), True,
                           entries=int(errors.size), kinks=skipped["kink"],
                           unresolved=skipped["round-off"], resolution=resolution)
    if counted.any():
        k = int(np.argmax(np.where(counted, errors, -1.0)))
        check.max_relative_error = float(errors[k])
        check.analytic, check.numerical = float(analytic.ravel()[k]), float(numerical.ravel()[k])
        check.worst_index = (tuple(int(i) for i in np.unravel_index(k, analytic.shape)) if entries is None
                             else tuple(int(i) for i in entries[k]))
        check.passed = check.max_relative_error <= threshold
    return check


def _settings(dtype, h, threshold):
    dtype = np.dtype(dtype)
    if dtype == np.float32:
        warnings.warn("gradient check in float32: round-off limits the agreement to about 1e-3, "
                      "so small bugs can hide. Check in float64 when you can.", stacklevel=3)
    return (default_step(dtype) if h is None else h,
            default_threshold(dtype) if threshold is None else threshold)


def check_layer(layer, x, dout=None, h=None, threshold=None, rng=None):
    """Check ``layer.backward`` against finite differences, for the input ``x`` and every parameter.

    ``dout`` (the upstream gradient) defaults to a random array of the output's shape.
    """
    x = np.array(x, copy=True)
    h, threshold = _settings(x.dtype, h, threshold)
    out = layer.forward(x)
    if dout is None:
        dout = np.random.default_rng(rng).standard_normal(out.shape).astype(out.dtype)
    analytic = {"x": np.array(layer.backward(dout))}
    analytic.update({k: np.array(g) for k, g in layer.grads.items()})
    arrays = {"x": x, **layer.params}
    checks = []
    for key in analytic:
        differences = along_entries(lambda: layer.forward(x), arrays[key], h, dout)
        numeric = differences.central.reshape(arrays[key].shape)
        checks.append(_compare(key, analytic[key], numeric, threshold, differences))
    return GradCheckReport(repr(layer), checks, threshold, str(x.dtype), h=h)


def check_loss(loss, prediction, target, h=None, threshold=None):
    """Check ``loss.backward()`` (dLoss/dprediction) against finite differences."""
    prediction = np.array(prediction, copy=True)
    h, threshold = _settings(prediction.dtype, h, threshold)
    loss.forward(prediction, target)
    analytic = np.array(loss.backward())
    differences = along_entries(lambda: loss.forward(prediction, target), prediction, h)
    check = _compare("prediction", analytic, differences.central.reshape(prediction.shape), threshold,
                     differences)
    return GradCheckReport(repr(loss), [check], threshold, str(prediction.dtype), h=h)


def _analytic_network_gradients(model, loss, x, target):
    """Backprop once; return the model's own gradient arrays by name (forward passes, which are
    all the numerical side runs, leave them untouched)."""
    loss.forward(model.forward(x), target)
    backward_parameters(model, loss.backward())
    return {name: grad for name, _, grad in model.parameters()}


def check_network(model, loss, x, target, h=None, threshold=None, max_params=MAX_FULL_CHECK_PARAMS):
    """Check every parameter gradient of ``model`` (forward, backward, parameters()) under ``loss``.

    Costs two forward passes per parameter, so networks with more than ``max_params`` parameters
    are refused: use :func:`sparse_check` or :func:`directional_check` for those.
    """
    params = list(model.parameters())
    total = sum(p.size for _, p, _ in params)
    if total > max_params:
        raise ValueError(
            f"check_network: this network has {total:,} parameters, so a full numerical gradient "
            f"needs {2 * total:,} forward passes. Use sparse_check(model, loss, x, target, k=20) "
            "(k random entries) or directional_check(...) (one random direction, two forward "
            f"passes) instead, or pass max_params={total} if you really want to wait.")
    h, threshold = _settings(params[0][1].dtype if params else np.float64, h, threshold)
    analytic = _analytic_network_gradients(model, loss, x, target)

    def f():
        return loss.forward(model.forward(x), target)
    checks = []
    for name, param, _ in params:
        differences = along_entries(f, param, h)
        checks.append(_compare(name, analytic[name], differences.central.reshape(param.shape),
                               threshold, differences))
    return GradCheckReport(f"{type(model).__name__} with {total:,} parameters", checks, threshold,
                           str(params[0][1].dtype) if params else "float64", h=h)


def sparse_check(model, loss, x, target, k=20, h=None, threshold=None, rng=None):
    """Check ``k`` randomly chosen parameter entries (2k forward passes), reported per parameter."""
    params = list(model.parameters())
    sizes = np.array([p.size for _, p, _ in params])
    h, threshold = _settings(params[0][1].dtype, h, threshold)
    analytic = _analytic_network_gradients(model, loss, x, target)
    rng = np.random.default_rng(rng)
    flat = rng.choice(sizes.sum(), size=min(k, int(sizes.sum())), replace=False)
    owner = np.searchsorted(np.cumsum(sizes), flat, side="right")
    starts = np.cumsum(sizes) - sizes
    checks, counts = [], []
    for i, (name, param, _) in enumerate(params):
        offsets = flat[owner == i] - starts[i]
        if not offsets.size:
            continue
        indices = [tuple(int(j) for j in np.unravel_index(int(o), param.shape)) for o in offsets]
        differences = along_entries(lambda: loss.forward(model.forward(x), target), param, h,
                                     indices=indices)
        check = _compare(name, analytic[name][tuple(np.array(indices).T)], differences.central,
                         threshold, differences, entries=indices)
        check.shape = param.shape
        checks.append(check)
        counts.append(f"{name}: {len(indices)}")
    return GradCheckReport(f"{type(model).__name__} ({int(sizes.sum()):,} parameters)", checks,
                           threshold, str(params[0][1].dtype), method=f"sparse, k={len(flat)}",
                           notes=["entries checked per parameter: " + ", ".join(counts)], h=h)


def directional_check(model, loss, x, target, h=None, threshold=None, rng=None,
                      per_parameter=False):
    """Compare the derivative along one random unit direction ``u`` with ``<grad, u>``.

    (L(w + h u) - L(w - h u)) / 2h should equal the sum over parameters of <dL/dw, u>. ``u`` has
    random signs (+-1, scaled to unit length). Two forward passes check every parameter at once,
    but a failure cannot say *which* parameter is wrong: pass ``per_parameter=True`` (two forward
    passes per parameter array, each with its own unit direction) to find out.
    """
    params = list(model.parameters())
    dtype = params[0][1].dtype
    h, threshold = _settings(dtype, h, threshold)
    analytic = _analytic_network_gradients(model, loss, x, target)
    rng = np.random.default_rng(rng)
    bits = {name: _random_bits(rng, p.size) for name, p, _ in params}  # sign of u: 1 -> +, 0 -> -
    groups = [[name] for name, _, _ in params] if per_parameter else [[n for n, _, _ in params]]
    by_name = {name: param for name, param, _ in params}
    checks = []
    for group in groups:
        size = sum(by_name[n].size for n in group)
        unit = 1 / np.sqrt(size)  # u has entries +-unit: a unit vector
        saved = _snapshot([by_name[name] for name in group], group)
        expected = []  # <dL/dw, u>, measured on the first step

        def evaluate(_, offset, group=group, saved=saved, unit=unit, expected=expected):
            """The loss at w + offset * u, set in place (no new arrays)."""
            measure = not expected
            total = 0.0
            for name in group:
                param = by_name[name]
                flat = param.reshape(-1)
                np.multiply(bits[name], 2 * offset * unit, out=flat)  # 0/1 -> 0 or 2 offset unit
                flat -= offset * unit  # param = offset * u: entries +-offset*unit
                if measure:
                    total += float(np.vdot(analytic[name], param)) / offset  # <dL/dw, u>
                param += saved[name]  # param = w + offset * u
            if measure:
                expected.append(total)
            return loss.forward(model.forward(x), target), offset

        def base(evaluate=evaluate):
            value = evaluate(0, 0.0)[0]
            return value, abs(value)
        try:
            differences = Differences(evaluate, 1, h, dtype, base)
            label = group[0] if per_parameter else "all"
            check = _compare(label, np.array([expected[0]]), differences.central, threshold, differences)
        finally:
            for name in group:  # exactly the original values, not w - h u + h u
                np.copyto(by_name[name], saved[name])
        check.worst_index = ()
        check.shape = by_name[label].shape if per_parameter else ()
        checks.append(check)
    notes = [] if per_parameter else [
        "one direction through all parameters: if this fails, use per_parameter=True or "
        "sparse_check to find which parameter is wrong"]
    return GradCheckReport(f"{type(model).__name__}", checks, threshold, str(dtype),
                           method="directional" + (", per parameter" if per_parameter else ""),
                           notes=notes, h=h)


_SNAPSHOT_BUFFERS = {}  # dtype -> one flat buffer that directional_check reuses for its snapshots


def _snapshot(arrays, names):
    """Exact copies of ``arrays`` (by name) in buffers kept between calls, one per dtype. A fresh
    megabyte-sized copy costs a page fault per 4 KiB page: measured here, copying the parameters of
    a 784-256-256-10 net into new arrays took about 1 ms, a quarter of a backprop; into the kept
    buffer, 0.17 ms."""
    totals = {}
    for array in arrays:
        totals[array.dtype] = totals.get(array.dtype, 0) + array.size
    for dtype, total in totals.items():
        if _SNAPSHOT_BUFFERS.get(dtype, np.empty(0)).size < total:
            _SNAPSHOT_BUFFERS[dtype] = np.empty(total, dtype)
    copies, used = {}, dict.fromkeys(totals, 0)
    for name, array in zip(names, arrays):
        start = used[array.dtype]
        copies[name] = _SNAPSHOT_BUFFERS[array.dtype][start:start + array.size].reshape(array.shape)
        np.copyto(copies[name], array)
        used[array.dtype] += array.size
    return copies


def _random_bits(rng, size):
    """``size`` random 0/1 values as uint8, drawn 8 at a time from random bytes."""
    return np.unpackbits(rng.integers(0, 256, size=(size + 7) // 8, dtype=np.uint8))[:size]
