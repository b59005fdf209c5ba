"""Typical wrong answers to lesson 03-backward-pass (see tests/wrong_answers/__init__.py)."""

WRONG = {
    "dense_backward": {
        "dW = x @ dout": '''
def dense_backward(dout, cache):
    x, W, b = cache
    return dout @ W.T, x @ dout, dout.sum(axis=0)
''',
        "finite differences instead of a backward pass": '''
def dense_backward(dout, cache):
    x, W, b = cache
    x, W, b = x.copy(), W.copy(), b.copy()
    return tuple(numerical_gradient(lambda: x @ W + b, a, dout=dout) for a in (x, W, b))
''',
        "calls bplib's Linear": '''
def dense_backward(dout, cache):
    from bplib.layers import Linear
    x, W, b = cache
    layer = Linear(*W.shape)
    layer.params["W"][...], layer.params["b"][...] = W, b
    layer.forward(x)
    dx = layer.backward(dout)
    return dx, layer.grads["W"], layer.grads["b"]
''',
        "transposed dW": '''
def dense_backward(dout, cache):
    x, W, b = cache
    return dout @ W.T, dout.T @ x, dout.sum(axis=0)
''',
        "db not summed over the batch": '''
def dense_backward(dout, cache):
    x, W, b = cache
    return dout @ W.T, x.T @ dout, dout
''',
        "db averaged": '''
def dense_backward(dout, cache):
    x, W, b = cache
    return dout @ W.T, x.T @ dout, dout.mean(axis=0)
''',
        "dW divided by N": '''
def dense_backward(dout, cache):
    x, W, b = cache
    return dout @ W.T, x.T @ dout / x.shape[0], dout.sum(axis=0)
''',
        "dx without the transpose": '''
def dense_backward(dout, cache):
    x, W, b = cache
    return dout @ W, x.T @ dout, dout.sum(axis=0)
''',
        "wrong sign": '''
def dense_backward(dout, cache):
    x, W, b = cache
    return -dout @ W.T, -x.T @ dout, -dout.sum(axis=0)
''',
    },
    "relu_backward": {
        "uses bplib's array autodiff": '''
from bplib import tensor

def relu_backward(dout, cache):
    x = tensor.Tensor(cache)
    (x.relu() * tensor.Tensor(dout)).sum().backward()
    return x.grad
''',
        "forgot dout": '''
def relu_backward(dout, cache):
    x = cache
    return (x > 0).astype(float)
''',
        "no mask": '''
def relu_backward(dout, cache):
    return dout
''',
        "mask from dout": '''
def relu_backward(dout, cache):
    return np.maximum(dout, 0)
''',
        "mask inverted": '''
def relu_backward(dout, cache):
    x = cache
    return dout * (x <= 0)
''',
        "calls bplib's ReLU": '''
def relu_backward(dout, cache):
    from bplib.layers import ReLU
    layer = ReLU()
    layer.forward(cache)
    return layer.backward(dout)
''',
    },
    "sigmoid_backward": {
        "sigmoid applied to the cached output": '''
def sigmoid_backward(dout, cache):
    s = sigmoid(cache)
    return dout * s * (1 - s)
''',
        "forgot dout": '''
def sigmoid_backward(dout, cache):
    out = cache
    return out * (1 - out)
''',
        "tanh derivative": '''
def sigmoid_backward(dout, cache):
    out = cache
    return dout * (1 - out ** 2)
''',
        "forgot 1 - out": '''
def sigmoid_backward(dout, cache):
    return dout * cache
''',
        "calls bplib's Sigmoid layer": '''
def sigmoid_backward(dout, cache):
    import bplib.layers
    layer = bplib.layers.Sigmoid()
    layer._cache = cache
    return layer.backward(dout)
''',
    },
    "softmax_cross_entropy": {
        "forgot / N": '''
def softmax_cross_entropy(scores, labels):
    n = scores.shape[0]
    probs = softmax(scores)
    loss = -np.mean(np.log(probs[np.arange(n), labels]))
    dscores = probs.copy()
    dscores[np.arange(n), labels] -= 1
    return loss, dscores
''',
        "divided by N twice": '''
def softmax_cross_entropy(scores, labels):
    n = scores.shape[0]
    probs = softmax(scores)
    loss = -np.mean(np.log(probs[np.arange(n), labels]))
    dscores = probs.copy()
    dscores[np.arange(n), labels] -= 1
    return loss, dscores / n / n
''',
        "wrong sign": '''
def softmax_cross_entropy(scores, labels):
    n = scores.shape[0]
    probs = softmax(scores)
    loss = -np.mean(np.log(probs[np.arange(n), labels]))
    targets = np.zeros_like(probs)
    targets[np.arange(n), labels] = 1
    return loss, (targets - probs) / n
''',
        "subtracted in every row": '''
def softmax_cross_entropy(scores, labels):
    n = scores.shape[0]
    probs = softmax(scores)
    loss = -np.mean(np.log(probs[np.arange(n), labels]))
    dscores = probs.copy()
    dscores[:, labels] -= 1
    return loss, dscores / n
''',
        "probs changed in place before the loss": '''
def softmax_cross_entropy(scores, labels):
    n = scores.shape[0]
    probs = softmax(scores)
    dscores = probs
    dscores[np.arange(n), labels] -= 1
    loss = -np.mean(np.log(probs[np.arange(n), labels]))
    return loss, dscores / n
''',
        "own softmax without the max shift": '''
def softmax_cross_entropy(scores, labels):
    n = scores.shape[0]
    e = np.exp(scores)
    probs = e / e.sum(axis=1, keepdims=True)
    loss = -np.mean(np.log(probs[np.arange(n), labels]))
    dscores = probs.copy()
    dscores[np.arange(n), labels] -= 1
    return loss, dscores / n
''',
        "own softmax with one global max": '''
def softmax_cross_entropy(scores, labels):
    n = scores.shape[0]
    e = np.exp(scores - scores.max())
    probs = e / e.sum(axis=1, keepdims=True)
    loss = -np.mean(np.log(probs[np.arange(n), labels]))
    dscores = probs.copy()
    dscores[np.arange(n), labels] -= 1
    return loss, dscores / n
''',
        "loss summed over the batch": '''
def softmax_cross_entropy(scores, labels):
    n = scores.shape[0]
    probs = softmax(scores)
    loss = -np.sum(np.log(probs[np.arange(n), labels]))
    dscores = probs.copy()
    dscores[np.arange(n), labels] -= 1
    return loss, dscores / n
''',
        "probs[:, labels] in the loss": '''
def softmax_cross_entropy(scores, labels):
    n = scores.shape[0]
    probs = softmax(scores)
    loss = -np.mean(np.log(probs[:, labels]))
    dscores = probs.copy()
    dscores[np.arange(n), labels] -= 1
    return loss, dscores / n
''',
        "calls bplib's loss": '''
def softmax_cross_entropy(scores, labels):
    from bplib.losses import SoftmaxCrossEntropyLoss
    loss_fn = SoftmaxCrossEntropyLoss()
    loss = loss_fn.forward(scores, labels)
    return loss, loss_fn.backward()
''',
    },
    "softmax_backward": {
        "diagonal only": '''
def softmax_backward(dout, cache):
    p = cache
    return dout * p
''',
        "the sigmoid's rule": '''
def softmax_backward(dout, cache):
    p = cache
    return dout * p * (1 - p)
''',
        "sum over the batch": '''
def softmax_backward(dout, cache):
    p = cache
    return p * (dout - (dout * p).sum(axis=0, keepdims=True))
''',
        "no keepdims": '''
def softmax_backward(dout, cache):
    p = cache
    return p * (dout - (dout * p).sum(axis=1))
''',
        "coupling without p": '''
def softmax_backward(dout, cache):
    p = cache
    return p * (dout - dout.sum(axis=1, keepdims=True))
''',
        "finite differences": '''
def softmax_backward(dout, cache):
    s = np.log(cache)
    return numerical_gradient(lambda: softmax(s), s, dout=dout)
''',
    },
    "mlp_loss_and_grads": {
        "no relu backward": '''
def mlp_loss_and_grads(x, labels, params):
    caches, h = [], x
    for i, (W, b) in enumerate(params):
        h, cache = dense_forward(h, W, b)
        caches.append(cache)
        if i < len(params) - 1:
            h, _ = relu_forward(h)
    loss, dout = softmax_cross_entropy(h, labels)
    grads = [None] * len(params)
    for i in reversed(range(len(params))):
        dout, dW, db = dense_backward(dout, caches[i])
        grads[i] = (dW, db)
    return loss, grads
''',
        "relu after the last layer": '''
def mlp_loss_and_grads(x, labels, params):
    caches, h = [], x
    for W, b in params:
        h, dense_cache = dense_forward(h, W, b)
        h, relu_cache = relu_forward(h)
        caches.append((dense_cache, relu_cache))
    loss, dout = softmax_cross_entropy(h, labels)
    grads = []
    for dense_cache, relu_cache in reversed(caches):
        dout = relu_backward(dout, relu_cache)
        dout, dW, db = dense_backward(dout, dense_cache)
        grads.insert(0, (dW, db))
    return loss, grads
''',
        "grads in reverse order": '''
def mlp_loss_and_grads(x, labels, params):
    caches, h = [], x
    for i, (W, b) in enumerate(params):
        h, dense_cache = dense_forward(h, W, b)
        relu_cache = None
        if i < len(params) - 1:
            h, relu_cache = relu_forward(h)
        caches.append((dense_cache, relu_cache))
    loss, dout = softmax_cross_entropy(h, labels)
    grads = []
    for dense_cache, relu_cache in reversed(caches):
        if relu_cache is not None:
            dout = relu_backward(dout, relu_cache)
        dout, dW, db = dense_backward(dout, dense_cache)
        grads.append((dW, db))
    return loss, grads
''',
        "calls bplib's network": '''
def mlp_loss_and_grads(x, labels, params):
    from bplib.layers import Linear, ReLU
    from bplib.losses import SoftmaxCrossEntropyLoss
    from bplib.network import Sequential
    layers = []
    for i, (W, b) in enumerate(params):
        layer = Linear(*W.shape)
        layer.params["W"][...], layer.params["b"][...] = W, b
        layers += [layer] + ([ReLU()] if i < len(params) - 1 else [])
    model, loss_fn = Sequential(*layers), SoftmaxCrossEntropyLoss()
    loss = loss_fn.forward(model.forward(x), labels)
    model.backward(loss_fn.backward())
    return loss, [(l.grads["W"].copy(), l.grads["b"].copy()) for l in layers if isinstance(l, Linear)]
''',
        "dscores sent to every layer": '''
def mlp_loss_and_grads(x, labels, params):
    caches, h = [], x
    for i, (W, b) in enumerate(params):
        h, dense_cache = dense_forward(h, W, b)
        relu_cache = None
        if i < len(params) - 1:
            h, relu_cache = relu_forward(h)
        caches.append((dense_cache, relu_cache))
    loss, dscores = softmax_cross_entropy(h, labels)
    grads = [None] * len(params)
    for i in reversed(range(len(params))):
        dense_cache, relu_cache = caches[i]
        dout = dscores if relu_cache is None else relu_backward(dscores, relu_cache)
        _, dW, db = dense_backward(dout, dense_cache)
        grads[i] = (dW, db)
    return loss, grads
''',
    },
}
