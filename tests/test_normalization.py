import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from oracle import five_point_gradient, signed_uniform, well_conditioned

from bplib.gradcheck import relative_error
from bplib.normalization import BatchNorm, LayerNorm


def _layer(kind, d):
    return BatchNorm(d) if kind == "batch" else LayerNorm(d)


@pytest.mark.parametrize("kind", ["batch", "layer"])
@given(n=st.integers(2, 6), d=st.integers(2, 6), seed=st.integers(0, 2**32 - 1),
       scale=st.floats(0.3, 3.0))
def test_normalization_gradients_match_the_oracle(kind, n, d, seed, scale):
    rng = np.random.default_rng(seed)
    layer = _layer(kind, d)
    layer.params["gamma"][...] = signed_uniform(rng, d, 0.5, 2.0)
    layer.params["beta"][...] = rng.normal(size=d)
    x = rng.normal(0, scale, (n, d)) + rng.normal(size=d)
    axis = 0 if kind == "batch" else 1
    # the oracle's step h = 1e-3 must be small next to the spread of every normalised group
    assume(x.std(axis=axis).min() > 0.1 * scale)
    dout = signed_uniform(rng, (n, d), 0.5, 2.0)
    layer.forward(x)
    analytic = {"x": layer.backward(dout), **{k: g.copy() for k, g in layer.grads.items()}}
    for key, array in {"x": x, **layer.params}.items():
        numeric = five_point_gradient(lambda: layer.forward(x), array, dout=dout)
        assume(well_conditioned(analytic[key], numeric))
        error = relative_error(analytic[key], numeric)
        assert error <= 1e-7, f"{kind}: d{key} relative error {error:.2e}"


def test_batchnorm_normalises_each_feature_over_the_batch_then_scales_and_shifts():
    rng = np.random.default_rng(0)
    x = rng.normal(3.0, 5.0, (50, 4))
    layer = BatchNorm(4, eps=0.0)
    layer.params["gamma"][...] = [1.0, 2.0, 0.5, 1.0]
    layer.params["beta"][...] = [0.0, -1.0, 1.0, 4.0]
    out = layer.forward(x)
    np.testing.assert_allclose(out.mean(axis=0), layer.params["beta"], atol=1e-12)
    np.testing.assert_allclose(out.std(axis=0), layer.params["gamma"], rtol=1e-12)


def test_batchnorm_running_averages_and_evaluation_mode():
    rng = np.random.default_rng(1)
    layer = BatchNorm(3, momentum=0.8, eps=1e-3)
    mean, var = np.zeros(3), np.ones(3)
    for _ in range(4):
        x = rng.normal(2.0, 3.0, (10, 3))
        layer.forward(x)
        mean = 0.8 * mean + 0.2 * x.mean(axis=0)
        var = 0.8 * var + 0.2 * x.var(axis=0)  # biased variance
    np.testing.assert_allclose(layer.running_mean, mean, rtol=1e-12)
    np.testing.assert_allclose(layer.running_var, var, rtol=1e-12)
    layer.eval()
    x = rng.normal(size=(5, 3))
    expected = (x - mean) / np.sqrt(var + 1e-3)
    before = layer.running_mean.copy(), layer.running_var.copy()
    np.testing.assert_allclose(layer.forward(x), expected, rtol=1e-12)
    np.testing.assert_array_equal(layer.running_mean, before[0])  # evaluation does not update them
    np.testing.assert_array_equal(layer.running_var, before[1])
    # each example alone gives the same output as inside a batch
    np.testing.assert_allclose(layer.forward(x[2:3]), expected[2:3], rtol=1e-12)


def test_batchnorm_evaluation_backward_is_elementwise():
    rng = np.random.default_rng(2)
    layer = BatchNorm(3)
    layer.forward(rng.normal(size=(8, 3)))
    layer.eval()
    layer.params["gamma"][...] = [1.5, -0.5, 2.0]
    x, dout = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    layer.forward(x)
    dx = layer.backward(dout)
    np.testing.assert_allclose(dx, five_point_gradient(lambda: layer.forward(x), x, dout=dout),
                               rtol=1e-8)
    np.testing.assert_allclose(dx, dout * layer.params["gamma"] / np.sqrt(layer.running_var + 1e-5))


def test_batchnorm_couples_the_examples_and_layernorm_does_not():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(5, 4))
    dout = np.zeros((5, 4))
    dout[0] = rng.normal(size=4)  # a gradient for example 0 only
    batch, layer = BatchNorm(4), LayerNorm(4)
    batch.forward(x)
    layer.forward(x)
    assert np.all(np.abs(batch.backward(dout)[1:]) > 0)
    np.testing.assert_array_equal(layer.backward(dout)[1:], 0.0)


def test_batchnorm_input_gradient_sums_to_zero_over_the_batch():
    rng = np.random.default_rng(4)
    layer = BatchNorm(3)
    x = rng.normal(size=(6, 3))
    out = layer.forward(x)
    dx = layer.backward(rng.normal(size=out.shape))
    np.testing.assert_allclose(dx.sum(axis=0), 0.0, atol=1e-12)  # shifting a column changes nothing
    x_hat = (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0) + 1e-5)
    np.testing.assert_allclose((dx * x_hat).sum(axis=0), 0.0, atol=1e-4)  # nor does scaling (up to eps)


def test_layernorm_works_on_a_single_example_and_on_three_dimensional_inputs():
    rng = np.random.default_rng(5)
    layer = LayerNorm(4)
    x = rng.normal(size=(2, 3, 4))
    out = layer.forward(x)
    np.testing.assert_allclose(out.mean(axis=-1), 0.0, atol=1e-12)
    np.testing.assert_allclose(layer.forward(x[0, :1]), out[0, :1])
    dout = rng.normal(size=x.shape)
    layer.forward(x)
    dx = layer.backward(dout)
    np.testing.assert_allclose(dx, five_point_gradient(lambda: layer.forward(x), x, dout=dout), rtol=1e-7)
    gamma = layer.params["gamma"]
    np.testing.assert_allclose(layer.grads["gamma"],
                               five_point_gradient(lambda: layer.forward(x), gamma, dout=dout), rtol=1e-7)


def test_float32_in_float32_out():
    x = np.random.default_rng(6).normal(size=(4, 3)).astype(np.float32)
    for layer in (BatchNorm(3, dtype=np.float32), LayerNorm(3, dtype=np.float32)):
        out = layer.forward(x)
        dx = layer.backward(np.ones_like(out))
        assert out.dtype == dx.dtype == layer.grads["gamma"].dtype == np.float32


def test_clear_errors():
    with pytest.raises(ValueError, match=r"batch of 1 in training mode.*model\.eval\(\)"):
        BatchNorm(3).forward(np.zeros((1, 3)))
    with pytest.raises(ValueError, match=r"expected input of shape \(N, 3\)"):
        BatchNorm(3).forward(np.zeros((4, 2)))
    with pytest.raises(ValueError, match=r"expected input of shape \(N, 3\)"):
        LayerNorm(3).forward(np.zeros((4, 2)))
    with pytest.raises(ValueError, match="momentum must be in"):
        BatchNorm(3, momentum=1.0)
    with pytest.raises(RuntimeError, match="before forward"):
        LayerNorm(3).backward(np.zeros((1, 3)))
    assert repr(BatchNorm(3)) == "BatchNorm(3)" and repr(LayerNorm(5)) == "LayerNorm(5)"
