"""The depth explorer (lesson 07): how depth, activation, initialisation and gradient clipping shape
the gradients of a deep network.

* :func:`depth_statistics` computes the numbers for one setting (NumPy and bplib only): build an MLP
  of ``depth`` Linear layers, run one batch of random data forward and backward (cross-entropy with
  random labels), and measure each layer's gradient norm and activation statistics.
* :func:`depth_explorer` puts sliders and menus on top of one figure, redrawn in place (:class:`Picture`).

The explorer takes the learner's lesson-07 functions (``xavier_init``, ``he_init``,
``clip_grad_norm``, ``layer_gradient_norms``) and uses the course's reference for each one that is not
written yet or fails, saying so in a note above the plot.
"""

import math
from dataclasses import dataclass

import numpy as np

from bplib import init as bplib_init
from bplib.layers import Linear, ReLU, Sigmoid, Tanh
from bplib.losses import SoftmaxCrossEntropyLoss
from bplib.network import mlp
from bplib.probes.vanishing_exploding import network_after_backward
from bplib.widgets import common

__all__ = ["depth_explorer", "depth_statistics", "DepthStatistics", "diagnosis", "INITIALISERS",
           "Picture", "draw"]

ACTIVATION_OPTIONS = [("sigmoid", "sigmoid"), ("tanh", "tanh"), ("ReLU", "relu")]
INIT_OPTIONS = [("small normal (std 0.01)", "small"), ("large normal (std 1)", "large"),
                ("Xavier", "xavier"), ("He", "he")]
MAX_DEPTH, MAX_WIDTH = 60, 128
FLAT_SLOPE = 0.05  # a unit is "flat" where its activation's slope is below 5% of the maximum slope
VANISHING, EXPLODING = 1e-3, 1e3  # rules of thumb for the verdict, see diagnosis()
ACTIVATION_LAYERS = (ReLU, Sigmoid, Tanh)  # their outputs are the activations the figure describes

INITIALISERS = {  # name -> init(fan_in, fan_out, rng), the learner's signature
    "small": lambda fan_in, fan_out, rng: rng.normal(0.0, 0.01, (fan_in, fan_out)),
    "large": lambda fan_in, fan_out, rng: rng.normal(0.0, 1.0, (fan_in, fan_out)),
    "xavier": lambda fan_in, fan_out, rng: bplib_init.xavier_normal((fan_in, fan_out), rng),
    "he": lambda fan_in, fan_out, rng: bplib_init.he_normal((fan_in, fan_out), rng),
}


def _reference(name):
    return common.reference("vanishing_exploding", f"reference_{name}")


@dataclass(frozen=True)
class DepthStatistics:
    """The numbers behind one picture of the explorer. Layers are numbered from the input.

    ``gradient_norms[l]``: the L2 norm of dW of Linear layer l+1 before clipping (``depth`` values);
    ``clipped_norms``: the same after clipping (None without clipping); ``total_norm``: the joint
    norm of every gradient (W and b) before clipping. For each of the ``depth - 1`` hidden layers:
    ``activation_mean`` and ``activation_std`` of its outputs over the batch and its units, and
    ``flat_fraction``, the fraction of those outputs where the activation's slope is below 5% of
    its maximum (saturated sigmoid/tanh units; ReLUs with a negative input, slope 0).
    """
    depth: int
    width: int
    activation: str
    init: str
    clip_norm: object
    gradient_norms: np.ndarray
    clipped_norms: object
    total_norm: float
    activation_mean: np.ndarray
    activation_std: np.ndarray
    flat_fraction: np.ndarray
    loss: float
    batch_norm: bool = False


