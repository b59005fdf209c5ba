"""The instructor's workflow (issue 10), on temp copies of the course: every folder accounted
for, exchange artefacts, duplicated answer cells, failures contained, timestamps kept, odd
formats flagged, maths in the feedback offline, manual grades kept, one run at a time, and
nothing left after a killed run. The PostgreSQL gradebook is tested in test_postgres.py."""

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import nbformat
import pytest
from notebook_tools import copy_course, filled_in, find_cell

from autograder import gradebook, runs, sandbox
from autograder.grade import grade
from autograder.trusted import Timeouts

LESSON = "01-forward-pass"
TIMEOUTS = Timeouts(cell=5, exercise=10, total=90, notebook=40)

pytestmark = [pytest.mark.grading,
              pytest.mark.skipif(not sandbox.capabilities().isolated, reason="needs isolation")]


def make_course(root):
    return copy_course(root, config="c.Execute.timeout = 5")


def submit(course, student, nb=None, raw=None, extra=None):
    target = course / "autograder" / "submitted" / student / LESSON
    target.mkdir(parents=True)
    if raw is not None:
        (target / f"{LESSON}.ipynb").write_bytes(raw)
    else:
        nbformat.write(nb, str(target / f"{LESSON}.ipynb"))
    for name, text in (extra or {}).items():
        (target / name).write_text(text)
    return target


def with_duplicate_answer(course):
    """relu's answer cell copied (metadata and all): the first copy still the stub, the solution
    written in the copy further down, as students do."""
    nb = filled_in(LESSON, root=course)
    answer = find_cell(nb, "relu-answer")
    solved = nbformat.from_dict(json.loads(json.dumps(answer)))
    answer.source = "def relu(z):\n    # YOUR CODE HERE\n    raise NotImplementedError()"
    solved["id"] = "my-copy"
    nb.cells.insert(nb.cells.index(find_cell(nb, "relu")) + 1, solved)
    return nb


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    course = make_course(tmp_path_factory.mktemp("course"))
    folder = course / "autograder" / "submitted"
    submit(course, "alice", filled_in(LESSON, root=course))
    submit(course, ".hidden", filled_in(LESSON, root=course))
    (folder / "notes.txt").write_text("not a student")
    (folder / "nolesson" / "02-chain-rule").mkdir(parents=True)
    submit(course, "exchange", filled_in(LESSON, root=course),
           extra={"timestamp.txt": "2026-11-20 10:00:00.000000 UTC", "submission_secret.txt": "abc123"})
    submit(course, "duplicate", with_duplicate_answer(course))
    submit(course, "hangs", filled_in(LESSON, {"relu": "while True:\n    pass"}, root=course))
    submit(course, "crashes", filled_in(LESSON, {"relu": "import os\nos._exit(3)"}, root=course))
    submit(course, "empty", raw=b"", extra={"timestamp.txt": "2026-11-21 09:30:00.000000 UTC"})
    odd = filled_in(LESSON, root=course)
    odd.nbformat_minor = 99
    odd.metadata["kernelspec"] = {"name": "ir", "display_name": "R", "language": "R"}
    submit(course, "odd_format", raw=json.dumps(odd).encode())
    # names the gradebook cannot store: not UTF-8 (a zip from another system), too long
    bad = os.path.join(os.fsencode(folder), b"bad\xff\xfename", LESSON.encode())
    os.makedirs(bad)
    nbformat.write(filled_in(LESSON, root=course), os.fsdecode(os.path.join(bad, f"{LESSON}.ipynb".encode())))
    submit(course, "x" * 129, filled_in(LESSON, root=course))
    logs = []
    out = grade(LESSON, root=course, workers=2, timeouts=TIMEOUTS, log=logs.append)
    return {"course": course, "out": out, "log": "\n".join(map(str, logs))}


def flags(graded, student):
    return "\n".join(graded["out"]["students"][student]["flags"])


def test_every_folder_is_graded_or_named_with_a_reason(graded):
    students, skipped = graded["out"]["students"], graded["out"]["skipped"]
    assert set(students) == {"alice", "exchange", "duplicate", "hangs", "crashes", "empty", "odd_format"}
    not_utf8 = os.fsdecode(b"bad\xff\xfename")
    assert set(skipped) == {".hidden", "notes.txt", "nolesson", not_utf8, "x" * 129}
    assert "starts with '.'" in skipped[".hidden"] and "not a folder" in skipped["notes.txt"]
    assert "not valid UTF-8" in skipped[not_utf8] and "rename it" in skipped[not_utf8]
    assert "129 characters long" in skipped["x" * 129] and "at most 128" in skipped["x" * 129]
    json.dumps(graded["out"])  # --json can print it
    assert "no 01-forward-pass folder" in skipped["nolesson"]
    assert "skipped .hidden" in graded["log"]


def test_exchange_artefacts_raise_no_alarm_and_the_timestamp_is_kept(graded):
    assert flags(graded, "exchange") == ""
    url = gradebook.db_url(graded["course"])
    from nbgrader.api import Gradebook

    with Gradebook(url) as gb:
        assert str(gb.find_submission(LESSON, "exchange").timestamp).startswith("2026-11-20 10:00")
        assert str(gb.find_submission(LESSON, "empty").timestamp).startswith("2026-11-21 09:30")
    assert graded["out"]["students"]["empty"]["status"] == "failed"


def test_a_duplicated_answer_cell_is_graded_as_the_notebook_computes(graded):
    result = graded["out"]["students"]["duplicate"]
    assert result["score"] == result["max_score"], result["flags"]
    assert "answer cell 'relu-answer' appears 2 times" in flags(graded, "duplicate")


