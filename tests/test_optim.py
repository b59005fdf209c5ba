import numpy as np
import pytest

from bplib.layers import Linear
from bplib.network import Sequential
from bplib.optim import SGD, Adam, clip_grad_norm, gradient_norm


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
