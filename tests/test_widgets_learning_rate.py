"""The learning-rate explorer: its numbers (pure computation) and its widget (headless)."""

import io
import time

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from bplib.widgets import learning_rate as lr  # noqa: E402


@pytest.fixture(autouse=True)
def interactive(monkeypatch):
    """Run as if a front end were attached (unless a test says otherwise), and close figures."""
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    monkeypatch.delenv("BPCOURSE_HEADLESS", raising=False)
    yield
    plt.close("all")


# --- the numbers ----------------------------------------------------------------------------------

def test_critical_rate_is_two_over_the_largest_eigenvalue():
    assert lr.critical_rate("quadratic") == pytest.approx(2 / 4)
    assert lr.critical_rate("valley") == pytest.approx(2 / 20)
    A = lr._quadratic("valley").A
    np.testing.assert_allclose(np.linalg.eigvalsh(A), [1.0, 20.0])
    assert 0 < lr.critical_rate("network") < 10


@pytest.mark.parametrize("problem", ["quadratic", "valley"])
def test_just_below_the_critical_rate_converges_and_just_above_diverges(problem):
    critical = lr.critical_rate(problem)
    below = lr.gradient_descent(problem, 0.99 * critical, steps=200)
    above = lr.gradient_descent(problem, 1.01 * critical, steps=200)
    assert below.verdict == "converges" and below.losses[-1] < below.losses[0]
    assert above.verdict == "diverges" and above.losses[-1] > 10 * above.losses[0]
    assert below.critical_rate == above.critical_rate == pytest.approx(critical)


def test_the_three_regimes_on_the_1d_quadratic():
    smooth = lr.gradient_descent("quadratic", 0.1, steps=30)  # factor 1 - 0.4 = 0.6
    zigzag = lr.gradient_descent("quadratic", 0.4, steps=30)  # factor -0.6
    bounce = lr.gradient_descent("quadratic", 0.5, steps=30)  # factor -1: w0, -w0, w0, ...
    assert np.all(np.diff(smooth.path[:, 0]) < 0) and np.all(smooth.path[:, 0] > 0)
    assert np.all(zigzag.path[1:, 0] * zigzag.path[:-1, 0] < 0)
    assert "zig-zag" in zigzag.message and "zig-zag" not in smooth.message
    assert bounce.verdict == "oscillates"
    np.testing.assert_allclose(np.abs(bounce.path[:, 0]), 1.5)
    np.testing.assert_allclose(smooth.path[:, 0], 1.5 * 0.6 ** np.arange(31))


def test_a_run_has_one_loss_per_step_and_stops_early_when_it_blows_up():
    run = lr.gradient_descent("valley", 0.05, steps=40)
    assert run.losses.shape == (41,) and run.path.shape == (41, 2) and not run.stopped
    np.testing.assert_allclose(run.losses, [0.5 * w @ lr._quadratic("valley").A @ w for w in run.path])
    blown = lr.gradient_descent("valley", 5.0, steps=300)
    assert blown.stopped and blown.verdict == "diverges" and len(blown.losses) < 20
    assert "stopped after" in blown.message


@pytest.mark.parametrize("problem", ["quadratic", "valley"])
def test_the_theory_curve_matches_the_runs(problem):
    run = lr.gradient_descent(problem, 0.01, steps=25)
    compared = 0
    for index in [0, 60, 100, 120, 130]:
        rate = run.theory_rates[index]
        simulated = lr.gradient_descent(problem, rate, steps=25)
        if not simulated.stopped:
            compared += 1
            assert simulated.losses[-1] / simulated.losses[0] == pytest.approx(
                run.theory_ratio[index], rel=1e-8, abs=1e-300)
    assert compared >= 3


def test_the_network_learns_with_a_moderate_rate_and_blows_up_with_a_large_one():
    good = lr.gradient_descent("network", 0.3, steps=100)
    assert good.verdict == "converges" and good.losses[-1] < 0.3 * good.losses[0]
    assert good.path is None and good.fit_y.shape == good.fit_x.shape
    assert lr.gradient_descent("network", 5.0, steps=100).verdict == "diverges"


def test_the_step_function_given_is_the_one_used():
    calls = []

    def counting_step(w, grad, learning_rate):
        calls.append(np.shape(w))
        return w - learning_rate * grad

    lr.gradient_descent("valley", 0.05, steps=7, sgd_step=counting_step)
    assert calls == [(2,)] * 7
    calls.clear()
    lr.gradient_descent("network", 0.05, steps=3, sgd_step=counting_step)
    assert len(calls) == 3 * 4  # W1, b1, W2, b2 at every step
    uphill = lr.gradient_descent("valley", 0.01, steps=50, sgd_step=lambda w, g, r: w + r * g)
    assert uphill.verdict == "diverges"


