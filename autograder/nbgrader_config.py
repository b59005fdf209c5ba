"""nbgrader configuration of the course. Paths come from this file's location, so it works from
any directory; the repository root's nbgrader_config.py loads it (nbgrader only reads the current
directory's file), and elsewhere pass --NbGrader.config_file=<repo>/autograder/nbgrader_config.

The gradebook is SQLite beside this file by default; set BPCOURSE_DB_URL to any SQLAlchemy URL
(e.g. postgresql://grader@dbhost/backprop) for a large course.
"""

import os

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)

c = get_config()  # noqa: F821 -- provided by traitlets when nbgrader loads this file

# One BLAS thread in the kernels nbgrader starts (they inherit this process's environment): the
# course's networks are small, and on a busy 2-core machine OpenBLAS's threads made training cells
# 5-10x slower, close to the per-cell timeout. `bpcourse grade` sets the same in its sandbox.
for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

c.CourseDirectory.root = REPO
c.CourseDirectory.course_id = os.environ.get("BPCOURSE_COURSE_ID", "backprop")
c.CourseDirectory.source_directory = "solutions"        # instructor notebooks (nbgrader source)
c.CourseDirectory.release_directory = "lessons"         # generated student notebooks
c.CourseDirectory.submitted_directory = "autograder/submitted"
c.CourseDirectory.autograded_directory = "autograder/autograded"
c.CourseDirectory.feedback_directory = "autograder/feedback"
c.CourseDirectory.db_url = os.environ.get(
    "BPCOURSE_DB_URL", "sqlite:///" + os.path.join(HERE, "gradebook.db") + "?timeout=30")

c.Execute.timeout = 30                       # seconds per cell
c.OverwriteCells.add_missing_cells = True    # a deleted test cell is put back before grading
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}

# Plain `nbgrader autograde` (command line or formgrader) refuses to run: `bpcourse grade` grades
# this course and its trusted scores must not be overwritten (autograder/guard.py).
if os.environ.get("BPCOURSE_ALLOW_PLAIN_AUTOGRADE") != "1":
    c.Autograde.exporter_class = "autograder.guard.GuardedNotebookExporter"
# `nbgrader export` and the formgrader write CSV that is safe in a spreadsheet (autograder/export.py).
c.ExportApp.plugin_class = "autograder.export.SafeCsvExportPlugin"
c.ExchangeFactory.collect = "autograder.exchange.SafeCollect"  # links never followed
