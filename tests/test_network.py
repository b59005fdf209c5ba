import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from oracle import five_point_gradient, signed_uniform, well_conditioned

from bplib.gradcheck import relative_error
from bplib.layers import LeakyReLU, Linear, ReLU, Tanh
from bplib.losses import MSELoss, SoftmaxCrossEntropyLoss
from bplib.network import Sequential, mlp


def relu_inputs_away_from_zero(net, x, margin=1e-2):
    for layer in net.layers:
        if isinstance(layer, (ReLU, LeakyReLU)) and np.min(np.abs(x)) < margin:  # the kinks
            return False
        x = layer.forward(x)
    return True


@given(sizes=st.lists(st.integers(2, 6), min_size=2, max_size=5),
       activation=st.sampled_from(["relu", "tanh", "sigmoid", "leaky_relu"]),
       loss_name=st.sampled_from(["cross_entropy", "mse"]),
       n=st.integers(1, 5), seed=st.integers(0, 2**32 - 1))
def test_sequential_gradients_match_numerical(sizes, activation, loss_name, n, seed):
    rng = np.random.default_rng(seed)
    net = mlp(sizes, activation=activation, rng=seed)
    for _, param, _ in net.parameters():
        if param.ndim == 1:  # non-zero biases, so no pre-activation sits exactly on a kink
            param[...] = signed_uniform(rng, param.shape, 0.1, 0.5)
    x = signed_uniform(rng, (n, sizes[0]), 0.2, 1.5)
    if loss_name == "cross_entropy":
        loss, target = SoftmaxCrossEntropyLoss(), rng.integers(0, sizes[-1], n)
    else:
        loss, target = MSELoss(), rng.normal(size=(n, sizes[-1]))
    assume(relu_inputs_away_from_zero(net, x))
    loss.forward(net.forward(x), target)
    net.backward(loss.backward())
    for name, param, grad in net.parameters():
        analytic = grad.copy()
        numeric = five_point_gradient(lambda: loss.forward(net.forward(x), target), param)
        assume(well_conditioned(analytic, numeric))
        assert relative_error(analytic, numeric) <= 1e-7, name


def test_parameters_are_the_layers_own_arrays():
    net = mlp([3, 4, 2], rng=0)
    names = [name for name, _, _ in net.parameters()]
    assert names == ["0.W", "0.b", "2.W", "2.b"]
    for name, param, grad in net.parameters():
        layer = net.layers[int(name.split(".")[0])]
        key = name.split(".")[1]
        assert param is layer.params[key] and grad is layer.grads[key]
    assert net.num_parameters() == 3 * 4 + 4 + 4 * 2 + 2


def test_mlp_builds_the_layers_asked_for():
    net = mlp([2, 16, 16, 1], activation="tanh", rng=0)
    assert [repr(layer) for layer in net.layers] == [
        "Linear(2 -> 16)", "Tanh()", "Linear(16 -> 16)", "Tanh()", "Linear(16 -> 1)"]
    assert "Linear(2 -> 16)" in repr(net)


def test_mlp_is_reproducible_with_a_seed_and_different_without():
    a, b, c = mlp([4, 8, 2], rng=7), mlp([4, 8, 2], rng=7), mlp([4, 8, 2], rng=8)
    for (_, pa, _), (_, pb, _), (_, pc, _) in zip(a.parameters(), b.parameters(), c.parameters()):
        np.testing.assert_array_equal(pa, pb)
        if pa.ndim == 2:
            assert not np.array_equal(pa, pc)


def test_mlp_default_initialisation_follows_the_activation():
    relu_net, tanh_net = mlp([400, 300], activation="relu", rng=0), mlp([400, 300], "tanh", rng=0)
    assert relu_net.layers[0].params["W"].std() == pytest.approx(np.sqrt(2 / 400), rel=0.02)
    assert tanh_net.layers[0].params["W"].std() == pytest.approx(np.sqrt(2 / 700), rel=0.02)


