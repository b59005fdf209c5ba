"""The explorers' speed: what the kernel does between a slider change and the new picture.

For each kind of change, side by side in one run (interleaved medians):

* before: how the explorers redrew until now: compute, draw a new matplotlib figure, encode it as
  a PNG (``savefig``) and as base64 for an Output widget;
* now: what the explorer does: compute, then :meth:`Picture.update`, which redraws only what
  changed in the figure it keeps and encodes the PNG that its Image widget sends as bytes.

Target: <= 100 ms from slider to new picture on a quiet machine, of which the kernel's part should
stay <= 50 ms (the rest is the message to the browser and decoding the image, measured by
``tests/test_browser.py``). The computation alone has its own target (<= 50 ms at the defaults).

    .venv/bin/python benchmarks/bench_widgets.py
"""

import base64
import inspect
import io
import itertools
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display; the same renderer the inline backend uses for PNGs

sys.path.insert(0, str(Path(__file__).resolve().parent))
from timing import interleaved_medians, one_blas_thread, verdict  # noqa: E402

from bplib.widgets import depth, learning_rate  # noqa: E402

COMPUTE_TARGET = 0.050  # seconds of computation per slider change at the default settings
KERNEL_TARGET = 0.050  # seconds from the new slider value to the PNG, in the kernel


def defaults(explorer, names):
    """The explorer's own default settings (read from its signature, so they never drift apart)."""
    parameters = inspect.signature(explorer).parameters
    return {name: parameters[name].default for name in names}


