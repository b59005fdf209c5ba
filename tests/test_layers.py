import warnings

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from oracle import five_point_gradient, signed_uniform, well_conditioned

from bplib.gradcheck import relative_error
from bplib.layers import Layer, LeakyReLU, Linear, ReLU, Sigmoid, Tanh, sigmoid

LAYERS = {
    "Linear": lambda d, m, seed: Linear(d, m, rng=seed),
    "ReLU": lambda d, m, seed: ReLU(),
    "LeakyReLU": lambda d, m, seed: LeakyReLU(0.1),
    "Sigmoid": lambda d, m, seed: Sigmoid(),
    "Tanh": lambda d, m, seed: Tanh(),
}


@pytest.mark.parametrize("name", sorted(LAYERS))
@given(n=st.integers(1, 6), d=st.integers(1, 6), m=st.integers(1, 6),
       seed=st.integers(0, 2**32 - 1), scale=st.floats(0.2, 3.0))
def test_layer_gradients_match_numerical(name, n, d, m, seed, scale):
    rng = np.random.default_rng(seed)
    layer = LAYERS[name](d, m, seed)
    if "b" in layer.params:
        layer.params["b"][...] = signed_uniform(rng, layer.params["b"].shape, 0.05, 1.0)
    x = signed_uniform(rng, (n, d), 0.05, scale)
    out = layer.forward(x)
    dout = signed_uniform(rng, out.shape, 0.5, 2.0)
    analytic = {"x": layer.backward(dout), **{k: g.copy() for k, g in layer.grads.items()}}
    arrays = {"x": x, **layer.params}
    for key, array in arrays.items():
        numeric = five_point_gradient(lambda: layer.forward(x), array, dout=dout)
        assume(well_conditioned(analytic[key], numeric))
        error = relative_error(analytic[key], numeric)
        assert error <= 1e-7, f"{name}: d{key} relative error {error:.2e}"


def test_linear_forward_is_x_at_W_plus_b():
    layer = Linear(2, 3, rng=0)
    layer.params["W"][...] = [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]
    layer.params["b"][...] = [0.5, -0.5, 1.0]
    out = layer.forward(np.array([[1.0, 1.0], [2.0, 0.0]]))
    np.testing.assert_array_equal(out, [[5.5, 6.5, 10.0], [2.5, 3.5, 7.0]])


def test_backward_overwrites_grads_in_place():
    layer = Linear(3, 2, rng=0)
    dW_array = layer.grads["W"]
    x = np.ones((4, 3))
    layer.forward(x)
    layer.backward(np.ones((4, 2)))
    layer.backward(np.ones((4, 2)))  # twice: still the gradient of one batch, not the sum
    assert layer.grads["W"] is dW_array
    np.testing.assert_array_equal(layer.grads["W"], np.full((3, 2), 4.0))
    np.testing.assert_array_equal(layer.grads["b"], [4.0, 4.0])


def test_activations_values():
    x = np.array([[-2.0, 0.0, 3.0]])
    np.testing.assert_array_equal(ReLU().forward(x), [[0.0, 0.0, 3.0]])
    np.testing.assert_allclose(LeakyReLU(0.1).forward(x), [[-0.2, 0.0, 3.0]])
    np.testing.assert_allclose(Tanh().forward(x), np.tanh(x))
    np.testing.assert_allclose(Sigmoid().forward(x), 1 / (1 + np.exp(-x)), rtol=1e-15)


def test_sigmoid_is_stable_for_huge_inputs():
    x = np.array([-1e4, -800.0, -50.0, 0.0, 50.0, 800.0, 1e4])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an overflow RuntimeWarning would fail the test
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            s = sigmoid(x)
            layer = Sigmoid()
            out = layer.forward(x.reshape(1, -1))
            dx = layer.backward(np.ones_like(out))
    assert np.all(np.isfinite(s)) and np.all(np.isfinite(dx))
    assert s[0] == 0.0 and s[-1] == 1.0 and s[3] == 0.5
    np.testing.assert_allclose(s[2], np.exp(-50.0), rtol=1e-12)  # tiny, but not rounded to 0


def test_float32_in_float32_out():
    layer = Linear(4, 3, rng=0, dtype=np.float32)
    x = np.ones((2, 4), dtype=np.float32)
    out = layer.forward(x)
    dx = layer.backward(np.ones_like(out))
    assert out.dtype == dx.dtype == layer.grads["W"].dtype == np.float32
    for act in (ReLU(), Sigmoid(), Tanh(), LeakyReLU()):
        assert act.forward(x).dtype == np.float32
        assert act.backward(np.ones_like(x)).dtype == np.float32


# --- errors a learner can act on -------------------------------------------------------------

def test_shape_error_names_layer_and_expected_shape():
    with pytest.raises(ValueError, match=r"Linear\(3 -> 4\): expected input of shape \(N, 3\), "
                                         r"got \(5, 2\)"):
        Linear(3, 4, rng=0).forward(np.zeros((5, 2)))


