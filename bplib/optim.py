"""Update rules: move every parameter a small step against its gradient.

An optimiser is built on a model (anything with ``parameters()`` yielding ``(name, param, grad)``,
such as :class:`bplib.network.Sequential`). Its semantics:

* ``step()`` updates every parameter **in place** once, from the gradients the last ``backward``
  left in the layers. Call it once per batch, after ``backward``.
* ``zero_grad()`` sets every gradient to zero. Our layers *overwrite* their gradients in
  ``backward``, so this is not needed between steps (in PyTorch, where gradients accumulate, it is).

**Weight decay.** ``weight_decay=lam`` adds the gradient ``lam * w`` of the L2 penalty
``(lam / 2) * sum(w**2)`` to each gradient before the update ("coupled", as PyTorch's SGD, RMSprop
and Adam do): in plain SGD, w <- w - lr (g + lam w) = (1 - lr lam) w - lr g, the weights shrink by
a constant factor each step (Krogh & Hertz 1992; Goodfellow et al. 2016, section 7.1.1). In Adam the
added term is divided by sqrt(v_hat) like the rest, so weights with large gradients decay less;
``Adam(..., decoupled_weight_decay=True)`` is AdamW (Loshchilov & Hutter, "Decoupled weight decay
regularization", ICLR 2019), which shrinks the weights directly: w <- w - lr (adam_step + lam w).
Only weight matrices and embedding tables (arrays of 2 or more dimensions) are decayed; biases and
the scale and shift of normalisation layers are not (common practice, e.g. nanoGPT and timm).
"""

import numpy as np

__all__ = ["SGD", "Adam", "RMSProp", "clip_grad_norm", "gradient_norm"]


class Optimizer:
    def __init__(self, model, learning_rate, weight_decay=0.0):
        if not hasattr(model, "parameters"):
            raise TypeError(f"{type(self).__name__}: expected a model with a parameters() method "
                            f"(e.g. a Sequential), got {type(model).__name__}")
        if not learning_rate > 0:
            raise ValueError(f"{type(self).__name__}: learning_rate must be positive, "
                             f"got {learning_rate!r}")
        if not weight_decay >= 0:
            raise ValueError(f"{type(self).__name__}: weight_decay must be 0 or positive, "
                             f"got {weight_decay!r}")
        self.model = model
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.state = {}  # per-parameter buffers (velocity, moments), keyed by parameter name

    def _decays(self, param):
        """Whether weight decay applies to ``param``: weights (ndim >= 2), not biases or gains."""
        return self.weight_decay > 0 and param.ndim >= 2

    def _with_l2(self, param, grad):
        """grad + weight_decay * param for decayed parameters (a new array), else grad itself."""
        return grad + self.weight_decay * param if self._decays(param) else grad

    def zero_grad(self):
        for _, _, grad in self.model.parameters():
            grad[...] = 0

    def step(self):
        for name, param, grad in self.model.parameters():
            self._update(name, param, grad)

    def __repr__(self):
        decay = f", weight_decay={self.weight_decay:g}" if self.weight_decay else ""
        return f"{type(self).__name__}(learning_rate={self.learning_rate:g}{decay})"


class SGD(Optimizer):
    """Stochastic gradient descent, with optional momentum (PyTorch's convention):

    without momentum: w <- w - learning_rate * g
    with momentum:    v <- momentum * v + g;   w <- w - learning_rate * v
    with weight_decay: g is replaced by g + weight_decay * w first (coupled L2, see the module).
    """

    def __init__(self, model, learning_rate=0.01, momentum=0.0, weight_decay=0.0):
        super().__init__(model, learning_rate, weight_decay)
        if not 0 <= momentum < 1:
            raise ValueError(f"SGD: momentum must be in [0, 1), got {momentum!r}")
        self.momentum = momentum

    def _update(self, name, param, grad):
        grad = self._with_l2(param, grad)
        if self.momentum:
            if name not in self.state:
                self.state[name] = np.zeros_like(param)
            velocity = self.state[name]
            velocity *= self.momentum
            velocity += grad
            grad = velocity
        param -= self.learning_rate * grad

    def __repr__(self):
        decay = f", weight_decay={self.weight_decay:g}" if self.weight_decay else ""
        return f"SGD(learning_rate={self.learning_rate:g}, momentum={self.momentum:g}{decay})"


