import numpy as np
import pytest

from bplib.layers import Linear
from bplib.network import Sequential
from bplib.optim import SGD, Adam, RMSProp, clip_grad_norm, gradient_norm


def model_with_grad(w, g):
    net = Sequential(Linear(2, 1, rng=0))
    net.layers[0].params["W"][...] = np.reshape(w, (2, 1))
    net.layers[0].grads["W"][...] = np.reshape(g, (2, 1))
    return net


def weights(net):
    return net.layers[0].params["W"].ravel()


def test_sgd_step_is_w_minus_learning_rate_times_gradient():
    net = model_with_grad([1.0, 2.0], [0.5, -1.0])
    SGD(net, learning_rate=0.1).step()
    np.testing.assert_allclose(weights(net), [0.95, 2.1])


def test_momentum_accumulates_velocity():
    net = model_with_grad([0.0, 0.0], [1.0, 1.0])
    opt = SGD(net, learning_rate=0.1, momentum=0.9)
    opt.step()  # v = g = 1;           w = -0.1
    opt.step()  # v = 0.9 * 1 + 1 = 1.9; w = -0.1 - 0.19
    np.testing.assert_allclose(weights(net), [-0.29, -0.29])


def test_adam_first_step_moves_each_weight_by_about_the_learning_rate():
    net = model_with_grad([1.0, 1.0], [1e-3, -50.0])  # very different gradient sizes
    Adam(net, learning_rate=0.01).step()
    np.testing.assert_allclose(weights(net), [0.99, 1.01], rtol=1e-6)


def test_adam_matches_the_formula_over_several_steps():
    net = model_with_grad([1.0, -1.0], [0.3, 0.2])
    opt = Adam(net, learning_rate=0.05, beta1=0.8, beta2=0.9)
    w, m, v = np.array([1.0, -1.0]), np.zeros(2), np.zeros(2)
    g = np.array([0.3, 0.2])
    for t in range(1, 4):
        opt.step()
        m = 0.8 * m + 0.2 * g
        v = 0.9 * v + 0.1 * g ** 2
        w = w - 0.05 * (m / (1 - 0.8 ** t)) / (np.sqrt(v / (1 - 0.9 ** t)) + 1e-8)
    np.testing.assert_allclose(weights(net), w, rtol=1e-12)


def test_zero_grad_zeroes_every_gradient():
    net = model_with_grad([1.0, 1.0], [3.0, 4.0])
    net.layers[0].grads["b"][...] = 2.0
    SGD(net, 0.1).zero_grad()
    assert all(np.all(g == 0) for _, _, g in net.parameters())


def test_clip_grad_norm_caps_the_joint_norm_and_keeps_direction():
    net = model_with_grad([0.0, 0.0], [3.0, 4.0])
    assert gradient_norm(net) == pytest.approx(5.0)
    before = clip_grad_norm(net, max_norm=1.0)
    assert before == pytest.approx(5.0)
    np.testing.assert_allclose(net.layers[0].grads["W"].ravel(), [0.6, 0.8])
    assert clip_grad_norm(net, max_norm=10.0) == pytest.approx(1.0)  # below the cap: unchanged
    np.testing.assert_allclose(net.layers[0].grads["W"].ravel(), [0.6, 0.8])


def test_clear_errors():
    net = model_with_grad([0.0, 0.0], [0.0, 0.0])
    with pytest.raises(ValueError, match="learning_rate must be positive"):
        SGD(net, learning_rate=0)
    with pytest.raises(ValueError, match=r"momentum must be in \[0, 1\)"):
        SGD(net, 0.1, momentum=1.5)
    with pytest.raises(TypeError, match="parameters"):
        SGD([np.zeros(2)], 0.1)


# --- weight decay, AdamW and RMSProp ----------------------------------------------------------------

def test_sgd_weight_decay_is_the_gradient_of_the_l2_penalty_and_shrinks_the_weights():
    net = model_with_grad([1.0, -2.0], [0.5, 0.5])
    net.layers[0].params["b"][...] = 3.0
    net.layers[0].grads["b"][...] = 1.0
    SGD(net, learning_rate=0.1, weight_decay=0.2).step()
    # w - lr (g + lam w) = (1 - lr lam) w - lr g
    np.testing.assert_allclose(weights(net), 0.98 * np.array([1.0, -2.0]) - 0.05)
    np.testing.assert_allclose(net.layers[0].params["b"], [2.9])  # biases are not decayed