def depth_statistics(depth=20, width=32, activation="sigmoid", init="small", clip_norm=None, *,
                     batch_norm=False, batch_size=32, n_classes=10, seed=0, initialisers=None,
                     layer_gradient_norms=None, clip_grad_norm=None):
    """The gradient norms and activation statistics of one deep MLP on one batch.

    The network is ``depth`` Linear layers, ``width -> width`` except the last (``width ->
    n_classes``), with ``activation`` after every Linear but the last, weights from ``init`` (a name
    in :data:`INITIALISERS`) and zero biases. A batch of ``batch_size`` standard-normal inputs with
    random labels goes forward and backward through softmax cross-entropy; with ``clip_norm`` the
    gradients are then clipped to that joint norm. ``batch_norm=True`` puts a BatchNorm (training
    mode, batch statistics) between each hidden Linear and its activation, as lesson 09 derives it.
    The same ``seed`` gives the same data and weights.

    ``initialisers`` ({"xavier": f, "he": f, ...}, each ``f(fan_in, fan_out, rng)``),
    ``layer_gradient_norms(model)`` and ``clip_grad_norm(grads, max_norm)`` replace the references
    (the learner's own functions from lesson 07). Returns a :class:`DepthStatistics`.
    """
    if activation not in dict(ACTIVATION_OPTIONS).values():
        raise ValueError(f"activation must be one of sigmoid, tanh, relu; got {activation!r}")
    if not 1 <= depth <= MAX_DEPTH or not 1 <= width <= MAX_WIDTH:
        raise ValueError(f"depth must be in [1, {MAX_DEPTH}] and width in [1, {MAX_WIDTH}]")
    initialiser = {**INITIALISERS, **(initialisers or {})}[init]
    norms_of = layer_gradient_norms or _reference("layer_gradient_norms")
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch_size, width))
    labels = rng.integers(0, n_classes, batch_size)
    model = mlp([width] * depth + [n_classes], activation=activation,
                init=_bplib_initialiser(initialiser), rng=rng, norm="batch" if batch_norm else None)

    loss = SoftmaxCrossEntropyLoss()
    hidden = []
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        out = x
        for layer in model.layers:
            out = layer.forward(out)
            if isinstance(layer, ACTIVATION_LAYERS):
                hidden.append(out)
        loss_value = loss.forward(out, labels)
        model.backward(loss.backward(), need_dx=False)
        gradient_norms = _as_norms(norms_of(model), depth)
        grads = [grad for _, _, grad in model.parameters()]
        total = math.sqrt(sum(float(np.vdot(g, g)) for g in grads))
        clipped = None
        if clip_norm is not None:
            (clip_grad_norm or _reference("clip_grad_norm"))(grads, clip_norm)
            clipped = _as_norms(norms_of(model), depth)
    mean, std, flat = (np.array([statistic(h) for h in hidden], dtype=float)
                       for statistic in (np.mean, np.std, _flat_fraction(activation)))
    return DepthStatistics(depth, width, activation, init, clip_norm, gradient_norms, clipped, total,
                           mean, std, flat, loss_value, bool(batch_norm))


def _bplib_initialiser(initialiser):
    """init(fan_in, fan_out, rng) -> bplib's init(shape, rng, dtype), checking the returned shape."""
    def init(shape, rng=None, dtype=np.float64):
        weights = np.asarray(initialiser(shape[0], shape[1], np.random.default_rng(rng)), dtype=dtype)
        if weights.shape != tuple(shape):
            raise ValueError(f"returned weights of shape {weights.shape}, expected {tuple(shape)}")
        return weights
    return init


def _as_norms(norms, depth):
    values = np.array([float(value) for value in norms])
    if values.shape != (depth,):
        raise ValueError(f"returned {values.size} norms for a network of {depth} Linear layers")
    return values


def _flat_fraction(activation):
    def fraction(h):
        if activation == "sigmoid":
            return float(np.mean(h * (1 - h) < FLAT_SLOPE * 0.25))
        if activation == "tanh":
            return float(np.mean(1 - h * h < FLAT_SLOPE))
        return float(np.mean(h <= 0))
    return fraction


def diagnosis(stats):
    """A few sentences about ``stats``: vanishing, exploding or healthy gradients. Rules of thumb: a
    norm above 1e3 explodes; one below 1e-3, or layer 1 getting under 1/1000 of the last layer's,
    vanishes."""
    norms = stats.gradient_norms
    if not np.all(np.isfinite(norms)):
        return "Overflow: some gradient norms are not finite numbers."
    first, last = norms[0], norms[-1]
    ratio = first / last if last > 0 else math.inf
    if stats.depth == 1:
        spread = f"‖dW‖ of the only layer is {first:.2g}."
    else:
        spread = (f"‖dW‖ is {first:.2g} in layer 1 and {last:.2g} in layer {stats.depth}"
                  + ("." if 0.1 <= ratio <= 10 else f" (a ratio of {ratio:.1g})."))
    if norms.max() > EXPLODING:
        verdict = f"Exploding: gradient norms reach {norms.max():.1g}."
    elif norms.min() < VANISHING or ratio < 1e-3:
        verdict = "Vanishing: the layers near the input get (almost) no gradient."
    else:
        verdict = "Healthy: every layer gets a gradient of a useful size."
    if stats.clipped_norms is not None:
        factor = min(1.0, stats.clip_norm / stats.total_norm) if stats.total_norm > 0 else 1.0
        verdict += (f" Clipping to {stats.clip_norm:.3g}: the joint norm {stats.total_norm:.3g} "
                    + (f"is scaled by {factor:.2g} (every layer alike)." if factor < 1
                       else "is below the cap, so nothing changes."))
    return f"{spread} {verdict}"


