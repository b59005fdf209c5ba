"""Lesson 02-chain-rule: how the grader calls your Value operations, topological_order and backward.

The probes build small graphs of :class:`bplib.autograd.Value` nodes (your functions read only
``data``, ``grad``, ``_children`` and ``_backward``, which the notebook's ``Value`` shares), call your
function on them and return plain numbers or node names.
"""

from bplib.autograd import Value


def probe_binary(op, x, y, dout, grad_a, grad_b, same):
    """``out = op(a, b)`` (or ``op(a, a)``), then ``out._backward()`` with ``out.grad = dout``.

    The inputs are bplib Values: the learner's function reads only their ``data`` and ``grad``.
    """
    a = Value(x)
    a.grad = grad_a
    b = a
    if not same:
        b = Value(y)
        b.grad = grad_b
    out = op(a, b)
    out.grad = dout
    out._backward()
    return {"out.data": out.data, "a.grad": a.grad, "b.grad": b.grad}


def probe_unary(op, x, dout, grad_a, *parameters):
    """``out = op(a, *parameters)``, then ``out._backward()`` with ``out.grad = dout``."""
    a = Value(x)
    a.grad = grad_a
    out = op(a, *parameters)
    out.grad = dout
    out._backward()
    return {"out.data": out.data, "a.grad": a.grad}


def probe_topological_order(topological_order, edges, root):
    """Build the graph ``edges`` ((name, children names), children first) and return the names of
    the nodes in the order the learner lists them ("?" for anything that is not one of them)."""
    nodes = {}
    for name, children in edges:
        nodes[name] = Value(1.0, tuple(nodes[c] for c in children), "+" if children else "", name)
    names = {id(node): name for name, node in nodes.items()}
    order = topological_order(nodes[root])
    if order is None or not hasattr(order, "__iter__"):
        return order
    return tuple(names.get(id(node), "?") for node in order)


# op -> how bplib's Value computes it (each op's own backward is bplib's)
VALUE_OPS = {"+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b,
             "**2": lambda a: a ** 2, "**3": lambda a: a ** 3, "tanh": lambda a: a.tanh(),
             "exp": lambda a: a.exp()}


def build(program, inputs):
    """The graph of ``program`` ((target, op, operand names), ...) made of bplib Values.
    Returns the input nodes (a dict) and the root (the last target)."""
    leaves = {name: Value(value, label=name) for name, value in inputs}
    nodes = dict(leaves)
    for target, op, operands in program:
        out = VALUE_OPS[op](*(nodes[name] for name in operands))
        out.label = target
        nodes[target] = out
    return leaves, nodes[program[-1][0]]


def probe_backward(backward, program, inputs, calls):
    """Call the learner's ``backward(root)`` ``calls`` times on the program's graph; every input's
    gradient."""
    leaves, root = build(program, inputs)
    for _ in range(calls):
        backward(root)
    return {f"{name}.grad": leaf.grad for name, leaf in leaves.items()}
