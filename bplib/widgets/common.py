"""What both explorers share: headless detection and falling back to reference functions."""

import os


def headless():
    """True when no one can interact: nbgrader's autograde (it sets NBGRADER_EXECUTION) or
    BPCOURSE_HEADLESS=1 (e.g. batch execution). Explorers then return at once."""
    return bool(os.environ.get("NBGRADER_EXECUTION")) or os.environ.get("BPCOURSE_HEADLESS") == "1"


def headless_placeholder(name):
    """What an explorer returns when headless: a short note instead of widgets."""
    from IPython.display import Markdown

    return Markdown(f"*{name}: interactive only (this notebook is being run without a front end).*")


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