# --- the widget ---------------------------------------------------------------------------------------

class _LearnerFunctionFailed(Exception):
    def __init__(self, name, error):
        super().__init__(f"{type(error).__name__}: {error}")
        self.name = name


def _guarded(name, function):
    """``function`` with any error it raises, or any unusable result it returns, tagged with the
    learner function's ``name``."""
    def call(*args):
        try:
            result = function(*args)
            if name in ("xavier_init", "he_init") and np.shape(result) != tuple(args[:2]):
                raise ValueError(f"it returned shape {np.shape(result)} for (fan_in, fan_out) = "
                                 f"{tuple(args[:2])}")
            if name == "layer_gradient_norms":
                _as_norms(result, sum(isinstance(layer, Linear) for layer in args[0].layers))
            return result
        except Exception as error:  # noqa: BLE001 - the learner's code may raise anything
            raise _LearnerFunctionFailed(name, error) from error
    return call


_REFERENCES = ("xavier_init", "he_init", "clip_grad_norm", "layer_gradient_norms")


def _probe_args(name):
    if name in ("xavier_init", "he_init"):
        return (6, 4, np.random.default_rng(0))
    if name == "clip_grad_norm":
        return ([np.ones(3), np.ones((2, 2))], 1.0)
    return (network_after_backward((4, 5, 3), "relu", "he", 0),)


def choose_functions(**learner_functions):
    """``(functions, yours, notes)``: for each lesson-07 function, the learner's if given and it
    runs on a small example (right shape / length), else the reference. ``yours`` lists the names
    of the learner's functions in use; ``notes`` says which fell back and why."""
    functions, yours, notes = {}, [], []
    for name in _REFERENCES:
        reference = _reference(name)
        learner = learner_functions.get(name)
        chosen, note = common.choose(learner, reference, _probe_args(name), name)
        if learner is not None and not note:
            problem = _output_problem(name, chosen)
            if problem:
                chosen, note = reference, f"Your {name} {problem}: showing the course's reference."
            else:
                yours.append(name)
        functions[name] = chosen
        if note:
            notes.append(note)
    return functions, yours, notes


def _output_problem(name, function):
    try:
        if name in ("xavier_init", "he_init"):
            shape = np.shape(function(*_probe_args(name)))
            return None if shape == (6, 4) else f"returned shape {shape} for (fan_in, fan_out) = (6, 4)"
        if name == "layer_gradient_norms":
            _as_norms(function(*_probe_args(name)), 2)
    except Exception as error:  # noqa: BLE001 - the learner's code may raise anything
        return f"gave an unusable result ({error})"
    return None


def _statistics(functions, settings):
    return depth_statistics(
        **settings,
        initialisers={"xavier": _guarded("xavier_init", functions["xavier_init"]),
                      "he": _guarded("he_init", functions["he_init"])},
        layer_gradient_norms=_guarded("layer_gradient_norms", functions["layer_gradient_norms"]),
        clip_grad_norm=_guarded("clip_grad_norm", functions["clip_grad_norm"]))


