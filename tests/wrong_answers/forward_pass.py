WRONG = {
    "sigmoid": {
        "naive formula overflows": '''
def sigmoid(z):
    return 1 / (1 + np.exp(-z))
''',
        "sign flipped": '''
def sigmoid(z):
    e = np.exp(-np.abs(z))
    return np.where(z < 0, 1.0, e) / (1.0 + e)
''',
        "exp over 1 plus exp": '''
def sigmoid(z):
    return np.exp(z) / (1 + np.exp(z))
''',
        "tanh instead": '''
def sigmoid(z):
    return np.tanh(z)
''',
    },
    "relu": {
        "abs": '''
def relu(z):
    return np.abs(z)
''',
        "min instead of max": '''
def relu(z):
    return np.minimum(z, 0)
''',
        "keeps negatives at half": '''
def relu(z):
    return np.where(z > 0, z, 0.5 * z)
''',
    },
    "dense_forward": {
        "no bias": '''
def dense_forward(x, W, b):
    return x @ W
''',
        "transposed weights": '''
def dense_forward(x, W, b):
    return x @ W.T + b
''',
        "elementwise product": '''
def dense_forward(x, W, b):
    return (x[:, :, None] * W[None]).mean(axis=1) + b
''',
    },
    "mlp_forward": {
        "relu after the last layer": '''
def mlp_forward(x, params):
    for W, b in params:
        x = relu(dense_forward(x, W, b))
    return x
''',
        "no activations": '''
def mlp_forward(x, params):
    for W, b in params:
        x = dense_forward(x, W, b)
    return x
''',
        "only the first layer": '''
def mlp_forward(x, params):
    W, b = params[0]
    return dense_forward(x, W, b)
''',
    },
    "softmax": {
        "naive overflows": '''
def softmax(s):
    e = np.exp(s)
    return e / e.sum(axis=1, keepdims=True)
''',
        "normalised over columns": '''
def softmax(s):
    e = np.exp(s - s.max(axis=1, keepdims=True))
    return e / e.sum(axis=0, keepdims=True)
''',
        "forgot keepdims": '''
def softmax(s):
    e = np.exp(s - s.max())
    return e / e.sum()
''',
    },
    "cross_entropy": {
        "sum instead of mean": '''
def cross_entropy(probs, labels):
    return float(-np.sum(np.log(probs[np.arange(len(labels)), labels])))
''',
        "all classes": '''
def cross_entropy(probs, labels):
    return float(-np.mean(np.log(probs)))
''',
        "missing minus": '''
def cross_entropy(probs, labels):
    return float(np.mean(np.log(probs[np.arange(len(labels)), labels])))
''',
    },
}
