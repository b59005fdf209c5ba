import warnings

import numpy as np
import pytest

from bplib import data, train
from bplib.losses import BinaryCrossEntropyLoss, MSELoss, SoftmaxCrossEntropyLoss
from bplib.network import mlp
from bplib.optim import SGD, Adam
from bplib.train import History, TrainingDivergedWarning, accuracy, fit, predict


def test_fit_reaches_full_training_accuracy_on_moons():
    X, y = data.moons(n=100, noise=0.05, rng=0)
    net = mlp([2, 16, 16, 2], activation="tanh", rng=0)
    history = fit(net, SoftmaxCrossEntropyLoss(), Adam(net, 0.02), X, y, epochs=200, batch_size=32,
                  rng=0, progress=False)
    assert accuracy(net, X, y) == 1.0
    assert history.loss[-1] < 0.2 * history.loss[0]
    assert len(history.loss) == len(history.accuracy) == 200 and not history.diverged


def test_fit_reaches_full_training_accuracy_on_a_small_spiral():
    X, y = data.spiral(n_per_class=40, n_classes=3, noise=0.1, rng=0)
    net = mlp([2, 64, 64, 3], activation="relu", rng=1)
    fit(net, SoftmaxCrossEntropyLoss(), Adam(net, 0.01), X, y, epochs=300, batch_size=40, rng=0,
        progress=False)
    assert accuracy(net, X, y) == 1.0


def test_fit_is_deterministic_with_seeds():
    X, y = data.xor(n=64, rng=0)

    def run():
        net = mlp([2, 8, 1], activation="tanh", rng=3)
        return fit(net, BinaryCrossEntropyLoss(), SGD(net, 0.5, momentum=0.9), X, y.reshape(-1, 1),
                   epochs=20, batch_size=16, rng=4, progress=False)
    assert run().step_loss == run().step_loss


