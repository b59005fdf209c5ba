"""Update rules: move every parameter a small step against its gradient.

An optimiser is built on a model (anything with ``parameters()`` yielding ``(name, param, grad)``,
such as :class:`bplib.network.Sequential`). Its semantics:

* ``step()`` updates every parameter **in place** once, from the gradients the last ``backward``
  left in the layers. Call it once per batch, after ``backward``.
* ``zero_grad()`` sets every gradient to zero. Our layers *overwrite* their gradients in
  ``backward``, so this is not needed between steps (in PyTorch, where gradients accumulate, it is).
"""

import numpy as np

__all__ = ["SGD", "Adam", "clip_grad_norm", "gradient_norm"]


class Optimizer:
    def __init__(self, model, learning_rate):
        if not hasattr(model, "parameters"):
            raise TypeError(f"{type(self).__name__}: expected a model with a parameters() method "
                            f"(e.g. a Sequential), got {type(model).__name__}")
        if not learning_rate > 0:
            raise ValueError(f"{type(self).__name__}: learning_rate must be positive, "
                             f"got {learning_rate!r}")
        self.model = model
        self.learning_rate = learning_rate
        self.state = {}  # per-parameter buffers (velocity, moments), keyed by parameter name

    def zero_grad(self):
        for _, _, grad in self.model.parameters():
            grad[...] = 0

    def step(self):
        for name, param, grad in self.model.parameters():
            self._update(name, param, grad)

    def __repr__(self):
        return f"{type(self).__name__}(learning_rate={self.learning_rate:g})"


class SGD(Optimizer):
    """Stochastic gradient descent, with optional momentum (PyTorch's convention):

    without momentum: w <- w - learning_rate * g
    with momentum:    v <- momentum * v + g;   w <- w - learning_rate * v
    """

    def __init__(self, model, learning_rate=0.01, momentum=0.0):
        super().__init__(model, learning_rate)
        if not 0 <= momentum < 1:
            raise ValueError(f"SGD: momentum must be in [0, 1), got {momentum!r}")
        self.momentum = momentum

    def _update(self, name, param, grad):
        if self.momentum:
            if name not in self.state:
                self.state[name] = np.zeros_like(param)
            velocity = self.state[name]
            velocity *= self.momentum
            velocity += grad
            grad = velocity
        param -= self.learning_rate * grad

    def __repr__(self):
        return f"SGD(learning_rate={self.learning_rate:g}, momentum={self.momentum:g})"


class Adam(Optimizer):
    """Adam (Kingma & Ba, 2015): momentum on the gradient and a per-parameter step size.

    m <- b1 m + (1 - b1) g;   v <- b2 v + (1 - b2) g**2;   (t counts the steps, from 1)
    w <- w - learning_rate * m_hat / (sqrt(v_hat) + eps),  m_hat = m / (1 - b1**t), v_hat = v / (1 - b2**t)
    """

    def __init__(self, model, learning_rate=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
        super().__init__(model, learning_rate)
        self.beta1, self.beta2, self.eps = beta1, beta2, eps
        self.t = 0

    def step(self):
        self.t += 1
        super().step()

    def _update(self, name, param, grad):
        if name not in self.state:
            self.state[name] = (np.zeros_like(param), np.zeros_like(param))
        m, v = self.state[name]
        m *= self.beta1
        m += (1 - self.beta1) * grad
        v *= self.beta2
        v += (1 - self.beta2) * grad * grad
        m_hat = m / (1 - self.beta1 ** self.t)
        v_hat = v / (1 - self.beta2 ** self.t)
        param -= self.learning_rate * m_hat / (np.sqrt(v_hat) + self.eps)


def gradient_norm(model):
    """The L2 norm of all gradients together, sqrt(sum over parameters of sum(grad**2))."""
    return float(np.sqrt(sum(float(np.vdot(g, g)) for _, _, g in model.parameters())))


def clip_grad_norm(model, max_norm):
    """Rescale all gradients together so their joint L2 norm is at most ``max_norm``.

    The direction of the update is kept; only its length is capped. Returns the norm before clipping.
    """
    total = gradient_norm(model)
    if total > max_norm:
        scale = max_norm / (total + 1e-12)
        for _, _, grad in model.parameters():
            grad *= scale
    return total
