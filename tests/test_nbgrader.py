"""Plain nbgrader on this layout: the API round trip for every lesson, and the standard commands
(generate_assignment, release/fetch/submit/collect through the exchange, autograde,
generate_feedback, export) from the repository root. Always on temp copies of the course."""

import csv
import getpass
import os
import subprocess
import sys

import nbformat
import pytest
from notebook_tools import copy_course, filled_in

from autograder import notebooks
from autograder.course import REPO, lessons, nbgrader_config

pytestmark = pytest.mark.grading


@pytest.mark.notebooks
@pytest.mark.parametrize("lesson", lessons())
def test_nbgrader_round_trip_full_marks_for_the_solution_zero_for_the_stub(lesson, tmp_path, monkeypatch):
    from nbgrader.api import Gradebook
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    root = copy_course(tmp_path, [lesson])
    monkeypatch.setenv("BPCOURSE_ALLOW_PLAIN_AUTOGRADE", "1")  # trusted notebooks (autograder/guard.py)
    config = nbgrader_config(root, **{"Exchange.root": str(tmp_path / "exchange")})
    api = NbGraderAPI(CourseDirectory(config=config), config=config)
    assert api.generate_assignment(lesson)["success"]
    for student, nb in (("solution", filled_in(lesson, root=root)),
                        ("untouched", notebooks.read(root / "lessons" / lesson / f"{lesson}.ipynb"))):
        folder = root / "autograder" / "submitted" / student / lesson
        folder.mkdir(parents=True)
        nbformat.write(nb, str(folder / f"{lesson}.ipynb"))
        result = api.autograde(lesson, student)
        assert result["success"], result["log"][-3000:]
    source = notebooks.read(root / "solutions" / lesson / f"{lesson}.ipynb")
    points = sum(notebooks.graded_cells(source).values())
    with Gradebook(config.CourseDirectory.db_url) as gb:
        assert gb.find_submission(lesson, "solution").score == points
        assert gb.find_submission(lesson, "untouched").score == 0


def nbgrader(root, *args, env=None):
    command = [os.path.join(os.path.dirname(sys.executable), "nbgrader"), *args]
    done = subprocess.run(command, cwd=root, capture_output=True, text=True, env=env)
    assert done.returncode == 0, f"nbgrader {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return done


def test_standard_nbgrader_commands_work_from_the_repository_root(tmp_path):
    lesson = "01-forward-pass"
    root = copy_course(tmp_path / "course", [lesson])
    exchange = tmp_path / "exchange"
    exchange.mkdir()
    exchange.chmod(0o1777)
    ex = f"--Exchange.root={exchange}"
    env = dict(os.environ, PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"])
    nbgrader(root, "generate_assignment", lesson, "--force", env=env)
    assert (root / "autograder" / "gradebook.db").is_file()
    nbgrader(root, "release_assignment", lesson, ex, "--force", env=env)

    student_home = tmp_path / "student"
    student_home.mkdir()
    (student_home / "nbgrader_config.py").write_text(
        f"c = get_config()\nc.CourseDirectory.course_id = 'backprop'\nc.Exchange.root = {str(exchange)!r}\n")
    nbgrader(student_home, "fetch_assignment", lesson, env=env)
    fetched = student_home / lesson / f"{lesson}.ipynb"
    assert fetched.is_file()
    nbformat.write(filled_in(lesson, root=root), str(fetched))  # the student does the work
    nbgrader(student_home, "submit", lesson, env=env)

    nbgrader(root, "collect", lesson, ex, env=env)
    me = getpass.getuser()
    assert (root / "autograder" / "submitted" / me / lesson / f"{lesson}.ipynb").is_file()
    refused = subprocess.run([os.path.join(os.path.dirname(sys.executable), "nbgrader"), "autograde",
                              lesson], cwd=root, capture_output=True, text=True, env=env)
    assert refused.returncode == 1 and "bpcourse grade LESSON" in refused.stderr
    assert not (root / "autograder" / "autograded").exists()  # refused before touching anything
    nbgrader(root, "autograde", lesson, env={**env, "BPCOURSE_ALLOW_PLAIN_AUTOGRADE": "1"})
    nbgrader(root, "generate_feedback", lesson, env=env)
    assert (root / "autograder" / "feedback" / me / lesson / f"{lesson}.html").is_file()
    nbgrader(root, "export", "--to", str(tmp_path / "grades.csv"), env=env)
    rows = list(csv.DictReader((tmp_path / "grades.csv").open()))
    assert [(r["student_id"], float(r["score"]), float(r["max_score"])) for r in rows] == [(me, 11.0, 11.0)]


def test_bpcourse_release_keeps_the_committed_lesson_when_nbgrader_fails(tmp_path, monkeypatch):
    from autograder import release as release_module
    from autograder.course import CourseError

    lesson = "01-forward-pass"
    root = copy_course(tmp_path, [lesson])
    before = (root / "lessons" / lesson / f"{lesson}.ipynb").read_bytes()

    class Broken:
        def __init__(self, *args, **kwargs):
            pass

        def generate_assignment(self, lesson):
            return {"success": False, "log": "", "error": "simulated nbgrader failure"}
    monkeypatch.setattr("nbgrader.apps.NbGraderAPI", Broken)
    with pytest.raises(CourseError, match="lessons/01-forward-pass is unchanged"):
        release_module.release([lesson], root=root, log=lambda *a: None)
    assert (root / "lessons" / lesson / f"{lesson}.ipynb").read_bytes() == before
    assert sorted(p.name for p in (root / "lessons").iterdir()) == [lesson]  # no temp dirs left


def test_release_cleans_outputs_from_the_source_but_keeps_nbgrader_metadata(tmp_path):
    from autograder.release import release

    lesson = "01-forward-pass"
    root = copy_course(tmp_path, [lesson])
    source = root / "solutions" / lesson / f"{lesson}.ipynb"
    nb = notebooks.read(source)
    code_cell = next(c for c in nb.cells if c.cell_type == "code")
    code_cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="hello")]
    code_cell.execution_count = 7
    nbformat.write(nb, str(source))
    release([lesson], root=root, log=lambda *a: None)
    cleaned = notebooks.read(source)
    assert notebooks.is_clean(cleaned)
    assert all(notebooks.nbgrader_meta(c) for c in cleaned.cells)
    assert notebooks.notebook_text(notebooks.read(root / "lessons" / lesson / f"{lesson}.ipynb")) == \
        notebooks.notebook_text(notebooks.read(REPO / "lessons" / lesson / f"{lesson}.ipynb"))


def test_bpcourse_commands_have_help_and_clear_errors(tmp_path):
    exe = [os.path.join(os.path.dirname(sys.executable), "bpcourse")]
    for command in ("lab", "release", "check", "grade", "export"):
        done = subprocess.run(exe + [command, "--help"], capture_output=True, text=True)
        assert done.returncode == 0 and "usage: bpcourse" in done.stdout, command
    for args, message in ((["release", "99-nope"], "no lesson '99-nope'"),
                          (["check", str(tmp_path / "missing.ipynb")], "no such notebook"),
                          (["grade", "01-forward-pass", "--submissions", str(tmp_path)],
                           "no submissions of 01-forward-pass")):
        done = subprocess.run(exe + args, capture_output=True, text=True, cwd=REPO)
        assert done.returncode == 2, done.stderr
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and message in lines[0], done.stderr
