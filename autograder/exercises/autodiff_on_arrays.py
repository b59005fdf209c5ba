"""Lesson 10-autodiff-on-arrays: unbroadcast, the Tensor operations, backward, zero_grad, and the
capstone network of lesson 08 trained on the learner's own engine.

Expected values come from bplib's reference engine, :mod:`bplib.tensor`, run on the same inputs
through the same probe (:mod:`bplib.probes.autodiff_on_arrays`); tests/test_tensor.py checks that
engine against an independent numerical derivative (a five-point stencil) for every operation,
every broadcasting pattern, and the random graphs drawn here.

* One operation: the probe makes the inputs with the learner's own ``Tensor`` class (some already
  holding a gradient), calls the operation, sets ``out.grad = dout`` and calls ``out._backward()``;
  ``add``, ``mul`` and ``div`` run with bplib's ``unbroadcast`` lent to them (and ``zero_grad`` with
  bplib's ``topological_order``), so that a mistake in one exercise costs only its own points.
  Cases cover every broadcasting rule, a node used twice (``add(a, a)``) and, for ``matmul`` and
  ``tensor_sum``, square shapes, where a missing transpose or a missing ``expand_dims`` gives wrong
  numbers instead of an error.
* ``backward`` and ``zero_grad`` run on graphs built with bplib's reference operations, so that a
  wrong operation of the learner's costs only that operation's points; ``topological_order`` is
  judged as in lesson 02 (each node once, after all of its children).
* ``train_digits`` is lesson 08's exercise (:mod:`autograder.exercises.capstone`: 4-fold
  cross-validation on the bundled digits, pixels shuffled by a secret permutation, at least 97%),
  with the rule that the network runs on the learner's engine: bplib's layers, networks, training
  loop and reference Tensor are off limits (``implemented_by``). The probe cannot see *how* the
  predictions were made (a hand-written backward in NumPy would also pass), and the exercise uses
  every operation of the lesson, so a wrong operation usually costs these points too.
"""

import numpy as np

from autograder.exercises.capstone import FOLDS, SECONDS_PER_CALL, compare_train_digits, train_digits_cases
from bplib.grading import Case, Exercise, Mistake, compare_values, describe, plain
from bplib.probes import autodiff_on_arrays as probes
from bplib.probes.capstone import train_digits_probe
from bplib.tensor import Tensor as Reference
from bplib.tensor import softmax_cross_entropy as reference_softmax_cross_entropy
from bplib.tensor import unbroadcast as reference_unbroadcast

TENSOR = "bplib.tensor.Tensor"
RTOL, ATOL = 1e-6, 1e-9


def signed(rng, shape, low=0.3, high=2.0):
    """Random values with |v| in [low, high] and random signs, as a float array (also for shape ())."""
    return np.asarray(rng.uniform(low, high, shape) * rng.choice([-1.0, 1.0], shape), dtype=float)


# --- messages shared by the one-operation exercises ----------------------------------------------

def matches(got, wrong):
    """Whether ``got`` equals the plain output ``wrong`` of a typical mistake."""
    return compare_values(got, plain(wrong), (), RTOL, ATOL) is None


def judge_op(got, expected, args, mistakes, error_hint):
    """The message for one operation's probe result, or None if it is right.

    ``mistakes``: [(hint, wrong(*args) -> plain output)]; ``error_hint(text)``: a hint for an error
    raised by ``_backward`` (or None)."""
    if "returned" in got:
        return (f"should return a Tensor, out = Tensor(..., (a, ...), op); it returned a "
                f"{got['returned']}")
    if "error" in got:
        hint = error_hint(got["error"])
        return f"out._backward() raised {got['error']}" + (f"\n  Hint: {hint}" if hint else "")
    problem = compare_values(got, expected, (), RTOL, ATOL)
    if not problem:
        return None
    for hint, wrong in mistakes:
        try:
            with np.errstate(all="ignore"):
                if matches(got, wrong(*args)):
                    return f"{problem}\n  Hint: {hint}"
        except Exception:  # noqa: BLE001 - a mistake that does not apply to this case
            continue
    return problem + _common_hint(got, expected)


def _common_hint(got, expected):
    """A hint for a gradient whose shape is not its input's (e.g. ``a.grad = a.grad + out.grad``)."""
    for key, value in expected.items():
        if not key.endswith(".grad") or not isinstance(got.get(key), np.ndarray):
            continue
        mine = got[key]
        if mine.shape != value.shape:
            return (f"\n  Hint: {key} must keep the shape of the input's data, {value.shape}: add "
                    "(+=) a gradient of that shape to it. For an input that was broadcast, "
                    "unbroadcast(..., a.shape) sums its copies.")
    return ""


def op_compare(mistakes=(), error_hint=lambda text: None, parts=None):
    """A ``compare`` for a one-operation exercise; ``parts`` names the operations of a probe that
    returns {operation: result} (e.g. ``mul`` and ``div``), each with its own mistakes."""
    def compare(got, case):
        if parts is None:
            return judge_op(got, case.expected, case.args, mistakes, error_hint)
        for part in parts:
            own = [(hint, (lambda *a, w=wrong, p=part: _part(w(*a), p))) for name, hint, wrong in mistakes
                   if name == part]
            problem = judge_op(got[part], case.expected[part], case.args, own, error_hint)
            if problem:
                return f"{part}: {problem}"
        return None
    return compare


def _part(result, part):
    """The result of operation ``part``: from a probe's {operation: result}, or the result itself."""
    return result[part] if part in result else result


def broadcast_error_hint(text):
    if "non-broadcastable output operand" in text:
        return ("a.grad has a's shape, but the gradient you add to it has out's (broadcast) shape. "
                "Sum the copies back to a's shape: a.grad += unbroadcast(..., a.shape) (exercise 1); "
                "the same for b.")
    if "could not be broadcast" in text:
        return "check the shapes: every gradient you add has the shape of the input it belongs to."
    return None


def _wrong_binary(forward, backward):
    """An operation on reference Tensors whose ``_backward`` is ``backward(a, b, out)`` (a typical
    bug), for recognising mistakes."""
    def op(a, b):
        out = Reference(forward(a.data, b.data), (a, b), "op")
        out._backward = lambda: backward(a, b, out)
        return out
    return op


