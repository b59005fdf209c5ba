"""The learning-rate explorer (lesson 05): gradient descent with a log-scale learning-rate slider.

Three problems, each with a known or estimated *critical* learning rate:

* ``"quadratic"``: L(w) = 1/2 lambda w**2 in 1-D (lambda = 4, so 2/lambda = 0.5);
* ``"valley"``: L(w) = 1/2 w^T A w in 2-D with curvatures 1 and 20 (a long narrow valley, tilted
  by 30 degrees; 2/lambda_max = 0.1);
* ``"network"``: a 1-8-1 tanh network fitting 12 points with mean squared error. Its critical rate
  is estimated as 2/lambda_max of the Hessian at the starting point: a local estimate, since the
  curvature changes as the network trains.

:func:`gradient_descent` computes one run (pure NumPy, no widgets, no plotting); the explorer only
draws it, into a :class:`Picture` it keeps and redraws in place. On a quadratic each step
multiplies the component of w along an eigenvector of A by (1 - eta lambda_i), so the run
converges for 0 < eta < 2/lambda_max, zig-zags when some (1 - eta lambda_i) < 0, and diverges for
eta > 2/lambda_max.
"""

import functools
from dataclasses import dataclass

import numpy as np

from bplib.widgets import common

__all__ = ["PROBLEMS", "Run", "gradient_descent", "Picture", "draw", "learning_rate_explorer"]

PROBLEMS = ("quadratic", "valley", "network")
BLOWUP = 1e6            # a run whose loss exceeds BLOWUP x its starting loss is stopped: it diverged
RATE_RANGE = (1e-3, 10.0)  # the slider's range (and the learning rates the theory curve covers)


@dataclass(frozen=True)
class Run:
    """One gradient-descent run, as numbers.

    ``losses`` (k+1,): the loss at the start and after each step; ``k == steps`` unless the run
    diverged and was stopped early (``stopped``). ``path`` (k+1, D): the iterates, for the 1-D and
    2-D problems (None for the network, whose fit is in ``fit_x``/``fit_y``). ``critical_rate``:
    2/lambda_max. ``verdict``: "converges", "oscillates" or "diverges"; ``message`` says it in a
    sentence. ``theory_rates``/``theory_ratio``: for the quadratics, the loss after ``steps`` steps
    divided by the starting loss, exactly, for learning rates across the slider's range.
    """
    problem: str
    learning_rate: float
    steps: int
    losses: np.ndarray
    path: object
    critical_rate: float
    verdict: str
    message: str
    stopped: bool = False
    theory_rates: object = None
    theory_ratio: object = None
    data: object = None
    fit_x: object = None
    fit_y: object = None


# --- the problems ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Quadratic:
    A: np.ndarray
    start: np.ndarray

    def loss(self, w):
        return 0.5 * float(w @ self.A @ w)

    def gradient(self, w):
        return self.A @ w


@functools.cache
def _quadratic(problem):
    if problem == "quadratic":
        return _Quadratic(np.array([[4.0]]), np.array([1.5]))
    angle = np.deg2rad(30.0)
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    A = rotation @ np.diag([1.0, 20.0]) @ rotation.T
    return _Quadratic(A, np.array([-2.5, 1.0]))


class _TinyNetwork:
    """A 1-8-1 tanh network and its mean squared error on 12 points of sin(3x), written out in
    NumPy (the explorer reruns it on every slider change, so it must be quick)."""

    def __init__(self):
        from bplib.data import regression_1d

        self.X, self.y = regression_1d(n=12, noise=0.05, rng=1)  # (12, 1), (12, 1)
        rng = np.random.default_rng(0)
        self.start = (rng.normal(0, 1, (1, 8)), np.zeros(8), rng.normal(0, 8 ** -0.5, (8, 1)),
                      np.zeros(1))

    def predict(self, params, x):
        W1, b1, W2, b2 = params
        return np.tanh(x @ W1 + b1) @ W2 + b2

    def loss_and_gradients(self, params):
        """MSE and its gradients (dW1, db1, dW2, db2), by backpropagation."""
        W1, b1, W2, b2 = params
        h = np.tanh(self.X @ W1 + b1)  # (N, 8)
        diff = h @ W2 + b2 - self.y  # (N, 1)
        loss = float(np.vdot(diff, diff)) / diff.size
        dout = diff * (2.0 / diff.size)
        dz = (dout @ W2.T) * (1.0 - h * h)  # (N, 8)
        return loss, (self.X.T @ dz, dz.sum(axis=0), h.T @ dout, dout.sum(axis=0))


