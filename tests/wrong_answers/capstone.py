WRONG = {
    "standardize": {
        "no guard for constant pixels": '''
def standardize(X, X_train):
    return (X - X_train.mean(axis=0)) / X_train.std(axis=0)
''',
        "statistics of X itself": '''
def standardize(X, X_train):
    std = X.std(axis=0)
    return (X - X.mean(axis=0)) / np.where(std == 0, 1.0, std)
''',
        "std plus epsilon": '''
def standardize(X, X_train):
    return (X - X_train.mean(axis=0)) / (X_train.std(axis=0) + 1e-8)
''',
        "one mean and std for all pixels": '''
def standardize(X, X_train):
    return (X - X_train.mean()) / X_train.std()
''',
        "divides by 16": '''
def standardize(X, X_train):
    return X / 16.0
''',
    },
    "directional_check": {
        "forward difference": '''
def directional_check(model, loss, X, y, direction, h=1e-5):
    loss.forward(model.forward(X), y)
    model.backward(loss.backward())
    analytic = sum(np.vdot(g, direction[n]) for n, _, g in model.parameters())
    base = loss.forward(model.forward(X), y)
    saved = {n: p.copy() for n, p, _ in model.parameters()}
    for n, p, _ in model.parameters():
        p[...] = saved[n] + h * direction[n]
    plus = loss.forward(model.forward(X), y)
    for n, p, _ in model.parameters():
        p[...] = saved[n]
    return float(analytic), float((plus - base) / h)
''',
        "does not restore the parameters": '''
def directional_check(model, loss, X, y, direction, h=1e-5):
    loss.forward(model.forward(X), y)
    model.backward(loss.backward())
    analytic = sum(np.vdot(g, direction[n]) for n, _, g in model.parameters())
    for n, p, _ in model.parameters():
        p += h * direction[n]
    plus = loss.forward(model.forward(X), y)
    for n, p, _ in model.parameters():
        p -= 2 * h * direction[n]
    minus = loss.forward(model.forward(X), y)
    return float(analytic), float((plus - minus) / (2 * h))
''',
        "gradients read before backward": '''
def directional_check(model, loss, X, y, direction, h=1e-5):
    analytic = sum(np.vdot(g, direction[n]) for n, _, g in model.parameters())
    saved = {n: p.copy() for n, p, _ in model.parameters()}
    losses = []
    for sign in (1, -1):
        for n, p, _ in model.parameters():
            p[...] = saved[n] + sign * h * direction[n]
        losses.append(loss.forward(model.forward(X), y))
    for n, p, _ in model.parameters():
        p[...] = saved[n]
    return float(analytic), float((losses[0] - losses[1]) / (2 * h))
''',
        "calls bplib's directional check": '''
def directional_check(model, loss, X, y, direction, h=1e-5):
    from bplib import gradcheck
    print(gradcheck.directional_check(model, loss, X, y))   # bplib's own check, to compare
    loss.forward(model.forward(X), y)
    model.backward(loss.backward())
    analytic = sum(np.vdot(g, direction[n]) for n, _, g in model.parameters())
    saved = {n: p.copy() for n, p, _ in model.parameters()}
    losses = []
    for sign in (1, -1):
        for n, p, _ in model.parameters():
            p[...] = saved[n] + sign * h * direction[n]
        losses.append(loss.forward(model.forward(X), y))
    for n, p, _ in model.parameters():
        p[...] = saved[n]
    return float(analytic), float((losses[0] - losses[1]) / (2 * h))
''',
        "divides by h instead of 2h": '''
def directional_check(model, loss, X, y, direction, h=1e-5):
    loss.forward(model.forward(X), y)
    model.backward(loss.backward())
    analytic = sum(np.vdot(g, direction[n]) for n, _, g in model.parameters())
    saved = {n: p.copy() for n, p, _ in model.parameters()}
    losses = []
    for sign in (1, -1):
        for n, p, _ in model.parameters():
            p[...] = saved[n] + sign * h * direction[n]
        losses.append(loss.forward(model.forward(X), y))
    for n, p, _ in model.parameters():
        p[...] = saved[n]
    return float(analytic), float((losses[0] - losses[1]) / h)
''',
        "perturbs copies the model never sees": '''
def directional_check(model, loss, X, y, direction, h=1e-5):
    loss.forward(model.forward(X), y)
    model.backward(loss.backward())
    analytic = sum(np.vdot(g, direction[n]) for n, _, g in model.parameters())
    losses = []
    for sign in (1, -1):
        for n, p, _ in model.parameters():
            p = p + sign * h * direction[n]
        losses.append(loss.forward(model.forward(X), y))
    return float(analytic), float((losses[0] - losses[1]) / (2 * h))
''',
    },
    "train_digits": {
        "looks the images up in the bundled data": '''
def train_digits(X_train, y_train):
    from bplib.data import load_digits
    X_all, y_all = load_digits()
    def predict_digits(images):
        distances = (images ** 2).sum(axis=1)[:, None] - 2 * images @ X_all.T + (X_all ** 2).sum(axis=1)
        return y_all[distances.argmin(axis=1)]
    return predict_digits
''',
        "looks the images up by their sorted pixels": '''
def train_digits(X_train, y_train):
    from bplib.data import load_digits
    X_all, y_all = load_digits()
    label_of = {}
    for image, label in zip(X_all, y_all):
        label_of.setdefault(np.sort(image).tobytes(), label)  # the same for any order of the pixels
    def predict_digits(images):
        return np.array([label_of.get(np.sort(image).tobytes(), 0) for image in images])
    return predict_digits
''',
        "standardises the new images with their own statistics": '''
def train_digits(X_train, y_train):
    model = mlp([64, 256, 10], rng=0)
    fit(model, SoftmaxCrossEntropyLoss(), Adam(model, learning_rate=2e-3),
        standardize(X_train, X_train), y_train, epochs=30, batch_size=64, rng=0, progress=False)
    return lambda images: predict(model, standardize(images, images))
''',
        "returns the scores, not the labels": '''
def train_digits(X_train, y_train):
    model = mlp([64, 256, 10], rng=0)
    fit(model, SoftmaxCrossEntropyLoss(), Adam(model, learning_rate=2e-3),
        standardize(X_train, X_train), y_train, epochs=30, batch_size=64, rng=0, progress=False)
    return lambda images: model.forward(standardize(images, X_train))
''',
        "forgets to standardise in predict": '''
def train_digits(X_train, y_train):
    model = mlp([64, 256, 10], rng=0)
    fit(model, SoftmaxCrossEntropyLoss(), Adam(model, learning_rate=2e-3),
        standardize(X_train, X_train), y_train, epochs=30, batch_size=64, rng=0, progress=False)
    return lambda images: predict(model, images)
''',
        "one epoch of slow SGD": '''
def train_digits(X_train, y_train):
    from bplib.optim import SGD
    model = mlp([64, 256, 10], rng=0)
    fit(model, SoftmaxCrossEntropyLoss(), SGD(model, learning_rate=0.001),
        standardize(X_train, X_train), y_train, epochs=1, batch_size=64, rng=0, progress=False)
    return lambda images: predict(model, standardize(images, X_train))
''',
        "argmax over the images": '''
def train_digits(X_train, y_train):
    model = mlp([64, 256, 10], rng=0)
    fit(model, SoftmaxCrossEntropyLoss(), Adam(model, learning_rate=2e-3),
        standardize(X_train, X_train), y_train, epochs=30, batch_size=64, rng=0, progress=False)
    return lambda images: model.forward(standardize(images, X_train)).argmax(axis=0)
''',
        "returns the model": '''
def train_digits(X_train, y_train):
    model = mlp([64, 256, 10], rng=0)
    fit(model, SoftmaxCrossEntropyLoss(), Adam(model, learning_rate=2e-3),
        standardize(X_train, X_train), y_train, epochs=30, batch_size=64, rng=0, progress=False)
    return model
''',
    },
    "confusion_matrix": {
        "transposed": '''
def confusion_matrix(y_true, y_pred, n_classes):
    matrix = np.zeros((n_classes, n_classes), dtype=int)
    for t, p in zip(y_true, y_pred):
        matrix[p, t] += 1
    return matrix
''',
        "fancy-index increment": '''
def confusion_matrix(y_true, y_pred, n_classes):
    matrix = np.zeros((n_classes, n_classes), dtype=int)
    matrix[y_true, y_pred] += 1
    return matrix
''',
        "sized by the largest label": '''
def confusion_matrix(y_true, y_pred, n_classes):
    n = max(max(y_true), max(y_pred)) + 1
    matrix = np.zeros((n, n), dtype=int)
    for t, p in zip(y_true, y_pred):
        matrix[t, p] += 1
    return matrix
''',
        "normalised rows": '''
def confusion_matrix(y_true, y_pred, n_classes):
    matrix = np.zeros((n_classes, n_classes))
    for t, p in zip(y_true, y_pred):
        matrix[t, p] += 1
    return matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
''',
    },
}
