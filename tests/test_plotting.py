import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from bplib import data, plotting  # noqa: E402
from bplib.network import mlp  # noqa: E402
from bplib.train import History  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_loss_curve_from_history_and_list():
    ax = plotting.plot_loss(History(loss=[3.0, 2.0, 1.0], val_loss=[3.5, 2.5, 2.0]))
    assert [line.get_label() for line in ax.get_lines()] == ["training loss", "validation loss"]
    np.testing.assert_array_equal(ax.get_lines()[0].get_ydata(), [3, 2, 1])
    assert plotting.plot_loss([1.0, 0.5], log=True).get_yscale() == "log"


def test_decision_boundary_colours_the_plane_by_prediction():
    X, y = data.moons(n=40, rng=0)
    ax = plotting.plot_decision_boundary(mlp([2, 4, 2], rng=0), X, y, resolution=30)
    assert len(ax.collections) >= 2  # filled contours and the scatter
    with pytest.raises(ValueError, match=r"X of shape \(N, 2\)"):
        plotting.plot_decision_boundary(mlp([3, 2], rng=0), np.zeros((4, 3)), np.zeros(4))


def test_gradient_norms_on_a_log_axis():
    ax = plotting.plot_gradient_norms({"sigmoid": [1e-1, 1e-3, 1e-5], "relu": [1, 1, 1]})
    assert ax.get_yscale() == "log" and len(ax.get_lines()) == 2


def test_finite_difference_error_has_the_v_shape():
    steps, forward, central = plotting.finite_difference_errors(np.sin, np.cos, 1.0)
    best = steps[np.argmin(central)]
    assert 1e-7 < best < 1e-3  # round-off left of the minimum, truncation right of it
    assert central[-1] < forward[-1]  # at large h central differences are far more accurate
    ax = plotting.plot_finite_difference_error(np.sin, np.cos, 1.0)
    assert ax.get_xscale() == ax.get_yscale() == "log"
