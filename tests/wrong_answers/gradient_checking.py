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
        "calls bplib": '''
def numerical_gradient(f, x, h=1e-5, dout=None):
    return gradcheck.numerical_gradient(f, x, h, dout)
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
        "calls bplib": '''
def relative_error(a, b):
    return gradcheck.relative_error(a, b)
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
        "uses bplib's check_network": '''
def check_network_gradients(model, loss, x, y, h=1e-5):
    report = gradcheck.check_network(model, loss, x, y, h=h)
    return {c.name: c.max_relative_error for c in report.checks}
''',
    },
    "wrong_parameters": {
        "the names from the notebook's first network": '''
def wrong_parameters(model, loss, x, y, threshold=1e-5):
    return ["2.W"]
''',
        "the names from the notebook's second network": '''
def wrong_parameters(model, loss, x, y, threshold=1e-5):
    return ["0.W", "0.b"]
''',
        "only the highest parameter that fails": '''
def wrong_parameters(model, loss, x, y, threshold=1e-5):
    errors = check_network_gradients(model, loss, x, y)
    return [name for name, error in errors.items() if error > threshold][-1:]
''',
        "names the layers, not the parameters": '''
def wrong_parameters(model, loss, x, y, threshold=1e-5):
    errors = check_network_gradients(model, loss, x, y)
    return sorted({name.split(".")[0] for name, error in errors.items() if error > threshold})
''',
        "the parameters that pass": '''
def wrong_parameters(model, loss, x, y, threshold=1e-5):
    errors = check_network_gradients(model, loss, x, y)
    return [name for name, error in errors.items() if error < threshold]
''',
        "calls bplib's check_network": '''
def wrong_parameters(model, loss, x, y, threshold=1e-5):
    return gradcheck.check_network(model, loss, x, y, threshold=threshold).failed
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
        "finite differences inside backward": '''
class FixedTanhNetwork(TanhNetwork):
    def backward(self, dout):
        x = self.cache[0].copy()
        f = lambda: self.forward(x)
        for name, param in self.params.items():
            self.grads[name] = numerical_gradient(f, param, dout=dout)
        return numerical_gradient(f, x, dout=dout)
''',
        "bplib's layers do the backward": '''
class FixedTanhNetwork(TanhNetwork):
    def backward(self, dout):
        p = self.params
        layers = [Linear(*p["0.W"].shape), Tanh(), Linear(*p["2.W"].shape), Tanh(),
                  Linear(*p["4.W"].shape)]
        for i in (0, 2, 4):
            layers[i].params["W"][...] = p[f"{i}.W"]
            layers[i].params["b"][...] = p[f"{i}.b"]
        net = Sequential(*layers)
        net.forward(self.cache[0])
        dx = net.backward(dout)
        for name, _, grad in net.parameters():
            self.grads[name] = grad.copy()
        return dx
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
    "wrong_layers": {
        "the layer from the notebook's example": '''
def wrong_layers(model, x, threshold=1e-5):
    return [1]
''',
        "only the parameter gradients": '''
def wrong_layers(model, x, threshold=1e-5):
    rng = np.random.default_rng(0)
    inputs = []
    for layer in model.layers:
        inputs.append(x.copy())
        x = layer.forward(x)
    wrong = []
    for i, (layer, x_i) in enumerate(zip(model.layers, inputs)):
        out = layer.forward(x_i)
        dout = rng.normal(size=out.shape)
        layer.backward(dout)
        f = lambda: layer.forward(x_i)
        for key, param in layer.params.items():
            grad = layer.grads[key].copy()
            if relative_error(grad, numerical_gradient(f, param, dout=dout)) > threshold:
                wrong.append(i)
                break
    return wrong
''',
        "checked through the network's output": '''
def wrong_layers(model, x, threshold=1e-5):
    out = model.forward(x)
    model.backward(np.ones_like(out))
    f = lambda: np.sum(model.forward(x))
    wrong = set()
    for name, param, grad in list(model.parameters()):
        grad = grad.copy()
        if relative_error(grad, numerical_gradient(f, param)) > threshold:
            wrong.add(int(name.split(".")[0]))
    return sorted(wrong)
''',
        "gradients picked up before backward": '''
def wrong_layers(model, x, threshold=1e-5):
    rng = np.random.default_rng(0)
    inputs = []
    for layer in model.layers:
        inputs.append(x.copy())
        x = layer.forward(x)
    wrong = []
    for i, (layer, x_i) in enumerate(zip(model.layers, inputs)):
        out = layer.forward(x_i)
        dout = rng.normal(size=out.shape)
        analytic = dict(layer.grads)
        analytic["dx"] = layer.backward(dout)
        f = lambda: layer.forward(x_i)
        numerical = {"dx": numerical_gradient(f, x_i, dout=dout)}
        numerical.update({k: numerical_gradient(f, p, dout=dout) for k, p in layer.params.items()})
        if max(relative_error(analytic[k], numerical[k]) for k in numerical) > threshold:
            wrong.append(i)
    return wrong
''',
        "never checks the first layer's dx": '''
def wrong_layers(model, x, threshold=1e-5):
    rng = np.random.default_rng(0)
    inputs = []
    for layer in model.layers:
        inputs.append(x.copy())
        x = layer.forward(x)
    wrong = []
    for i, (layer, x_i) in enumerate(zip(model.layers, inputs)):
        out = layer.forward(x_i)
        dout = rng.normal(size=out.shape)
        analytic = {"dx": layer.backward(dout)}
        analytic.update({k: g.copy() for k, g in layer.grads.items()})
        f = lambda: layer.forward(x_i)
        numerical = {k: numerical_gradient(f, p, dout=dout) for k, p in layer.params.items()}
        if i > 0:
            numerical["dx"] = numerical_gradient(f, x_i, dout=dout)
        if any(relative_error(analytic[k], numerical[k]) > threshold for k in numerical):
            wrong.append(i)
    return wrong
''',
        "calls bplib's check_layer": '''
def wrong_layers(model, x, threshold=1e-5):
    wrong = []
    for i, layer in enumerate(model.layers):
        if not gradcheck.check_layer(layer, x, threshold=threshold).passed:
            wrong.append(i)
        x = layer.forward(x)
    return wrong
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
        "a fix that counts on three layers": '''
class FixedSigmoidNetwork(SigmoidNetwork):
    def backward(self, dout):
        for i in reversed(range(self.n_layers)):
            a = self.inputs[i]
            self.grads[f"{2 * i}.W"] = a.T @ dout
            self.grads[f"{2 * i}.b"] = dout.sum(axis=0)
            dout = dout @ self.params[f"{2 * i}.W"].T
            if i in (1, 2):
                dout = dout * a * (1 - a)
        return dout
''',
    },
}