def _set(tensor, value, overwrite):
    """``tensor.grad = value`` (broadcast to the grad's shape) or ``tensor.grad = tensor.grad + value``."""
    if overwrite:
        tensor.grad = np.asarray(value, dtype=float) + 0.0 * tensor.grad
    else:
        tensor.grad = tensor.grad + value


def _overwrite(local_a, local_b):
    """A binary op that assigns (=) its right gradients instead of adding them."""
    def backward(a, b, out):
        _set(a, reference_unbroadcast(out.grad * local_a(a.data, b.data), a.shape), True)
        _set(b, reference_unbroadcast(out.grad * local_b(a.data, b.data), b.shape), True)
    return backward


def _local(local_a, local_b, with_dout=True):
    """A binary op with the given local derivatives (maybe wrong), accumulated correctly."""
    def backward(a, b, out):
        dout = out.grad if with_dout else np.ones_like(out.grad)
        _set(a, reference_unbroadcast(dout * local_a(a.data, b.data), a.shape), False)
        _set(b, reference_unbroadcast(dout * local_b(a.data, b.data), b.shape), False)
    return backward


def binary_mistake(forward, backward):
    op = _wrong_binary(forward, backward)
    return lambda *args: probes.binary(op, Reference, *args)


# --- unbroadcast ----------------------------------------------------------------------------------

UNBROADCAST_FIXED = [((4, 3), (3,)), ((4, 3), (4, 1)), ((4, 3), (1, 3)), ((4, 3), ()),
                     ((2, 4, 3), (4, 1)), ((4, 3), (4, 3)), ((2, 3, 4), (1, 3, 1))]


def random_broadcast(rng):
    """(shape of a broadcast result, shape of one input that broadcasts to it)."""
    target = tuple(int(s) for s in rng.integers(2, 5, int(rng.integers(1, 4))))
    kept = target[int(rng.integers(0, len(target) + 1)):]
    return target, tuple(1 if rng.random() < 0.4 else s for s in kept)


def unbroadcast_cases(rng, hidden):
    pairs = UNBROADCAST_FIXED + ([random_broadcast(rng) for _ in range(6)] if hidden else [])
    cases = []
    for grad_shape, shape in pairs:
        grad = np.round(rng.normal(size=grad_shape), 2)
        cases.append(Case((grad, shape), reference_unbroadcast(grad, shape),
                          f"grad of shape {grad_shape} summed down to {shape}"))
    return cases


def _leading_only(grad, shape):
    while grad.ndim > len(shape):
        grad = grad.sum(axis=0)
    return grad


def _no_keepdims(grad, shape):
    grad = _leading_only(grad, shape)
    axes = tuple(i for i, s in enumerate(shape) if s == 1 and grad.shape[i] != 1)
    return grad.sum(axis=axes)


def _mean_instead(grad, shape):
    grad = np.asarray(grad, dtype=float)
    while grad.ndim > len(shape):
        grad = grad.mean(axis=0)
    for axis, size in enumerate(shape):
        if size == 1 and grad.shape[axis] != 1:
            grad = grad.mean(axis=axis, keepdims=True)
    return grad


def _trailing(grad, shape):
    while grad.ndim > len(shape):
        grad = grad.sum(axis=-1)
    return grad


def _once(grad, shape):
    return grad.sum(axis=0) if grad.ndim > len(shape) else grad


UNBROADCAST = Exercise(
    "unbroadcast", ("unbroadcast",), unbroadcast_cases, implemented_by=("bplib.tensor.unbroadcast",),
    mistakes=(
        Mistake("also sum the axes where the input has length 1, keeping them (keepdims=True): "
                "(4, 3) -> (4, 1) is grad.sum(axis=1, keepdims=True).", _leading_only),
        Mistake("keep the axes of length 1 when you sum them (keepdims=True): the result must have "
                "exactly the input's shape.", _no_keepdims),
        Mistake("sum, do not average: every copy of an entry passed its full gradient back, and "
                "gradients of several uses add up (lesson 2).", _mean_instead),
        Mistake("NumPy aligns shapes on the RIGHT: the axes an input lacks are the leading ones, so "
                "sum axis 0 (not the last axis) while there are too many.", _trailing),
        Mistake("there can be several leading axes to remove ((2, 4, 3) -> (3,)): sum axis 0 in a "
                "loop, while grad has more axes than the input.", _once),
        Mistake("return the summed gradient; the input's own shape is what it must have, not the "
                "gradient's.", lambda grad, shape: grad),
    ))


# --- add --------------------------------------------------------------------------------------------

BROADCAST_PAIRS = [((3, 4), (4,)), ((3, 1), (1, 4)), ((3, 4), ()), ((2, 3), (2, 3)), ((2, 1, 4), (3, 1)),
                   ((4,), (2, 4)), ((3, 4), (3, 1))]


def binary_case(rng, shapes, same=False, existing=True, out_shape=None, label=""):
    """(x, y, dout, grad_a, grad_b, same) for the binary probes; |y| >= 0.5 (it may divide)."""
    x_shape, y_shape = shapes
    x = signed(rng, x_shape)
    y = x if same else signed(rng, y_shape, 0.5, 2.0)
    out_shape = np.broadcast_shapes(x_shape, y_shape) if out_shape is None else out_shape
    dout = signed(rng, out_shape, 0.5, 2.0)
    grad_a = signed(rng, x_shape) if existing else np.zeros(x_shape)
    grad_b = signed(rng, y_shape) if existing and not same else np.zeros(y_shape)
    what = f"a {x_shape}" + ("" if same else f", b {y_shape}") + (", inputs already hold a gradient"
                                                                   if existing else "")
    return (x, np.asarray(y, dtype=float), dout, grad_a, grad_b, same), label or what


def binary_cases(expected, fixed, hidden_pairs, name):
    def cases(rng, hidden):
        args = [binary_case(rng, shapes, same, existing) for shapes, same, existing in fixed]
        if hidden:
            for _ in range(5):
                shapes = hidden_pairs[int(rng.integers(len(hidden_pairs)))]
                args.append(binary_case(rng, shapes, existing=bool(rng.random() < 0.6)))
            square = hidden_pairs[0][0]
            args.append(binary_case(rng, (square, square), same=True))
        return [Case(a, expected(*a), f"{name}: {label}" + (" (the same node twice)" if a[5] else ""))
                for a, label in args]
    return cases


