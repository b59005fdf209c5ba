_GOOD_RELATIVE_ERROR = '''
def relative_error(a, b):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float((np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))).max())
'''

_GOOD_NUMERICAL_GRADIENT = '''
def numerical_gradient(f, x, h=1e-5, dout=None):
    def value():
        out = f()
        return out if dout is None else np.sum(out * dout)
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        old = x[index]
        x[index] = old + h
        plus = value()
        x[index] = old - h
        minus = value()
        x[index] = old
        grad[index] = (plus - minus) / (2 * h)
    return grad
'''

_BN_BACKWARD_HEAD = '''
def batchnorm_backward(dout, cache):
    x_hat, gamma, std = cache
    n = dout.shape[0]
'''

_LN_BACKWARD_HEAD = '''
def layernorm_backward(dout, cache):
    x_hat, gamma, std = cache
    d = dout.shape[1]
'''

_GOOD_DROPOUT_BACKWARD = '''
def dropout_backward(dout, mask):
    return dout if mask is None else dout * mask
'''

_GOOD_DROPOUT_FORWARD = '''
def dropout_forward(x, p, training, rng):
    if not training or p == 0:
        return x, None
    mask = (rng.random(x.shape) >= p) / (1 - p)
    return x * mask, mask
'''

WRONG = {
    "your_checker": {
        "forward differences": '''
def numerical_gradient(f, x, h=1e-5, dout=None):
    def value():
        out = f()
        return out if dout is None else np.sum(out * dout)
    grad = np.zeros_like(x)
    base = value()
    for index in np.ndindex(x.shape):
        old = x[index]
        x[index] = old + h
        grad[index] = (value() - base) / h
        x[index] = old
    return grad
''' + _GOOD_RELATIVE_ERROR,
        "ignores dout": '''
def numerical_gradient(f, x, h=1e-5, dout=None):
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        old = x[index]
        x[index] = old + h
        plus = np.sum(f())
        x[index] = old - h
        minus = np.sum(f())
        x[index] = old
        grad[index] = (plus - minus) / (2 * h)
    return grad
''' + _GOOD_RELATIVE_ERROR,
        "relative error without the floor": _GOOD_NUMERICAL_GRADIENT + '''
def relative_error(a, b):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float((np.abs(a - b) / (np.abs(a) + np.abs(b))).max())
''',
        "mean relative error": _GOOD_NUMERICAL_GRADIENT + '''
def relative_error(a, b):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float((np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))).mean())
''',
        "bplib's own checker": '''
from bplib.gradcheck import numerical_gradient, relative_error
''',
    },
    "batchnorm_forward": {
        "batch statistics in evaluation mode": '''
def batchnorm_forward(x, gamma, beta, running, training=True, momentum=0.9, eps=1e-5):
    mean, var = x.mean(axis=0), x.var(axis=0)
    if training:
        running["mean"] = momentum * running["mean"] + (1 - momentum) * mean
        running["var"] = momentum * running["var"] + (1 - momentum) * var
    std = np.sqrt(var + eps)
    x_hat = (x - mean) / std
    return gamma * x_hat + beta, (x_hat, gamma, std)
''',
        "momentum the other way round": '''
def batchnorm_forward(x, gamma, beta, running, training=True, momentum=0.9, eps=1e-5):
    if training:
        mean, var = x.mean(axis=0), x.var(axis=0)
        running["mean"] = (1 - momentum) * running["mean"] + momentum * mean
        running["var"] = (1 - momentum) * running["var"] + momentum * var
    else:
        mean, var = running["mean"], running["var"]
    std = np.sqrt(var + eps)
    x_hat = (x - mean) / std
    return gamma * x_hat + beta, (x_hat, gamma, std)
''',
        "eps outside the square root": '''
def batchnorm_forward(x, gamma, beta, running, training=True, momentum=0.9, eps=1e-5):
    if training:
        mean, var = x.mean(axis=0), x.var(axis=0)
        running["mean"] = momentum * running["mean"] + (1 - momentum) * mean
        running["var"] = momentum * running["var"] + (1 - momentum) * var
    else:
        mean, var = running["mean"], running["var"]
    std = np.sqrt(var) + eps
    x_hat = (x - mean) / std
    return gamma * x_hat + beta, (x_hat, gamma, std)
''',
        "unbiased variance": '''
def batchnorm_forward(x, gamma, beta, running, training=True, momentum=0.9, eps=1e-5):
    if training:
        mean, var = x.mean(axis=0), x.var(axis=0, ddof=1)
        running["mean"] = momentum * running["mean"] + (1 - momentum) * mean
        running["var"] = momentum * running["var"] + (1 - momentum) * var
    else:
        mean, var = running["mean"], running["var"]
    std = np.sqrt(var + eps)
    x_hat = (x - mean) / std
    return gamma * x_hat + beta, (x_hat, gamma, std)
''',
        "a new dict for the running averages": '''
def batchnorm_forward(x, gamma, beta, running, training=True, momentum=0.9, eps=1e-5):
    if training:
        mean, var = x.mean(axis=0), x.var(axis=0)
        running = {"mean": momentum * running["mean"] + (1 - momentum) * mean,
                   "var": momentum * running["var"] + (1 - momentum) * var}
    else:
        mean, var = running["mean"], running["var"]
    std = np.sqrt(var + eps)
    x_hat = (x - mean) / std
    return gamma * x_hat + beta, (x_hat, gamma, std)
''',
        "no scale and shift": '''
def batchnorm_forward(x, gamma, beta, running, training=True, momentum=0.9, eps=1e-5):
    if training:
        mean, var = x.mean(axis=0), x.var(axis=0)
        running["mean"] = momentum * running["mean"] + (1 - momentum) * mean
        running["var"] = momentum * running["var"] + (1 - momentum) * var
    else:
        mean, var = running["mean"], running["var"]
    std = np.sqrt(var + eps)
    x_hat = (x - mean) / std
    return x_hat, (x_hat, gamma, std)
''',
        "bplib's BatchNorm": '''
from bplib.normalization import BatchNorm

def batchnorm_forward(x, gamma, beta, running, training=True, momentum=0.9, eps=1e-5):
    layer = BatchNorm(x.shape[1], momentum=momentum, eps=eps)
    layer.params["gamma"][...], layer.params["beta"][...] = gamma, beta
    layer.running_mean[...], layer.running_var[...] = running["mean"], running["var"]
    out = layer.train(training).forward(x)
    running["mean"], running["var"] = layer.running_mean.copy(), layer.running_var.copy()
    return out, None
''',
    },
    "batchnorm_backward": {
        "mean and variance as constants": _BN_BACKWARD_HEAD + '''
    dx = dout * gamma / std
    return dx, (dout * x_hat).sum(axis=0), dout.sum(axis=0)
''',
        "no path through the variance": _BN_BACKWARD_HEAD + '''
    dx_hat = dout * gamma
    dx = (n * dx_hat - dx_hat.sum(axis=0)) / (n * std)
    return dx, (dout * x_hat).sum(axis=0), dout.sum(axis=0)
''',
        "no path through the mean": _BN_BACKWARD_HEAD + '''
    dx_hat = dout * gamma
    dx = (n * dx_hat - x_hat * (dx_hat * x_hat).sum(axis=0)) / (n * std)
    return dx, (dout * x_hat).sum(axis=0), dout.sum(axis=0)
''',
        "dgamma and dbeta swapped": _BN_BACKWARD_HEAD + '''
    dbeta, dgamma = dout.sum(axis=0), (dout * x_hat).sum(axis=0)
    dx = gamma / (n * std) * (n * dout - dbeta - x_hat * dgamma)
    return dx, dbeta, dgamma
''',
        "gamma forgotten in dx": _BN_BACKWARD_HEAD + '''
    dbeta, dgamma = dout.sum(axis=0), (dout * x_hat).sum(axis=0)
    dx = 1.0 / (n * std) * (n * dout - dbeta - x_hat * dgamma)
    return dx, dgamma, dbeta
''',
        "means instead of sums": _BN_BACKWARD_HEAD + '''
    dbeta, dgamma = dout.mean(axis=0), (dout * x_hat).mean(axis=0)
    dx = gamma / std * (dout - dbeta - x_hat * dgamma)
    return dx, dgamma, dbeta
''',
    },
    "layernorm_backward": {
        "batch norm's axis": _LN_BACKWARD_HEAD + '''
    n = dout.shape[0]
    dx_hat = dout * gamma
    dx = (n * dx_hat - dx_hat.sum(axis=0) - x_hat * (dx_hat * x_hat).sum(axis=0)) / (n * std)
    return dx, (dout * x_hat).sum(axis=0), dout.sum(axis=0)
''',
        "mean and variance as constants": _LN_BACKWARD_HEAD + '''
    return dout * gamma / std, (dout * x_hat).sum(axis=0), dout.sum(axis=0)
''',
        "parameter gradients over the features": _LN_BACKWARD_HEAD + '''
    dx_hat = dout * gamma
    dx = (d * dx_hat - dx_hat.sum(axis=1, keepdims=True)
          - x_hat * (dx_hat * x_hat).sum(axis=1, keepdims=True)) / (d * std)
    return dx, (dout * x_hat).sum(axis=1), dout.sum(axis=1)
''',
        "gamma forgotten": _LN_BACKWARD_HEAD + '''
    dx = (d * dout - dout.sum(axis=1, keepdims=True)
          - x_hat * (dout * x_hat).sum(axis=1, keepdims=True)) / (d * std)
    return dx, (dout * x_hat).sum(axis=0), dout.sum(axis=0)
''',
        "divides by N instead of D": _LN_BACKWARD_HEAD + '''
    n = dout.shape[0]
    dx_hat = dout * gamma
    dx = (n * dx_hat - dx_hat.sum(axis=1, keepdims=True)
          - x_hat * (dx_hat * x_hat).sum(axis=1, keepdims=True)) / (n * std)
    return dx, (dout * x_hat).sum(axis=0), dout.sum(axis=0)
''',
    },
    "dropout": {
        "not inverted": '''
def dropout_forward(x, p, training, rng):
    if not training:
        return x * (1 - p), None
    mask = rng.random(x.shape) >= p
    return x * mask, mask
''' + _GOOD_DROPOUT_BACKWARD,
        "p is the keep probability": '''
def dropout_forward(x, p, training, rng):
    if not training or p == 0:
        return x, None
    mask = (rng.random(x.shape) < p) / p
    return x * mask, mask
''' + _GOOD_DROPOUT_BACKWARD,
        "backward ignores the mask": _GOOD_DROPOUT_FORWARD + '''
def dropout_backward(dout, mask):
    return dout
''',
        "mask cached without the scale": '''
def dropout_forward(x, p, training, rng):
    if not training or p == 0:
        return x, None
    keep = rng.random(x.shape) >= p
    return x * keep / (1 - p), keep
''' + _GOOD_DROPOUT_BACKWARD,
        "drops in evaluation mode too": '''
def dropout_forward(x, p, training, rng):
    mask = (rng.random(x.shape) >= p) / (1 - p)
    return x * mask, mask
''' + _GOOD_DROPOUT_BACKWARD,
        "np.random instead of rng": '''
def dropout_forward(x, p, training, rng):
    if not training or p == 0:
        return x, None
    mask = (np.random.random(x.shape) >= p) / (1 - p)
    return x * mask, mask
''' + _GOOD_DROPOUT_BACKWARD,
        "backward draws a new mask": _GOOD_DROPOUT_FORWARD + '''
def dropout_backward(dout, mask):
    if mask is None:
        return dout
    p = 1 - 1 / mask.max()
    return dout * (np.random.random(dout.shape) >= p) / (1 - p)
''',
    },
    "sgd_step_with_weight_decay": {
        "decay not times the learning rate": '''
def sgd_step_with_weight_decay(w, grad, learning_rate, weight_decay):
    return w - learning_rate * grad - weight_decay * w
''',
        "gradient of lambda * w**2": '''
def sgd_step_with_weight_decay(w, grad, learning_rate, weight_decay):
    return w - learning_rate * (grad + 2 * weight_decay * w)
''',
        "decay with the wrong sign": '''
def sgd_step_with_weight_decay(w, grad, learning_rate, weight_decay):
    return w - learning_rate * (grad - weight_decay * w)
''',
        "no decay": '''
def sgd_step_with_weight_decay(w, grad, learning_rate, weight_decay):
    return w - learning_rate * grad
''',
        "bplib's SGD": '''
from bplib.layers import Linear
from bplib.network import Sequential
from bplib.optim import SGD

def sgd_step_with_weight_decay(w, grad, learning_rate, weight_decay):
    layer = Linear(1, 1)
    layer.params["W"] = np.array(w, dtype=float, ndmin=2)
    layer.grads["W"] = np.array(grad, dtype=float, ndmin=2)
    SGD(Sequential(layer), learning_rate, weight_decay=weight_decay).step()
    return layer.params["W"].reshape(np.shape(w))
''',
    },
    "adamw_step": {
        "L2 inside Adam": '''
def adamw_step(w, grad, m, v, t, learning_rate=0.001, weight_decay=0.01, beta1=0.9, beta2=0.999, eps=1e-8):
    grad = grad + weight_decay * w
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad ** 2
    m_hat, v_hat = m / (1 - beta1 ** t), v / (1 - beta2 ** t)
    return w - learning_rate * m_hat / (np.sqrt(v_hat) + eps), m, v
''',
        "decay not times the learning rate": '''
def adamw_step(w, grad, m, v, t, learning_rate=0.001, weight_decay=0.01, beta1=0.9, beta2=0.999, eps=1e-8):
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad ** 2
    m_hat, v_hat = m / (1 - beta1 ** t), v / (1 - beta2 ** t)
    return w - learning_rate * m_hat / (np.sqrt(v_hat) + eps) - weight_decay * w, m, v
''',
        "decays the new weights": '''
def adamw_step(w, grad, m, v, t, learning_rate=0.001, weight_decay=0.01, beta1=0.9, beta2=0.999, eps=1e-8):
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad ** 2
    m_hat, v_hat = m / (1 - beta1 ** t), v / (1 - beta2 ** t)
    w = w - learning_rate * m_hat / (np.sqrt(v_hat) + eps)
    return w * (1 - learning_rate * weight_decay), m, v
''',
        "no bias correction": '''
def adamw_step(w, grad, m, v, t, learning_rate=0.001, weight_decay=0.01, beta1=0.9, beta2=0.999, eps=1e-8):
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad ** 2
    return w - learning_rate * (m / (np.sqrt(v) + eps) + weight_decay * w), m, v
''',
        "returns the corrected moments": '''
def adamw_step(w, grad, m, v, t, learning_rate=0.001, weight_decay=0.01, beta1=0.9, beta2=0.999, eps=1e-8):
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad ** 2
    m_hat, v_hat = m / (1 - beta1 ** t), v / (1 - beta2 ** t)
    return w - learning_rate * (m_hat / (np.sqrt(v_hat) + eps) + weight_decay * w), m_hat, v_hat
''',
    },
    "embedding_backward": {
        "fancy-index +=": '''
def embedding_backward(dout, indices, num_embeddings):
    dW = np.zeros((num_embeddings, dout.shape[-1]))
    dW[indices] += dout
    return dW
''',
        "assignment": '''
def embedding_backward(dout, indices, num_embeddings):
    dW = np.zeros((num_embeddings, dout.shape[-1]))
    dW[indices] = dout
    return dW
''',
        "row n instead of row indices[n]": '''
def embedding_backward(dout, indices, num_embeddings):
    rows = dout.reshape(-1, dout.shape[-1])
    dW = np.zeros((num_embeddings, rows.shape[1]))
    for n, row in enumerate(rows):
        dW[n % num_embeddings] += row
    return dW
''',
        "transposed": '''
def embedding_backward(dout, indices, num_embeddings):
    dW = np.zeros((num_embeddings, dout.shape[-1]))
    np.add.at(dW, indices, dout)
    return dW.T
''',
        "bplib's Embedding": '''
from bplib.embedding import Embedding

def embedding_backward(dout, indices, num_embeddings):
    layer = Embedding(num_embeddings, dout.shape[-1])
    layer.forward(indices)
    layer.backward(dout)
    return layer.grads["W"]
''',
    },
    "rmsprop_step": {
        "eps inside the square root": '''
def rmsprop_step(w, grad, s, learning_rate=0.01, decay_rate=0.99, eps=1e-8):
    s = decay_rate * s + (1 - decay_rate) * grad ** 2
    return w - learning_rate * grad / np.sqrt(s + eps), s
''',
        "steps with the old s": '''
def rmsprop_step(w, grad, s, learning_rate=0.01, decay_rate=0.99, eps=1e-8):
    new_s = decay_rate * s + (1 - decay_rate) * grad ** 2
    return w - learning_rate * grad / (np.sqrt(s) + eps), new_s
''',
        "no square root": '''
def rmsprop_step(w, grad, s, learning_rate=0.01, decay_rate=0.99, eps=1e-8):
    s = decay_rate * s + (1 - decay_rate) * grad ** 2
    return w - learning_rate * grad / (s + eps), s
''',
        "Adam's bias correction": '''
def rmsprop_step(w, grad, s, learning_rate=0.01, decay_rate=0.99, eps=1e-8):
    s = decay_rate * s + (1 - decay_rate) * grad ** 2
    return w - learning_rate * grad / (np.sqrt(s / (1 - decay_rate)) + eps), s
''',
        "no (1 - decay_rate)": '''
def rmsprop_step(w, grad, s, learning_rate=0.01, decay_rate=0.99, eps=1e-8):
    s = decay_rate * s + grad ** 2
    return w - learning_rate * grad / (np.sqrt(s) + eps), s
''',
    },
    "update_ratios": {
        "ratio of norms": '''
def update_ratios(before, after):
    return {name: float(np.linalg.norm(after[name] - before[name]) / np.linalg.norm(before[name]))
            for name in before}
''',
        "std of the new weights": '''
def update_ratios(before, after):
    return {name: float(np.std(after[name]) / np.std(before[name])) for name in before}
''',
        "log10": '''
def update_ratios(before, after):
    return {name: float(np.log10(np.std(after[name] - before[name]) / np.std(before[name])))
            for name in before}
''',
        "divides by the weights after": '''
def update_ratios(before, after):
    return {name: float(np.std(after[name] - before[name]) / np.std(after[name])) for name in before}
''',
        "a list instead of a dict": '''
def update_ratios(before, after):
    return [float(np.std(after[name] - before[name]) / np.std(before[name])) for name in before]
''',
    },
}