@functools.cache
def _network():
    return _TinyNetwork()


@functools.cache
def _network_critical_rate(h=1e-5):
    """2 / the largest eigenvalue of the Hessian at the start (central differences of gradients)."""
    net = _network()
    shapes = [p.shape for p in net.start]
    flat = np.concatenate([p.ravel() for p in net.start])
    splits = np.cumsum([p.size for p in net.start])[:-1]

    def gradient(vector):
        params = [part.reshape(shape) for part, shape in zip(np.split(vector, splits), shapes)]
        return np.concatenate([g.ravel() for g in net.loss_and_gradients(params)[1]])

    hessian = np.empty((flat.size, flat.size))
    for i in range(flat.size):
        step = np.zeros(flat.size)
        step[i] = h
        hessian[i] = (gradient(flat + step) - gradient(flat - step)) / (2 * h)
    return 2.0 / float(np.linalg.eigvalsh((hessian + hessian.T) / 2).max())


def critical_rate(problem):
    """2/lambda_max for ``problem`` (for the network: of the Hessian at the starting point)."""
    _check_problem(problem)
    if problem == "network":
        return _network_critical_rate()
    return 2.0 / float(np.linalg.eigvalsh(_quadratic(problem).A).max())


# --- one run --------------------------------------------------------------------------------------

def gradient_descent(problem="valley", learning_rate=0.09, steps=50, sgd_step=None):
    """Run ``steps`` steps of gradient descent on ``problem`` and return a :class:`Run`.

    Each step is ``w = sgd_step(w, gradient, learning_rate)`` (the course's reference if ``sgd_step`` is
    None), for every parameter array. A run whose loss grows beyond ``BLOWUP`` times its start, or
    becomes NaN/inf, is stopped there. No widgets, no plotting: this is what the explorer times.
    """
    _check_problem(problem)
    if not learning_rate > 0:
        raise ValueError(f"learning_rate must be positive, got {learning_rate!r}")
    steps = int(steps)
    if steps < 1:
        raise ValueError(f"steps must be at least 1, got {steps}")
    step = _reference_sgd_step() if sgd_step is None else sgd_step
    if problem == "network":
        return _network_run(learning_rate, steps, step)
    quadratic = _quadratic(problem)
    w = quadratic.start.copy()
    path, losses = [w], [quadratic.loss(w)]
    with np.errstate(all="ignore"):
        for _ in range(steps):
            w = np.array(step(w, quadratic.gradient(w), learning_rate), dtype=float).reshape(w.shape)
            path.append(w)
            losses.append(quadratic.loss(w))
            if _blew_up(losses):
                break
    losses, path = np.array(losses), np.array(path)
    critical = critical_rate(problem)
    verdict, message = _verdict(losses, np.diff(path, axis=0), steps, learning_rate, critical, True)
    rates, ratio = _theory(quadratic, steps)
    return Run(problem, float(learning_rate), steps, losses, path, critical, verdict, message,
               stopped=len(losses) <= steps, theory_rates=rates, theory_ratio=ratio)


