"""Typical wrong answers to lesson 10-autodiff-on-arrays (see tests/wrong_answers/__init__.py)."""


def _op(name, signature, forward, children, backward_lines, op):
    """The source of an answer cell for one Tensor operation with the given (wrong) backward."""
    body = "\n".join(f"        {line}" for line in backward_lines)
    return f'''
def {name}({signature}):
    out = Tensor({forward}, {children}, {op!r})

    def _backward():
{body}

    out._backward = _backward
    return out
'''


def _add(*lines):
    return _op("add", "a, b", "a.data + b.data", "(a, b)", lines, "+")


def _matmul(*lines):
    return _op("matmul", "a, b", "a.data @ b.data", "(a, b)", lines, "@")


def _sum(*lines):
    return _op("tensor_sum", "a, axis=None, keepdims=False", "a.data.sum(axis=axis, keepdims=keepdims)",
               "(a,)", lines, "sum")


RIGHT_MUL = ["a.grad += unbroadcast(out.grad * b.data, a.shape)",
             "b.grad += unbroadcast(out.grad * a.data, b.shape)"]
RIGHT_DIV = ["a.grad += unbroadcast(out.grad / b.data, a.shape)",
             "b.grad += unbroadcast(-out.grad * a.data / b.data ** 2, b.shape)"]


def _mul_div(mul_lines=RIGHT_MUL, div_lines=RIGHT_DIV):
    return (_op("mul", "a, b", "a.data * b.data", "(a, b)", mul_lines, "*")
            + _op("div", "a, b", "a.data / b.data", "(a, b)", div_lines, "/"))


RIGHT_RESHAPE = ["a.grad += out.grad.reshape(a.shape)"]
RIGHT_TRANSPOSE = ["a.grad += out.grad.transpose(None if axes is None else np.argsort(axes))"]


def _reshape_transpose(reshape_lines=RIGHT_RESHAPE, transpose_lines=RIGHT_TRANSPOSE):
    return (_op("reshape", "a, shape", "a.data.reshape(shape)", "(a,)", reshape_lines, "reshape")
            + _op("transpose", "a, axes=None", "a.data.transpose(axes)", "(a,)", transpose_lines, "T"))


ELEMENTWISE = {
    "exp": ("np.exp(a.data)", ["a.grad += out.grad * out.data"]),
    "log": ("np.log(a.data)", ["a.grad += out.grad / a.data"]),
    "tanh": ("np.tanh(a.data)", ["a.grad += out.grad * (1 - out.data ** 2)"]),
    "relu": ("np.maximum(a.data, 0.0)", ["a.grad += out.grad * (a.data > 0)"]),
}


def _elementwise(name, wrong_line):
    source = ""
    for op, (forward, lines) in ELEMENTWISE.items():
        source += _op(op, "a", forward, "(a,)", [wrong_line] if op == name else lines, op)
    return source


RIGHT_TOPOLOGICAL_ORDER = '''
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
    return order
'''

RIGHT_BACKWARD = '''
def backward(root):
    root.grad = np.ones_like(root.data)
    for node in reversed(topological_order(root)):
        node._backward()
'''


def _sce(forward_lines, backward_lines, returns="out"):
    forward = "\n".join(f"    {line}" for line in forward_lines)
    backward = "\n".join(f"        {line}" for line in backward_lines)
    return f'''
def softmax_cross_entropy(logits, labels):
    z = logits.data
    n = z.shape[0]
{forward}
    out = Tensor(loss, (logits,), "softmax-xent")

    def _backward():
{backward}

    out._backward = _backward
    return {returns}
'''


STABLE = ["shifted = z - z.max(axis=1, keepdims=True)",
          "log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))",
          "loss = -log_probs[np.arange(n), labels].mean()"]
RIGHT_SCE_BACKWARD = ["dlogits = np.exp(log_probs)", "dlogits[np.arange(n), labels] -= 1.0",
                      "logits.grad += out.grad * dlogits / n"]


def _train(body):
    """train_digits with the given training loop body (after the parameters are made)."""
    return f'''
def train_digits(X_train, y_train):
    mean, std = X_train.mean(axis=0), X_train.std(axis=0)
    std = np.where(std == 0, 1.0, std)
    X = (X_train - mean) / std
    rng = np.random.default_rng(0)
    W1 = Tensor(rng.standard_normal((64, 256)) * np.sqrt(2 / 64))
    b1 = Tensor(np.zeros(256))
    W2 = Tensor(rng.standard_normal((256, 10)) * np.sqrt(2 / 256))
    b2 = Tensor(np.zeros(10))
{body}
'''


PREDICT = '''
    def predict(images):
        logits = (Tensor((images - mean) / std) @ W1 + b1).relu() @ W2 + b2
        return logits.data.argmax(axis=1)
    return predict'''


