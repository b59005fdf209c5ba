"""The explorers' speed: the computation behind one slider change of each explorer at its default
settings (the pure compute functions; target <= 50 ms), and, for context, a full redraw: compute,
draw the matplotlib figure and encode it as the PNG the browser receives. Also the largest settings
of each explorer's controls, for context (no target).

    python benchmarks/bench_widgets.py
"""

import inspect
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display; the same renderer the inline backend uses for PNGs

sys.path.insert(0, str(Path(__file__).resolve().parent))
from timing import interleaved_medians, one_blas_thread, verdict  # noqa: E402

from bplib.widgets import depth, learning_rate  # noqa: E402
from bplib.widgets.common import figure_output  # noqa: E402

TARGET = 0.050  # seconds of computation per slider change at the default settings


def defaults(explorer, names):
    """The explorer's own default settings (read from its signature, so they never drift apart)."""
    parameters = inspect.signature(explorer).parameters
    return {name: parameters[name].default for name in names}


def learning_rate_compute(settings):
    return learning_rate.gradient_descent(**settings)


def learning_rate_redraw(settings):
    figure_output(learning_rate.draw(learning_rate.gradient_descent(**settings)))  # its PNG, as shown


def depth_compute(settings):
    return depth.depth_statistics(**settings)


def depth_redraw(settings):
    figure_output(depth.draw(depth.depth_statistics(**settings)))  # the explorer's own PNG for its Output


def describe(settings):
    return ", ".join(f"{name} {value}" for name, value in settings.items())


def main():
    rate = defaults(learning_rate.learning_rate_explorer, ["problem", "learning_rate", "steps"])
    rate_largest = {**rate, "problem": "network", "steps": 300}  # the slider's maximum
    layers = defaults(depth.depth_explorer, ["depth", "width", "activation", "init", "clip_norm"])
    layers_largest = {**layers, "depth": depth.MAX_DEPTH, "width": depth.MAX_WIDTH, "clip_norm": 1.0}
    times = interleaved_medians({
        "rate compute": lambda: learning_rate_compute(rate),
        "rate redraw": lambda: learning_rate_redraw(rate),
        "rate largest compute": lambda: learning_rate_compute(rate_largest),
        "depth compute": lambda: depth_compute(layers),
        "depth redraw": lambda: depth_redraw(layers),
        "depth largest compute": lambda: depth_compute(layers_largest),
    }, repeats=15, number=1, warmup=2)
    for name, label, settings, largest in [
            ("rate", "learning-rate explorer", rate, rate_largest),
            ("depth", "depth explorer", layers, layers_largest)]:
        compute, redraw = times[f"{name} compute"], times[f"{name} redraw"]
        print(f"{label}, one slider change at the defaults ({describe(settings)}): compute "
              f"{compute * 1e3:.1f} ms (target <= {TARGET * 1e3:.0f} ms: {verdict(compute, TARGET)}); "
              f"full redraw {redraw * 1e3:.0f} ms (compute + {(redraw - compute) * 1e3:.0f} ms to draw the "
              f"figure and encode its PNG)")
        print(f"{label}, largest settings ({describe(largest)}): compute "
              f"{times[f'{name} largest compute'] * 1e3:.1f} ms (for context, no target)")


if __name__ == "__main__":
    with one_blas_thread():
        main()
