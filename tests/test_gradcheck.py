import numpy as np
import pytest

from bplib import gradcheck as gc
from bplib.layers import Linear, Sigmoid, Tanh
from bplib.losses import MSELoss, SoftmaxCrossEntropyLoss
from bplib.network import Sequential, mlp

# --- deliberately wrong backwards: each typical bug in one place -----------------------------


class TransposedWeightGradient(Linear):
    def backward(self, dout):
        dx = super().backward(dout)
        self.grads["W"] = self.grads["W"].T.copy()  # square W: right shape, wrong entries
        return dx


class MissingBatchSum(Linear):
    def backward(self, dout):
        dx = super().backward(dout)
        self.grads["b"][...] = dout[0]  # only the first example's contribution
        return dx


class WrongSign(Linear):
    def backward(self, dout):
        return -super().backward(dout)  # dx with the wrong sign


class FactorTwo(Linear):
    def backward(self, dout):
        dx = super().backward(dout)
        self.grads["W"] *= 2.0
        return dx


class ForgotActivationDerivative(Sigmoid):
    def backward(self, dout):
        self._cached()
        return dout  # should be dout * out * (1 - out)


class CrossEntropyNotAveraged(SoftmaxCrossEntropyLoss):
    def backward(self):
        return super().backward() * len(self._cache[1])  # forgot to divide by N


BUGGY_LAYERS = [  # (layer, the gradient it gets wrong)
    (TransposedWeightGradient(3, 3, rng=0), "W"),
    (MissingBatchSum(3, 3, rng=0), "b"),
    (WrongSign(3, 3, rng=0), "x"),
    (FactorTwo(3, 3, rng=0), "W"),
    (ForgotActivationDerivative(), "x"),
]


@pytest.fixture
def batch():
    return np.random.default_rng(0).normal(size=(4, 3))


@pytest.mark.parametrize("layer, wrong", BUGGY_LAYERS, ids=lambda v: type(v).__name__)
def test_check_layer_fails_on_a_buggy_backward_and_names_the_parameter(layer, wrong, batch):
    report = gc.check_layer(layer, batch, rng=1)
    assert not report.passed
    assert report.failed == [wrong]
    assert report[wrong].max_relative_error > 1e-2
    assert f"FAILED ({wrong})" in repr(report)


@pytest.mark.parametrize("layer", [Linear(3, 3, rng=0), Sigmoid(), Tanh()], ids=repr)
def test_check_layer_passes_correct_layers(layer, batch):
    report = gc.check_layer(layer, batch, rng=1)
    assert report.passed, report
    assert report.max_relative_error < 1e-7


def test_check_layer_reports_wrong_shape_instead_of_crashing(batch):
    class TransposedNonSquare(Linear):
        def backward(self, dout):
            dx = super().backward(dout)
            self.grads["W"] = self.grads["W"].T.copy()
            return dx
    report = gc.check_layer(TransposedNonSquare(3, 5, rng=0), batch, rng=1)
    assert report.failed == ["W"]
    assert "shape (5, 3), expected (3, 5) (transposed?)" in repr(report)


def test_check_loss_fails_when_not_averaged_and_passes_when_right():
    logits = np.random.default_rng(0).normal(size=(5, 3))
    labels = np.array([0, 2, 1, 1, 0])
    assert gc.check_loss(SoftmaxCrossEntropyLoss(), logits, labels).passed
    report = gc.check_loss(CrossEntropyNotAveraged(), logits, labels)
    assert report.failed == ["prediction"]
    assert report["prediction"].max_relative_error == pytest.approx(4 / 6, rel=1e-6)  # 5x: |5a-a|/6a


def network_with(bad_layer):
    """Linear(3 -> 4), Tanh, bad_layer (4 -> m), Tanh, Linear(m -> 2): the bug sits in layer 2."""
    net = Sequential(Linear(3, 4, rng=1), Tanh(), bad_layer, Tanh(),
                     Linear(bad_layer.out_features, 2, rng=2))
    return net, np.random.default_rng(3).normal(size=(6, 3)), np.array([0, 1, 1, 0, 1, 0])


@pytest.mark.parametrize("bad_layer, wrong", [
    (TransposedWeightGradient(4, 4, rng=0), "2.W"),  # square, so only the values are wrong
    (MissingBatchSum(4, 3, rng=0), "2.b"),
    (FactorTwo(4, 3, rng=0), "2.W"),
], ids=lambda v: type(v).__name__ if not isinstance(v, str) else v)
def test_network_checks_point_at_the_wrong_parameter(bad_layer, wrong):
    net, x, y = network_with(bad_layer)
    loss = SoftmaxCrossEntropyLoss()
    assert gc.check_network(net, loss, x, y).failed == [wrong]
    assert gc.sparse_check(net, loss, x, y, k=net.num_parameters(), rng=0).failed == [wrong]
    assert not gc.directional_check(net, loss, x, y, rng=0).passed
    assert gc.directional_check(net, loss, x, y, rng=0, per_parameter=True).failed == [wrong]


def test_wrong_sign_in_dx_is_caught_by_the_layers_below():
    net, x, y = network_with(WrongSign(4, 3, rng=0))
    report = gc.check_network(net, SoftmaxCrossEntropyLoss(), x, y)
    assert report.failed == ["0.W", "0.b"]  # only what lies below the wrong dx is affected