def reference_binary(op):
    return lambda *args: probes.binary(op, Reference, *args)


ADD_FIXED = [(((3, 4), (4,)), False, False), (((3, 1), (1, 4)), False, True), (((3, 4), ()), False, True),
             (((2, 3), (2, 3)), True, True)]

ADD = Exercise(
    "add", ("add", "Tensor"), binary_cases(reference_binary(lambda a, b: a + b), ADD_FIXED, BROADCAST_PAIRS,
                                           "add(a, b)"),
    probe=probes.probe_add, implemented_by=(f"{TENSOR}.__add__",),
    compare=op_compare(mistakes=(
        ("accumulate with +=, never =: the inputs already held a gradient (from elsewhere in the "
         "graph), or a node is used twice (add(a, a)).",
         binary_mistake(np.add, _overwrite(lambda x, y: 1.0, lambda x, y: 1.0))),
        ("multiply by out.grad: the gradient that reaches out is the dLoss/dout of the chain rule.",
         binary_mistake(np.add, _local(lambda x, y: 1.0, lambda x, y: 1.0, with_dout=False))),
        ("sum only over the copies (unbroadcast(out.grad, a.shape)): out.grad.sum() adds up every "
         "entry, the other rows and columns included.",
         binary_mistake(np.add, lambda a, b, out: (_set(a, out.grad.sum(), False),
                                                   _set(b, out.grad.sum(), False)))),
        ("both inputs receive out.grad: d(a + b)/db = 1 too.",
         binary_mistake(np.add, _local(lambda x, y: 1.0, lambda x, y: 0.0))),
    ), error_hint=broadcast_error_hint))


# --- mul and div ------------------------------------------------------------------------------------

MUL_DIV_FIXED = [(((3, 4), (4,)), False, False), (((3, 1), (1, 4)), False, True),
                 (((2, 3), (2, 3)), True, True), (((3, 4), ()), False, True)]


def mul_div_expected(*args):
    return {"mul": probes.binary(lambda a, b: a * b, Reference, *args),
            "div": probes.binary(lambda a, b: a / b, Reference, *args)}


def _mul_div_cases(rng, hidden):
    cases = binary_cases(mul_div_expected, MUL_DIV_FIXED, BROADCAST_PAIRS, "mul(a, b) and div(a, b)")
    return cases(rng, hidden)


MUL_DIV = Exercise(
    "mul_div", ("mul", "div", "Tensor"), _mul_div_cases, probe=probes.probe_mul_div,
    implemented_by=(f"{TENSOR}.__mul__", f"{TENSOR}.__truediv__"),
    compare=op_compare(parts=("mul", "div"), error_hint=broadcast_error_hint, mistakes=(
        ("mul", "d(a*b)/da = b: each input gets out.grad times the OTHER input's data.",
         binary_mistake(np.multiply, _local(lambda x, y: x, lambda x, y: y))),
        ("mul", "accumulate with +=, never =: the inputs already held a gradient, or a node is used "
                "twice (mul(a, a) gives a.grad = 2 a out.grad).",
         binary_mistake(np.multiply, _overwrite(lambda x, y: y, lambda x, y: x))),
        ("mul", "the local derivative is the other input's data, not out.data.",
         binary_mistake(np.multiply, _local(lambda x, y: x * y, lambda x, y: x * y))),
        ("mul", "multiply by out.grad (the chain rule).",
         binary_mistake(np.multiply, _local(lambda x, y: y, lambda x, y: x, with_dout=False))),
        ("div", "d(a/b)/db = -a / b**2: mind the minus sign.",
         binary_mistake(np.divide, _local(lambda x, y: 1 / y, lambda x, y: x / y ** 2))),
        ("div", "d(a/b)/db = -a / b**2: a times the derivative of 1/b, which is -1/b**2.",
         binary_mistake(np.divide, _local(lambda x, y: 1 / y, lambda x, y: -1 / y ** 2))),
        ("div", "d(a/b)/db = -a / b**2: b is squared.",
         binary_mistake(np.divide, _local(lambda x, y: 1 / y, lambda x, y: -x / y))),
        ("div", "d(a/b)/da = 1/b (a is multiplied by the number 1/b).",
         binary_mistake(np.divide, _local(lambda x, y: y, lambda x, y: -x / y ** 2))),
        ("div", "accumulate with +=, never =: div(a, a) is 1, whose gradient is 1/a - a/a**2 = 0, "
                "which only the sum of both contributions gives.",
         binary_mistake(np.divide, _overwrite(lambda x, y: 1 / y, lambda x, y: -x / y ** 2))),
    )))


# --- matmul -----------------------------------------------------------------------------------------

def matmul_error_hint(text):
    if "matmul: Input operand" in text or "broadcast" in text:
        return ("write the shapes down: out.grad is (N, M); a.grad must be (N, D) = (N, M) @ (M, D), "
                "so out.grad @ b.data.T; b.grad must be (D, M) = (D, N) @ (N, M), so a.data.T @ out.grad.")
    return None


def matmul_cases(rng, hidden):
    def case(n, d, m, same=False, existing=True):
        args, label = binary_case(rng, ((n, d), (d, m)), same, existing, out_shape=(n, m))
        return Case(args, reference_binary(lambda a, b: a @ b)(*args),
                    f"matmul: a ({n}, {d}) @ b ({d}, {m})" + (", the same node twice" if same else "")
                    + (", inputs already hold a gradient" if existing else ""))
    cases = [case(4, 3, 2, existing=False), case(3, 3, 3), case(2, 5, 1), case(3, 3, 3, same=True)]
    if hidden:
        cases += [case(*(int(s) for s in rng.integers(1, 6, 3)), existing=bool(rng.random() < 0.5))
                  for _ in range(4)]
        n = int(rng.integers(2, 5))
        cases += [case(n, n, n), case(n, n, n, same=True)]
    return cases


