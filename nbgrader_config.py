# nbgrader reads nbgrader_config.py from the current directory only: this one loads the course's
# configuration, so `nbgrader ...` and the formgrader of a `jupyter lab` started here both work.
import os

c = get_config()  # noqa: F821
load_subconfig(os.path.join(os.path.dirname(os.path.abspath(__file__)),  # noqa: F821
                            "autograder", "nbgrader_config.py"))
