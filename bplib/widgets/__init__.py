"""Interactive explorers (ipywidgets + matplotlib, both imported only when an explorer is built).

* :func:`learning_rate_explorer` (lesson 05): gradient descent with a log-scale learning-rate slider.
* :func:`depth_explorer` (lesson 07): per-layer gradient norms as depth, activation and
  initialisation change.

Both accept the learner's own functions and fall back to bplib's reference, with a visible note,
while those are not written yet. Executed headless (nbgrader autograde sets NBGRADER_EXECUTION),
they return at once without computing anything.
"""

__all__ = ["learning_rate_explorer", "depth_explorer"]


def learning_rate_explorer(*args, **kwargs):
    from bplib.widgets.learning_rate import learning_rate_explorer as explorer

    return explorer(*args, **kwargs)


def depth_explorer(*args, **kwargs):
    from bplib.widgets.depth import depth_explorer as explorer

    return explorer(*args, **kwargs)
