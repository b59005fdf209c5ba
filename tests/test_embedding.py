import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from oracle import five_point_gradient

from bplib.embedding import Embedding
from bplib.gradcheck import relative_error


@given(vocabulary=st.integers(1, 6), dim=st.integers(1, 4), shape=st.lists(st.integers(1, 5), min_size=1,
       max_size=2), seed=st.integers(0, 2**32 - 1))
def test_embedding_gradient_matches_the_oracle(vocabulary, dim, shape, seed):
    rng = np.random.default_rng(seed)
    layer = Embedding(vocabulary, dim, rng=seed)
    indices = rng.integers(0, vocabulary, tuple(shape))  # small vocabularies: many repeats
    out = layer.forward(indices)
    assert out.shape == tuple(shape) + (dim,)
    dout = rng.normal(size=out.shape)
    assert layer.backward(dout) is None  # no gradient for integer indices
    numeric = five_point_gradient(lambda: layer.forward(indices), layer.params["W"], dout=dout)
    assert relative_error(layer.grads["W"], numeric) <= 1e-9


def test_embedding_is_a_one_hot_matrix_product_and_repeats_add_up():
    layer = Embedding(5, 3, rng=0)
    indices = np.array([1, 3, 1, 1])
    one_hot = np.eye(5)[indices]  # (4, 5)
    np.testing.assert_array_equal(layer.forward(indices), one_hot @ layer.params["W"])
    dout = np.arange(12.0).reshape(4, 3)
    layer.backward(dout)
    np.testing.assert_allclose(layer.grads["W"], one_hot.T @ dout)
    np.testing.assert_array_equal(layer.grads["W"][1], dout[0] + dout[2] + dout[3])
    wrong = np.zeros((5, 3))
    wrong[indices] += dout  # fancy indexing: each repeated row is written once, not added
    assert not np.array_equal(wrong[1], layer.grads["W"][1])
    layer.backward(dout)  # backward overwrites: still one batch's gradient
    np.testing.assert_allclose(layer.grads["W"], one_hot.T @ dout)


def test_embedding_errors():
    layer = Embedding(4, 2, rng=0)
    with pytest.raises(TypeError, match="integer indices"):
        layer.forward(np.array([0.0, 1.0]))
    with pytest.raises(IndexError, match="index 4 is out of range: the table has rows 0 to 3"):
        layer.forward(np.array([0, 4]))
    with pytest.raises(ValueError, match="embedding_dim must be a positive integer"):
        Embedding(3, 0)
    layer.forward(np.array([0, 1, 2]))
    with pytest.raises(ValueError, match=r"expected dout of shape \(3, 2\)"):
        layer.backward(np.zeros((3, 3)))
    assert repr(layer) == "Embedding(4, 2)"
