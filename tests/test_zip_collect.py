"""Submissions unpacked by nbgrader's ``zip_collect`` (e.g. from an LMS download) are graded with
the same care: a zip member that was a symbolic link arrives as a regular file holding the link's
target (Python's zipfile never makes links), so nothing leads outside the student's folder, and the
grader's own checks (autograder/files.py) apply to whatever zip_collect wrote."""

import os
import stat
import subprocess
import sys
import zipfile

import nbformat
import pytest
from notebook_tools import copy_course, filled_in

from autograder import sandbox
from autograder.grade import grade
from autograder.trusted import Timeouts

LESSON = "01-forward-pass"
pytestmark = [pytest.mark.grading,
              pytest.mark.skipif(not sandbox.capabilities().isolated, reason="needs isolation")]


def add_symlink(archive, name, target):
    """A zip member that unzip(1) would restore as a symbolic link to ``target``."""
    info = zipfile.ZipInfo(name)
    info.create_system = 3  # Unix
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    archive.writestr(info, target)


def test_zip_collect_then_grade(tmp_path):
    course = copy_course(tmp_path / "course", config=(
        "c.Execute.timeout = 10\n"
        "c.ZipCollectApp.collector_plugin = 'nbgrader.plugins.FileNameCollectorPlugin'\n"
        "c.FileNameCollectorPlugin.named_regexp = r'.*/(?P<student_id>[a-z]+)_(?P<file_id>[^/]+)'"))
    archive_folder = course / "downloaded" / LESSON / "archive"
    archive_folder.mkdir(parents=True)
    secret = course / "solutions" / LESSON / f"{LESSON}.ipynb"
    with zipfile.ZipFile(archive_folder / "submissions.zip", "w") as archive:
        archive.writestr(f"honest_{LESSON}.ipynb", nbformat.writes(filled_in(LESSON, root=course)))
        add_symlink(archive, f"mallory_{LESSON}.ipynb", str(secret))
    nbgrader = os.path.join(os.path.dirname(sys.executable), "nbgrader")
    done = subprocess.run([nbgrader, "zip_collect", LESSON, "--force"], cwd=course, capture_output=True,
                          text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    mallory = course / "autograder" / "submitted" / "mallory" / LESSON / f"{LESSON}.ipynb"
    assert mallory.is_file() and not mallory.is_symlink()
    assert mallory.read_text() == str(secret)  # the link's target as text, not the solutions

    out = grade(LESSON, root=course, workers=2, log=lambda *a: None,
                timeouts=Timeouts(cell=10, exercise=20, total=120, notebook=60))
    honest, bad = out["students"]["honest"], out["students"]["mallory"]
    assert honest["score"] == honest["max_score"]
    assert bad["score"] == 0 and bad["status"] == "failed" and "not valid notebook JSON" in bad["flags"][0]
