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
    },
    "add": {
        "overwrites with =": _op("add", "a, b", "a.data + b.data",
                                 ["a.grad = out.grad", "b.grad = out.grad"], "+"),
        "forgets out.grad": _op("add", "a, b", "a.data + b.data", ["a.grad += 1.0", "b.grad += 1.0"], "+"),
        "only the first input": _op("add", "a, b", "a.data + b.data", ["a.grad += out.grad"], "+"),
        "halves between inputs": _op("add", "a, b", "a.data + b.data",
                                     ["a.grad += out.grad / 2", "b.grad += out.grad / 2"], "+"),
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
    },
}