def depth_explorer(xavier_init=None, he_init=None, clip_grad_norm=None, layer_gradient_norms=None,
                   depth=20, width=32, activation="sigmoid", init="small", clip_norm=None,
                   batch_norm=False):
    """Sliders and menus for depth, width, activation, initialisation, gradient clipping and batch
    normalisation, above a figure of the per-layer gradient norms (log axis) and activation
    statistics.

    Pass your own lesson-07 functions to see them at work; each one that is missing, not
    implemented yet or failing is replaced by the course's reference, with a note saying so. Returns a
    VBox (the last line of a cell shows it). Without a front end it returns a short placeholder.
    """
    if common.headless():
        return common.headless_placeholder("depth explorer")
    import ipywidgets as widgets

    functions, yours, notes = choose_functions(
        xavier_init=xavier_init, he_init=he_init, clip_grad_norm=clip_grad_norm,
        layer_gradient_norms=layer_gradient_norms)
    style = {"description_width": "initial"}
    controls = {
        "depth": widgets.IntSlider(value=depth, min=1, max=MAX_DEPTH, description="depth",
                                   continuous_update=False, style=style),
        "width": widgets.IntSlider(value=width, min=4, max=MAX_WIDTH, step=4, description="width",
                                   continuous_update=False, style=style),
        "activation": widgets.Dropdown(options=ACTIVATION_OPTIONS, value=activation,
                                       description="activation", style=style),
        "init": widgets.Dropdown(options=INIT_OPTIONS, value=init, description="init", style=style),
        "clip": widgets.Checkbox(value=clip_norm is not None, description="clip gradients",
                                 indent=False),
        "batch_norm": widgets.Checkbox(value=batch_norm, description="batch norm (lesson 09)",
                                       indent=False),
        "clip_norm": widgets.FloatLogSlider(value=clip_norm or 1.0, base=10, min=-3, max=3,
                                            description="clip norm", readout_format=".3g",
                                            continuous_update=False, style=style),
    }
    note_box = widgets.HTML()
    note_box.add_class("bplib-explorer-note")
    status = widgets.HTML()
    status.add_class("bplib-explorer-status")
    image = common.picture_widget()
    picture = Picture()

    def show_notes():
        lines = [f"Using your own {', '.join(yours)}." if yours
                 else "Using the course's reference functions."] + notes
        note_box.value = "<b>Note:</b> " + "<br>".join(lines)

    def redraw(change=None):
        controls["clip_norm"].disabled = not controls["clip"].value
        settings = {name: controls[name].value for name in ("depth", "width", "activation", "init",
                                                            "batch_norm")}
        settings["clip_norm"] = controls["clip_norm"].value if controls["clip"].value else None
        while True:
            try:
                stats = _statistics(functions, settings)
                break
            except _LearnerFunctionFailed as failure:  # fall back for this function, from now on
                functions[failure.name] = _reference(failure.name)
                yours.remove(failure.name)
                notes.append(f"Your {failure.name} raised {failure}. Showing the course's reference instead.")
            except (ArithmeticError, ValueError) as error:  # e.g. activations overflowing to inf
                show_notes()
                status.value = f"This setting cannot be computed: {error}"
                image.layout.display = "none"  # no picture of the previous setting
                return
        show_notes()
        status.value = diagnosis(stats)
        image.value = picture.update(stats)
        image.layout.display = None

    show_notes()
    for control in controls.values():
        control.observe(redraw, names="value")
    redraw()
    explorer = widgets.VBox([
        note_box,
        widgets.HBox([controls["depth"], controls["width"]]),
        widgets.HBox([controls["activation"], controls["init"]]),
        widgets.HBox([controls["clip"], controls["clip_norm"], controls["batch_norm"]]),
        status, image])
    explorer.add_class("bplib-depth-explorer")
    return explorer


X_EXTENTS = (10, 20, 30, 40, 50, 60)  # the layer axis ends at the first of these >= depth


