"""Typical wrong answers to lesson 01-forward-pass (see tests/wrong_answers/__init__.py)."""

WRONG = {
    "sigmoid": {
        "calls bplib's sigmoid": '''
def sigmoid(z):
    from bplib.layers import sigmoid as bplib_sigmoid
    return bplib_sigmoid(z)
''',
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
        "uses bplib's array autodiff": '''
from bplib.tensor import Tensor

def relu(z):
    return Tensor(z).relu().data
''',
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
        "Python's max": '''
def relu(z):
    return max(z, 0)
''',
        "calls bplib's ReLU layer": '''
def relu(z):
    import bplib.layers
    return bplib.layers.ReLU().forward(z)
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
        "W.T @ x": '''
def dense_forward(x, W, b):
    return W.T @ x + b
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
        "return inside the layer loop": '''
def mlp_forward(x, params):
    h = x
    for i, (W, b) in enumerate(params):
        h = dense_forward(h, W, b)
        if i < len(params) - 1:
            h = relu(h)
        return h
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
        "global max": '''
def softmax(s):
    e = np.exp(s - s.max())
    return e / e.sum(axis=1, keepdims=True)
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
        "probs[:, labels]": '''
def cross_entropy(probs, labels):
    return float(-np.mean(np.log(probs[:, labels])))
''',
        "calls bplib's loss": '''
def cross_entropy(probs, labels):
    from bplib.losses import SoftmaxCrossEntropyLoss
    return SoftmaxCrossEntropyLoss().forward(np.log(probs), labels)
''',
    },
    "cross_entropy_from_scores": {
        "through the probabilities": '''
def cross_entropy_from_scores(scores, labels):
    e = np.exp(scores - scores.max(axis=1, keepdims=True))
    probs = e / e.sum(axis=1, keepdims=True)
    return float(-np.mean(np.log(probs[np.arange(len(labels)), labels])))
''',
        "no max shift": '''
def cross_entropy_from_scores(scores, labels):
    n = len(labels)
    return float(np.mean(np.log(np.exp(scores).sum(axis=1)) - scores[np.arange(n), labels]))
''',
        "global max": '''
def cross_entropy_from_scores(scores, labels):
    n, m = len(labels), scores.max()
    return float(np.mean(m + np.log(np.exp(scores - m).sum(axis=1)) - scores[np.arange(n), labels]))
''',
        "max not added back": '''
def cross_entropy_from_scores(scores, labels):
    n = len(labels)
    m = scores.max(axis=1, keepdims=True)
    return float(np.mean(np.log(np.exp(scores - m).sum(axis=1)) - scores[np.arange(n), labels]))
''',
        "summed over the batch": '''
def cross_entropy_from_scores(scores, labels):
    n = len(labels)
    m = scores.max(axis=1, keepdims=True)
    return float(np.sum(m[:, 0] + np.log(np.exp(scores - m).sum(axis=1)) - scores[np.arange(n), labels]))
''',
        "calls bplib's log_softmax": '''
def cross_entropy_from_scores(scores, labels):
    import bplib.losses as losses
    return float(-np.mean(losses.log_softmax(scores)[np.arange(len(labels)), labels]))
''',
    },
}