def _loop(learning_rate="2e-3", epochs=30, zero="            loss.zero_grad()\n", predict=PREDICT):
    return _train(f'''    parameters = TensorParameters(W1=W1, b1=b1, W2=W2, b2=b2)
    optimizer = Adam(parameters, learning_rate={learning_rate})
    order_rng = np.random.default_rng(0)
    for epoch in range({epochs}):
        order = order_rng.permutation(len(X))
        for start in range(0, len(X), 64):
            batch = order[start:start + 64]
            logits = (Tensor(X[batch]) @ W1 + b1).relu() @ W2 + b2
            loss = softmax_cross_entropy(logits, y_train[batch])
{zero}            loss.backward()
            optimizer.step()
{predict}''')


WRONG = {
    "unbroadcast": {
        "leading axes only": '''
def unbroadcast(grad, shape):
    while grad.ndim > len(shape):
        grad = grad.sum(axis=0)
    return grad
''',
        "no keepdims": '''
def unbroadcast(grad, shape):
    while grad.ndim > len(shape):
        grad = grad.sum(axis=0)
    for axis, size in enumerate(shape):
        if size == 1 and grad.shape[axis] != 1:
            grad = grad.sum(axis=axis)
    return grad
''',
        "mean instead of sum": '''
def unbroadcast(grad, shape):
    while grad.ndim > len(shape):
        grad = grad.mean(axis=0)
    for axis, size in enumerate(shape):
        if size == 1 and grad.shape[axis] != 1:
            grad = grad.mean(axis=axis, keepdims=True)
    return grad
''',
        "sums the trailing axes": '''
def unbroadcast(grad, shape):
    while grad.ndim > len(shape):
        grad = grad.sum(axis=-1)
    for axis, size in enumerate(shape):
        if size == 1 and grad.shape[axis] != 1:
            grad = grad.sum(axis=axis, keepdims=True)
    return grad
''',
        "returns grad unchanged": '''
def unbroadcast(grad, shape):
    return grad
''',
    },
    "add": {
        "overwrites with =": _add("a.grad = unbroadcast(out.grad, a.shape)",
                                  "b.grad = unbroadcast(out.grad, b.shape)"),
        "no unbroadcast": _add("a.grad += out.grad", "b.grad += out.grad"),
        "forgets out.grad": _add("a.grad += unbroadcast(np.ones_like(out.grad), a.shape)",
                                 "b.grad += unbroadcast(np.ones_like(out.grad), b.shape)"),
        "not in place, no unbroadcast": _add("a.grad = a.grad + out.grad", "b.grad = b.grad + out.grad"),
        "only the first input": _add("a.grad += unbroadcast(out.grad, a.shape)"),
    },
    "backward": {
        "not reversed": RIGHT_TOPOLOGICAL_ORDER + '''
def backward(root):
    root.grad = np.ones_like(root.data)
    for node in topological_order(root):
        node._backward()
''',
        "no visited set": '''
def topological_order(root):
    order = []

    def visit(node):
        for child in node._children:
            visit(child)
        order.append(node)

    visit(root)
    return order
''' + RIGHT_BACKWARD,
        "root gradient accumulated": RIGHT_TOPOLOGICAL_ORDER + '''
def backward(root):
    root.grad += np.ones_like(root.data)
    for node in reversed(topological_order(root)):
        node._backward()
''',
        "resets every gradient": RIGHT_TOPOLOGICAL_ORDER + '''
def backward(root):
    order = topological_order(root)
    for node in order:
        node.grad = np.zeros_like(node.data)
    root.grad = np.ones_like(root.data)
    for node in reversed(order):
        node._backward()
''',
        "forgets the root's gradient": RIGHT_TOPOLOGICAL_ORDER + '''
def backward(root):
    for node in reversed(topological_order(root)):
        node._backward()
''',
        "breadth-first order": '''
def topological_order(root):
    order, seen, queue = [], {root}, [root]
    while queue:
        node = queue.pop(0)
        order.append(node)
        for child in node._children:
            if child not in seen:
                seen.add(child)
                queue.append(child)
    return order[::-1]
''' + RIGHT_BACKWARD,
    },
    "zero_grad": {
        "only the root": '''
def zero_grad(root):
    root.grad = np.zeros_like(root.data)
''',
        "only the inputs": '''
def zero_grad(root):
    for node in topological_order(root):
        if not node._children:
            node.grad = np.zeros_like(node.data)
''',
        "a plain 0": '''
def zero_grad(root):
    for node in topological_order(root):
        node.grad = 0.0
''',
        "only the root's children": '''
def zero_grad(root):
    root.grad = np.zeros_like(root.data)
    for child in root._children:
        child.grad = np.zeros_like(child.data)
''',
    },
    "mul_div": {
        "mul: partners swapped": _mul_div(mul_lines=["a.grad += unbroadcast(out.grad * a.data, a.shape)",
                                                     "b.grad += unbroadcast(out.grad * b.data, b.shape)"]),
        "mul: overwrites with =": _mul_div(mul_lines=["a.grad = unbroadcast(out.grad * b.data, a.shape)",
                                                      "b.grad = unbroadcast(out.grad * a.data, b.shape)"]),
        "div: sign of d/db": _mul_div(div_lines=[
            "a.grad += unbroadcast(out.grad / b.data, a.shape)",
            "b.grad += unbroadcast(out.grad * a.data / b.data ** 2, b.shape)"]),
        "div: d/db without a": _mul_div(div_lines=[
            "a.grad += unbroadcast(out.grad / b.data, a.shape)",
            "b.grad += unbroadcast(-out.grad / b.data ** 2, b.shape)"]),
        "div: no unbroadcast": _mul_div(div_lines=["a.grad += out.grad / b.data",
                                                   "b.grad += -out.grad * a.data / b.data ** 2"]),
    },
    "matmul": {
        "no transposes": _matmul("a.grad += out.grad @ b.data", "b.grad += a.data @ out.grad"),
        "factors swapped": _matmul("a.grad += b.data.T @ out.grad", "b.grad += out.grad @ a.data.T"),
        "overwrites with =": _matmul("a.grad = out.grad @ b.data.T", "b.grad = a.data.T @ out.grad"),
        "elementwise product": _matmul("a.grad += out.grad * b.data", "b.grad += a.data * out.grad"),
    },
    "tensor_sum": {
        "no expand_dims": _sum("a.grad += np.broadcast_to(out.grad, a.shape)"),
        "divides by the count": _sum(
            "grad = out.grad if keepdims or axis is None else np.expand_dims(out.grad, axis)",
            "a.grad += np.broadcast_to(grad, a.shape) * out.data.size / a.data.size"),
        "overwrites with =": _sum(
            "grad = out.grad if keepdims or axis is None else np.expand_dims(out.grad, axis)",
            "a.grad = np.broadcast_to(grad, a.shape).copy()"),
        "forgets out.grad": _sum("a.grad += 1.0"),
    },
    "reshape_transpose": {
        "transposes back with the same axes": _reshape_transpose(
            transpose_lines=["a.grad += out.grad.transpose(axes)"]),
        "reshape overwrites with =": _reshape_transpose(reshape_lines=["a.grad = out.grad.reshape(a.shape)"]),
        "reshape flattens": _reshape_transpose(reshape_lines=["a.grad += out.grad.reshape(-1)"]),
        "transpose not undone": _reshape_transpose(transpose_lines=["a.grad += out.grad"]),
    },
    "elementwise": {
        "exp uses the input": _elementwise("exp", "a.grad += out.grad * a.data"),
        "tanh squares the input": _elementwise("tanh", "a.grad += out.grad * (1 - a.data ** 2)"),
        "relu counts the kink": _elementwise("relu", "a.grad += out.grad * (a.data >= 0)"),
        "log divides by the output": _elementwise("log", "a.grad += out.grad / out.data"),
        "relu passes everything": _elementwise("relu", "a.grad += out.grad"),
    },
    "softmax_cross_entropy": {
        "not divided by N": _sce(STABLE, ["dlogits = np.exp(log_probs)",
                                          "dlogits[np.arange(n), labels] -= 1.0",
                                          "logits.grad += out.grad * dlogits"]),
        "unstable": _sce(["probs = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)",
                          "log_probs = np.log(probs)", "loss = -log_probs[np.arange(n), labels].mean()"],
                         RIGHT_SCE_BACKWARD),
        "forgets out.grad": _sce(STABLE, ["dlogits = np.exp(log_probs)",
                                          "dlogits[np.arange(n), labels] -= 1.0",
                                          "logits.grad += dlogits / n"]),
        "no one-hot subtraction": _sce(STABLE, ["logits.grad += out.grad * np.exp(log_probs) / n"]),
        "sum instead of mean": _sce(STABLE[:2] + ["loss = -log_probs[np.arange(n), labels].sum()"],
                                    ["dlogits = np.exp(log_probs)", "dlogits[np.arange(n), labels] -= 1.0",
                                     "logits.grad += out.grad * dlogits"]),
        "returns a float": _sce(STABLE, RIGHT_SCE_BACKWARD, returns="float(loss)"),
    },
    "train_digits": {
        "no zero_grad": _loop(zero=""),
        "predict on raw pixels": _loop(predict='''
    def predict(images):
        logits = (Tensor(images) @ W1 + b1).relu() @ W2 + b2
        return logits.data.argmax(axis=1)
    return predict'''),
        "one epoch at a tiny learning rate": _loop(learning_rate="1e-5", epochs=1),
        "lesson 8's bplib network": '''
def train_digits(X_train, y_train):
    from bplib.losses import SoftmaxCrossEntropyLoss
    from bplib.network import mlp
    from bplib.train import fit, predict
    mean, std = X_train.mean(axis=0), X_train.std(axis=0)
    std = np.where(std == 0, 1.0, std)
    model = mlp([64, 256, 10], rng=0)
    fit(model, SoftmaxCrossEntropyLoss(), Adam(model, learning_rate=2e-3), (X_train - mean) / std,
        y_train, epochs=30, batch_size=64, rng=0, progress=False)
    return lambda images: predict(model, (images - mean) / std)
''',
        "scores instead of labels": _loop(predict='''
    def predict(images):
        return ((Tensor((images - mean) / std) @ W1 + b1).relu() @ W2 + b2).data
    return predict'''),
    },
}
