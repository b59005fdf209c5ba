"""The course's grading side: nbgrader configuration, the ``bpcourse`` command and trusted grading.

Student code is never trusted here: see :mod:`autograder.sandbox` and :mod:`autograder.trusted`.
"""

import os
import sys

# nbgrader runs helper programs by name (its gradebook calls `alembic`): make the ones installed
# beside this Python findable even when the virtual environment is not activated
# (`.venv/bin/bpcourse ...`, as the README runs it).
_BIN = os.path.dirname(sys.executable)
if _BIN not in os.environ.get("PATH", "").split(os.pathsep):
    os.environ["PATH"] = _BIN + os.pathsep + os.environ.get("PATH", "")