def test_bad_arguments_are_explained():
    with pytest.raises(ValueError, match="unknown problem"):
        lr.gradient_descent("banana")
    with pytest.raises(ValueError, match="positive"):
        lr.gradient_descent("valley", learning_rate=0.0)
    with pytest.raises(ValueError, match="steps"):
        lr.gradient_descent("valley", steps=0)


def test_one_run_at_the_default_settings_is_quick():
    lr.gradient_descent()  # warm the caches (the network's critical rate is computed once)
    for problem in lr.PROBLEMS:
        lr.gradient_descent(problem)
        times = []
        for _ in range(5):
            start = time.perf_counter()
            lr.gradient_descent(problem)
            times.append(time.perf_counter() - start)
        assert np.median(times) < 0.25, f"{problem}: {np.median(times):.3f} s (budget 0.05 s, lenient here)"


@pytest.mark.parametrize("problem, rate", [("quadratic", 0.3), ("valley", 0.2), ("network", 0.3),
                                           ("network", 10.0)])
def test_every_picture_draws(problem, rate):
    fig = lr.draw(lr.gradient_descent(problem, rate, steps=60))
    assert len(fig.axes) == (2 if problem == "network" else 3)
    fig.canvas.draw()


# --- the picture, redrawn in place -------------------------------------------------------------

def _pixels(png):
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


def _fresh_pixels(run):
    """The same run drawn the ordinary way: a new figure, every artist rendered."""
    fig = lr.draw(run)
    fig.canvas.draw()
    return np.asarray(fig.canvas.buffer_rgba())[..., :3]


@pytest.mark.parametrize("problem", lr.PROBLEMS)
def test_the_picture_redrawn_in_place_is_exactly_a_fresh_drawing(problem):
    """Only what a run changes is drawn again; the result must not differ by a single pixel from
    drawing the whole figure anew (no stale curve, no missing label, nothing cut off)."""
    picture = lr.Picture(problem)
    for steps, rate in [(50, 0.09), (50, 0.3), (50, 3.0), (300, 3.0), (300, 0.05), (1, 0.01)]:
        run = lr.gradient_descent(problem, rate, steps)
        np.testing.assert_array_equal(_pixels(picture.update(run)), _fresh_pixels(run),
                                      err_msg=f"{problem}, {steps} steps, rate {rate}")


def test_only_a_panel_whose_axes_change_is_drawn_again_and_only_once(monkeypatch):
    """Rendering a panel's ticks and labels is most of a redraw's cost: a learning-rate change
    draws no panel again, the steps slider only the loss panel and only when its axis must grow
    (it ends at 10, 20, 50, 100, 200 or 300 steps), and a panel is drawn once per axis it shows."""
    from matplotlib.axes import Axes

    drawn = []
    original = Axes.draw
    monkeypatch.setattr(Axes, "draw", lambda ax, renderer: drawn.append(ax) or original(ax, renderer))
    picture = lr.Picture("valley")
    picture.update(lr.gradient_descent("valley", 0.09, 60))
    assert len(drawn) == 3  # the first picture: every panel
    path, losses, theory = picture.live.axes
    figure, artists = picture.live.figure, [len(ax.get_children()) for ax in picture.live.axes]
    drawn.clear()
    for rate, steps in [(0.05, 60), (0.2, 60), (5.0, 60), (5.0, 80), (0.05, 100)]:
        picture.update(lr.gradient_descent("valley", rate, steps))
    assert drawn == []
    picture.update(lr.gradient_descent("valley", 0.05, 150))
    assert drawn == [losses]  # the step axis now ends at 200
    drawn.clear()
    picture.update(lr.gradient_descent("valley", 0.09, 70))  # back to the axis it has drawn
    assert drawn == []
    assert picture.live.figure is figure
    assert [len(ax.get_children()) for ax in picture.live.axes] == artists  # nothing piles up


# --- the widget -----------------------------------------------------------------------------------

def _controls(box):
    """{description: widget} of every control in the explorer, and its Image widgets."""
    import ipywidgets as widgets

    found, images, stack = {}, [], [box]
    while stack:
        widget = stack.pop()
        stack.extend(getattr(widget, "children", ()))
        if isinstance(widget, widgets.Image):
            images.append(widget)
        elif getattr(widget, "description", ""):
            found[widget.description] = widget
    return found, images


