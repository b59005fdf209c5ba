import warnings

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from oracle import five_point_gradient, well_conditioned

from bplib.gradcheck import relative_error
from bplib.losses import BinaryCrossEntropyLoss, MSELoss, SoftmaxCrossEntropyLoss, log_softmax, softmax


def make_case(name, rng, n, c, scale):
    if name == "MSELoss":
        return MSELoss(), rng.normal(0, scale, (n, c)), rng.normal(0, scale, (n, c))
    if name == "SoftmaxCrossEntropyLoss":
        return SoftmaxCrossEntropyLoss(), rng.normal(0, scale, (n, c)), rng.integers(0, c, n)
    return BinaryCrossEntropyLoss(), rng.normal(0, scale, (n,)), rng.integers(0, 2, n).astype(float)


@pytest.mark.parametrize("name", ["MSELoss", "SoftmaxCrossEntropyLoss", "BinaryCrossEntropyLoss"])
@given(n=st.integers(1, 6), c=st.integers(2, 6), seed=st.integers(0, 2**32 - 1),
       scale=st.floats(0.1, 3.0))
def test_loss_gradient_matches_numerical(name, n, c, seed, scale):
    loss, prediction, target = make_case(name, np.random.default_rng(seed), n, c, scale)
    loss.forward(prediction, target)
    analytic = loss.backward()
    numeric = five_point_gradient(lambda: loss.forward(prediction, target), prediction)
    assume(well_conditioned(analytic, numeric))
    assert relative_error(analytic, numeric) <= 1e-7


def test_values_against_hand_computed():
    # MSE: mean of (1-0)^2, (2-4)^2 = (1 + 4) / 2
    assert MSELoss().forward(np.array([1.0, 2.0]), np.array([0.0, 4.0])) == 2.5
    # Cross-entropy with equal logits over 4 classes is log(4) whatever the label
    ce = SoftmaxCrossEntropyLoss().forward(np.zeros((3, 4)), np.array([0, 1, 3]))
    assert ce == pytest.approx(np.log(4.0), rel=1e-15)
    # BCE at logit 0 is log(2) for either target
    assert BinaryCrossEntropyLoss().forward(np.zeros(2), np.array([0.0, 1.0])) == pytest.approx(np.log(2))


def test_softmax_cross_entropy_gradient_is_p_minus_y_over_n():
    logits = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
    labels = np.array([2, 0])
    loss = SoftmaxCrossEntropyLoss()
    loss.forward(logits, labels)
    expected = softmax(logits)
    expected[[0, 1], labels] -= 1
    np.testing.assert_allclose(loss.backward(), expected / 2, rtol=1e-14)


def test_stable_for_extreme_logits():
    logits = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4], [800.0, 799.0, -800.0]])
    labels = np.array([1, 0, 0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", invalid="raise", divide="raise"):  # underflow to 0 is fine
            ce = SoftmaxCrossEntropyLoss()
            value = ce.forward(logits, labels)
            grad = ce.backward()
            p = softmax(logits)
            lp = log_softmax(logits)
            bce = BinaryCrossEntropyLoss()
            bce_value = bce.forward(np.array([1e4, -1e4, 1e4]), np.array([0.0, 1.0, 1.0]))
            bce_grad = bce.backward()
    assert np.isfinite(value) and np.all(np.isfinite(grad)) and np.all(np.isfinite(p))
    assert np.all(np.isfinite(lp))
    # -log p[label] per row: 1e4 - (-1e4); log 3 (three equal logits); log(1 + e^-1) (+ e^-1600)
    assert value == pytest.approx((2e4 + np.log(3.0) + np.log1p(np.exp(-1.0))) / 3, rel=1e-15)
    assert bce_value == pytest.approx(2e4 / 3)
    assert np.all(np.isfinite(bce_grad))


def test_cross_entropy_label_errors():
    ce = SoftmaxCrossEntropyLoss()
    with pytest.raises(TypeError, match="integer class labels.*argmax"):
        ce.forward(np.zeros((2, 3)), np.array([[1.0, 0, 0], [0, 1.0, 0]]))
    with pytest.raises(ValueError, match=r"labels must be in \[0, 3\)"):
        ce.forward(np.zeros((2, 3)), np.array([0, 3]))
    with pytest.raises(ValueError, match=r"expected target of shape \(2,\)"):
        ce.forward(np.zeros((2, 3)), np.array([0, 1, 2]))


def test_mse_shape_mismatch_and_backward_before_forward():
    with pytest.raises(ValueError, match=r"target has shape \(3, 1\) but prediction has shape \(3,\)"):
        MSELoss().forward(np.zeros(3), np.zeros((3, 1)))
    with pytest.raises(RuntimeError, match="before forward"):
        MSELoss().backward()
