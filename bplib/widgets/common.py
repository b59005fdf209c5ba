"""What both explorers share: headless detection, falling back to reference functions, and a
figure redrawn in place (:class:`LiveFigure`)."""

import collections
import importlib
import math
import os
import struct
import zlib

import numpy as np


def headless():
    """True when no one can interact: nbgrader's autograde (it sets NBGRADER_EXECUTION) or
    BPCOURSE_HEADLESS=1 (e.g. batch execution). Explorers then return at once."""
    return bool(os.environ.get("NBGRADER_EXECUTION")) or os.environ.get("BPCOURSE_HEADLESS") == "1"


def headless_placeholder(name):
    """What an explorer returns when headless: a short note instead of widgets."""
    from IPython.display import Markdown

    return Markdown(f"*{name}: interactive only (this notebook is being run without a front end).*")


def reference(module, name):
    """The course's reference implementation ``name`` from its answer keys
    (``autograder.exercises.<module>``), imported only when an explorer needs it: the keys are
    installed with the course but absent from the grading sandbox, where explorers do not run.
    Raises ImportError saying what to install."""
    try:
        return getattr(importlib.import_module(f"autograder.exercises.{module}"), name)
    except ImportError:
        raise ImportError(f"the explorer needs the course's reference {name} (the `autograder` "
                          "package, installed with the course: `pip install -e .`)") from None


def choose(learner_function, reference, probe_args, name):
    """``(function, note)``: the learner's function if it runs on ``probe_args``, else the reference.

    ``note`` is "" when the learner's function is used, otherwise a sentence saying why not
    (not implemented yet, or the error it raised), to show next to the plot.
    """
    if learner_function is None:
        return reference, ""
    try:
        learner_function(*probe_args)
    except NotImplementedError:
        return reference, f"Your {name} is not implemented yet: showing bplib's reference."
    except Exception as error:  # noqa: BLE001 - any learner error means: show the reference
        return reference, (f"Your {name} raised {type(error).__name__}: {error}. "
                           "Showing bplib's reference instead.")
    return learner_function, ""


class LiveFigure:
    """One matplotlib figure that an explorer keeps and redraws in place, as PNG bytes.

    Each panel (Axes) has a *static* part (frame, ticks, labels, fixed curves) and *dynamic*
    artists, registered with :meth:`dynamic` and drawn on top of everything else. :meth:`render`
    takes a key per panel that changes exactly when the panel's static part does (new axis limits,
    say): it draws a static part once per key and keeps its pixels (the last ``KEPT`` keys per
    panel), then pastes them and draws just the dynamic artists over them (matplotlib's
    "blitting"). Rendering the text of tick labels is most of the cost of a figure: a slider step
    took the explorers about a tenth of the time of drawing a new figure
    (``benchmarks/bench_widgets.py`` prints both). The figure is never registered with pyplot.
    """

    KEPT = 8  # static parts kept per panel: a slider moved back and forth finds them again

    def __init__(self, figsize, columns, dpi=80, **spacing):
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        self.figure = Figure(figsize=figsize, dpi=dpi)
        FigureCanvasAgg(self.figure)
        self.axes = list(self.figure.subplots(1, columns, squeeze=False)[0])
        self.figure.subplots_adjust(**spacing)
        for ax in self.axes:  # titles at a fixed height (no ticks above the panels): placing them
            ax.set_title("", y=1.0)  # around the tick labels took a tenth of a panel's drawing
        self._dynamic = []
        self._kept = [collections.OrderedDict() for _ in range(columns)]  # per panel: key -> pixels
        self._blanks = None  # per panel: its strip of the empty figure, to erase it
        self._strips = None  # per panel: the vertical strip of pixels it owns (full height)

    def dynamic(self, artist):
        """Register ``artist`` as redrawn on every render (in registration order, above the static
        parts); returns it."""
        artist.set_animated(True)
        artist.set_zorder(100 + len(self._dynamic))
        self._dynamic.append(artist)
        return artist

    def render(self, keys):
        """The figure as PNG bytes. ``keys[i]``: a hashable value that is equal for two renders
        exactly when panel i's static part looks the same in both."""
        canvas = self.figure.canvas
        renderer = canvas.get_renderer()
        if self._strips is None:
            self._prepare(renderer)
        for i, (ax, key, kept) in enumerate(zip(self.axes, keys, self._kept)):
            if key in kept:
                kept.move_to_end(key)
                canvas.restore_region(kept[key])
                continue
            canvas.restore_region(self._blanks[i])
            ax.draw(renderer)  # its animated (dynamic) artists are left out
            kept[key] = canvas.copy_from_bbox(self._strips[i])
            if len(kept) > self.KEPT:
                kept.popitem(last=False)  # the least recently shown
        for artist in self._dynamic:
            artist.draw(renderer)  # an invisible artist draws nothing
        return png_bytes(canvas.buffer_rgba())

    def _prepare(self, renderer):
        """Split the figure into one full-height strip per panel and keep each strip of the empty
        figure. A strip ends 14 pixels right of its panel's frame (room for half of the last
        x tick label); the rest of the gap between two panels holds the next one's y-axis labels."""
        from matplotlib.transforms import Bbox

        width, height = renderer.get_canvas_width_height()
        edges = [0] + [math.ceil(width * ax.get_position().x1) + 14 for ax in self.axes[:-1]]
        edges.append(int(width))
        self._strips = [Bbox.from_extents(x0, 0, x1, int(height)) for x0, x1 in zip(edges, edges[1:])]
        renderer.clear()
        self.figure.patch.draw(renderer)
        self._blanks = [self.figure.canvas.copy_from_bbox(strip) for strip in self._strips]

    def full_figure(self):
        """The figure as an ordinary one (every artist drawn by ``savefig`` or ``canvas.draw``),
        for a one-off picture; :meth:`render` must not be used afterwards."""
        for artist in self._dynamic:
            artist.set_animated(False)
        self._strips = None
        self._kept = [collections.OrderedDict() for _ in self.axes]
        return self.figure


def png_bytes(rgba):
    """An RGBA pixel buffer (``canvas.buffer_rgba()``, shape (H, W, 4)) as PNG bytes (RGB, 8 bits).

    Written directly with zlib (PNG specification, W3C 2003, sections 5 and 11): rows unfiltered
    (filter type 0) and deflate level 1. For the explorers' plots, mostly white, this took half the
    time of Pillow's encoder at its fastest level and gave slightly smaller files (measured here:
    8 ms and 55 kB against 16 ms and 59 kB for a 1008 x 288 picture)."""
    pixels = np.asarray(rgba)
    height, width = pixels.shape[:2]
    rows = np.empty((height, 1 + 3 * width), dtype=np.uint8)
    rows[:, 0] = 0  # each row starts with its filter type: 0, none
    rows[:, 1:] = pixels[..., :3].reshape(height, -1)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB, no interlace
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header)
            + _png_chunk(b"IDAT", zlib.compress(rows.tobytes(), 1)) + _png_chunk(b"IEND", b""))


def _png_chunk(kind, data):
    """Length, type, data and the CRC-32 of type and data."""
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def picture_widget():
    """The Image widget an explorer shows its figure in (it keeps one <img> and swaps its bytes)."""
    import ipywidgets as widgets

    image = widgets.Image(format="png")
    image.add_class("bplib-explorer-picture")
    return image
