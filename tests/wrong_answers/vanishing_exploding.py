WRONG = {
    "layer_gradient_norms": {
        "output layer first": '''
def layer_gradient_norms(model):
    return [float(np.linalg.norm(layer.grads["W"])) for layer in reversed(model.layers)
            if isinstance(layer, Linear)]
''',
        "squared norm": '''
def layer_gradient_norms(model):
    return [float(np.sum(layer.grads["W"] ** 2)) for layer in model.layers
            if isinstance(layer, Linear)]
''',
        "norm of the weights": '''
def layer_gradient_norms(model):
    return [float(np.linalg.norm(layer.params["W"])) for layer in model.layers
            if isinstance(layer, Linear)]
''',
        "every parameter, biases too": '''
def layer_gradient_norms(model):
    return [float(np.linalg.norm(grad)) for _, _, grad in model.parameters()]
''',
        "mean absolute entry": '''
def layer_gradient_norms(model):
    return [float(np.mean(np.abs(layer.grads["W"]))) for layer in model.layers
            if isinstance(layer, Linear)]
''',
    },
    "xavier_init": {
        "LeCun's 1 / fan_in": '''
def xavier_init(fan_in, fan_out, rng):
    return rng.normal(0.0, np.sqrt(1.0 / fan_in), size=(fan_in, fan_out))
''',
        "variance used as std": '''
def xavier_init(fan_in, fan_out, rng):
    return rng.normal(0.0, 2.0 / (fan_in + fan_out), size=(fan_in, fan_out))
''',
        "uniform limit without the 3": '''
def xavier_init(fan_in, fan_out, rng):
    limit = np.sqrt(2.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, size=(fan_in, fan_out))
''',
        "ignores rng": '''
def xavier_init(fan_in, fan_out, rng):
    return np.random.normal(0.0, np.sqrt(2.0 / (fan_in + fan_out)), size=(fan_in, fan_out))
''',
        "calls bplib's Xavier initialiser": '''
from bplib import init as bplib_init

def xavier_init(fan_in, fan_out, rng):
    return bplib_init.xavier_normal((fan_in, fan_out), rng)
''',
        "transposed": '''
def xavier_init(fan_in, fan_out, rng):
    return rng.normal(0.0, np.sqrt(2.0 / (fan_in + fan_out)), size=(fan_out, fan_in))
''',
    },
    "he_init": {
        "1 / fan_in": '''
def he_init(fan_in, fan_out, rng):
    return rng.normal(0.0, np.sqrt(1.0 / fan_in), size=(fan_in, fan_out))
''',
        "fan_out": '''
def he_init(fan_in, fan_out, rng):
    return rng.normal(0.0, np.sqrt(2.0 / fan_out), size=(fan_in, fan_out))
''',
        "Xavier's variance": '''
def he_init(fan_in, fan_out, rng):
    return rng.normal(0.0, np.sqrt(2.0 / (fan_in + fan_out)), size=(fan_in, fan_out))
''',
        "uniform on [0, a]": '''
def he_init(fan_in, fan_out, rng):
    return rng.uniform(0.0, np.sqrt(6.0 / fan_in), size=(fan_in, fan_out))
''',
        "a bplib Linear layer's He weights": '''
def he_init(fan_in, fan_out, rng):
    return Linear(fan_in, fan_out, init="he", rng=rng).params["W"]
''',
        "new generator with a fixed seed": '''
def he_init(fan_in, fan_out, rng):
    return np.random.default_rng(0).normal(0.0, np.sqrt(2.0 / fan_in), size=(fan_in, fan_out))
''',
    },
    "clip_grad_norm": {
        "each array on its own": '''
def clip_grad_norm(grads, max_norm):
    total = np.sqrt(sum(np.sum(g ** 2) for g in grads))
    for g in grads:
        norm = np.linalg.norm(g)
        if norm > max_norm:
            g *= max_norm / norm
    return float(total)
''',
        "not in place": '''
def clip_grad_norm(grads, max_norm):
    total = np.sqrt(sum(np.sum(g ** 2) for g in grads))
    if total > max_norm:
        for g in grads:
            g = g * (max_norm / total)
    return float(total)
''',
        "clips each entry": '''
def clip_grad_norm(grads, max_norm):
    total = np.sqrt(sum(np.sum(g ** 2) for g in grads))
    for g in grads:
        np.clip(g, -max_norm, max_norm, out=g)
    return float(total)
''',
        "rescales below the cap too": '''
def clip_grad_norm(grads, max_norm):
    total = np.sqrt(sum(np.sum(g ** 2) for g in grads))
    for g in grads:
        g *= max_norm / total
    return float(total)
''',
        "calls bplib.optim.clip_grad_norm": '''
from bplib import optim

class GradientList:
    """Looks like a model to bplib.optim: parameters() yields (name, param, grad)."""
    def __init__(self, grads):
        self.grads = grads

    def parameters(self):
        return [(str(i), g, g) for i, g in enumerate(self.grads)]

def clip_grad_norm(grads, max_norm):
    return optim.clip_grad_norm(GradientList(grads), max_norm)
''',
        "returns the norm after clipping": '''
def clip_grad_norm(grads, max_norm):
    total = np.sqrt(sum(np.sum(g ** 2) for g in grads))
    if total > max_norm:
        for g in grads:
            g *= max_norm / total
        total = max_norm
    return float(total)
''',
    },
    "deep_config": {
        "one configuration for every network": '''
def deep_config(activation, depth, init=None):
    return {"init": "he", "learning_rate": 0.02, "clip_norm": None}
''',
        "ignores the imposed init": '''
def deep_config(activation, depth, init=None):
    return {"init": "he" if activation == "relu" else "xavier", "learning_rate": 0.02, "clip_norm": 1.0}
''',
        "imposed large weights without clipping": '''
def deep_config(activation, depth, init=None):
    if init is None:
        init = "he" if activation == "relu" else "xavier"
    return {"init": init, "learning_rate": 0.02, "clip_norm": None}
''',
        "small normal weights": '''
def deep_config(activation, depth, init=None):
    return {"init": init or "small", "learning_rate": 0.1, "clip_norm": 1.0}
''',
        "the activation in the dict": '''
def deep_config(activation, depth, init=None):
    return {"activation": activation, "init": init or ("he" if activation == "relu" else "xavier"),
            "learning_rate": 0.02, "clip_norm": 1.0}
''',
        "a misspelt key": '''
def deep_config(activation, depth, init=None):
    return {"init": init or "he", "lr": 0.02, "clip_norm": 1.0}
''',
    },
}
