WRONG = {
    "numerical_gradient": {
        "forward differences": '''
def numerical_gradient(f, x, h=1e-5, dout=None):
    value = lambda: f() if dout is None else np.sum(f() * dout)
    base = value()
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        old = x[index]
        x[index] = old + h
        grad[index] = (value() - base) / h
        x[index] = old
    return grad
''',
        "never restores x": '''
def numerical_gradient(f, x, h=1e-5, dout=None):
    value = lambda: f() if dout is None else np.sum(f() * dout)
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        old = x[index]
        x[index] = old + h
        plus = value()
        x[index] = old - h
        minus = value()
        grad[index] = (plus - minus) / (2 * h)
    return grad
''',
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
''',
        "divides by h instead of 2h": '''
def numerical_gradient(f, x, h=1e-5, dout=None):
    value = lambda: f() if dout is None else np.sum(f() * dout)
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        old = x[index]
        x[index] = old + h
        plus = value()
        x[index] = old - h
        minus = value()
        x[index] = old
        grad[index] = (plus - minus) / h
    return grad
''',
        "perturbs a copy of x": '''
def numerical_gradient(f, x, h=1e-5, dout=None):
    value = lambda: f() if dout is None else np.sum(f() * dout)
    x = x.copy()
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
''',
        "ignores the step h": '''
def numerical_gradient(f, x, h=1e-5, dout=None):
    value = lambda: f() if dout is None else np.sum(f() * dout)
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        old = x[index]
        x[index] = old + 1e-5
        plus = value()
        x[index] = old - 1e-5
        minus = value()
        x[index] = old
        grad[index] = (plus - minus) / 2e-5
    return grad
''',
        "flat result": '''
def numerical_gradient(f, x, h=1e-5, dout=None):
    value = lambda: f() if dout is None else np.sum(f() * dout)
    grad = []
    for index in np.ndindex(x.shape):
        old = x[index]
        x[index] = old + h
        plus = value()
        x[index] = old - h
        minus = value()
        x[index] = old
        grad.append((plus - minus) / (2 * h))
    return np.array(grad)
''',
    },
    "relative_error": {
        "no floor": '''
def relative_error(a, b):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(np.max(np.abs(a - b) / (np.abs(a) + np.abs(b))))
''',
        "mean instead of max": '''
def relative_error(a, b):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(np.mean(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))
''',
        "larger of the two instead of the sum": '''
def relative_error(a, b):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.maximum(np.abs(a), np.abs(b)))))
''',
        "norms of the whole arrays": '''
def relative_error(a, b):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(np.linalg.norm(a - b) / max(1e-8, np.linalg.norm(a) + np.linalg.norm(b)))
''',
        "absolute error": '''
def relative_error(a, b):
    return float(np.max(np.abs(np.asarray(a, dtype=float) - np.asarray(b, dtype=float))))
''',
    },
    "check_network_gradients": {
        "never runs backward": '''
def check_network_gradients(model, loss, x, y, h=1e-5):
    f = lambda: loss.forward(model.forward(x), y)
    return {name: relative_error(grad, numerical_gradient(f, param, h))
            for name, param, grad in model.parameters()}
''',
        "gradients picked up before backward": '''
def check_network_gradients(model, loss, x, y, h=1e-5):
    analytic = {name: grad for name, _, grad in model.parameters()}
    loss.forward(model.forward(x), y)
    model.backward(loss.backward())
    f = lambda: loss.forward(model.forward(x), y)
    return {name: relative_error(analytic[name], numerical_gradient(f, param, h))
            for name, param, _ in model.parameters()}
''',
        "numerical gradient of the output, not the loss": '''
def check_network_gradients(model, loss, x, y, h=1e-5):
    loss.forward(model.forward(x), y)
    model.backward(loss.backward())
    analytic = {name: grad.copy() for name, _, grad in model.parameters()}
    f = lambda: np.sum(model.forward(x))
    return {name: relative_error(analytic[name], numerical_gradient(f, param, h))
            for name, param, _ in model.parameters()}
''',
        "mean relative error": '''
def check_network_gradients(model, loss, x, y, h=1e-5):
    loss.forward(model.forward(x), y)
    model.backward(loss.backward())
    analytic = {name: grad.copy() for name, _, grad in model.parameters()}
    f = lambda: loss.forward(model.forward(x), y)
    errors = {}
    for name, param, _ in model.parameters():
        a, b = analytic[name], numerical_gradient(f, param, h)
        errors[name] = float(np.mean(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))
    return errors
''',
        "numbered keys": '''
def check_network_gradients(model, loss, x, y, h=1e-5):
    loss.forward(model.forward(x), y)
    model.backward(loss.backward())
    f = lambda: loss.forward(model.forward(x), y)
    return {i: relative_error(grad.copy(), numerical_gradient(f, param, h))
            for i, (_, param, grad) in enumerate(model.parameters())}