def _network_run(learning_rate, steps, step):
    net = _network()
    params = [p.copy() for p in net.start]
    losses, moves = [], []
    with np.errstate(all="ignore"):
        for _ in range(steps):
            loss, grads = net.loss_and_gradients(params)
            losses.append(loss)
            if _blew_up(losses):
                break
            new = [np.array(step(p, g, learning_rate), dtype=float).reshape(p.shape)
                   for p, g in zip(params, grads)]
            moves.append(np.concatenate([(a - b).ravel() for a, b in zip(new, params)]))
            params = new
        else:
            losses.append(net.loss_and_gradients(params)[0])
    losses = np.array(losses)
    critical = critical_rate("network")
    verdict, message = _verdict(losses, np.array(moves), steps, learning_rate, critical, False)
    fit_x = np.linspace(-1.1, 1.1, 100).reshape(-1, 1)
    with np.errstate(all="ignore"):
        fit_y = net.predict(params, fit_x).ravel()
    return Run("network", float(learning_rate), steps, losses, None, critical, verdict, message,
               stopped=len(losses) <= steps, data=(net.X.ravel(), net.y.ravel()),
               fit_x=fit_x.ravel(), fit_y=fit_y)


def _blew_up(losses):
    return not np.isfinite(losses[-1]) or losses[-1] > BLOWUP * max(losses[0], 1e-12)


def _verdict(losses, moves, steps, learning_rate, critical, exact):
    """("converges" | "oscillates" | "diverges", a sentence), judged from the run itself."""
    first, last = losses[0], losses[-1]
    ratio = last / first if first > 0 else 0.0
    where = f"η = {learning_rate:.3g} is {learning_rate / critical:.2f} × the critical rate " + (
        f"2/λmax = {critical:.3g}" if exact else
        f"estimated at the start, {critical:.3g} (the curvature changes as the network learns)")
    zigzag = _zigzags(moves)
    if len(losses) <= steps or not np.isfinite(last) or ratio > 1 + 1e-3:
        grew = "overflowed" if not np.isfinite(last) else f"grew {ratio:.3g} times"
        stop = f", stopped after {len(losses) - 1} steps" if len(losses) <= steps else ""
        return "diverges", f"Diverges: the loss {grew}{stop}. {where}."
    if ratio > 1 - 1e-3:
        if zigzag:
            return "oscillates", (f"Oscillates: it bounces back and forth and the loss stays at "
                                  f"{last:.3g}. {where}.")
        return "converges", (f"Converges, but very slowly: after {steps} steps the loss fell by "
                             f"only {100 * (1 - ratio):.2g}%. {where}.")
    how = ", zig-zagging (each step overshoots the valley floor)" if zigzag else ""
    return "converges", (f"Converges{how}: the loss fell from {first:.3g} to {last:.3g} in "
                         f"{steps} steps. {where}.")


def _zigzags(moves):
    """True if most consecutive steps point in opposite directions (a negative dot product)."""
    if len(moves) < 3:
        return False
    dots = np.einsum("ij,ij->i", moves[1:], moves[:-1])
    return bool(np.mean(dots < 0) > 0.5)


def _theory(quadratic, steps, count=241):
    """Exact loss after ``steps`` steps / starting loss, for learning rates over RATE_RANGE.

    In the eigenbasis A = Q diag(lambda) Q^T, each coordinate c_i of w is multiplied by
    (1 - eta lambda_i) per step, so L_k = 1/2 sum_i lambda_i c_i**2 (1 - eta lambda_i)**(2k).
    """
    rates = np.logspace(np.log10(RATE_RANGE[0]), np.log10(RATE_RANGE[1]), count)
    eigenvalues, Q = np.linalg.eigh(quadratic.A)
    c = Q.T @ quadratic.start
    weights = 0.5 * eigenvalues * c ** 2  # (D,)
    with np.errstate(over="ignore"):
        factors = (1 - rates[:, None] * eigenvalues[None, :]) ** (2 * steps)  # (count, D)
        ratio = (factors @ weights) / weights.sum()
    return rates, ratio


def _check_problem(problem):
    if problem not in PROBLEMS:
        raise ValueError(f"unknown problem {problem!r}; choose one of {', '.join(PROBLEMS)}")


# --- drawing and the widget -----------------------------------------------------------------------