class Picture:
    """The explorer's figure, kept for the explorer's life and redrawn in place: gradient norm per
    layer (log axis), activation spread per hidden layer (log axis) and the fraction of flat
    (saturated or inactive) units.

    The curves and titles change with every setting; a panel's frame and ticks are drawn again
    only for axis limits it has not shown recently (:class:`bplib.widgets.common.LiveFigure`). The
    layer axis ends at 10, 20, ... 60 layers and the log axes at powers of 10 in steps of 6
    decades, so most changes keep the limits. The layout is fixed rather than computed
    (``tight_layout`` would triple the time of a redraw).
    """

    def __init__(self):
        from matplotlib.ticker import MaxNLocator

        self.live = common.LiveFigure((12, 3.4), 3, dpi=80, left=0.06, right=0.99, bottom=0.16,
                                      top=0.8, wspace=0.3)
        ax_grad, ax_std, ax_flat = self.live.axes
        dynamic = self.live.dynamic
        self.grad_line = dynamic(ax_grad.plot([], [], marker="o", ms=3, label="before clipping")[0])
        self.clipped_line = dynamic(ax_grad.plot([], [], marker="o", ms=3, ls="--",
                                                 label="after clipping")[0])
        self.legend = dynamic(ax_grad.legend(handles=[self.grad_line, self.clipped_line], fontsize=8))
        self.std_line = dynamic(ax_std.plot([], [], marker="o", ms=3, color="tab:green")[0])
        self.flat_line = dynamic(ax_flat.plot([], [], marker="o", ms=3, color="tab:red")[0])
        self.no_hidden = [dynamic(ax.text(0.5, 0.5, "no hidden layers", ha="center", va="center",
                                          transform=ax.transAxes)) for ax in (ax_std, ax_flat)]
        self.title = dynamic(self.live.figure.suptitle("", fontsize=11))
        ax_grad.set(xlabel="layer (1 = input side)", ylabel="‖dW‖", title="gradient norm per layer")
        ax_std.set(xlabel="hidden layer", ylabel="std of activations", title="activation spread")
        ax_flat.set(xlabel="hidden layer", ylabel="% of units", ylim=(-3, 103))
        self.flat_title = dynamic(ax_flat.set_title(" "))
        for ax in (ax_grad, ax_std):
            _log_axis(ax)
            ax.axhline(1.0, color="gray", lw=0.6)
        for ax in self.live.axes:
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.grid(alpha=0.3)

    def update(self, stats):
        """Show ``stats`` (a :class:`DepthStatistics`); return the figure as PNG bytes."""
        return self.live.render(self.show(stats))

    def show(self, stats):
        """Set every artist for ``stats``; return the panels' keys for :meth:`LiveFigure.render`."""
        ax_grad, ax_std, ax_flat = self.live.axes
        extent = next(n for n in X_EXTENTS if n >= stats.depth)
        layers, hidden = np.arange(1, stats.depth + 1), np.arange(1, stats.depth)
        clipping = stats.clipped_norms is not None
        self.grad_line.set_data(layers, stats.gradient_norms)
        self.clipped_line.set_data(layers if clipping else [], stats.clipped_norms if clipping else [])
        self.legend.set_visible(clipping)
        self.std_line.set_data(hidden, stats.activation_std)
        self.flat_line.set_data(hidden, 100 * stats.flat_fraction)
        for text in self.no_hidden:
            text.set_visible(stats.depth == 1)
        grad_limits = _log_limits(np.concatenate([stats.gradient_norms, stats.clipped_norms])
                                  if clipping else stats.gradient_norms)
        std_limits = _log_limits(stats.activation_std)
        ax_grad.set_ylim(grad_limits)
        ax_std.set_ylim(std_limits)
        what = "inactive (output 0)" if stats.activation == "relu" else "saturated (slope < 5% of max)"
        self.flat_title.set_text(f"% {what}")
        for ax in self.live.axes:
            ax.set_xlim(0.5, extent + 0.5)
        how_deep = f"{stats.depth} layer{'s' if stats.depth > 1 else ''}"
        clip = f", clip norm {stats.clip_norm:.3g}" if clipping else ""
        init_label = dict((value, label) for label, value in INIT_OPTIONS)[stats.init]
        norm = ", batch norm" if stats.batch_norm else ""
        self.title.set_text(f"{how_deep} of width {stats.width}, {stats.activation}, {init_label}"
                            f"{clip}{norm}")
        return (extent, grad_limits), (extent, std_limits), extent


def draw(stats):
    """A matplotlib figure of ``stats`` (a one-off picture of what the explorer shows)."""
    picture = Picture()
    picture.show(stats)
    return picture.live.full_figure()


def _log_limits(values):
    """Log-axis limits showing at least 1e-3 .. 1e3 (so a flat healthy line never looks dramatic),
    widened in steps of 6 decades to include every finite positive value with a decade to spare."""
    values = np.asarray(values, dtype=float)
    positive = values[np.isfinite(values) & (values > 0)]
    low = math.floor(math.log10(positive.min() / 10)) if positive.size else -3
    high = math.ceil(math.log10(positive.max() * 10)) if positive.size else 3
    low = -3 - 6 * max(0, math.ceil((-3 - low) / 6))
    high = 3 + 6 * max(0, math.ceil((high - 3) / 6))
    return 10.0 ** low, 10.0 ** high


def _log_axis(ax):
    """A log y-axis with about 7 plain "1e-6"-style labels and no minor ticks."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullLocator

    ax.set_yscale("log")
    ax.yaxis.set_major_locator(LogLocator(base=10, numticks=7))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"1e{round(math.log10(value)):d}"))
    ax.yaxis.set_minor_locator(NullLocator())