def _note(box):
    return next(w.value for w in box.children if "bplib-explorer-note" in w._dom_classes)


@pytest.fixture
def shows(monkeypatch):
    """Record every picture the explorer makes: (the Picture drawing it, the run shown)."""
    calls = []

    class Recorded(lr.Picture):
        def update(self, run):
            calls.append((self, run))
            return super().update(run)
    monkeypatch.setattr(lr, "Picture", Recorded)
    return calls


def test_the_explorer_has_the_controls_the_browser_tests_look_for(shows):
    import ipywidgets as widgets

    box = lr.learning_rate_explorer()
    assert isinstance(box, widgets.VBox)
    controls, images = _controls(box)
    assert isinstance(controls["learning rate"], widgets.FloatLogSlider)
    assert isinstance(controls["steps"], widgets.IntSlider)
    assert isinstance(controls["problem"], widgets.Dropdown)
    assert set(controls["problem"].options) == {"quadratic", "valley", "network"}
    assert not controls["learning rate"].continuous_update and not controls["steps"].continuous_update
    assert len(images) == 1 and len(shows) == 1  # drawn once, into the one picture
    assert images[0].format == "png" and bytes(images[0].value).startswith(b"\x89PNG")
    assert "reference" in _note(box)


def test_each_change_redraws_once_in_place_keeping_one_figure_per_problem(shows):
    box = lr.learning_rate_explorer(problem="quadratic", learning_rate=0.1, steps=20)
    controls, (image,) = _controls(box)
    first = bytes(image.value)
    controls["learning rate"].value = 0.6
    controls["steps"].value = 35
    assert [(run.learning_rate, run.steps) for _, run in shows] == [(0.1, 20), (0.6, 20), (0.6, 35)]
    assert len({id(picture) for picture, _ in shows}) == 1  # the same figure, redrawn
    assert bytes(image.value) != first
    controls["problem"].value = "network"
    controls["problem"].value = "quadratic"  # back to the figure it had
    assert len(shows) == 5 and shows[4][0] is shows[0][0] and shows[3][0] is not shows[0][0]
    assert _controls(box)[1] == [image]  # still the one Image widget
    status = next(w for w in box.children if "bplib-explorer-status" in w._dom_classes)
    assert "Converges" in status.value or "Diverges" in status.value


def test_redrawing_leaves_no_figures_open():
    box = lr.learning_rate_explorer(steps=10)
    controls, _ = _controls(box)
    for value in (0.01, 0.2, 3.0):
        controls["learning rate"].value = value
    assert plt.get_fignums() == []  # its figures are not pyplot's


def test_the_learners_function_is_used_when_it_works(shows):
    used = []

    def my_step(w, grad, learning_rate):
        used.append(1)
        return w - learning_rate * grad

    box = lr.learning_rate_explorer(sgd_step=my_step, steps=5)
    assert "using your sgd_step" in _note(box)
    assert len(used) >= 5


def test_an_unfinished_function_falls_back_to_the_reference_with_a_note(shows):
    def sgd_step(w, grad, learning_rate):
        raise NotImplementedError()

    box = lr.learning_rate_explorer(sgd_step=sgd_step)
    assert "not implemented yet" in _note(box) and "reference" in _note(box)
    controls, _ = _controls(box)
    controls["learning rate"].value = 0.05  # still works, with the reference
    assert len(shows) == 2


def test_a_failing_or_wrong_function_is_reported(shows):
    def broken(w, grad, learning_rate):
        raise ValueError("oops")

    assert "ValueError" in _note(lr.learning_rate_explorer(sgd_step=broken))
    wrong = lr.learning_rate_explorer(sgd_step=lambda w, g, r: w + r * g)
    assert "different result" in _note(wrong)  # used anyway: the plots show what it does
    for odd in (lambda w, g, r: None, lambda w, g, r: float(np.sum(w - r * g))):
        box = lr.learning_rate_explorer(sgd_step=odd)
        assert "shaped like w" in _note(box) and "reference" in _note(box)


def test_headless_returns_a_placeholder_at_once(monkeypatch):
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")

    def must_not_run(*args, **kwargs):
        raise AssertionError("computed while headless")
    monkeypatch.setattr(lr, "gradient_descent", must_not_run)
    start = time.perf_counter()
    placeholder = lr.learning_rate_explorer(sgd_step=lambda w, g, r: w - r * g)
    assert time.perf_counter() - start < 0.5
    assert "interactive only" in placeholder.data