def test_sequential_forward_and_backward_chain_the_layers():
    net = Sequential(Linear(2, 2, rng=0), Tanh())
    x = np.array([[0.5, -1.0]])
    manual = np.tanh(x @ net.layers[0].params["W"] + net.layers[0].params["b"])
    np.testing.assert_allclose(net.forward(x), manual)
    dx = net.backward(np.ones((1, 2)))
    expected = (1 - manual ** 2) @ net.layers[0].params["W"].T
    np.testing.assert_allclose(dx, expected)


def test_clear_errors():
    with pytest.raises(TypeError, match="item 1 .* is not a layer"):
        Sequential(Linear(2, 2), "relu")
    with pytest.raises(ValueError, match="unknown activation 'gelu'"):
        mlp([2, 2], activation="gelu")
    with pytest.raises(ValueError, match="at least an input and an output size"):
        mlp([2])


def test_backward_can_skip_the_input_gradient_with_the_same_parameter_gradients():
    net = mlp([3, 5, 2], rng=0)
    x, dout = np.random.default_rng(1).normal(size=(4, 3)), np.random.default_rng(2).normal(size=(4, 2))
    net.forward(x)
    dx = net.backward(dout)
    full = [g.copy() for _, _, g in net.parameters()]
    assert dx.shape == (4, 3)
    assert net.backward(dout, need_dx=False) is None
    for before, (_, _, after) in zip(full, net.parameters()):
        np.testing.assert_array_equal(before, after)


# --- training and evaluation modes; normalisation and dropout in mlp ------------------------------

def test_train_and_eval_switch_every_layer_and_leave_other_objects_alone():
    from bplib.layers import Dropout
    from bplib.normalization import BatchNorm

    class Plain:  # a layer of the learner's own, without a training flag
        def forward(self, x):
            return x

        def backward(self, dout):
            return dout

    plain = Plain()
    inner = Sequential(Linear(3, 3, rng=0), Dropout(0.5))
    net = Sequential(Linear(2, 3, rng=0), BatchNorm(3), ReLU(), inner, plain)
    assert net.training and all(layer.training for layer in net.layers[:4])
    assert net.eval() is net
    assert not net.training and not any(layer.training for layer in net.layers[:4])
    assert not any(layer.training for layer in inner.layers)  # nested models too
    assert not hasattr(plain, "training")
    net.train()
    assert net.training and all(layer.training for layer in inner.layers)


def test_mlp_with_batch_norm_and_dropout_builds_them_between_the_hidden_layers():
    net = mlp([2, 8, 8, 3], activation="tanh", norm="batch", dropout=0.2, rng=0)
    assert [repr(layer) for layer in net.layers] == [
        "Linear(2 -> 8)", "BatchNorm(8)", "Tanh()", "Dropout(p=0.2)",
        "Linear(8 -> 8)", "BatchNorm(8)", "Tanh()", "Dropout(p=0.2)", "Linear(8 -> 3)"]
    names = [name for name, _, _ in net.parameters()]
    assert names[:4] == ["0.W", "0.b", "1.gamma", "1.beta"]
    assert [repr(layer) for layer in mlp([2, 4, 1], norm="layer", rng=0).layers][1] == "LayerNorm(4)"
    with pytest.raises(ValueError, match="unknown norm 'group'"):
        mlp([2, 2], norm="group")


def test_a_network_with_batch_norm_matches_the_oracle_in_both_modes():
    rng = np.random.default_rng(0)
    net = mlp([3, 5, 5, 2], activation="tanh", norm="batch", rng=1)
    x, target = rng.normal(size=(6, 3)), rng.normal(size=(6, 2))
    loss = MSELoss()
    for mode in ("train", "eval"):
        getattr(net, mode)()
        loss.forward(net.forward(x), target)
        net.backward(loss.backward())
        for name, param, grad in net.parameters():
            analytic = grad.copy()
            numeric = five_point_gradient(lambda: loss.forward(net.forward(x), target), param)
            if mode == "train" and name in ("0.b", "3.b"):
                # batch norm subtracts the batch mean: a bias just before it changes nothing
                assert np.abs(analytic).max() < 1e-12 and np.abs(numeric).max() < 1e-9, name
                continue
            assert relative_error(analytic, numeric) <= 1e-7, (mode, name)