''',
    },
    "bug_1": {
        "the bias next to it": '''
bug_1 = ["2.b"]
''',
        "the whole layer": '''
bug_1 = ["2.W", "2.b"]
''',
        "not a parameter name": '''
bug_1 = "W2"
''',
        "everything below the bug": '''
bug_1 = ["0.W", "0.b", "2.W"]
''',
    },
    "fix_1": {
        "unchanged": '''
class FixedTanhNetwork(TanhNetwork):
    def backward(self, dout):
        return super().backward(dout)
''',
        "transposed the wrong product": '''
class FixedTanhNetwork(TanhNetwork):
    def backward(self, dout):
        p, g = self.params, self.grads
        x, h1, h2 = self.cache
        g["4.W"] = h2.T @ dout
        g["4.b"] = dout.sum(axis=0)
        dh2 = dout @ p["4.W"].T
        dz2 = dh2 * (1 - h2 ** 2)
        g["2.W"] = dz2.T @ h1
        g["2.b"] = dz2.sum(axis=0)
        dh1 = dz2 @ p["2.W"]
        dz1 = dh1 * (1 - h1 ** 2)
        g["0.W"] = x.T @ dz1
        g["0.b"] = dz1.sum(axis=0)
        return dz1 @ p["0.W"].T
''',
        "skips the tanh derivative in 2.W": '''
class FixedTanhNetwork(TanhNetwork):
    def backward(self, dout):
        p, g = self.params, self.grads
        x, h1, h2 = self.cache
        g["4.W"] = h2.T @ dout
        g["4.b"] = dout.sum(axis=0)
        dh2 = dout @ p["4.W"].T
        dz2 = dh2 * (1 - h2 ** 2)
        g["2.W"] = h1.T @ dh2
        g["2.b"] = dz2.sum(axis=0)
        dh1 = dz2 @ p["2.W"].T
        dz1 = dh1 * (1 - h1 ** 2)
        g["0.W"] = x.T @ dz1
        g["0.b"] = dz1.sum(axis=0)
        return dz1 @ p["0.W"].T
''',
        "forgot to return dx": '''
class FixedTanhNetwork(TanhNetwork):
    def backward(self, dout):
        p, g = self.params, self.grads
        x, h1, h2 = self.cache
        g["4.W"] = h2.T @ dout
        g["4.b"] = dout.sum(axis=0)
        dh2 = dout @ p["4.W"].T
        dz2 = dh2 * (1 - h2 ** 2)
        g["2.W"] = h1.T @ dz2
        g["2.b"] = dz2.sum(axis=0)
        dh1 = dz2 @ p["2.W"].T
        dz1 = dh1 * (1 - h1 ** 2)
        g["0.W"] = x.T @ dz1
        g["0.b"] = dz1.sum(axis=0)
''',
    },
    "bug_2": {
        "only the weights": '''
bug_2 = ["0.W"]
''',
        "the layer with the sigmoid above it": '''
bug_2 = ["2.W", "2.b"]
''',
        "every layer below the output": '''
bug_2 = ["0.W", "0.b", "2.W", "2.b"]
''',
    },
    "fix_2": {
        "unchanged": '''
class FixedSigmoidNetwork(SigmoidNetwork):
    pass
''',
        "sigmoid derivative also for the data": '''
class FixedSigmoidNetwork(SigmoidNetwork):
    def backward(self, dout):
        for i in reversed(range(self.n_layers)):
            a = self.inputs[i]
            self.grads[f"{2 * i}.W"] = a.T @ dout
            self.grads[f"{2 * i}.b"] = dout.sum(axis=0)
            dout = dout @ self.params[f"{2 * i}.W"].T
            dout = dout * a * (1 - a)
        return dout
''',
        "tanh derivative instead of sigmoid": '''
class FixedSigmoidNetwork(SigmoidNetwork):
    def backward(self, dout):
        for i in reversed(range(self.n_layers)):
            a = self.inputs[i]
            self.grads[f"{2 * i}.W"] = a.T @ dout
            self.grads[f"{2 * i}.b"] = dout.sum(axis=0)
            dout = dout @ self.params[f"{2 * i}.W"].T
            if i > 0:
                dout = dout * (1 - a ** 2)
        return dout
''',
        "sigmoid applied again in the derivative": '''
class FixedSigmoidNetwork(SigmoidNetwork):
    def backward(self, dout):
        for i in reversed(range(self.n_layers)):
            a = self.inputs[i]
            self.grads[f"{2 * i}.W"] = a.T @ dout
            self.grads[f"{2 * i}.b"] = dout.sum(axis=0)
            dout = dout @ self.params[f"{2 * i}.W"].T
            if i > 0:
                dout = dout * sigmoid(a) * (1 - sigmoid(a))
        return dout
''',
    },
}