def test_shape_error_hints_at_missing_batch_axis_and_transpose():
    with pytest.raises(ValueError, match=r"reshape\(1, 3\)"):
        Linear(3, 4, rng=0).forward(np.zeros(3))
    with pytest.raises(ValueError, match="transposed"):
        Linear(3, 4, rng=0).forward(np.zeros((3, 5)))


@pytest.mark.parametrize("layer", [Linear(2, 2, rng=0), ReLU(), Sigmoid(), Tanh(), LeakyReLU()],
                         ids=repr)
def test_backward_before_forward_says_so(layer):
    with pytest.raises(RuntimeError, match=r"backward\(\) was called before forward\(\)"):
        layer.backward(np.ones((1, 2)))


def test_integer_input_is_refused_with_a_fix():
    with pytest.raises(TypeError, match=r"floating-point.*got dtype int64.*astype"):
        Linear(2, 2, rng=0).forward(np.array([[0, 1]], dtype=np.int64))


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_input_is_reported_with_its_index(bad):
    x = np.zeros((2, 3))
    x[1, 2] = bad
    with pytest.raises(FloatingPointError, match=r"Linear\(3 -> 1\): input contains .* at index "
                                                 r"\(1, 2\)"):
        Linear(3, 1, rng=0).forward(x)


def test_wrong_dout_shape_is_reported():
    layer = Linear(3, 4, rng=0)
    layer.forward(np.zeros((5, 3)))
    with pytest.raises(ValueError, match=r"expected dout of shape \(5, 4\).*got \(4, 5\)"):
        layer.backward(np.zeros((4, 5)))


def test_bad_sizes_are_refused():
    with pytest.raises(ValueError, match="in_features must be a positive integer"):
        Linear(0, 3)


def test_base_layer_has_no_parameters():
    assert Layer().params == {} and Layer().grads == {}


def test_huge_but_finite_input_is_accepted():
    out = Linear(2, 1, rng=0).forward(np.array([[1e200, -1e200]]))  # its sum of squares overflows
    assert out.shape == (1, 1)


# --- Dropout ------------------------------------------------------------------------------------

def test_dropout_drops_with_probability_p_and_keeps_the_expected_value():
    from bplib.layers import Dropout

    x = np.full((200, 100), 2.0)
    layer = Dropout(0.3, rng=0)
    out = layer.forward(x)
    assert set(np.unique(out)) == {0.0, 2.0 / 0.7}
    assert abs(np.mean(out == 0) - 0.3) < 0.01  # 20,000 draws: standard deviation 0.003
    assert abs(out.mean() - 2.0) < 0.03  # inverted dropout: E[out] = x
    np.testing.assert_array_equal(layer.eval().forward(x), x)  # evaluation: the identity
    np.testing.assert_array_equal(layer.backward(np.ones_like(x)), np.ones_like(x))


def test_dropout_backward_uses_the_cached_mask():
    from bplib.layers import Dropout

    rng = np.random.default_rng(1)
    layer = Dropout(0.5, rng=2)
    x = signed_uniform(rng, (6, 5), 0.1, 1.0)
    out = layer.forward(x)
    dout = rng.normal(size=x.shape)
    dx = layer.backward(dout)
    np.testing.assert_allclose(dx, dout * out / x)
    np.testing.assert_array_equal(layer.backward(dout), dx)  # again: the same mask, no new draw


def test_dropout_gradient_check_needs_a_fixed_mask():
    """Finite differences call forward many times: with a new mask each time, a correct backward
    "fails"; with the same mask (a fresh generator with the same seed each call), it passes."""
    from bplib.layers import Dropout

    rng = np.random.default_rng(3)
    x, dout = rng.normal(size=(4, 5)), rng.normal(size=(4, 5))
    layer = Dropout(0.5, rng=0)
    layer.forward(x)
    dx = layer.backward(dout)
    redrawn = five_point_gradient(lambda: layer.forward(x), x, dout=dout)
    assert relative_error(dx, redrawn) > 0.1

    def fixed_mask():
        layer.rng = np.random.default_rng(7)
        return layer.forward(x)
    fixed_mask()
    dx = layer.backward(dout)
    assert relative_error(dx, five_point_gradient(fixed_mask, x, dout=dout)) < 1e-9


def test_dropout_float32_and_errors():
    from bplib.layers import Dropout

    x = np.ones((3, 4), dtype=np.float32)
    layer = Dropout(0.25, rng=0)
    assert layer.forward(x).dtype == layer.backward(x).dtype == np.float32
    with pytest.raises(ValueError, match="probability of dropping"):
        Dropout(1.0)
    with pytest.raises(RuntimeError, match="before forward"):
        Dropout(0.5).backward(x)
    assert repr(Dropout(0.2)) == "Dropout(p=0.2)"


def test_every_layer_has_a_training_flag_switched_by_train_and_eval():
    for layer in (Linear(2, 2, rng=0), ReLU(), Sigmoid(), Tanh(), LeakyReLU()):
        assert layer.training is True
        assert layer.eval() is layer and layer.training is False
        assert layer.train() is layer and layer.training is True