def _matmul_mistake(grad_a, grad_b, overwrite=False):
    def backward(a, b, out):
        _set(a, grad_a(out.grad, a.data, b.data), overwrite)
        _set(b, grad_b(out.grad, a.data, b.data), overwrite)
    return binary_mistake(np.matmul, backward)


MATMUL = Exercise(
    "matmul", ("matmul", "Tensor"), matmul_cases, probe=probes.probe_matmul,
    implemented_by=(f"{TENSOR}.__matmul__", "bplib.layers.Linear"),
    compare=op_compare(error_hint=matmul_error_hint, mistakes=(
        ("transpose the other input: a.grad += out.grad @ b.data.T and b.grad += a.data.T @ out.grad "
         "(lesson 3's dx and dW). With square matrices a missing .T gives no error, only wrong numbers.",
         _matmul_mistake(lambda g, x, w: g @ w, lambda g, x, w: x @ g)),
        ("the order of the factors matters: a.grad = out.grad @ b.data.T (out.grad first), "
         "b.grad = a.data.T @ out.grad (out.grad last).",
         _matmul_mistake(lambda g, x, w: w.T @ g, lambda g, x, w: g @ x.T)),
        ("accumulate with +=, never =: the inputs already held a gradient, or a node is used twice "
         "(a @ a).", _matmul_mistake(lambda g, x, w: g @ w.T, lambda g, x, w: x.T @ g, overwrite=True)),
    )))


# --- tensor_sum ---------------------------------------------------------------------------------------

def reference_sum(x, axis, keepdims, dout, grad_a):
    return probes.probe_sum(lambda a, axis, keepdims: a.sum(axis, keepdims), Reference, x, axis,
                            keepdims, dout, grad_a)


def sum_cases(rng, hidden):
    def case(shape, axis, keepdims=False, existing=True):
        x = signed(rng, shape)
        dout = signed(rng, np.sum(x, axis=axis, keepdims=keepdims).shape, 0.5, 2.0)
        grad_a = signed(rng, shape) if existing else np.zeros(shape)
        args = (x, axis, keepdims, dout, grad_a)
        return Case(args, reference_sum(*args),
                    f"tensor_sum(a, axis={axis}, keepdims={keepdims}) with a of shape {shape}"
                    + (", a already holds a gradient" if existing else ""))
    cases = [case((3, 4), None, existing=False), case((3, 4), 0), case((3, 4), 1), case((3, 4), 1, True),
             case((3, 3), 1), case((2, 3, 4), (0, 2)), case((2, 3, 4), -1)]
    if hidden:
        for _ in range(5):
            shape = tuple(int(s) for s in rng.integers(2, 5, int(rng.integers(1, 4))))
            choices = [None] + list(range(len(shape))) + [-1]
            axis = choices[int(rng.integers(len(choices)))]
            cases.append(case(shape, axis, bool(rng.random() < 0.4), bool(rng.random() < 0.6)))
        n = int(rng.integers(2, 5))
        cases.append(case((n, n), 1))
    return cases


def _sum_mistake(backward):
    def op(a, axis, keepdims):
        out = Reference(a.data.sum(axis=axis, keepdims=keepdims), (a,), "sum")
        out._backward = lambda: backward(a, out, axis, keepdims)
        return out
    return lambda x, axis, keepdims, dout, grad_a: probes.probe_sum(op, Reference, x, axis, keepdims,
                                                                     dout, grad_a)


def _expanded(out, axis, keepdims):
    return out.grad if keepdims or axis is None else np.expand_dims(out.grad, axis)


def sum_error_hint(text):
    if "broadcast" in text:
        return ("out.grad has the shape of the sum, with the summed axes gone. Put them back with "
                "np.expand_dims(out.grad, axis) (unless keepdims=True or axis=None), then let it "
                "broadcast over a's shape: every summed entry gets the same gradient.")
    return None


TENSOR_SUM = Exercise(
    "tensor_sum", ("tensor_sum", "Tensor"), sum_cases, probe=probes.probe_sum,
    implemented_by=(f"{TENSOR}.sum", f"{TENSOR}.mean"),
    compare=op_compare(error_hint=sum_error_hint, mistakes=(
        ("put the summed axis back with np.expand_dims(out.grad, axis) before broadcasting: for a "
         "square array, out.grad of shape (N,) broadcasts along the wrong axis without an error.",
         _sum_mistake(lambda a, out, axis, keepdims: _set(a, np.broadcast_to(out.grad, a.shape), False))),
        ("the local derivative of a sum is 1 for every entry: do not divide by the number of entries "
         "(that is the mean's gradient).",
         _sum_mistake(lambda a, out, axis, keepdims: _set(
             a, np.broadcast_to(_expanded(out, axis, keepdims), a.shape) * out.data.size / a.data.size,
             False))),
        ("accumulate with +=, never =: a already held a gradient from elsewhere.",
         _sum_mistake(lambda a, out, axis, keepdims: _set(
             a, np.broadcast_to(_expanded(out, axis, keepdims), a.shape), True))),
        ("multiply by out.grad: each entry of a receives the gradient of the sum it went into.",
         _sum_mistake(lambda a, out, axis, keepdims: _set(a, np.ones(a.shape), False))),
    )))


# --- reshape and transpose -----------------------------------------------------------------------------

def reference_reshape_transpose(*args):
    return probes.probe_reshape_transpose(lambda a, shape: a.reshape(shape),
                                          lambda a, axes: a.transpose(axes), Reference, *args)


def reshape_transpose_cases(rng, hidden):
    def case(shape, new_shape, axes, existing=True):
        x = signed(rng, shape)
        dout_reshape = signed(rng, x.reshape(new_shape).shape, 0.5, 2.0)
        dout_transpose = signed(rng, x.transpose(axes).shape, 0.5, 2.0)
        grad_a = signed(rng, shape) if existing else np.zeros(shape)
        args = (x, new_shape, axes, dout_reshape, dout_transpose, grad_a)
        return Case(args, reference_reshape_transpose(*args),
                    f"a of shape {shape}: reshape(a, {new_shape}) and transpose(a, {axes})"
                    + (", a already holds a gradient" if existing else ""))
    cases = [case((2, 3, 4), (4, 6), (1, 2, 0), existing=False), case((3, 4), (12,), None),
             case((2, 2, 2), (4, 2), (2, 0, 1)), case((2, 3), (3, 2), (1, 0))]
    if hidden:
        for _ in range(4):
            shape = tuple(int(s) for s in rng.integers(2, 5, int(rng.integers(2, 4))))
            new_shape = (-1, shape[-1]) if rng.random() < 0.5 else (int(np.prod(shape)),)
            axes = tuple(int(i) for i in rng.permutation(len(shape)))
            cases.append(case(shape, new_shape, axes if rng.random() < 0.8 else None,
                              bool(rng.random() < 0.6)))
        n = int(rng.integers(2, 4))
        cases.append(case((n, n, n), (n * n, n), (1, 2, 0)))
    return cases


