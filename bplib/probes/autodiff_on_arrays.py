"""Lesson 10-autodiff-on-arrays: how the grader calls your Tensor operations, backward and zero_grad.

**One operation** (``add``, ``mul``/``div``, ``matmul``, ``tensor_sum``, ``reshape``/``transpose``,
``exp``/``log``/``tanh``/``relu``, ``softmax_cross_entropy``): the probe makes the inputs with *your*
``Tensor`` class (so that nothing but your operation and your class runs), may give them a gradient
already (as if they had received some from elsewhere: yours must add to it), calls your operation,
sets ``out.grad`` to a given ``dout`` and calls ``out._backward()`` once. It returns ``out.data`` and
each input's ``grad``; if ``_backward`` raises, the error (and where in your code) instead.

Your ``add``, ``mul`` and ``div`` are lent bplib's ``unbroadcast``, and your ``zero_grad`` bplib's
``topological_order``, while they are checked (:func:`lent`): each exercise is judged on its own.

**backward and zero_grad**: the probe builds a small graph with bplib's reference operations
(:mod:`bplib.tensor`, so a bug in one of your operations cannot cost you these points) from a
*program*, ``((target, op, operand names[, labels]), ...)`` over named input arrays, then calls
your ``backward(root)`` (and your ``topological_order(root)``) or your ``zero_grad(root)`` on it.
"""

import contextlib

import numpy as np

from bplib.grading import describe_error
from bplib.tensor import Tensor as ReferenceTensor
from bplib.tensor import softmax_cross_entropy as reference_softmax_cross_entropy
from bplib.tensor import topological_order as reference_topological_order
from bplib.tensor import unbroadcast as reference_unbroadcast

_MISSING = object()


@contextlib.contextmanager
def lent(function, name, replacement):
    """While active, the global ``name`` that ``function`` (your code) sees is ``replacement``.

    Your ``add``, ``mul`` and ``div`` call your ``unbroadcast``, and your ``zero_grad`` calls your
    ``topological_order``: the probes lend them bplib's during their own check, so that each
    exercise is judged on its own (a mistake in ``unbroadcast`` costs Exercise 1's points only).
    Your own functions are put back afterwards.
    """
    namespace = getattr(function, "__globals__", None)
    if not isinstance(namespace, dict):
        yield
        return
    saved = namespace.get(name, _MISSING)
    namespace[name] = replacement
    try:
        yield
    finally:
        if saved is _MISSING:
            namespace.pop(name, None)
        else:
            namespace[name] = saved


def leaf(Tensor, data, grad=None):
    """A new input made with the class ``Tensor``, optionally holding a gradient already."""
    tensor = Tensor(np.array(data, dtype=float))
    if grad is not None:
        tensor.grad = np.array(grad, dtype=float)
    return tensor


def run_backward(out, dout, inputs):
    """Set ``out.grad = dout``, call ``out._backward()``; ``{"out.data": ..., "a.grad": ...}``.

    ``inputs`` = {name: input Tensor}. If ``out`` is not a Tensor-like node, or ``_backward`` raises,
    the result says so instead (``{"returned": type}`` or ``{"error": description}``).
    """
    if not (hasattr(out, "data") and hasattr(out, "_backward")):
        return {"returned": type(out).__name__}
    forward = np.array(out.data, dtype=float)
    out.grad = np.array(dout, dtype=float)
    try:
        out._backward()
    except NotImplementedError:
        raise
    except Exception as error:  # noqa: BLE001 - the learner's backward may raise anything
        return {"out.data": forward, "error": describe_error(error)}
    return {"out.data": forward, **{f"{name}.grad": tensor.grad for name, tensor in inputs.items()}}


def binary(op, Tensor, x, y, dout, grad_a, grad_b, same):
    """``out = op(a, b)`` (``op(a, a)`` if ``same``), then one ``_backward`` with ``out.grad = dout``."""
    a = leaf(Tensor, x, grad_a)
    b = a if same else leaf(Tensor, y, grad_b)
    inputs = {"a": a} if same else {"a": a, "b": b}
    return run_backward(op(a, b), dout, inputs)


def probe_add(add, Tensor, *case):
    with lent(add, "unbroadcast", reference_unbroadcast):
        return binary(add, Tensor, *case)


def probe_mul_div(mul, div, Tensor, *case):
    with lent(mul, "unbroadcast", reference_unbroadcast), lent(div, "unbroadcast", reference_unbroadcast):
        return {"mul": binary(mul, Tensor, *case), "div": binary(div, Tensor, *case)}


def probe_matmul(matmul, Tensor, *case):
    return binary(matmul, Tensor, *case)


