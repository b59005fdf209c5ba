import warnings

import numpy as np
import pytest

from bplib import gradcheck as gc
from bplib.layers import Linear, ReLU, Sigmoid, Tanh
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
    def backward(self, dout, need_dx=True):
        dx = super().backward(dout, need_dx)
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


# --- kinks and round-off: what a finite difference cannot measure -----------------------------

class ReLUForgotMask(ReLU):
    def backward(self, dout):
        self._cached()
        return dout  # should be dout * (x > 0)


class ReLUMaskInverted(ReLU):
    def backward(self, dout):
        return dout * ~self._cached()  # (x <= 0) instead of (x > 0)


def random_relu_layer_check(seed, dtype, layer=None):
    rng = np.random.default_rng(seed)
    n, d = rng.integers(4, 33, size=2)
    x = rng.standard_normal((n, d)).astype(dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the float32 warning
        return gc.check_layer(ReLU() if layer is None else layer, x, rng=seed)


def random_network_check(seed, dtype, activation="relu", bad_first_layer=None):
    """A random 1- or 2-hidden-layer MLP (widths 4-16), a batch of 4-32, cross-entropy."""
    rng = np.random.default_rng(seed)
    sizes = ([int(rng.integers(2, 9))] + [int(rng.integers(4, 17)) for _ in range(rng.integers(1, 3))]
             + [int(rng.integers(2, 5))])
    net = mlp(sizes, activation=activation, rng=seed, dtype=dtype)
    if bad_first_layer is not None:
        net.layers[0] = bad_first_layer(sizes[0], sizes[1], rng=seed, dtype=dtype)
    n = int(rng.integers(4, 33))
    x, y = rng.standard_normal((n, sizes[0])).astype(dtype), rng.integers(0, sizes[-1], n)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return gc.check_network(net, SoftmaxCrossEntropyLoss(), x, y)


def test_float32_checks_of_correct_relu_code_pass_and_count_the_kinks():
    """float32 needs h = 1e-2, so many inputs of a ReLU lie within h of its kink at 0: there the
    central difference averages two slopes and disagrees with backprop by ~100%."""
    layers = [random_relu_layer_check(seed, np.float32) for seed in range(20)]
    networks = [random_network_check(seed, np.float32) for seed in range(10)]
    assert [r for r in layers + networks if not r.passed] == []
    assert sum(r.kinks for r in layers) > 20 and sum(r.kinks for r in networks) > 5
    report = next(r for r in networks if r.kinks)
    text = repr(report)
    assert "kink" in text and "not compared" in text and f"{report.kinks} " in text


def test_a_kink_within_h_is_found_exactly_where_it_is():
    x = np.array([[0.5, -0.004, 1.0], [0.003, -2.0, 0.0]], dtype=np.float32)  # three within h=1e-2
    with pytest.warns(UserWarning, match="float32"):
        report = gc.check_layer(ReLU(), x, rng=0)
    assert report.passed and report["x"].kinks == 3 and report["x"].entries == 6
    assert report["x"].max_relative_error < 1e-5  # the other three entries agree
    exact = gc.check_layer(ReLU(), x.astype(np.float64), rng=0)  # h = 1e-5: only the exact 0
    assert exact.passed and exact["x"].kinks == 1


@pytest.mark.parametrize("bug", [ReLUForgotMask, ReLUMaskInverted])
def test_relu_bugs_are_still_caught_in_float32(bug):
    for seed in range(20):
        report = random_relu_layer_check(seed, np.float32, bug())
        assert report.failed == ["x"], report
        assert "kink" not in report["x"].problem


def test_a_bug_in_a_smooth_or_kinked_network_is_still_caught_in_float32():
    for seed in range(10):
        for activation in ("relu", "tanh"):
            report = random_network_check(seed, np.float32, activation, bad_first_layer=FactorTwo)
            assert report.failed == ["0.W"], report
    smooth = random_network_check(0, np.float32, "tanh", bad_first_layer=FactorTwo)
    assert smooth.kinks == 0  # no ReLU, so no kinks: nothing is explained away


def test_float32_round_off_at_tiny_entries_is_not_called_wrong():
    """(f(x+h) - f(x-h)) / 2h carries the round-off of f (about eps * |f|) divided by h: in
    float32 about 1e-5 * |loss|, more than the size of a tiny gradient entry."""
    reports = [random_network_check(seed, np.float32, "tanh") for seed in range(20)]
    assert [r for r in reports if not r.passed] == []
    assert sum(r.unresolved for r in reports) > 0
    report = next(r for r in reports if r.unresolved)
    assert "round-off" in repr(report)


def test_sparse_and_directional_checks_also_step_over_kinks_in_float32():
    for seed in range(10):
        rng = np.random.default_rng(seed)
        net = mlp([6, 16, 16, 3], activation="relu", rng=seed, dtype=np.float32)
        x, y = rng.standard_normal((32, 6)).astype(np.float32), rng.integers(0, 3, 32)
        loss = SoftmaxCrossEntropyLoss()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            assert gc.sparse_check(net, loss, x, y, k=60, rng=seed).passed
            assert gc.directional_check(net, loss, x, y, rng=seed, per_parameter=True).passed
            net.layers[2] = FactorTwo(16, 16, rng=seed, dtype=np.float32)
            assert "2.W" in gc.sparse_check(net, loss, x, y, k=60, rng=seed).failed
            assert gc.directional_check(net, loss, x, y, rng=seed, per_parameter=True).failed == ["2.W"]