def test_fit_stops_with_a_clear_message_when_the_loss_explodes():
    X, y = data.regression_1d(n=50, rng=0)
    net = mlp([1, 32, 32, 1], activation="relu", rng=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # only our message, not numpy's overflow noise
        warnings.simplefilter("always", TrainingDivergedWarning)
        with pytest.warns(TrainingDivergedWarning, match=r"Training stopped at epoch \d+, step \d+: the "
                                                         r"loss (became|reached) .*learning_rate \(now 50; "
                                                         r"try 5\)"):
            history = fit(net, MSELoss(), SGD(net, learning_rate=50.0), X, y, epochs=500, progress=False)
    assert history.diverged and "exploding gradients" in history.message
    assert len(history.loss) < 500  # it stopped instead of running on


def test_regression_history_has_no_accuracy_and_validation_is_recorded():
    X, y = data.regression_1d(n=40, rng=0)
    net = mlp([1, 8, 1], activation="tanh", rng=0)
    history = fit(net, MSELoss(), SGD(net, 0.1), X, y, epochs=3, validation=(X, y), progress=False)
    assert history.accuracy == [None] * 3 and len(history.val_loss) == 3
    assert isinstance(history, History)


def test_progress_bar_writes_text_outside_jupyter_and_nothing_when_silent(capsys):
    X, y = data.moons(n=20, rng=0)
    net = mlp([2, 4, 2], rng=0)
    fit(net, SoftmaxCrossEntropyLoss(), SGD(net, 0.1), X, y, epochs=3, progress=True)
    assert "training" in capsys.readouterr().err
    fit(net, SoftmaxCrossEntropyLoss(), SGD(net, 0.1), X, y, epochs=3, progress=False)
    assert capsys.readouterr().err == ""


def test_predict_for_multiclass_and_single_logit():
    net = mlp([2, 3], rng=0)
    X = np.random.default_rng(0).normal(size=(5, 2))
    np.testing.assert_array_equal(predict(net, X), net.forward(X).argmax(axis=1))
    single = mlp([2, 1], rng=0)
    np.testing.assert_array_equal(predict(single, X), (single.forward(X)[:, 0] > 0).astype(int))


def test_bad_arguments():
    net = mlp([2, 2], rng=0)
    with pytest.raises(ValueError, match="X has 3 rows but y has 2"):
        fit(net, MSELoss(), SGD(net, 0.1), np.zeros((3, 2)), np.zeros((2, 2)), progress=False)
    with pytest.raises(ValueError, match="epochs must be a positive integer"):
        fit(net, MSELoss(), SGD(net, 0.1), np.zeros((3, 2)), np.zeros((3, 2)), epochs=0)


def test_binary_cross_entropy_shape_mismatch_says_how_to_fix_it():
    with pytest.raises(ValueError, match=r"use target.reshape\(16, 1\)"):
        BinaryCrossEntropyLoss().forward(np.zeros((16, 1)), np.zeros(16))


def test_no_warnings_in_normal_training():
    X, y = data.circles(n=60, rng=0)
    net = mlp([2, 8, 2], rng=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fit(net, SoftmaxCrossEntropyLoss(), SGD(net, 0.1), X, y, epochs=5, progress=False)


# --- diagnoses: bad data, divergence ------------------------------------------------------------

def _moons_with(value, row, column=1, n=100):
    X, y = data.moons(n=n, noise=0.1, rng=0)
    X[row, column] = value
    return X, y


@pytest.mark.parametrize("value", [np.nan, np.inf])
def test_a_nan_or_inf_in_X_names_the_row_of_X_and_does_not_blame_the_learning_rate(value):
    X, y = _moons_with(value, row=37)
    net = mlp([2, 16, 2], rng=0)
    before = [p.copy() for _, p, _ in net.parameters()]
    with pytest.raises(ValueError) as error:
        fit(net, SoftmaxCrossEntropyLoss(), SGD(net, 0.1), X, y, epochs=3, batch_size=16, rng=0,
            progress=False)
    message = str(error.value)
    assert f"X[37, 1] = {value}" in message and "row 37" in message
    assert "learning_rate" not in message and "learning rate" not in message
    for old, (_, new, _) in zip(before, net.parameters()):  # nothing was trained
        np.testing.assert_array_equal(old, new)


def test_every_bad_row_is_counted_and_targets_and_validation_data_are_checked_too():
    X, y = _moons_with(np.nan, row=5)
    X[80, 0] = np.inf
    net = mlp([2, 8, 2], rng=0)
    with pytest.raises(ValueError, match=r"2 rows of X .*rows 5, 80"):
        fit(net, SoftmaxCrossEntropyLoss(), SGD(net, 0.1), X, y, progress=False)
    Xr, yr = data.regression_1d(n=30, rng=0)
    yr[12, 0] = np.nan
    with pytest.raises(ValueError, match=r"y\[12, 0\] = nan"):
        fit(mlp([1, 4, 1], rng=0), MSELoss(), SGD(net, 0.1), Xr, yr, progress=False)
    X, y = data.moons(n=40, rng=0)
    X_val = X.copy()
    X_val[3, 0] = np.nan
    with pytest.raises(ValueError, match=r"validation X\[3, 0\] = nan"):
        fit(net, SoftmaxCrossEntropyLoss(), SGD(net, 0.1), X, y, validation=(X_val, y), progress=False)


def test_a_far_too_high_learning_rate_stops_training_with_a_message():
    """Before: the loss grew ~1e20-fold without overflowing and training ended at chance."""
    X, y = data.moons(n=200, rng=0)
    net = mlp([2, 32, 32, 2], rng=0)
    with pytest.warns(TrainingDivergedWarning) as caught:
        history = fit(net, SoftmaxCrossEntropyLoss(), SGD(net, 10.0), X, y, epochs=50, batch_size=32,
                      rng=0, progress=False)
    assert history.diverged and len(caught) == 1
    message = str(caught[0].message)
    assert message == history.message
    assert "more than 1000 times its starting level" in message
    assert "learning_rate (now 10; try 1)" in message
    start = history.step_loss[0]
    assert max(history.step_loss) <= train.DIVERGENCE_FACTOR * max(start, np.log(2))  # stopped at the bound
    assert len(history.step_loss) < 10


def test_divergence_bound_is_relative_to_the_start_or_to_predicting_zero():
    """A model that already fits (a tiny starting loss) may wobble far above its start without
    diverging: the bound is 1000 x the larger of the first loss and the loss of predicting 0."""
    X, y = data.moons(n=100, noise=0.05, rng=0)
    net = mlp([2, 16, 16, 2], activation="tanh", rng=0)
    fit(net, SoftmaxCrossEntropyLoss(), Adam(net, 0.02), X, y, epochs=200, batch_size=32, rng=0,
        progress=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error", TrainingDivergedWarning)
        again = fit(net, SoftmaxCrossEntropyLoss(), SGD(net, 1.0), X, y, epochs=20, batch_size=8,
                    rng=1, progress=False)
    assert not again.diverged
    assert max(again.step_loss) > 10 * again.step_loss[0]  # it did wobble


def test_a_loss_that_is_nan_before_any_update_does_not_blame_the_learning_rate():
    X, y = data.moons(n=40, rng=0)
    net = mlp([2, 8, 2], rng=0)
    net.layers[0].params["W"][0, 0] = np.inf  # a broken model, not a too large step
    with pytest.warns(TrainingDivergedWarning) as caught:
        history = fit(net, SoftmaxCrossEntropyLoss(), SGD(net, 0.1), X, y, progress=False)
    message = str(caught[0].message)
    assert history.diverged and "before any update" in message
    assert "learning_rate" not in message and "learning rate" not in message


def test_fit_trains_in_training_mode_and_validates_and_predicts_in_evaluation_mode():
    from bplib.layers import Dropout, Linear, ReLU
    from bplib.network import Sequential

    seen = []

    class Spy(Dropout):
        def forward(self, x):
            seen.append(self.training)
            return super().forward(x)

    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(40, 3)), rng.integers(0, 2, 40)
    model = Sequential(Linear(3, 8, rng=0), ReLU(), Spy(0.5, rng=0), Linear(8, 2, rng=1))
    fit(model, SoftmaxCrossEntropyLoss(), SGD(model, 0.1), X, y, epochs=2, batch_size=20,
        validation=(X, y), progress=False, rng=0)
    assert seen == [True, True, False, True, True, False]  # 2 batches, then the validation pass
    assert model.training is False  # left ready for predictions
    model.train()
    first = predict(model, X)
    assert model.training is True and np.array_equal(first, predict(model, X))  # no dropout noise