def probe_sum(tensor_sum, Tensor, x, axis, keepdims, dout, grad_a):
    a = leaf(Tensor, x, grad_a)
    return run_backward(tensor_sum(a, axis, keepdims), dout, {"a": a})


def probe_reshape_transpose(reshape, transpose, Tensor, x, shape, axes, dout_reshape, dout_transpose,
                            grad_a):
    a = leaf(Tensor, x, grad_a)
    reshaped = run_backward(reshape(a, shape), dout_reshape, {"a": a})
    a = leaf(Tensor, x, grad_a)
    transposed = run_backward(transpose(a, axes), dout_transpose, {"a": a})
    return {"reshape": reshaped, "transpose": transposed}


def probe_elementwise(exp, log, tanh, relu, Tensor, x, positive, dout, grad_a):
    """Each function on ``x`` (``log`` on the positive array ``positive``), one backward each."""
    results = {}
    for name, op, data in (("exp", exp, x), ("log", log, positive), ("tanh", tanh, x), ("relu", relu, x)):
        a = leaf(Tensor, data, grad_a)
        results[name] = run_backward(op(a), dout, {"a": a})
    return results


def probe_softmax_cross_entropy(softmax_cross_entropy, Tensor, logits, labels, dout, grad_logits):
    z = leaf(Tensor, logits, grad_logits)
    out = softmax_cross_entropy(z, np.array(labels))
    result = run_backward(out, dout, {"logits": z})
    if "out.data" in result:
        result["loss"] = result.pop("out.data")
    return result


# --- whole graphs, built with bplib's reference operations ---------------------------------------

OPS = {
    "+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b, "/": lambda a, b: a / b,
    "@": lambda a, b: a @ b, "sum": lambda a: a.sum(), "sum0": lambda a: a.sum(axis=0),
    "sum1": lambda a: a.sum(axis=1, keepdims=True), "mean": lambda a: a.mean(),
    "tanh": lambda a: a.tanh(), "exp": lambda a: a.exp(), "relu": lambda a: a.relu(),
    "T": lambda a: a.T, "sce": lambda a, labels: reference_softmax_cross_entropy(a, np.array(labels)),
}


def build(program, inputs):
    """The graph of ``program`` made of bplib Tensors: (the input nodes by name, every named node,
    the root = the last target)."""
    leaves = {name: ReferenceTensor(np.array(value, dtype=float), label=name) for name, value in inputs}
    nodes = dict(leaves)
    for target, op, operands, *labels in program:
        out = OPS[op](*(nodes[name] for name in operands), *labels)
        out.label = target
        nodes[target] = out
    return leaves, nodes, nodes[program[-1][0]]


def all_nodes(root):
    """Every node ``root`` depends on, root first, each once (in no particular order: this only
    names the nodes, it does not sort them)."""
    found, stack, seen = [], [root], set()
    while stack:
        node = stack.pop()
        if id(node) not in seen:
            seen.add(id(node))
            found.append(node)
            stack.extend(node._children)
    return found


def node_names(root):
    """{id(node): name} for every node of the graph: its label, or "#i (op)" for a node that an
    operation made internally (e.g. the constant -1 of a subtraction)."""
    return {id(node): node.label or f"#{i} ({node.op or 'constant'})"
            for i, node in enumerate(all_nodes(root))}


def probe_backward(topological_order, backward, program, inputs, calls):
    """Your ``topological_order(root)`` (as node names), and the gradient of every input and of
    the root after ``calls`` calls of your ``backward(root)``."""
    _, _, root = build(program, inputs)
    names = node_names(root)
    order = topological_order(root)
    if isinstance(order, (list, tuple)):
        order = tuple(names.get(id(node), "?") for node in order)
    leaves, _, root = build(program, inputs)
    for _ in range(calls):
        backward(root)
    grads = {f"{name}.grad": node.grad for name, node in leaves.items()}
    grads[f"{root.label}.grad"] = root.grad
    return {"order": order, "grads": grads}


def _snapshot(grad):
    """A copy of an array (the next backward adds into it in place); anything else as it is."""
    return grad.copy() if isinstance(grad, np.ndarray) else grad


def probe_zero_grad(zero_grad, program, inputs):
    """bplib's backward, then your ``zero_grad(root)``: every node's grad; then bplib's backward
    again: every input's gradient (right only if zero_grad reached every node)."""
    leaves, _, root = build(program, inputs)
    root.backward()
    with lent(zero_grad, "topological_order", reference_topological_order):
        zero_grad(root)
    names = node_names(root)
    after = {names[id(node)]: _snapshot(node.grad) for node in all_nodes(root)}
    root.backward()
    return {"after zero_grad": after,
            "after a new backward": {f"{name}.grad": node.grad for name, node in leaves.items()}}