class Adam(Optimizer):
    """Adam (Kingma & Ba, 2015): momentum on the gradient and a per-parameter step size.

    m <- b1 m + (1 - b1) g;   v <- b2 v + (1 - b2) g**2;   (t counts the steps, from 1)
    w <- w - learning_rate * m_hat / (sqrt(v_hat) + eps),  m_hat = m / (1 - b1**t), v_hat = v / (1 - b2**t)

    ``weight_decay``: coupled L2 (g + weight_decay * w goes into m and v), or, with
    ``decoupled_weight_decay=True``, AdamW (Loshchilov & Hutter 2019, Algorithm 2, with PyTorch's
    scaling by the learning rate): w <- w - learning_rate * (m_hat / (sqrt(v_hat) + eps) + weight_decay * w).
    """

    def __init__(self, model, learning_rate=0.001, beta1=0.9, beta2=0.999, eps=1e-8,
                 weight_decay=0.0, decoupled_weight_decay=False):
        super().__init__(model, learning_rate, weight_decay)
        self.beta1, self.beta2, self.eps = beta1, beta2, eps
        self.decoupled_weight_decay = bool(decoupled_weight_decay)
        self.t = 0

    def step(self):
        self.t += 1
        super().step()

    def _update(self, name, param, grad):
        if name not in self.state:
            self.state[name] = (np.zeros_like(param), np.zeros_like(param))
        m, v = self.state[name]
        if not self.decoupled_weight_decay:
            grad = self._with_l2(param, grad)
        m *= self.beta1
        m += (1 - self.beta1) * grad
        v *= self.beta2
        v += (1 - self.beta2) * grad * grad
        m_hat = m / (1 - self.beta1 ** self.t)
        v_hat = v / (1 - self.beta2 ** self.t)
        step = m_hat / (np.sqrt(v_hat) + self.eps)
        if self.decoupled_weight_decay and self._decays(param):
            step += self.weight_decay * param  # the old w: decay and Adam step from the same point
        param -= self.learning_rate * step

    def __repr__(self):
        decay = ""
        if self.weight_decay:
            decay = (f", weight_decay={self.weight_decay:g}"
                     + (", decoupled_weight_decay=True" if self.decoupled_weight_decay else ""))
        return f"Adam(learning_rate={self.learning_rate:g}{decay})"


class RMSProp(Optimizer):
    """RMSProp (Tieleman & Hinton 2012, Coursera "Neural networks for machine learning", lecture
    6.5): divide each gradient entry by a running root mean square of its recent values.

    s <- decay_rate * s + (1 - decay_rate) * g**2;   w <- w - learning_rate * g / (sqrt(s) + eps)

    The step between momentum and Adam: Adam is RMSProp (its v is s) plus momentum on the
    gradient (m) plus bias correction. Without that correction, the first steps are too large:
    with s = 0 at the start, the first step is learning_rate / sqrt(1 - decay_rate) per entry
    (10 x learning_rate for 0.99). ``decay_rate`` is PyTorch's ``alpha`` (default 0.99 in both).
    ``weight_decay``: coupled L2, as in SGD.
    """

    def __init__(self, model, learning_rate=0.01, decay_rate=0.99, eps=1e-8, weight_decay=0.0):
        super().__init__(model, learning_rate, weight_decay)
        if not 0 <= decay_rate < 1:
            raise ValueError(f"RMSProp: decay_rate must be in [0, 1), got {decay_rate!r}")
        self.decay_rate, self.eps = decay_rate, eps

    def _update(self, name, param, grad):
        grad = self._with_l2(param, grad)
        if name not in self.state:
            self.state[name] = np.zeros_like(param)
        s = self.state[name]
        s *= self.decay_rate
        s += (1 - self.decay_rate) * grad * grad
        param -= self.learning_rate * grad / (np.sqrt(s) + self.eps)


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
