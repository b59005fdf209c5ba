import warnings

import numpy as np
import pytest

from bplib import data
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
                                                         r"loss became .*learning_rate \(now 50\)"):
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