def fresh_figure_png(fig):
    """The old way: a new figure per change, saved as PNG and base64-encoded for Output.outputs."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=80)
    return base64.b64encode(buffer.getvalue())


def cycle(settings):
    """A maker of functions that return the next of ``settings`` on each call, so that every call
    is a real change (each timed function gets its own, as they are timed in alternation)."""
    def make():
        states = itertools.cycle(settings)
        return lambda: next(states)
    return make


def learning_rate_changes(rate):
    """(label, settings cycle) for the learning-rate explorer, starting at its defaults."""
    return [
        ("learning-rate slider, one step", cycle([{**rate, "learning_rate": rate["learning_rate"] * 10 ** (
            0.01 * k)} for k in (0, 1, 2, 3)])),
        ("steps slider, one step within an axis (it ends at 10, 20, 50, 100, ...)",
         cycle([{**rate, "steps": rate["steps"] + k} for k in (1, 2, 3, 4)])),
        ("steps slider, 50 <-> 51 (two step axes, each drawn once, then kept)",
         cycle([{**rate, "steps": rate["steps"] + k} for k in (0, 1)])),
        ("steps, 11 settings in turn (6 step axes, each drawn once, then kept)",
         cycle([{**rate, "steps": n} for n in (10, 20, 50, 100, 200, 300, 250, 150, 80, 30, 15)])),
        ("problem menu, back and forth", cycle([{**rate, "problem": p} for p in ("valley", "quadratic")])),
    ]


def depth_changes(layers):
    return [
        ("depth slider, one step within 11-20 layers",
         cycle([{**layers, "depth": layers["depth"] - k} for k in (0, 1, 2, 3)])),
        ("depth slider, 20 <-> 21 layers (two layer axes, each drawn once, then kept)",
         cycle([{**layers, "depth": n} for n in (20, 21)])),
        ("depth and width, 12 settings in turn (axes not shown recently are drawn again)",
         cycle([{**layers, "depth": n, "width": w} for n, w in zip(
             (5, 15, 25, 35, 45, 55, 60, 50, 40, 30, 20, 10), range(8, 104, 8))])),
        ("activation menu, sigmoid <-> ReLU",
         cycle([{**layers, "activation": a} for a in ("sigmoid", "relu")])),
    ]


def main():
    rate = defaults(learning_rate.learning_rate_explorer, ["problem", "learning_rate", "steps"])
    rate_largest = {**rate, "problem": "network", "steps": 300}  # the slider's maximum
    layers = defaults(depth.depth_explorer, ["depth", "width", "activation", "init", "clip_norm"])
    layers_largest = {**layers, "depth": depth.MAX_DEPTH, "width": depth.MAX_WIDTH, "clip_norm": 1.0}

    def rate_now():
        """The learning-rate explorer's redraw, with the Picture per problem that it keeps."""
        pictures = {}

        def redraw(settings):
            run = learning_rate.gradient_descent(**settings)
            if run.problem not in pictures:
                pictures[run.problem] = learning_rate.Picture(run.problem)
            return pictures[run.problem].update(run)
        return redraw

    def depth_now():
        picture = depth.Picture()
        return lambda settings: picture.update(depth.depth_statistics(**settings))

    functions, labels = {}, []
    for name, changes, before, now in [
            ("learning-rate explorer", learning_rate_changes(rate),
             lambda s: fresh_figure_png(learning_rate.draw(learning_rate.gradient_descent(**s))), rate_now),
            ("depth explorer", depth_changes(layers),
             lambda s: fresh_figure_png(depth.draw(depth.depth_statistics(**s))), depth_now)]:
        for label, settings in changes:
            key = f"{name}: {label}"
            labels.append(key)
            # each its own settings (and figure): the functions are timed in alternation
            functions[f"{key} before"] = _timed(before, settings())
            functions[f"{key} now"] = _timed(now(), settings())
    functions["rate compute"] = lambda: learning_rate.gradient_descent(**rate)
    functions["rate largest compute"] = lambda: learning_rate.gradient_descent(**rate_largest)
    functions["depth compute"] = lambda: depth.depth_statistics(**layers)
    functions["depth largest compute"] = lambda: depth.depth_statistics(**layers_largest)
    # The worst case: the first picture of a problem, or of the depth explorer (every panel drawn).
    for name, before, first in [
            ("learning-rate explorer",
             lambda: fresh_figure_png(learning_rate.draw(learning_rate.gradient_descent(**rate))),
             lambda: learning_rate.Picture(rate["problem"]).update(learning_rate.gradient_descent(**rate))),
            ("depth explorer", lambda: fresh_figure_png(depth.draw(depth.depth_statistics(**layers))),
             lambda: depth.Picture().update(depth.depth_statistics(**layers)))]:
        key = f"{name}: first picture at the defaults (a new figure, every panel drawn)"
        labels.append(key)
        functions[f"{key} before"], functions[f"{key} now"] = before, first
    times = interleaved_medians(functions, repeats=15, number=1, warmup=3)

    print(f"Kernel time from a new slider value to the PNG (median of 15, interleaved; target "
          f"<= {KERNEL_TARGET * 1e3:.0f} ms, the browser adds the rest of the <= 100 ms):")
    for key in labels:
        before, now = times[f"{key} before"], times[f"{key} now"]
        print(f"  {key}: before {before * 1e3:.0f} ms (new figure), now {now * 1e3:.0f} ms "
              f"(in place), {before / now:.1f}x faster; {verdict(now, KERNEL_TARGET)}")
    for name, label, settings, largest in [
            ("rate", "learning-rate explorer", rate, rate_largest),
            ("depth", "depth explorer", layers, layers_largest)]:
        compute = times[f"{name} compute"]
        print(f"{label}, computation alone at the defaults ({describe(settings)}): {compute * 1e3:.1f} ms "
              f"(target <= {COMPUTE_TARGET * 1e3:.0f} ms: {verdict(compute, COMPUTE_TARGET)}); at the "
              f"largest settings ({describe(largest)}): {times[f'{name} largest compute'] * 1e3:.1f} ms "
              "(for context, no target)")


def _timed(redraw, next_settings):
    return lambda: redraw(next_settings())


def describe(settings):
    return ", ".join(f"{name} {value}" for name, value in settings.items())


if __name__ == "__main__":
    with one_blas_thread():
        main()
