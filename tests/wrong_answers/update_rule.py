_TRAIN_HEAD = '''
def train(model, loss, X, y, epochs=30, batch_size=20, learning_rate=0.1, rng=None):
    rng = np.random.default_rng(rng)
    n = len(X)
'''

WRONG = {
    "sgd_step": {
        "plus instead of minus": '''
def sgd_step(w, grad, learning_rate):
    return w + learning_rate * grad
''',
        "forgot the learning rate": '''
def sgd_step(w, grad, learning_rate):
    return w - grad
''',
        "divides by the learning rate": '''
def sgd_step(w, grad, learning_rate):
    return w - grad / learning_rate
''',
        "updates in place and returns nothing": '''
def sgd_step(w, grad, learning_rate):
    w -= learning_rate * grad
''',
        "bplib's SGD does the step": '''
def sgd_step(w, grad, learning_rate):
    w = np.array(w, dtype=float)

    class One:
        def parameters(self):
            yield "w", w, np.asarray(grad, dtype=float)

    optim.SGD(One(), learning_rate=learning_rate).step()
    return w
''',
    },
    "critical_learning_rate": {
        "smallest eigenvalue": '''
def critical_learning_rate(A):
    return float(2 / np.linalg.eigvalsh(A).min())
''',
        "one over lambda max": '''
def critical_learning_rate(A):
    return float(1 / np.linalg.eigvalsh(A).max())
''',
        "largest diagonal entry": '''
def critical_learning_rate(A):
    return float(2 / np.max(np.diag(A)))
''',
        "trace": '''
def critical_learning_rate(A):
    return float(2 / np.trace(A))
''',
    },
    "momentum_step": {
        "steps with the old velocity": '''
def momentum_step(w, grad, velocity, learning_rate, momentum):
    new_w = w - learning_rate * velocity
    return new_w, momentum * velocity + grad
''',
        "the other convention": '''
def momentum_step(w, grad, velocity, learning_rate, momentum):
    velocity = momentum * velocity - learning_rate * grad
    return w + velocity, velocity
''',
        "forgot the momentum factor": '''
def momentum_step(w, grad, velocity, learning_rate, momentum):
    velocity = velocity + grad
    return w - learning_rate * velocity, velocity
''',
        "an average instead of a sum": '''
def momentum_step(w, grad, velocity, learning_rate, momentum):
    velocity = momentum * velocity + (1 - momentum) * grad
    return w - learning_rate * velocity, velocity
''',
    },
    "adam_step": {
        "no bias correction": '''
def adam_step(w, grad, m, v, t, learning_rate=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad ** 2
    return w - learning_rate * m / (np.sqrt(v) + eps), m, v
''',
        "eps inside the square root": '''
def adam_step(w, grad, m, v, t, learning_rate=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad ** 2
    m_hat, v_hat = m / (1 - beta1 ** t), v / (1 - beta2 ** t)
    return w - learning_rate * m_hat / np.sqrt(v_hat + eps), m, v
''',
        "step counted from 0": '''
def adam_step(w, grad, m, v, t, learning_rate=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad ** 2
    m_hat, v_hat = m / (1 - beta1 ** (t + 1)), v / (1 - beta2 ** (t + 1))
    return w - learning_rate * m_hat / (np.sqrt(v_hat) + eps), m, v
''',
        "returns the corrected averages": '''
def adam_step(w, grad, m, v, t, learning_rate=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad ** 2
    m_hat, v_hat = m / (1 - beta1 ** t), v / (1 - beta2 ** t)
    return w - learning_rate * m_hat / (np.sqrt(v_hat) + eps), m_hat, v_hat
''',
        "gradient not squared": '''
def adam_step(w, grad, m, v, t, learning_rate=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * np.abs(grad)
    m_hat, v_hat = m / (1 - beta1 ** t), v / (1 - beta2 ** t)
    return w - learning_rate * m_hat / (np.sqrt(v_hat) + eps), m, v
''',
    },
    "train": {
        "rebinds the name instead of updating in place": _TRAIN_HEAD + '''
    for epoch in range(epochs):
        order = rng.permutation(n)
        for start in range(0, n, batch_size):
            batch = order[start:start + batch_size]
            loss.forward(model.forward(X[batch]), y[batch])
            model.backward(loss.backward())
            for name, param, grad in model.parameters():
                param = sgd_step(param, grad, learning_rate)
    return model
''',
        "steps uphill": _TRAIN_HEAD + '''
    for epoch in range(epochs):
        order = rng.permutation(n)
        for start in range(0, n, batch_size):
            batch = order[start:start + batch_size]
            loss.forward(model.forward(X[batch]), y[batch])
            model.backward(loss.backward())
            for name, param, grad in model.parameters():
                param[...] = param + learning_rate * grad
    return model
''',
        "one batch per epoch": _TRAIN_HEAD + '''
    for epoch in range(epochs):
        order = rng.permutation(n)
        batch = order[:batch_size]
        loss.forward(model.forward(X[batch]), y[batch])
        model.backward(loss.backward())
        for name, param, grad in model.parameters():
            param[...] = sgd_step(param, grad, learning_rate)
    return model
''',
        "learning rate divided by the batch size": _TRAIN_HEAD + '''
    for epoch in range(epochs):
        order = rng.permutation(n)
        for start in range(0, n, batch_size):
            batch = order[start:start + batch_size]
            loss.forward(model.forward(X[batch]), y[batch])
            model.backward(loss.backward())
            for name, param, grad in model.parameters():
                param[...] = sgd_step(param, grad, learning_rate / batch_size)
    return model
''',
        "learning rate squared": _TRAIN_HEAD + '''
    for epoch in range(epochs):
        order = rng.permutation(n)
        for start in range(0, n, batch_size):
            batch = order[start:start + batch_size]
            loss.forward(model.forward(X[batch]), y[batch])
            model.backward(loss.backward())
            for name, param, grad in model.parameters():
                param[...] = sgd_step(param, grad, learning_rate ** 2)
    return model
''',
        "shuffles once, never reshuffles": _TRAIN_HEAD + '''
    order = rng.permutation(n)
    for epoch in range(epochs):
        for start in range(0, n, batch_size):
            batch = order[start:start + batch_size]
            loss.forward(model.forward(X[batch]), y[batch])
            model.backward(loss.backward())
            for name, param, grad in model.parameters():
                param[...] = sgd_step(param, grad, learning_rate)
    return model
''',
        "never shuffles": _TRAIN_HEAD + '''
    for epoch in range(epochs):
        for start in range(0, n, batch_size):
            loss.forward(model.forward(X[start:start + batch_size]), y[start:start + batch_size])
            model.backward(loss.backward())
            for name, param, grad in model.parameters():
                param[...] = sgd_step(param, grad, learning_rate)
    return model
''',
        "labels of other examples": _TRAIN_HEAD + '''
    for epoch in range(epochs):
        order = rng.permutation(n)
        for start in range(0, n, batch_size):
            batch = order[start:start + batch_size]
            loss.forward(model.forward(X[batch]), y[start:start + batch_size])
            model.backward(loss.backward())
            for name, param, grad in model.parameters():
                param[...] = sgd_step(param, grad, learning_rate)
    return model
''',
        "updates before the backward pass": _TRAIN_HEAD + '''
    for epoch in range(epochs):
        order = rng.permutation(n)
        for start in range(0, n, batch_size):
            batch = order[start:start + batch_size]
            loss.forward(model.forward(X[batch]), y[batch])
            for name, param, grad in model.parameters():
                param[...] = sgd_step(param, grad, learning_rate)
            model.backward(loss.backward())
    return model
''',
        "trains a new model": _TRAIN_HEAD + '''
    model = mlp([X.shape[1], 32, 32, int(y.max()) + 1], rng=rng)
    for epoch in range(epochs):
        order = rng.permutation(n)
        for start in range(0, n, batch_size):
            batch = order[start:start + batch_size]
            loss.forward(model.forward(X[batch]), y[batch])
            model.backward(loss.backward())
            for name, param, grad in model.parameters():
                param[...] = sgd_step(param, grad, learning_rate)
    return model
''',
        "calls bplib's fit": '''
def train(model, loss, X, y, epochs=30, batch_size=20, learning_rate=0.1, rng=None):
    class PlainSGD:
        def step(self):
            for name, param, grad in model.parameters():
                param[...] = sgd_step(param, grad, learning_rate)

    fit(model, loss, PlainSGD(), X, y, epochs=epochs, batch_size=batch_size, rng=rng, progress=False)
    return model
''',
    },
}
