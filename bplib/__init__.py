"""bplib: the small NumPy library the backpropagation course builds and uses.

Conventions, stated once for every module:

* **Batch first.** A batch of inputs is a 2-D array ``x`` of shape ``(N, D)``: one example per row.
* **Gradient names.** ``d<name>`` is dLoss/d<name> and has the shape of ``<name>``; the gradient that
  flows into a ``backward`` from above is always called ``dout``.
* **float64 by default**; float32 works everywhere (pass ``dtype=np.float32`` when building layers).
* **Layers** have ``forward(x) -> out`` and, right below it, ``backward(dout) -> dx``. Parameters live
  in the dict ``params`` and their gradients in ``grads`` (same keys, same shapes). ``backward``
  *overwrites* ``grads`` with the gradient of the last batch; only :class:`bplib.autograd.Value`
  accumulates, because one scalar node may feed many others.

Modules (imported on first use, so ``import bplib`` stays light and never loads matplotlib):
``autograd`` (scalar Value), ``layers``, ``normalization``, ``embedding``, ``losses``, ``init``,
``network``, ``optim``, ``gradcheck``, ``data``, ``train``, ``tensor`` (autodiff on arrays),
``plotting`` and ``widgets`` (need matplotlib / ipywidgets), and the exercises' checks: ``grading``,
``checks``, ``probes``.
"""

import importlib

__version__ = "0.1.0"

_SUBMODULES = {
    "autograd", "graph_drawing", "layers", "normalization", "embedding", "losses", "init", "network",
    "optim", "gradcheck", "finite_differences", "data", "train", "plotting", "widgets", "grading",
    "checks", "probes", "tensor",
}


def __getattr__(name):
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module 'bplib' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + list(_SUBMODULES))