def _reshape_transpose_mistake(reshape_back, transpose_back, overwrite=False):
    def reshape(a, shape):
        out = Reference(a.data.reshape(shape), (a,), "reshape")
        out._backward = lambda: _set(a, reshape_back(out.grad, a.shape), overwrite)
        return out

    def transpose(a, axes):
        out = Reference(a.data.transpose(axes), (a,), "T")
        out._backward = lambda: _set(a, transpose_back(out.grad, axes), overwrite)
        return out
    return lambda *args: probes.probe_reshape_transpose(reshape, transpose, Reference, *args)


def _inverse(axes):
    return None if axes is None else tuple(int(i) for i in np.argsort(axes))


def shape_error_hint(text):
    if "broadcast" in text or "reshape" in text:
        return ("out.grad has out's shape; a.grad needs a's: reshape it back with "
                "out.grad.reshape(a.shape), or undo the transpose with the inverse permutation, "
                "out.grad.transpose(np.argsort(axes)).")
    return None


RESHAPE_TRANSPOSE = Exercise(
    "reshape_transpose", ("reshape", "transpose", "Tensor"), reshape_transpose_cases,
    probe=probes.probe_reshape_transpose, implemented_by=(f"{TENSOR}.reshape", f"{TENSOR}.transpose"),
    compare=op_compare(parts=("reshape", "transpose"), error_hint=shape_error_hint, mistakes=(
        ("transpose", "undo the permutation with its INVERSE, np.argsort(axes): transposing again with "
                      "the same axes only undoes a swap of two axes, not a cycle like (1, 2, 0).",
         _reshape_transpose_mistake(lambda g, shape: g.reshape(shape), lambda g, axes: g.transpose(axes))),
        ("reshape", "accumulate with +=, never =: a already held a gradient.",
         _reshape_transpose_mistake(lambda g, shape: g.reshape(shape),
                                    lambda g, axes: g.transpose(_inverse(axes)), overwrite=True)),
        ("transpose", "accumulate with +=, never =: a already held a gradient.",
         _reshape_transpose_mistake(lambda g, shape: g.reshape(shape),
                                    lambda g, axes: g.transpose(_inverse(axes)), overwrite=True)),
    )))


# --- exp, log, tanh, relu -------------------------------------------------------------------------------

ELEMENTWISE = {"exp": (np.exp, lambda x, out: out), "log": (np.log, lambda x, out: 1 / x),
               "tanh": (np.tanh, lambda x, out: 1 - out ** 2),
               "relu": (lambda x: np.maximum(x, 0.0), lambda x, out: (x > 0).astype(float))}


def _unary(forward, local, overwrite=False, with_dout=True):
    def op(a):
        out = Reference(forward(a.data), (a,), "op")
        out._backward = lambda: _set(a, (out.grad if with_dout else 1.0) * local(a.data, out.data),
                                     overwrite)
        return out
    return op


def elementwise_probe_with(**ops):
    """The elementwise probe with the given operations (reference ones for the others)."""
    chosen = {name: ops.get(name, _unary(*ELEMENTWISE[name])) for name in ELEMENTWISE}
    return lambda *args: probes.probe_elementwise(chosen["exp"], chosen["log"], chosen["tanh"],
                                                  chosen["relu"], Reference, *args)


def elementwise_cases(rng, hidden):
    def case(shape, existing, label):
        x = signed(rng, shape, 0.1, 2.0)
        x.flat[::3] = 0.0  # ReLU's kink: the derivative there is 0 (lesson 3)
        positive = rng.uniform(0.2, 3.0, shape)
        dout = signed(rng, shape, 0.5, 2.0)
        grad_a = signed(rng, shape) if existing else np.zeros(shape)
        args = (x, positive, dout, grad_a)
        return Case(args, elementwise_probe_with()(*args), label)
    cases = [case((2, 3), False, "a (2, 3), some entries exactly 0; log on positive numbers"),
             case((4,), True, "a (4,) already holding a gradient")]
    if hidden:
        cases += [case(tuple(int(s) for s in rng.integers(1, 5, int(rng.integers(1, 4)))),
                       bool(rng.random() < 0.6), "random shape and values") for _ in range(4)]
    return cases


def _elementwise_mistake(name, local, **options):
    return name, elementwise_probe_with(**{name: _unary(ELEMENTWISE[name][0], local, **options)})


def elementwise_mistakes():
    found = []
    for hint, (name, wrong) in [
        ("d exp(a)/da = exp(a), which is out.data (not a.data).",
         _elementwise_mistake("exp", lambda x, out: x)),
        ("d log(a)/da = 1 / a.data (not 1 / out.data).", _elementwise_mistake("log", lambda x, out: 1 / out)),
        ("d log(a)/da = 1 / a: divide out.grad by a.data.", _elementwise_mistake("log", lambda x, out: x)),
        ("d tanh(a)/da = 1 - tanh(a)**2 = 1 - out.data**2: square the OUTPUT, not a.data.",
         _elementwise_mistake("tanh", lambda x, out: 1 - x ** 2)),
        ("d tanh(a)/da = 1 - out.data**2: the square is missing.",
         _elementwise_mistake("tanh", lambda x, out: 1 - out)),
        ("relu's derivative is 1 where a > 0 and 0 elsewhere, also AT 0 (the course's convention, "
         "lesson 3): use a.data > 0, not >= 0.",
         _elementwise_mistake("relu", lambda x, out: (x >= 0).astype(float))),
        ("relu passes the gradient only where a > 0: multiply out.grad by the mask (a.data > 0).",
         _elementwise_mistake("relu", lambda x, out: np.ones_like(x))),
        ("multiply by the mask, not by a.data: relu's slope is 1 where a > 0.",
         _elementwise_mistake("relu", lambda x, out: out)),
    ]:
        found.append((name, hint, wrong))
    for name in ELEMENTWISE:
        found.append((name, "accumulate with +=, never =: a already held a gradient.",
                      elementwise_probe_with(**{name: _unary(*ELEMENTWISE[name], overwrite=True)})))
        found.append((name, "multiply by out.grad (the chain rule).",
                      elementwise_probe_with(**{name: _unary(*ELEMENTWISE[name], with_dout=False)})))
    return tuple(found)


