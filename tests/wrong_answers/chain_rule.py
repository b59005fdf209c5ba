"""Typical wrong answers to lesson 02-chain-rule (see tests/wrong_answers/__init__.py)."""


def _op(name, signature, forward, backward_lines, op):
    """The source of an answer cell for one Value operation with the given (wrong) backward."""
    inputs = "(a, b)" if signature == "a, b" else "(a,)"
    body = "\n".join(f"        {line}" for line in backward_lines)
    return f'''
def {name}({signature}):
    out = Value({forward}, {inputs}, {op!r})

    def _backward():
{body}

    out._backward = _backward
    return out
'''


RIGHT_LOCAL_DERIVATIVES = '''
def local_derivatives(x, y):
    return {
        "x + y": (1.0, 1.0),
        "x * y": (y, x),
        "x / y": (1 / y, -x / y ** 2),
        "x ** 3": 3 * x ** 2,
        "tanh(x)": 1 - math.tanh(x) ** 2,
        "exp(x)": math.exp(x),
    }
'''


NEURON = '''
def neuron_gradients(x, w, b, t, lam):
    z = w * x + b
    s = 1 / (1 + math.exp(-z))
    e = s - t
    dL = 1.0
    de = dL * 2 * e
    dt = de * -1.0
    ds = de * 1.0
    dz = ds * s * (1 - s)
    db = dz * 1.0
    dx = dz * w
    dw = dz * x + dL * lam * 2 * w
    return {"dx": dx, "dw": dw, "db": db, "dt": dt}
'''


def _local(right, wrong):
    """local_derivatives with one right formula replaced by a wrong one."""
    assert right in RIGHT_LOCAL_DERIVATIVES
    return RIGHT_LOCAL_DERIVATIVES.replace(right, wrong)