COLOURS = {"converges": "tab:green", "oscillates": "tab:orange", "diverges": "tab:red"}
# The loss panel's y-range, as multiples of the problem's starting loss: fixed, so that runs at
# different learning rates can be compared (and the panel need not be laid out again). Runs stop
# at BLOWUP x the start (a diverging curve leaves the top); in 300 steps the quadratics get down
# to ~1e-27 x the start (lower values are drawn at the bottom edge), the network to ~1e-2 x.
LOSS_RANGE = {"quadratic": (1e-20, 1e8), "valley": (1e-20, 1e8), "network": (1e-3, 1e2)}
THEORY_LIMIT = 1e10  # the theory panel shows loss ratios from 1e-10 to 1e10
STEP_EXTENTS = (10, 20, 50, 100, 200, 300)  # the loss panel's step axis ends at the first >= steps


class Picture:
    """The explorer's figure for one problem, kept for the explorer's life and redrawn in place.

    Panels: the path on the loss surface (or the network's fit), the loss per step (log axis) and,
    for the quadratics, the loss after ``steps`` steps for every learning rate. What a run changes
    (the path, the loss curve, the theory curve, the marked rate, the titles) is dynamic; only the
    step axis, which ends at 10, 20, 50, 100, 200 or 300, is part of a panel's static frame
    (:class:`bplib.widgets.common.LiveFigure`).
    """

    def __init__(self, problem):
        _check_problem(problem)
        self.problem = problem
        panels = 2 if problem == "network" else 3
        self.live = common.LiveFigure((4.2 * panels, 3.6), panels, dpi=80,
                                      left=0.8 / (4.2 * panels), right=0.98, bottom=0.15, top=0.83,
                                      wspace=0.35)
        axes = self.live.axes
        {"quadratic": self._path_1d, "valley": self._path_2d, "network": self._fit}[problem](axes[0])
        self._losses(axes[1])
        if panels == 3:
            self._theory(axes[2])
        self.title = self.live.dynamic(self.live.figure.suptitle(""))

    def update(self, run):
        """Show ``run`` (a :class:`Run` of this problem); return the figure as PNG bytes."""
        return self.live.render(self.show(run))

    def show(self, run):
        """Set every artist for ``run``; return the panels' keys for :meth:`LiveFigure.render`."""
        if run.problem != self.problem:
            raise ValueError(f"this picture shows the {self.problem} problem, not {run.problem}")
        colour = COLOURS[run.verdict]
        self._show_path(run, colour)
        start = run.losses[0]
        low, high = LOSS_RANGE[self.problem]
        self.loss_line.set_data(np.arange(len(run.losses)), np.maximum(run.losses, low * start / 10))
        self.loss_line.set_color(colour)
        extent = next(n for n in STEP_EXTENTS if n >= run.steps)
        self.loss_axes.set_xlim(0, extent)
        self.loss_axes.set_ylim(low * start, high * start)
        self.loss_title.set_text(f"loss, η = {run.learning_rate:.3g}")
        if self.problem != "network":
            self.theory_curve.set_data(run.theory_rates, np.clip(run.theory_ratio, THEORY_LIMIT ** -2,
                                                                 THEORY_LIMIT ** 2))
            self.theory_title.set_text(f"loss after {run.steps} steps, every η")
            self.rate_line.set_xdata([run.learning_rate, run.learning_rate])
            self.rate_text.set_x(run.learning_rate / 1.2)
        self.title.set_text(f"{run.problem}: {run.verdict}")
        self.title.set_color(colour)
        return (self.problem, (self.problem, extent), self.problem)

    # --- the panels ------------------------------------------------------------------------------

    def _path_1d(self, ax):
        quadratic = _quadratic("quadratic")
        self.limit = limit = 2.2 * abs(quadratic.start[0])
        w = np.linspace(-limit, limit, 200)
        ax.plot(w, 0.5 * quadratic.A[0, 0] * w ** 2, color="0.6")
        self.path_line = self.live.dynamic(ax.plot([], [], "-o", ms=3, lw=0.8)[0])
        start = self.live.dynamic(ax.plot(quadratic.start, 0.5 * quadratic.A[0, 0] * quadratic.start ** 2,
                                          "ko", ms=5, label="start")[0])
        ax.set_xlim(-limit, limit)
        ax.set_ylim(-0.3, 0.5 * quadratic.A[0, 0] * limit ** 2)
        ax.set(xlabel="w", ylabel="loss", title="L(w) = 2 w\u00b2 and the iterates")
        ax.legend(handles=[start], loc="upper center")  # static: the path may cross it

    def _path_2d(self, ax):
        quadratic = _quadratic("valley")
        u, v = np.meshgrid(np.linspace(-3.5, 3.5, 120), np.linspace(-2.5, 2.5, 90))
        grid = np.stack([u, v], axis=-1)
        values = 0.5 * np.einsum("...i,ij,...j->...", grid, quadratic.A, grid)
        ax.contour(u, v, values, levels=np.geomspace(0.01, 60, 14), colors="0.7", linewidths=0.7)
        self.path_line = self.live.dynamic(ax.plot([], [], "-o", ms=2.5, lw=0.8)[0])
        start = self.live.dynamic(ax.plot(*quadratic.start, "ko", ms=5, label="start")[0])
        minimum = self.live.dynamic(ax.plot(0, 0, "k*", ms=9, label="minimum")[0])
        ax.set_xlim(-3.5, 3.5)
        ax.set_ylim(-2.5, 2.5)
        ax.set_aspect("equal")
        ax.set(xlabel="w1", ylabel="w2", title="the valley (curvatures 1 and 20)")
        ax.legend(handles=[start, minimum], loc="lower right", fontsize="small")

    def _fit(self, ax):
        net = _network()
        data = ax.plot(net.X.ravel(), net.y.ravel(), "ko", ms=4, label="data")[0]
        self.fit_line = self.live.dynamic(ax.plot([], [], label="network")[0])
        ax.set_xlim(-1.1, 1.1)
        ax.set_ylim(-2, 2)
        ax.set(xlabel="x", title="the 1-8-1 network after the last step")
        legend = self.live.dynamic(ax.legend(handles=[data, self.fit_line], loc="lower right",
                                             fontsize="small"))
        self.fit_key = legend.get_lines()[1]  # the legend's own copy of the line, coloured alike

    def _show_path(self, run, colour):
        if self.problem == "network":
            self.fit_line.set_data(run.fit_x, np.clip(run.fit_y, -3, 3))
            self.fit_line.set_color(colour)
            self.fit_key.set_color(colour)
            return
        if self.problem == "quadratic":
            shown = run.path[:, 0]
            shown = shown[np.abs(shown) <= 1.5 * self.limit]
            self.path_line.set_data(shown, 0.5 * _quadratic("quadratic").A[0, 0] * shown ** 2)
        else:
            self.path_line.set_data(run.path[:, 0], run.path[:, 1])
        self.path_line.set_color(colour)

    def _losses(self, ax):
        self.loss_axes = ax
        ax.set_yscale("log")
        self.loss_line = self.live.dynamic(ax.plot([], [], "-")[0])
        _plain_log_axes(ax)
        ax.set(xlabel="step", ylabel="loss (log scale)")
        self.loss_title = self.live.dynamic(ax.set_title(" "))

    def _theory(self, ax):
        self.theory_axes = ax
        critical = critical_rate(self.problem)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.axvspan(critical, RATE_RANGE[1], color="tab:red", alpha=0.12, lw=0)
        ax.axvline(critical, color="tab:red", ls="--")
        ax.text(critical * 1.2, THEORY_LIMIT / 10, f"diverges:\nη > 2/λmax\n= {critical:.3g}",
                color="tab:red", fontsize="small", va="top")
        ax.axhline(1.0, color="0.7", lw=0.8)
        self.theory_curve = self.live.dynamic(ax.plot([], [], color="0.3")[0])
        self.rate_line = self.live.dynamic(ax.axvline(1.0, color="tab:blue"))
        self.rate_text = self.live.dynamic(ax.text(1.0, THEORY_LIMIT / 10, "this η", color="tab:blue",
                                                   fontsize="small", va="top", ha="right"))
        ax.set_xlim(*RATE_RANGE)
        ax.set_ylim(1 / THEORY_LIMIT, THEORY_LIMIT)
        _plain_log_axes(ax)
        ax.set(xlabel="learning rate η", ylabel="loss after the steps / start")
        self.theory_title = self.live.dynamic(ax.set_title(" "))