def test_sgd_with_weight_decay_descends_the_penalised_loss():
    from oracle import five_point_gradient

    from bplib.losses import MSELoss

    rng = np.random.default_rng(0)
    net = Sequential(Linear(3, 2, rng=0))
    x, target, lam = rng.normal(size=(5, 3)), rng.normal(size=(5, 2)), 0.3
    loss = MSELoss()
    W = net.layers[0].params["W"]
    penalised = lambda: loss.forward(net.forward(x), target) + lam / 2 * np.sum(W ** 2)
    expected = W - 0.1 * five_point_gradient(penalised, W)
    loss.forward(net.forward(x), target)
    net.backward(loss.backward())
    SGD(net, learning_rate=0.1, weight_decay=lam).step()
    np.testing.assert_allclose(W, expected, rtol=1e-9)


def _adam_reference(w, g, steps, lr, lam, decoupled, beta1=0.9, beta2=0.999, eps=1e-8):
    m, v = np.zeros_like(w), np.zeros_like(w)
    for t in range(1, steps + 1):
        grad = g if decoupled else g + lam * w
        m = beta1 * m + (1 - beta1) * grad
        v = beta2 * v + (1 - beta2) * grad ** 2
        step = (m / (1 - beta1 ** t)) / (np.sqrt(v / (1 - beta2 ** t)) + eps)
        w = w - lr * (step + (lam * w if decoupled else 0))
    return w


@pytest.mark.parametrize("decoupled", [False, True])
def test_adam_weight_decay_coupled_and_decoupled(decoupled):
    w0, g = np.array([1.0, -2.0]), np.array([1e-3, 10.0])
    net = model_with_grad(w0, g)
    opt = Adam(net, learning_rate=0.01, weight_decay=0.5, decoupled_weight_decay=decoupled)
    for _ in range(3):
        opt.step()
    np.testing.assert_allclose(weights(net), _adam_reference(w0, g, 3, 0.01, 0.5, decoupled), rtol=1e-12)


def test_adamw_decays_every_weight_by_the_same_factor_and_coupled_l2_does_not():
    """With a zero gradient the Adam steps of both weights are equal; the decay term is what
    differs. AdamW shrinks every weight by lr * lam of itself; coupled L2 goes through 1/sqrt(v)."""
    w0 = np.array([1.0, 1.0])
    for decoupled in (False, True):
        net = model_with_grad(w0, [0.0, 0.0])
        net.layers[0].grads["W"][...] = np.array([[0.0], [100.0]])
        Adam(net, learning_rate=0.01, weight_decay=0.1, decoupled_weight_decay=decoupled).step()
        if decoupled:
            assert weights(net)[0] == pytest.approx(1.0 - 0.01 * 0.1)
        else:  # the decay of weight 0 alone fills m and v: one full Adam step of size lr
            assert weights(net)[0] == pytest.approx(1.0 - 0.01, rel=1e-6)


def test_rmsprop_matches_the_formula_and_its_first_step_is_large():
    w0, g = np.array([1.0, -1.0]), np.array([0.3, -0.02])
    net = model_with_grad(w0, g)
    opt = RMSProp(net, learning_rate=0.01, decay_rate=0.99)
    opt.step()
    # s = 0.01 g**2: the first step is learning_rate / sqrt(0.01) = 10 x learning_rate per entry
    np.testing.assert_allclose(w0 - weights(net), 0.1 * np.sign(g), rtol=1e-5)
    w, s = weights(net).copy(), 0.01 * g ** 2
    for _ in range(3):
        opt.step()
        s = 0.99 * s + 0.01 * g ** 2
        w = w - 0.01 * g / (np.sqrt(s) + 1e-8)
    np.testing.assert_allclose(weights(net), w, rtol=1e-12)


def test_rmsprop_weight_decay_and_errors():
    net = model_with_grad([2.0, 2.0], [0.0, 0.0])
    RMSProp(net, learning_rate=0.1, weight_decay=1.0).step()  # g = w: the step is 10 x 0.1
    np.testing.assert_allclose(weights(net), [1.0, 1.0], rtol=1e-6)
    with pytest.raises(ValueError, match=r"decay_rate must be in \[0, 1\)"):
        RMSProp(net, decay_rate=1.0)
    with pytest.raises(ValueError, match="weight_decay must be 0 or positive"):
        SGD(net, 0.1, weight_decay=-1)
    assert repr(Adam(net, weight_decay=0.1, decoupled_weight_decay=True)) == (
        "Adam(learning_rate=0.001, weight_decay=0.1, decoupled_weight_decay=True)")