ELEMENTWISE_OPS = Exercise(
    "elementwise", ("exp", "log", "tanh", "relu", "Tensor"), elementwise_cases,
    probe=probes.probe_elementwise,
    implemented_by=(f"{TENSOR}.exp", f"{TENSOR}.log", f"{TENSOR}.tanh", f"{TENSOR}.relu",
                    "bplib.layers.ReLU", "bplib.layers.Tanh"),
    compare=op_compare(parts=tuple(ELEMENTWISE), mistakes=elementwise_mistakes()))


# --- softmax_cross_entropy -------------------------------------------------------------------------------

def reference_sce(*args):
    return probes.probe_softmax_cross_entropy(reference_softmax_cross_entropy, Reference, *args)


def sce_cases(rng, hidden):
    def case(n, c, scale, dout, existing, label):
        logits = rng.normal(0, scale, (n, c))
        labels = rng.integers(0, c, n)
        grad = signed(rng, (n, c)) if existing else np.zeros((n, c))
        args = (logits, labels, np.float64(dout), grad)
        return Case(args, reference_sce(*args), f"logits ({n}, {c}): {label}")
    cases = [case(4, 3, 1.0, 1.0, False, "out.grad = 1"),
             case(3, 5, 1.0, 2.5, True, "out.grad = 2.5, and logits already hold a gradient"),
             case(2, 4, 1000.0, 1.0, False, "logits of size about 1000 (exp would overflow)"),
             case(1, 2, 1.0, 1.0, False, "a single example, two classes")]
    if hidden:
        cases += [case(int(rng.integers(1, 7)), int(rng.integers(2, 7)), float(rng.choice([0.5, 3.0, 500.0])),
                       float(rng.uniform(0.5, 3.0)), bool(rng.random() < 0.5), "random") for _ in range(4)]
    return cases


def _sce_mistake(loss_of, grad_of, overwrite=False):
    """A fused op with a wrong loss ``loss_of(log_probs, labels)`` or backward ``grad_of(P, Y, dout)``."""
    def op(z, labels):
        shifted = z.data - z.data.max(axis=1, keepdims=True)
        log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        one_hot = np.eye(z.shape[1])[labels]
        out = Reference(loss_of(log_probs, one_hot), (z,), "sce")
        out._backward = lambda: _set(z, grad_of(np.exp(log_probs), one_hot, out.grad), overwrite)
        return out
    return lambda *args: probes.probe_softmax_cross_entropy(op, Reference, *args)


def _mean_loss(log_probs, one_hot):
    return -(log_probs * one_hot).sum() / len(log_probs)


def _right_grad(P, Y, dout):
    return dout * (P - Y) / len(P)


def sce_error_hint(text):
    if "FloatingPointError" in text:
        return ("an overflow or a NaN: compute log-softmax stably, z - max(z) first (per row, "
                "keepdims=True), then log(sum(exp(...))), never exp of a large logit.")
    return None


def compare_sce(got, case):
    problem = op_compare(error_hint=sce_error_hint, mistakes=SCE_MISTAKES)(got, case)
    if problem and "returned" not in got and "error" not in got and "loss" in got:
        loss = got["loss"]
        if isinstance(loss, np.ndarray) and loss.shape != ():
            problem += ("\n  Hint: the loss is one number (shape ()): the MEAN over the batch of "
                        "-log p[n, labels[n]].")
    return problem


SCE_MISTAKES = (
    ("the loss is the MEAN over the batch, so dlogits = out.grad * (P - Y) / N: divide by N.",
     _sce_mistake(_mean_loss, lambda P, Y, dout: dout * (P - Y))),
    ("the loss is the mean, not the sum, of -log p[n, labels[n]] (and its gradient is divided by N).",
     _sce_mistake(lambda lp, Y: -(lp * Y).sum(), lambda P, Y, dout: dout * (P - Y))),
    ("multiply by out.grad: the loss node may itself be used further (here out.grad is not 1).",
     _sce_mistake(_mean_loss, lambda P, Y, dout: (P - Y) / len(P))),
    ("subtract the one-hot labels: dlogits = (P - Y) / N, with 1 taken off P[n, labels[n]].",
     _sce_mistake(_mean_loss, lambda P, Y, dout: dout * P / len(P))),
    ("the loss is -log p of the right class: mind the minus sign.",
     _sce_mistake(lambda lp, Y: (lp * Y).sum() / len(lp), _right_grad)),
    ("accumulate with +=, never =: the logits already held a gradient.",
     _sce_mistake(_mean_loss, _right_grad, overwrite=True)),
    ("the gradient is (P - Y) / N with P = softmax(logits): not the log-probabilities.",
     _sce_mistake(_mean_loss, lambda P, Y, dout: dout * (np.log(P) - Y) / len(P))),
)

SOFTMAX_CROSS_ENTROPY = Exercise(
    "softmax_cross_entropy", ("softmax_cross_entropy", "Tensor"), sce_cases,
    probe=probes.probe_softmax_cross_entropy, strict_floats=True, compare=compare_sce,
    implemented_by=("bplib.tensor.softmax_cross_entropy", "bplib.losses.SoftmaxCrossEntropyLoss"))


# --- graphs for backward and zero_grad -----------------------------------------------------------------

def _inputs(rng, **shapes):
    return tuple((name, np.round(signed(rng, shape, 0.2, 1.5), 3)) for name, shape in shapes.items())


