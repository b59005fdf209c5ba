"""What both explorers share: headless detection and falling back to reference functions."""

import importlib
import os


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


def figure_output(fig, description="figure", dpi=80):
    """``fig`` as one PNG ``display_data`` output, ready for ``Output.outputs``; closes the figure."""
    import base64
    import io

    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    plt.close(fig)
    return {"output_type": "display_data", "metadata": {},
            "data": {"image/png": base64.b64encode(buffer.getvalue()).decode("ascii"),
                     "text/plain": f"<{description}>"}}


def show_figure(out, fig, description="figure"):
    """Make the ``Output`` widget ``out`` show ``fig`` instead of what it showed before.

    Its ``outputs`` are set directly, with no capture context and no clear_output: figures cannot
    stack, and no Output-widget message traffic runs during the cell, which in Voila left about one
    page load in ten stuck on "Executing" (measured here; compare voila-dashboards/voila#1428).
    """
    out.outputs = (figure_output(fig, description),)