def draw(run):
    """A matplotlib figure of ``run`` (a one-off picture of what the explorer shows)."""
    picture = Picture(run.problem)
    picture.show(run)
    return picture.live.full_figure()


def _plain_log_axes(ax):
    """Few ticks and plain-text labels ("1e-06") on log axes: matplotlib's default minor ticks and
    math-text labels make each redraw several times slower."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullLocator

    for axis in (ax.xaxis, ax.yaxis):
        if axis.get_scale() == "log":
            axis.set_major_locator(LogLocator(numticks=6))
            axis.set_minor_locator(NullLocator())
            axis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:.0e}".replace("e-0", "e-")
                                                   .replace("e+0", "e").replace("e+", "e")))


def learning_rate_explorer(sgd_step=None, problem="valley", learning_rate=0.09, steps=50):
    """Gradient descent with a log-scale learning-rate slider, a steps slider and a problem menu.

    ``sgd_step(w, grad, learning_rate) -> new_w``: your lesson-05 function (the course's reference if
    None, or if yours is not implemented yet or raises, with a note saying so). Returns a VBox.
    """
    if common.headless():
        return common.headless_placeholder("learning-rate explorer")
    import ipywidgets as widgets

    step, note = _choose_step(sgd_step)
    rate_slider = widgets.FloatLogSlider(value=learning_rate, base=10, min=np.log10(RATE_RANGE[0]),
                                         max=np.log10(RATE_RANGE[1]), step=0.01,
                                         description="learning rate", readout_format=".3g",
                                         continuous_update=False, style={"description_width": "initial"})
    steps_slider = widgets.IntSlider(value=steps, min=1, max=300, description="steps",
                                     continuous_update=False)
    problem_menu = widgets.Dropdown(options=list(PROBLEMS), value=problem, description="problem")
    note_box = widgets.HTML(f"<b>Note:</b> {note}")
    note_box.add_class("bplib-explorer-note")
    status = widgets.HTML()
    status.add_class("bplib-explorer-status")
    image = common.picture_widget()
    pictures = {}  # problem -> its Picture, made the first time the problem is shown

    def redraw(_change=None):
        run = gradient_descent(problem_menu.value, rate_slider.value, steps_slider.value, step)
        status.value = f"<b>{run.message}</b>"
        if run.problem not in pictures:
            pictures[run.problem] = Picture(run.problem)
        image.value = pictures[run.problem].update(run)

    for control in (rate_slider, steps_slider, problem_menu):
        control.observe(redraw, names="value")
    redraw()
    return widgets.VBox([note_box, widgets.HBox([problem_menu, rate_slider, steps_slider]),
                         status, image])


def _choose_step(sgd_step):
    """The step function to use and a note saying whose it is (and why)."""
    probe = (np.array([1.0, -2.0]), np.array([0.5, 0.25]), 0.1)
    reference_sgd_step = _reference_sgd_step()
    step, note = common.choose(sgd_step, reference_sgd_step, probe, "sgd_step")
    if sgd_step is None:
        return step, "using the course's reference sgd_step (pass sgd_step=sgd_step to use yours)."
    if note:
        return step, note
    expected = reference_sgd_step(*probe)
    try:
        got = np.asarray(step(*probe), dtype=float)
    except (TypeError, ValueError):  # None, or something that is not numbers
        got = None
    if got is None or got.shape != expected.shape:
        return reference_sgd_step, ("your sgd_step does not return an array shaped like w (run its "
                                    "test cell): showing the course's reference.")
    if not np.allclose(got, expected):
        return step, ("your sgd_step runs but gives a different result from the reference on a test "
                      "input (run its test cell); the plots below use yours.")
    return step, "using your sgd_step."


def _reference_sgd_step():
    return common.reference("update_rule", "reference_sgd_step")