def fixed_programs(rng):
    """Graphs with reused nodes, broadcasting, a matrix product, and a softmax-cross-entropy loss."""
    reused = ((("b", "*", ("a", "a")), ("c", "+", ("b", "a")), ("d", "*", ("c", "a")), ("L", "sum", ("d",))),
              _inputs(rng, a=(2, 3)))
    mlp = ((("z", "@", ("x", "W1")), ("h0", "+", ("z", "b1")), ("h", "relu", ("h0",)),
            ("s0", "@", ("h", "W2")), ("s", "+", ("s0", "b2")), ("L", "sce", ("s",), (0, 2, 1, 2))),
           _inputs(rng, x=(4, 3), W1=(3, 5), b1=(5,), W2=(5, 3), b2=(3,)))
    diamond = ((("p", "*", ("x", "v")), ("q", "tanh", ("p",)), ("r", "+", ("q", "p")), ("t", "*", ("r", "c")),
                ("u", "sum0", ("t",)), ("w", "/", ("u", "e")), ("L", "mean", ("w",))),
               _inputs(rng, x=(3, 4), v=(4,), c=(3, 1), e=(4,)))
    matrices = ((("yt", "T", ("y",)), ("m", "@", ("x", "yt")), ("n", "-", ("m", "x")), ("k", "tanh", ("m",)),
                 ("o", "*", ("n", "k")), ("L", "sum", ("o",))),
                _inputs(rng, x=(3, 3), y=(3, 3)))
    return [reused, mlp, diamond, matrices]


def random_program(rng):
    """A random graph over (n, m) matrices, a row vector (m,) and a column (n, 1), with reused
    nodes; values stay moderate and no ReLU input sits near its kink."""
    while True:
        n, m = (int(s) for s in rng.integers(2, 5, 2))
        inputs = _inputs(rng, x0=(n, m), x1=(n, m), v=(m,), c=(n, 1), W=(m, m))
        matrices, others, program = ["x0", "x1"], ["v", "c"], []
        for i in range(int(rng.integers(3, 8))):
            target = f"n{i}"
            kind = rng.choice(["+", "-", "*", "@", "tanh", "exp", "relu"])
            a = str(rng.choice(matrices[-3:]))
            if kind in ("tanh", "exp", "relu"):
                program.append((target, str(kind), (a,)))
            elif kind == "@":
                program.append((target, "@", (a, "W")))
            else:
                b = str(rng.choice(matrices[-3:] + others))
                program.append((target, str(kind), (a, b) if rng.random() < 0.5 else (b, a)))
            matrices.append(target)
        program.append(("L", str(rng.choice(["sum", "mean"])), (matrices[-1],)))
        program = tuple(program)
        values = _values(program, inputs)
        if values is not None:
            return program, inputs


def _values(program, inputs):
    """{name: data} of every node, or None if a value is large (or not finite) or a ReLU input is
    near 0 (where finite differences, and so the tests of these cases, disagree with any gradient)."""
    with np.errstate(all="ignore"):  # exp of a large value: rejected below
        _, nodes, _ = probes.build(program, inputs)
    for _, op, operands, *_ in program:
        if op == "relu" and np.abs(nodes[operands[0]].data).min() < 1e-2:
            return None
    if not all(np.all(np.abs(node.data) <= 30) for node in nodes.values()):
        return None
    return {name: node.data for name, node in nodes.items()}


def reference_backward(program, inputs, calls, with_root=False):
    """bplib's gradients of the inputs (and of the root) after ``calls`` backward passes."""
    leaves, _, root = probes.build(program, inputs)
    for _ in range(calls):
        root.backward()
    grads = {f"{name}.grad": node.grad for name, node in leaves.items()}
    if with_root:
        grads[f"{root.label}.grad"] = root.grad
    return grads


def describe_program(program):
    def step(target, op, operands, *labels):
        if op in ("+", "-", "*", "/", "@"):
            return f"{target} = {operands[0]} {op} {operands[1]}"
        if op == "sce":
            return f"{target} = softmax_cross_entropy({operands[0]}, labels)"
        if op == "T":
            return f"{target} = {operands[0]}.T"
        call = {"sum0": "sum(axis=0)", "sum1": "sum(axis=1, keepdims=True)"}.get(op, f"{op}()")
        return f"{target} = {operands[0]}.{call}"
    return "; ".join(step(*s) for s in program)


def backward_cases(rng, hidden):
    programs = fixed_programs(rng)
    args = [(p, i, 1) for p, i in programs] + [(*programs[1], 2)]
    if hidden:
        args += [(*random_program(rng), 1) for _ in range(4)] + [(*random_program(rng), 2)]
    return [Case(a, {"grads": reference_backward(*a, with_root=True)}, describe_program(a[0])
                 + ("; backward(L) called TWICE without zero_grad" if a[2] == 2 else "")) for a in args]


def graph_edges(program, inputs):
    """{node name: names of its children} for the graph the probes build."""
    _, _, root = probes.build(program, inputs)
    names = probes.node_names(root)
    return {names[id(node)]: tuple(names[id(c)] for c in node._children) for node in probes.all_nodes(root)}


def order_problem(order, children):
    """What is wrong with a claimed topological order (node names), or None."""
    if not isinstance(order, tuple):
        return (f"topological_order should return a list of the graph's nodes (Tensor objects); it "
                f"returned {describe(order)}" + (" -- did you forget the `return`?" if order is None else ""))
    if "?" in order:
        return ("topological_order: the list contains something that is not a node of this graph: "
                "return the Tensor objects themselves")
    repeated = sorted({name for name in order if order.count(name) > 1})
    if repeated:
        return (f"topological_order: node {repeated[0]!r} appears {order.count(repeated[0])} times; each "
                "node must appear once. It is reachable along several paths: remember the nodes you "
                "have visited (a set) and skip them.")
    missing = [name for name in children if name not in order]
    if missing:
        return (f"topological_order: {len(missing)} of the {len(children)} nodes are missing (e.g. "
                f"{missing[0]!r}): list every node the root depends on, the root included.")
    bad = _violations(order, children)
    if not bad:
        return None
    if not _violations(order[::-1], children):
        return ("topological_order: the order is reversed: children (inputs) first, the root last. "
                "backward() then walks this list backwards.")
    node, child = bad[0]
    return (f"topological_order: {node!r} comes before {child!r}, one of its children: every node "
            "must come after ALL of its children. Append a node only after visiting all its children "
            "(depth-first search).")


