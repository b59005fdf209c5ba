"""Plain ``nbgrader autograde`` refuses to run on this course (``bpcourse grade`` grades it).

nbgrader's autograde runs the tests inside each student's own kernel, where a student can defeat
them, and with ``--force`` it overwrites the trusted scores and annotated notebooks that
``bpcourse grade`` recorded. The course's nbgrader configuration makes
:class:`GuardedNotebookExporter` the Autograde converter's exporter; nbgrader creates it when the
converter starts, before it touches any file or the gradebook, so the command stops there with the
message below (from the command line, exit status 1, and from the formgrader's Autograde button
alike). ``bpcourse grade`` runs nbgrader's autograde itself with the plain exporter. For notebooks
you trust (e.g. the solutions), set ``BPCOURSE_ALLOW_PLAIN_AUTOGRADE=1``.
"""

from nbconvert.exporters import NotebookExporter
from nbgrader.converters import NbGraderException

MESSAGE = ("this course is graded with `bpcourse grade LESSON` (trusted checks outside the "
           "students' kernels; it keeps nbgrader's autograded notebooks and feedback). Plain "
           "`nbgrader autograde` would run the tests inside each student's kernel and overwrite "
           "the trusted scores, so it is refused here: nothing was changed. For notebooks you "
           "trust, set BPCOURSE_ALLOW_PLAIN_AUTOGRADE=1.")


class GuardedNotebookExporter(NotebookExporter):
    """The exporter nbgrader's Autograde converter is configured with: refuses to be created."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.log.error(MESSAGE)
        raise NbGraderException(MESSAGE)
