"""A real PostgreSQL gradebook (issue 10), set up exactly as docs/instructor.md describes: a
server on 127.0.0.1 with password authentication, the plain ``postgresql://user:pw@host:port/db``
URL in ``BPCOURSE_DB_URL``, the driver from the course's ``[postgres]`` extra. The server is a
throwaway one (tests/postgres.py); CI installs Debian's ``postgresql`` package for it, and there
a missing server is a failure (``BPCOURSE_REQUIRE_POSTGRES=1``), elsewhere a skip."""

import csv
import os
import subprocess
import sys

import pytest
from notebook_tools import copy_course, filled_in
from postgres import Server, binaries

from autograder import sandbox
from autograder.course import CourseError
from autograder.export import export
from autograder.grade import grade
from autograder.trusted import Timeouts

LESSON = "01-forward-pass"
TIMEOUTS = Timeouts(cell=5, exercise=10, total=90, notebook=40)
WRONG_RELU = {"relu": "def relu(z):\n    return np.abs(z)"}

if not binaries() and os.environ.get("BPCOURSE_REQUIRE_POSTGRES") != "1":
    pytest.skip("PostgreSQL's initdb is not installed (apt-get install postgresql)", allow_module_level=True)
pytestmark = [pytest.mark.grading, pytest.mark.postgres,
              pytest.mark.skipif(not sandbox.capabilities().isolated, reason="needs isolation")]


@pytest.fixture(scope="module")
def server():
    started = Server().start()
    yield started
    started.stop()


@pytest.fixture(scope="module")
def course(tmp_path_factory, server):
    root = copy_course(tmp_path_factory.mktemp("pgcourse"), config="c.Execute.timeout = 5")
    for student, replace in (("ada", None), ("grace", WRONG_RELU), ("linus", None)):
        target = root / "autograder" / "submitted" / student / LESSON
        target.mkdir(parents=True)
        import nbformat

        nbformat.write(filled_in(LESSON, replace, root=root), str(target / f"{LESSON}.ipynb"))
    return root


@pytest.fixture
def db_url(server, monkeypatch, request):
    url = server.create_database(request.node.name[:40].lower().replace("[", "_").replace("]", ""))
    monkeypatch.setenv("BPCOURSE_DB_URL", url)
    return url


def run_grade(course, **options):
    return grade(LESSON, root=course, workers=2, timeouts=TIMEOUTS, log=lambda *a: None, **options)


def test_grade_regrade_keep_manual_grades_and_export(course, db_url, tmp_path):
    from nbgrader.api import Gradebook

    first = run_grade(course)
    scores = {s: r["score"] for s, r in first["students"].items()}
    assert scores["ada"] == scores["linus"] == first["students"]["ada"]["max_score"]
    lost = {n for n, c in first["students"]["grace"]["cells"].items() if c["score"] < c["max_score"]}
    assert lost == {"relu", "mlp_forward"}  # mlp_forward calls the wrong relu
    with Gradebook(db_url) as gb:  # an instructor's manual grade in the formgrader
        notebook = gb.find_submission(LESSON, "grace").notebooks[0]
        next(g for g in notebook.grades if g.name == "relu").manual_score = 0.5
        gb.db.commit()
    second = run_grade(course)
    assert second["manual_grades_kept"] == 1
    assert second["students"]["grace"]["score"] == scores["grace"]  # the trusted auto score
    with Gradebook(db_url) as gb:
        assert gb.find_submission(LESSON, "grace").score == scores["grace"] + 0.5
        assert {s.student_id for s in gb.assignment_submissions(LESSON)} == {"ada", "grace", "linus"}
    exported = export(db_url, tmp_path / "grades.csv")
    rows = {r["student_id"]: float(r["score"]) for r in csv.DictReader(exported.open())}
    assert rows == {"ada": scores["ada"], "grace": scores["grace"] + 0.5, "linus": scores["linus"]}


GRADE_IN_A_PROCESS = """
import json, sys
from autograder.grade import grade
from autograder.trusted import Timeouts
out = grade(sys.argv[1], root=sys.argv[2], workers=1, log=lambda *a: print(*a, file=sys.stderr),
            timeouts=Timeouts(cell=5, exercise=10, total=90, notebook=40))
print(json.dumps({s: r["score"] for s, r in out["students"].items()}))
"""


def test_two_graders_at_once_are_serialised_and_agree(course, db_url):
    from nbgrader.api import Gradebook

    env = {**os.environ, "BPCOURSE_DB_URL": db_url}
    runs = [subprocess.Popen([sys.executable, "-c", GRADE_IN_A_PROCESS, LESSON, str(course)], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [run.communicate(timeout=900) for run in runs]
    assert all(run.returncode == 0 for run in runs), [o[1][-2000:] for o in outputs]
    assert outputs[0][0] == outputs[1][0]
    assert any("waiting" in err for _, err in outputs)  # the second one said it waited
    with Gradebook(db_url) as gb:
        assert len(gb.assignment_submissions(LESSON)) == 3 and len(gb.students) == 3


def test_a_missing_driver_or_server_is_a_clear_error(course, server, monkeypatch):
    url = server.url("nothere")
    monkeypatch.setenv("BPCOURSE_DB_URL", url.replace("postgresql://", "postgresql+pg8000://"))
    with pytest.raises(CourseError, match=r"driver that is not installed \(pg8000\).*\[postgres\]"):
        run_grade(course)
    monkeypatch.setenv("BPCOURSE_DB_URL", server.url("nothere").replace(server.password, "wrong"))
    with pytest.raises(CourseError, match="cannot connect to the gradebook postgresql://bpcourse:\\*\\*\\*@"):
        run_grade(course)