def test_network_checks_pass_a_correct_network():
    net = mlp([5, 8, 8, 3], activation="tanh", rng=0)
    x, y = np.random.default_rng(1).normal(size=(7, 5)), np.arange(7) % 3
    loss = SoftmaxCrossEntropyLoss()
    assert gc.check_network(net, loss, x, y).passed
    assert gc.sparse_check(net, loss, x, y, k=20, rng=0).passed
    assert gc.directional_check(net, loss, x, y, rng=0).passed
    assert gc.directional_check(net, loss, x, y, rng=0, per_parameter=True).passed


def test_checks_leave_the_parameters_exactly_as_they_were():
    net = mlp([5, 8, 3], rng=0)
    before = [p.copy() for _, p, _ in net.parameters()]
    x, y = np.random.default_rng(1).normal(size=(4, 5)), np.array([0, 1, 2, 0])
    gc.check_network(net, SoftmaxCrossEntropyLoss(), x, y)
    gc.sparse_check(net, SoftmaxCrossEntropyLoss(), x, y, rng=0)
    gc.directional_check(net, SoftmaxCrossEntropyLoss(), x, y, rng=0)
    for old, (_, new, _) in zip(before, net.parameters()):
        np.testing.assert_array_equal(old, new)


def test_directional_check_restores_a_mixed_precision_network_exactly():
    """Its snapshot of the parameters lives in buffers kept between calls: a float32 layer's
    parameters must not pass through a float64 buffer or the other way round."""
    net = Sequential(Linear(5, 8, rng=0, dtype=np.float32), Tanh(), Linear(8, 3, rng=1))
    x, y = np.random.default_rng(1).normal(size=(4, 5)), np.array([0, 1, 2, 0])
    gc.directional_check(mlp([30, 30, 3], rng=2), SoftmaxCrossEntropyLoss(),
                         np.ones((2, 30)), np.array([0, 1]), rng=0)  # leaves a larger buffer behind
    before = [p.copy() for _, p, _ in net.parameters()]
    for per_parameter in (False, True):
        with pytest.warns(UserWarning, match="float32"):  # its first parameter is float32
            gc.directional_check(net, SoftmaxCrossEntropyLoss(), x, y, rng=0,
                                 per_parameter=per_parameter)
        for old, (name, new, _) in zip(before, net.parameters()):
            assert new.dtype == old.dtype, name
            np.testing.assert_array_equal(old, new, err_msg=name)


def test_full_check_is_refused_above_the_budget_with_a_pointer():
    net = mlp([100, 100, 10], rng=0)
    with pytest.raises(ValueError, match=r"11,110 parameters.*sparse_check.*directional_check"):
        gc.check_network(net, MSELoss(), np.zeros((2, 100)), np.zeros((2, 10)))


def test_float32_check_warns_and_still_works():
    layer = Linear(3, 2, rng=0, dtype=np.float32)
    x = np.random.default_rng(0).normal(size=(4, 3)).astype(np.float32)
    with pytest.warns(UserWarning, match="float32"):
        report = gc.check_layer(layer, x, rng=0)
    assert report.passed and report.threshold == gc.default_threshold(np.float32)
    with pytest.warns(UserWarning, match="float32"):
        assert not gc.check_layer(FactorTwo(3, 2, rng=0, dtype=np.float32), x, rng=0).passed


# --- the building blocks ----------------------------------------------------------------------

def test_numerical_gradient_of_known_functions():
    x = np.array([1.0, -2.0, 0.5])
    np.testing.assert_allclose(gc.numerical_gradient(lambda: np.sum(x ** 2), x), 2 * x, rtol=1e-9)
    np.testing.assert_allclose(gc.numerical_gradient(lambda: np.sin(x), x, dout=np.ones(3)),
                               np.cos(x), rtol=1e-9)


def test_numerical_gradient_restores_every_entry_even_when_f_raises():
    x = np.array([[1.0, 2.0], [3.0, 4.0]])
    original = x.copy()
    gc.numerical_gradient(lambda: float(x.sum() ** 3), x)
    np.testing.assert_array_equal(x, original)
    calls = []

    def explode():
        calls.append(1)
        if len(calls) == 3:
            raise ArithmeticError("boom")
        return float(x.sum())
    with pytest.raises(ArithmeticError):
        gc.numerical_gradient(explode, x)
    np.testing.assert_array_equal(x, original)


def test_numerical_gradient_refuses_non_float_arrays():
    with pytest.raises(TypeError, match="float NumPy array"):
        gc.numerical_gradient(lambda: 0.0, np.array([1, 2]))


def test_relative_error_formula():
    assert gc.relative_error(np.array([1.0]), np.array([1.1])) == pytest.approx(0.1 / 2.1)
    assert gc.relative_error(np.array([0.0, 2.0]), np.array([0.0, 2.0])) == 0.0
    # the 1e-8 floor: tiny absolute differences between tiny numbers
    assert gc.relative_error(np.array([1e-12]), np.array([0.0])) == pytest.approx(1e-4)
    assert gc.relative_error(np.array([3.0, 1.0]), np.array([3.0, -1.0])) == 1.0  # worst element
    with pytest.raises(ValueError, match="shapes differ"):
        gc.relative_error(np.zeros(2), np.zeros(3))
