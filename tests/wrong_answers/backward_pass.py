WRONG = {
    "dense_backward": {
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