def _violations(order, children):
    """Every (node, child) pair with the child listed after the node."""
    position = {name: i for i, name in enumerate(order)}
    return [(name, child) for name in order for child in children[name] if position[child] > position[name]]


def _buggy_backward(program, inputs, calls, reverse=True, add_one=False, reset=False):
    """bplib's backward with a typical bug."""
    from bplib.tensor import topological_order

    leaves, _, root = probes.build(program, inputs)
    for _ in range(calls):
        order = topological_order(root)
        if reset:
            for node in order:
                node.grad = np.zeros_like(node.data)
        root.grad = root.grad + 1.0 if add_one else np.ones_like(root.data)
        for node in reversed(order) if reverse else order:
            node._backward()
    grads = {f"{name}.grad": node.grad for name, node in leaves.items()}
    grads[f"{root.label}.grad"] = root.grad
    return grads


BACKWARD_MISTAKES = (
    ("call _backward in REVERSED topological order: the root first, so that every node has received "
     "all of its gradient before passing it on.", lambda *args: _buggy_backward(*args, reverse=False)),
    ("set root.grad = np.ones_like(root.data) (with =): the root's gradient is dL/dL = 1, whatever it "
     "held before.", lambda *args: _buggy_backward(*args, add_one=True)),
    ("backward must not reset gradients: it sets root.grad and otherwise only adds (+=). Starting "
     "afresh is zero_grad's job.", lambda *args: _buggy_backward(*args, reset=True)),
)


def compare_backward(got, case):
    program, inputs, calls = case.args
    problem = order_problem(got["order"], graph_edges(program, inputs))
    if problem:
        return problem
    grads = got["grads"]
    problem = compare_values(grads, case.expected["grads"], (), RTOL, ATOL)
    if not problem:
        return None
    root = f"{program[-1][0]}.grad"
    if not (isinstance(grads.get(root), (np.ndarray, float, int)) and np.any(grads[root])):
        return (f"backward: {problem}\n  Hint: the root's gradient is 0: set root.grad = "
                "np.ones_like(root.data) (dL/dL = 1) first, then call each node's _backward().")
    for hint, wrong in BACKWARD_MISTAKES:
        if matches(grads, wrong(*case.args)):
            return f"backward: {problem}\n  Hint: {hint}"
    return f"backward: {problem}"


BACKWARD = Exercise(
    "backward", ("topological_order", "backward"), backward_cases, probe=probes.probe_backward,
    compare=compare_backward,
    implemented_by=(f"{TENSOR}.backward", "bplib.tensor.topological_order",
                    "bplib.autograd.topological_order"))


# --- zero_grad ---------------------------------------------------------------------------------------------

def zero_grad_cases(rng, hidden):
    programs = fixed_programs(rng) + ([random_program(rng) for _ in range(3)] if hidden else [])
    cases = []
    for program, inputs in programs:
        _, _, root = probes.build(program, inputs)
        zeros = {name: np.zeros(node.shape) for name, node in
                 ((probes.node_names(root)[id(n)], n) for n in probes.all_nodes(root))}
        cases.append(Case((program, inputs), {"after zero_grad": zeros,
                                              "after a new backward": reference_backward(program, inputs, 1)},
                          describe_program(program)))
    return cases


def compare_zero_grad(got, case):
    program, inputs = case.args
    leaves = {name for name, _ in inputs}
    after = got["after zero_grad"]
    for name, zeros in case.expected["after zero_grad"].items():
        grad = after.get(name)
        what = "input" if name in leaves else "root" if name == program[-1][0] else "intermediate node"
        if not isinstance(grad, np.ndarray) or grad.shape != zeros.shape:
            return (f"after zero_grad, the grad of {what} {name!r} is {describe(grad)}; it must be an "
                    f"array of zeros of its data's shape {zeros.shape}: np.zeros_like(node.data).")
        if grad.any():
            where = {"input": "the inputs", "root": "the root",
                     "intermediate node": "the intermediate nodes"}[what]
            return (f"after zero_grad, {what} {name!r} still holds a gradient (largest entry "
                    f"{np.abs(grad).max():.4g}).\n  Hint: zero every node the root depends on, "
                    f"{where} included: for node in topological_order(root). A node that keeps its "
                    "gradient adds it again, through its _backward, in the next backward pass.")
    problem = compare_values(got["after a new backward"], case.expected["after a new backward"], (),
                             RTOL, ATOL)
    return f"after zero_grad and a new backward(): {problem}" if problem else None


ZERO_GRAD = Exercise(
    "zero_grad", ("zero_grad",), zero_grad_cases, probe=probes.probe_zero_grad, compare=compare_zero_grad,
    implemented_by=(f"{TENSOR}.zero_grad",))


# --- train_digits, on the learner's engine -------------------------------------------------------------

def compare_digits_on_tensors(got, case):
    problem = compare_train_digits(got, case)
    if problem and "accuracy" in problem:
        problem += ("\n  With your own engine, also check: loss.zero_grad() (or zeroing the "
                    "parameters' grads) before every loss.backward(), since gradients accumulate; "
                    "and that every operation you use passed its check above.")
    return problem


TRAIN_DIGITS = Exercise(
    "train_digits", ("train_digits",), train_digits_cases, probe=train_digits_probe,
    compare=compare_digits_on_tensors, cpu_limit=FOLDS * SECONDS_PER_CALL,
    implemented_by=(TENSOR, "bplib.tensor.softmax_cross_entropy", "bplib.tensor.unbroadcast",
                    "bplib.tensor.topological_order", "bplib.layers.Linear", "bplib.network.Sequential",
                    "bplib.network.mlp", "bplib.train.fit", "bplib.losses.SoftmaxCrossEntropyLoss"))


EXERCISES = [UNBROADCAST, ADD, BACKWARD, ZERO_GRAD, MUL_DIV, MATMUL, TENSOR_SUM, RESHAPE_TRANSPOSE,
             ELEMENTWISE_OPS, SOFTMAX_CROSS_ENTROPY, TRAIN_DIGITS]