WRONG = {
    "local_derivatives": {
        "product partners swapped": _local("(y, x)", "(x, y)"),
        "quotient: sign of d/dy": _local("-x / y ** 2", "x / y ** 2"),
        "power rule: exponent not lowered": _local("3 * x ** 2", "3 * x ** 3"),
        "tanh: square missing": _local("1 - math.tanh(x) ** 2", "1 - math.tanh(x)"),
        "tanh: squares the input": _local("1 - math.tanh(x) ** 2", "1 - x ** 2"),
        "sum: zero for y": _local("(1.0, 1.0)", "(1.0, 0.0)"),
        "quotient: x missing from the numerator": _local("-x / y ** 2", "-1 / y ** 2"),
        "quotient: y not squared": _local("-x / y ** 2", "-x / y"),
        "quotient rule numerator mixed up": _local("-x / y ** 2", "(y - x) / y ** 2"),
        "uses bplib's Value": '''
def local_derivatives(x, y):
    from bplib.autograd import Value as V
    out = {}
    for key, f in {"x + y": lambda a, b: a + b, "x * y": lambda a, b: a * b,
                   "x / y": lambda a, b: a / b}.items():
        a, b = V(x), V(y)
        f(a, b).backward()
        out[key] = (a.grad, b.grad)
    for key, f in {"x ** 3": lambda a: a ** 3, "tanh(x)": lambda a: a.tanh(),
                   "exp(x)": lambda a: a.exp()}.items():
        a = V(x)
        f(a).backward()
        out[key] = a.grad
    return out
''',
    },
    "neuron_gradients": {
        "one path for w": NEURON.replace("dw = dz * x + dL * lam * 2 * w", "dw = dz * x"),
        "tanh's derivative for the sigmoid": NEURON.replace("dz = ds * s * (1 - s)",
                                                            "dz = ds * (1 - s ** 2)"),
        "factor 2 missing": NEURON.replace("de = dL * 2 * e", "de = dL * e"),
        "sign of dt": NEURON.replace("dt = de * -1.0", "dt = de"),
        "dx uses x": NEURON.replace("dx = dz * w", "dx = dz * x"),
        "uses bplib's Value": '''
def neuron_gradients(x, w, b, t, lam):
    from bplib.autograd import Value
    xv, wv, bv, tv = Value(x), Value(w), Value(b), Value(t)
    L = ((wv * xv + bv).sigmoid() - tv) ** 2 + lam * wv ** 2
    L.backward()
    return {"dx": xv.grad, "dw": wv.grad, "db": bv.grad, "dt": tv.grad}
''',
    },
    "add": {
        "overwrites with =": _op("add", "a, b", "a.data + b.data",
                                 ["a.grad = out.grad", "b.grad = out.grad"], "+"),
        "forgets out.grad": _op("add", "a, b", "a.data + b.data", ["a.grad += 1.0", "b.grad += 1.0"], "+"),
        "only the first input": _op("add", "a, b", "a.data + b.data", ["a.grad += out.grad"], "+"),
        "halves between inputs": _op("add", "a, b", "a.data + b.data",
                                     ["a.grad += out.grad / 2", "b.grad += out.grad / 2"], "+"),
        "lets bplib's Value add": '''
def add(a, b):
    return a + b
''',
    },
    "mul": {
        "partners swapped": _op("mul", "a, b", "a.data * b.data",
                                ["a.grad += out.grad * a.data", "b.grad += out.grad * b.data"], "*"),
        "overwrites with =": _op("mul", "a, b", "a.data * b.data",
                                 ["a.grad = out.grad * b.data", "b.grad = out.grad * a.data"], "*"),
        "forgets out.grad": _op("mul", "a, b", "a.data * b.data",
                                ["a.grad += b.data", "b.grad += a.data"], "*"),
        "like addition": _op("mul", "a, b", "a.data * b.data",
                             ["a.grad += out.grad", "b.grad += out.grad"], "*"),
    },
    "power": {
        "exponent not lowered": _op("power", "a, k", "a.data ** k",
                                    ["a.grad += out.grad * k * a.data ** k"], "**"),
        "factor k missing": _op("power", "a, k", "a.data ** k",
                                ["a.grad += out.grad * a.data ** (k - 1)"], "**"),
        "overwrites with =": _op("power", "a, k", "a.data ** k",
                                 ["a.grad = out.grad * k * a.data ** (k - 1)"], "**"),
        "precedence: k - 1 outside the power": _op("power", "a, k", "a.data ** k",
                                                   ["a.grad += out.grad * k * a.data ** k - 1"], "**"),
    },
    "tanh": {
        "square missing": _op("tanh", "a", "math.tanh(a.data)", ["a.grad += out.grad * (1 - out.data)"],
                              "tanh"),
        "squares the input": _op("tanh", "a", "math.tanh(a.data)",
                                 ["a.grad += out.grad * (1 - a.data ** 2)"], "tanh"),
        "overwrites with =": _op("tanh", "a", "math.tanh(a.data)",
                                 ["a.grad = out.grad * (1 - out.data ** 2)"], "tanh"),
        "forgets out.grad": _op("tanh", "a", "math.tanh(a.data)", ["a.grad += 1 - out.data ** 2"], "tanh"),
    },
    "exp": {
        "uses the input": _op("exp", "a", "math.exp(a.data)", ["a.grad += out.grad * a.data"], "exp"),
        "exp of the output": _op("exp", "a", "math.exp(a.data)",
                                 ["a.grad += out.grad * math.exp(out.data)"], "exp"),
        "overwrites with =": _op("exp", "a", "math.exp(a.data)", ["a.grad = out.grad * out.data"], "exp"),
        "forgets out.grad": _op("exp", "a", "math.exp(a.data)", ["a.grad += out.data"], "exp"),
    },
    "topological_order": {
        "no visited set: duplicates": '''
def topological_order(root):
    order = []

    def visit(node):
        for child in node._children:
            visit(child)
        order.append(node)

    visit(root)
    return order
''',
        "node before its children": '''
def topological_order(root):
    order, visited = [], set()

    def visit(node):
        if node in visited:
            return
        visited.add(node)
        order.append(node)
        for child in node._children:
            visit(child)

    visit(root)
    return order
''',
        "reversed breadth-first": '''
def topological_order(root):
    order, visited, queue = [], {root}, [root]
    while queue:
        node = queue.pop(0)
        order.append(node)
        for child in node._children:
            if child not in visited:
                visited.add(child)
                queue.append(child)
    return order[::-1]
''',
        "children only, no root": '''
def topological_order(root):
    order, visited = [], set()

    def visit(node):
        for child in node._children:
            if child not in visited:
                visited.add(child)
                visit(child)
                order.append(child)

    visit(root)
    return order
''',
        "calls bplib's topological_order": '''
def topological_order(root):
    from bplib import autograd
    return autograd.topological_order(root)
''',
        "root first": '''
def topological_order(root):
    order, visited = [], set()

    def visit(node):
        if node in visited:
            return
        visited.add(node)
        for child in node._children:
            visit(child)
        order.append(node)

    visit(root)
    return order[::-1]
''',
    },
    "backward": {
        "not reversed": '''
def backward(root):
    root.grad = 1.0
    for node in topological_order(root):
        node._backward()
''',
        "forgets root.grad = 1": '''
def backward(root):
    for node in reversed(topological_order(root)):
        node._backward()
''',
        "resets every gradient first": '''
def backward(root):
    for node in topological_order(root):
        node.grad = 0.0
    root.grad = 1.0
    for node in reversed(topological_order(root)):
        node._backward()
''',
        "only the root's own step": '''
def backward(root):
    root.grad = 1.0
    root._backward()
''',
        "adds 1 to root.grad": '''
def backward(root):
    root.grad += 1.0
    for node in reversed(topological_order(root)):
        node._backward()
''',
        "calls bplib's backward": '''
def backward(root):
    import bplib.autograd
    bplib.autograd.Value.backward(root)
''',
    },
}