@pytest.mark.parametrize("student", ["hangs", "crashes"])
def test_a_hang_or_crash_costs_only_the_exercises_that_use_its_names(graded, student):
    result = graded["out"]["students"][student]
    lost = {name for name, cell in result["cells"].items() if cell["score"] < cell["max_score"]}
    assert lost == {"relu", "mlp_forward"}, (lost, result["flags"])  # mlp_forward calls relu
    text = flags(graded, student)
    assert "tampered" not in text
    assert ("did not finish in time" if student == "hangs" else "crashed") in text


def test_odd_notebook_formats_and_kernels_are_flagged(graded):
    text = flags(graded, "odd_format")
    assert "nbformat 4.99" in text and "'R' kernel" in text
    assert graded["out"]["students"]["odd_format"]["status"] == "graded"


def test_feedback_renders_maths_offline(graded):
    page = (graded["course"] / "autograder" / "feedback" / "alice" / LESSON / f"{LESSON}.html").read_text()
    assert "<math" in page and "BPCMATH" not in page
    assert "$$" not in page.split("<body", 1)[1]
    # nothing is loaded from the network (nbconvert's template brings MathJax and require.js from cdnjs)
    assert "cdnjs" not in page
    assert not re.search(r"<script[^>]*\ssrc=[\"']?(?:https?:)?//", page, re.I)


def test_manual_grades_are_kept_by_a_regrade_and_cleared_on_request(graded):
    from nbgrader.api import Gradebook

    course, url = graded["course"], gradebook.db_url(graded["course"])
    with Gradebook(url) as gb:  # what the formgrader does
        notebook = gb.find_submission(LESSON, "alice").notebooks[0]
        grade_cell = next(g for g in notebook.grades if g.name == "relu")
        grade_cell.manual_score = 0.5
        next(c for c in notebook.comments if c.name).manual_comment = "see me"
        gb.db.commit()
    logs = []
    out = grade(LESSON, root=course, workers=1, timeouts=TIMEOUTS, log=logs.append)
    assert out["manual_grades_kept"] == 2 and "kept 2 manual grade(s)" in "\n".join(logs)
    with Gradebook(url) as gb:
        grades = gb.find_submission(LESSON, "alice").notebooks[0].grades
        grade_cell = next(g for g in grades if g.name == "relu")
        assert grade_cell.manual_score == 0.5 and grade_cell.auto_score == 1.0
    out = grade(LESSON, root=course, workers=1, timeouts=TIMEOUTS, log=lambda *a: None, reset_manual=True)
    assert out["manual_grades_kept"] == 0
    with Gradebook(url) as gb:
        assert all(g.manual_score is None for g in gb.find_submission(LESSON, "alice").notebooks[0].grades)


def test_a_second_run_on_the_same_course_waits_for_the_first(graded):
    course, logs = graded["course"], []
    with runs.course_lock(course, log=lambda *a: None):
        thread = threading.Thread(target=lambda: logs.append(grade(
            LESSON, root=course, workers=1, timeouts=TIMEOUTS, log=logs.append)))
        thread.start()
        time.sleep(3)
        assert any("waiting" in str(line) for line in logs) and thread.is_alive()
    thread.join(timeout=600)
    assert isinstance(logs[-1], dict) and logs[-1]["students"]


# --- a killed run leaves nothing behind -------------------------------------------------------------

KILLED_RUN = """
import sys
from autograder.grade import grade
from autograder.trusted import Timeouts
grade(sys.argv[1], root=sys.argv[2], workers=2, timeouts=Timeouts(cell=30, exercise=30, total=120))
"""


def test_sigkill_of_the_grader_leaves_no_process_and_the_next_run_cleans_up(tmp_path):
    import psutil

    course = make_course(tmp_path / "course")
    for i in range(4):
        submit(course, f"slow{i}", filled_in(LESSON, {"sigmoid": "import time\ntime.sleep(4)\n"
                                                        "def sigmoid(z):\n    return 1 / (1 + np.exp(-z))"},
                                             root=course))
    process = subprocess.Popen([sys.executable, "-c", KILLED_RUN, LESSON, str(course)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    runner = psutil.Process(process.pid)
    records = course / "autograder" / ".staging"
    deadline = time.monotonic() + 120
    def sandboxed(p):  # the trusted child or nbgrader's kernel, running student code
        try:
            command = " ".join(p.cmdline())
        except psutil.Error:  # gone, or a zombie
            return False
        return "bpcourse/child.py" in command or "ipykernel_launcher" in command
    while time.monotonic() < deadline:  # until both workers' sandboxes run student code
        if sum(sandboxed(p) for p in runner.children(recursive=True)) >= 2:
            break
        time.sleep(0.1)
    tree = [p for p in runner.children(recursive=True) if p.is_running()]
    names = set()
    for p in tree:
        try:
            names.add(p.name())
        except psutil.Error:
            pass
    assert len(tree) > 3 and list(records.glob("*.json")), "the run did not start grading"
    process.send_signal(signal.SIGKILL)
    process.wait()
    gone, alive = psutil.wait_procs(tree, timeout=10)
    left = []
    for p in alive:
        try:
            if p.status() != psutil.STATUS_ZOMBIE:
                left.append((p.pid, p.name()))
        except psutil.Error:
            pass
    print(f"\nSIGKILL of the grader: {len(tree)} processes below it before the kill "
          f"({', '.join(sorted(names))}); alive 10 s after: {left}")
    assert left == [], f"{len(left)} of {len(tree)} processes outlived the grader: {left}"
    stage = json.loads(next(records.glob("*.json")).read_text())["folder"]
    assert Path(stage).is_dir()  # what the killed run left: removed at the next start
    logs = []
    with runs.course_lock(course, log=logs.append):
        assert runs.remove_stale(course, log=logs.append) == 1
    assert not Path(stage).exists() and not list(records.glob("*.json"))
