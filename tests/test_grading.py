"""End to end on a temp copy of the course: submissions for every threat class, graded twice.

Required outcome (issue 5): a wrong answer never gets the points; a correct answer is never robbed
of them; one submission never affects another's grade or stops the batch; nothing the student
started is left running; the gradebook and every other submission are intact; every anomaly is
listed in the flags.
"""

import csv
import hashlib
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import nbformat
import pytest
from notebook_tools import after_setup, code, copy_course, filled_in, find_cell

from autograder import gradebook, sandbox
from autograder.export import export
from autograder.grade import grade
from autograder.trusted import Timeouts

LESSON = "01-forward-pass"
POINTS = {"sigmoid": 2, "relu": 1, "dense_forward": 1, "mlp_forward": 2, "softmax": 1, "cross_entropy": 1,
          "cross_entropy_from_scores": 3}
FULL = sum(POINTS.values())

pytestmark = [pytest.mark.grading,
              pytest.mark.skipif(not sandbox.capabilities().isolated, reason="needs isolation")]

WRONG = {
    "sigmoid": "def sigmoid(z):\n    return np.zeros_like(z)",
    "relu": "def relu(z):\n    return np.abs(z)",
    "dense_forward": "def dense_forward(x, W, b):\n    return x @ W",
    "mlp_forward": "def mlp_forward(x, params):\n    return np.zeros((len(x), params[-1][0].shape[1]))",
    "softmax": "def softmax(s):\n    e = np.exp(s)\n    return e / e.sum(axis=1, keepdims=True)",
    "cross_entropy": "def cross_entropy(probs, labels):\n    return 0.0",
    "cross_entropy_from_scores": "def cross_entropy_from_scores(scores, labels):\n    return 0.0",
}


class Recorder(BaseHTTPRequestHandler):
    hits = []

    def do_GET(self):
        Recorder.hits.append(self.path)
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server():
    httpd = HTTPServer(("127.0.0.1", 0), Recorder)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield httpd.server_address[1]
    httpd.shutdown()


def build_submissions(folder, port, course):
    """{student: (expected score, expected status, [flag substrings])}, writing their files."""
    expected = {}

    def submit(student, nb=None, score=FULL, status="graded", flags=(), name=f"{LESSON}.ipynb",
               raw=None, extra=None):
        target = folder / student / LESSON
        target.mkdir(parents=True)
        if raw is not None:
            (target / name).write_bytes(raw)
        elif nb is not None:
            nbformat.write(nb, str(target / name))
        for file_name, text in (extra or {}).items():
            (target / file_name).write_text(text)
        expected[student] = (score, status, list(flags))

    marker = course / "daemon-was-here.txt"
    gradebook_path = course / "autograder" / "gradebook.db"
    submit("correct", filled_in(LESSON))
    submit("blank", filled_in(LESSON, replace={n: "" for n in POINTS}), score=0)
    submit("wrong", filled_in(LESSON, {"dense_forward": WRONG["dense_forward"],  # and so mlp_forward,
                                       "softmax": WRONG["softmax"]}), score=FULL - 4)  # which uses it
    # patching what the tests rely on; the notebook's own tests then "pass"
    submit("patches_checks", after_setup(filled_in(LESSON, WRONG), code(
        "import numpy, bplib.grading as g\n"
        "numpy.allclose = lambda *a, **k: True\n"
        "numpy.testing.assert_allclose = lambda *a, **k: None\n"
        "g.check_exercise = lambda *a, **k: print('\\u2714 passed')\n"
        "g.judge = g.compare_values = lambda *a, **k: None\n"
        "check = lambda *a, **k: print('\\u2714 all checks passed.')\n"
        "import numpy.random\nnumpy.random.default_rng = lambda *a, **k: None")),
        score=0, flags=["the notebook's own test passed but the trusted check failed"])
    # objects that fake equality
    fake = ("class Fake(np.ndarray):\n"
            "    def __eq__(self, other): return np.ones(np.shape(other), bool)\n"
            "    def __array_function__(self, *a, **k): return True\n"
            "    def __array_ufunc__(self, *a, **k): return np.zeros(1)\n"
            "    def __float__(self): return 0.0\n")
    submit("fakes_equality", after_setup(filled_in(LESSON, {
        "sigmoid": "def sigmoid(z):\n    return np.zeros(np.shape(z)).view(Fake)",
        "relu": "def relu(z):\n    return np.zeros(np.shape(z)).view(Fake)"}), code(fake)),
        score=FULL - 3 - 2)  # mlp_forward uses the fake relu
    # an IPython input transformer wraps every later cell in try/except: failures vanish
    submit("swallows_failures", after_setup(filled_in(LESSON, WRONG), code(
        "ip = get_ipython()\n"
        "def wrap(lines):\n"
        "    return ['try:\\n'] + ['    ' + l for l in lines] + ['\\nexcept BaseException:\\n    pass\\n']\n"
        "ip.input_transformers_cleanup.append(wrap)\n"
        "import sys\nsys.excepthook = lambda *a: None")), score=0, flags=["tampered with"])
    # behaves differently when it detects grading: hard-codes the visible answers
    submit("detects_grading", filled_in(LESSON, {"sigmoid": (
        "import os\n"
        "def sigmoid(z):\n"
        "    if os.environ.get('NBGRADER_EXECUTION') or 'autograded' in os.getcwd() or z.size != 4:\n"
        "        return np.array([0.5, 0.7310585786300049, 0.2689414213699951, 0.9525741268224334])\n"
        "    return 1 / (1 + np.exp(-z))")}), score=FULL - 2)
    # files shipped beside the notebook
    submit("ships_files", filled_in(LESSON), flags=["files beside the notebook were ignored"],
           extra={"numpy.py": "raise SystemExit('fake numpy')", "sitecustomize.py": "import os",
                  "evil.pth": "import os; os.system('touch /tmp/pwned')"})
    # edits, deletes, retypes and renames test cells and changes points
    nb = filled_in(LESSON, WRONG)
    find_cell(nb, "sigmoid").source = "pass"
    find_cell(nb, "relu").metadata["nbgrader"]["points"] = 100
    find_cell(nb, "softmax").cell_type = "markdown"
    nb.cells.remove(find_cell(nb, "cross_entropy"))
    find_cell(nb, "mlp_forward").metadata["nbgrader"]["grade_id"] = "mine"
    submit("edits_tests", nb, score=0, flags=["test cell 'sigmoid' was edited", "points changed",
                                             "test cell 'cross_entropy' was deleted"])
    # corrupted nbgrader metadata (plain nbgrader aborts the whole batch on this)
    nb = filled_in(LESSON)
    for cell in nb.cells:
        if "nbgrader" in cell.metadata:
            cell.metadata["nbgrader"]["schema_version"] = 99
    submit("bad_metadata", nb, flags=["schema_version 99"])
    # forged outputs
    nb = filled_in(LESSON, WRONG)
    for name in POINTS:
        find_cell(nb, name).outputs = [nbformat.v4.new_output(
            "stream", name="stdout", text=f"\u2714 {name}: all 7 checks passed.\n")]
    submit("forges_outputs", nb, score=0, flags=["shows test 'sigmoid' passing"])
    # correct answers that change their inputs in place
    submit("in_place", filled_in(LESSON, {
        "relu": "def relu(z):\n    z[z < 0] = 0\n    return z",
        "softmax": "def softmax(s):\n    s -= s.max(axis=1, keepdims=True)\n    np.exp(s, out=s)\n"
                   "    s /= s.sum(axis=1, keepdims=True)\n    return s",
        "dense_forward": "def dense_forward(x, W, b):\n    x[...] = x @ np.eye(len(W)) if False else x\n"
                         "    return x @ W + b"}))
    # kills the process: exit, segfault
    submit("kills_process", filled_in(LESSON, {
        "relu": "import os\ndef relu(z):\n    os._exit(0)",
        "sigmoid": "import ctypes\ndef sigmoid(z):\n    return ctypes.string_at(0)"}),
        score=FULL - 1 - 2 - 2, flags=["exercise relu"])
    # endless loops: one ignoring SIGINT inside an answer, one in a cell of the student's own
    submit("hangs", after_setup(filled_in(LESSON, {
        "softmax": "import signal\ndef softmax(s):\n    signal.signal(signal.SIGINT, signal.SIG_IGN)\n"
                   "    while True:\n        pass"}), code("while True:\n    pass")),
        score=FULL - 1, flags=["did not finish in time"])
    # memory bomb
    submit("memory_bomb", filled_in(LESSON, {"cross_entropy": (
        "def cross_entropy(probs, labels):\n    hog = bytearray(64 * 1024 ** 3)\n    return 0.0")}),
        score=FULL - 1)
    # huge outputs, by bytes and by lines
    submit("floods_output", after_setup(filled_in(LESSON), code(
        "print('x' * 50_000_000)\nfor i in range(200_000):\n    print(i)")))
    # fills the disk
    submit("fills_disk", after_setup(filled_in(LESSON), code(
        "import os\ntry:\n    for i in range(100_000):\n        open(f'fill{i}', 'wb').write(b'x' * 2**20)\n"
        "except OSError:\n    pass")))
    # a background process that outlives the cell and writes files and the gradebook later
    submit("leaves_daemon", after_setup(filled_in(LESSON), code(
        "import os, time\n"
        "if os.fork() == 0:\n"
        "    os.setsid()\n"
        "    if os.fork() == 0:\n"
        "        time.sleep(4)\n"
        f"        for p in ({str(marker)!r}, {str(gradebook_path)!r}):\n"
        "            try:\n                open(p, 'a').write('owned')\n            except OSError:\n"
        "                pass\n"
        "        os._exit(0)\n"
        "    os._exit(0)")))
    # reads solutions/, the gradebook, other students' work
    submit("snoops", after_setup(filled_in(LESSON, {n: "" for n in POINTS}), code(
        f"exec(open({str(course / 'solutions' / LESSON / (LESSON + '.ipynb'))!r}).read())"),
        code(f"print(open({str(gradebook_path)!r}, 'rb').read(100))"),
        code(f"print(open({str(folder / 'correct' / LESSON / (LESSON + '.ipynb'))!r}).read())")),
        score=0, flags=["No such file or directory"])
    # network
    submit("uses_network", after_setup(filled_in(LESSON), code(
        f"import urllib.request\nurllib.request.urlopen('http://127.0.0.1:{port}/leak', timeout=3)")),
        flags=["raised"])
    # tries to kill the grader
    submit("kills_grader", after_setup(filled_in(LESSON), code(
        "import os, signal\nfor pid in (os.getppid(), -1, 1):\n    try:\n"
        "        os.kill(pid, signal.SIGKILL)\n    except OSError:\n        pass")))
    # malformed files and names
    submit("empty_file", raw=b"", score=0, status="failed", flags=["is empty"])
    submit("truncated", raw=nbformat.writes(filled_in(LESSON)).encode()[:5000], score=0,
           status="failed", flags=["not valid notebook JSON"])
    submit("nbformat_3", raw=json.dumps({"nbformat": 3, "cells": []}).encode(), score=0,
           status="failed", flags=["nbformat 3"])
    submit("renamed", filled_in(LESSON), name="my work.ipynb", flags=["renamed to my work.ipynb"])
    submit("two_notebooks", filled_in(LESSON), name="a.ipynb", score=0, status="failed",
           flags=["2 notebooks"], extra={"b.ipynb": nbformat.writes(filled_in(LESSON))})
    submit("extra_copy", filled_in(LESSON), flags=["other notebooks were ignored: copy.ipynb"],
           extra={"copy.ipynb": nbformat.writes(filled_in(LESSON, WRONG))})
    return expected


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    return copy_course(tmp_path_factory.mktemp("course"), config="c.Execute.timeout = 10")


def tree_digest(folder):
    digest = hashlib.sha256()
    for path in sorted(Path(folder).rglob("*")):
        if path.is_file():
            digest.update(str(path.relative_to(folder)).encode() + path.read_bytes())
    return digest.hexdigest()


@pytest.fixture(scope="module")
def graded(course, server):
    submissions = course / "autograder" / "submitted"
    expected = build_submissions(submissions, server, course)
    before = tree_digest(submissions)
    timeouts = Timeouts(cell=8, exercise=20, total=180, notebook=45)  # loose: CI runs 2 at once
    first = grade(LESSON, root=course, workers=2, timeouts=timeouts, log=lambda *a: None)
    time.sleep(6)  # longer than the daemon's nap: it must be gone, not just late
    second = grade(LESSON, root=course, workers=2, timeouts=timeouts, log=lambda *a: None)
    return expected, first, second, before, submissions


def test_every_student_gets_the_expected_score_status_and_flags(graded):
    expected, first, _, _, _ = graded
    problems = []
    for student, (score, status, flags) in expected.items():
        got = first["students"][student]
        if got["score"] != score or got["status"] != status or got["max_score"] != FULL:
            problems.append(f"{student}: {got['score']}/{got['max_score']} {got['status']}, expected "
                            f"{score} {status}; flags {got['flags']}; " + "; ".join(
                                c["message"][:200] for c in got["cells"].values() if not c["score"]))
        for flag in flags:
            if not any(flag in f for f in got["flags"]):
                problems.append(f"{student}: no flag containing {flag!r} in {got['flags']}")
    assert not problems, "\n".join(problems)


def test_json_has_the_documented_shape(graded):
    _, first, _, _, _ = graded
    assert set(first) == {"lesson", "students", "skipped", "isolation", "manual_grades_kept"}
    assert first["lesson"] == LESSON and first["skipped"] == {} and "bubblewrap" in first["isolation"]
    for result in first["students"].values():
        assert set(result) == {"score", "max_score", "status", "flags", "cells"}
        assert set(result["cells"]) == set(POINTS)
        for name, cell in result["cells"].items():
            assert {"score", "max_score", "message"} <= set(cell) <= {"score", "max_score", "message",
                                                                       "not_implemented"}
            assert cell["max_score"] == POINTS[name]
    json.dumps(first)


def test_grading_twice_gives_the_same_result(graded):
    _, first, second, _, _ = graded
    differ = {s: (first["students"][s]["score"], second["students"][s]["score"],
                  first["students"][s]["flags"], second["students"][s]["flags"])
              for s in first["students"]
              if (first["students"][s]["score"], first["students"][s]["status"])
              != (second["students"][s]["score"], second["students"][s]["status"])}
    assert not differ, differ


def test_submissions_are_untouched_and_nothing_outlived_grading(graded, course):
    _, _, _, before, submissions = graded
    assert tree_digest(submissions) == before
    assert not (course / "daemon-was-here.txt").exists()
    assert not Path("/tmp/pwned").exists()
    assert Recorder.hits == []


def test_gradebook_feedback_and_export_agree(graded, course, tmp_path):
    _, _, second, _, _ = graded
    url = gradebook.db_url(course)
    recorded = gradebook.scores(url, LESSON)
    assert recorded == {s: (r["score"], r["max_score"]) for s, r in second["students"].items()}
    exported = export(url, tmp_path / "grades.csv")
    rows = {row["student_id"]: float(row["score"]) for row in csv.DictReader(exported.open())}
    assert rows == {s: r["score"] for s, r in second["students"].items()}
    for student, result in second["students"].items():
        feedback = course / "autograder" / "feedback" / student / LESSON / f"{LESSON}.html"
        autograded = course / "autograder" / "autograded" / student / LESSON / f"{LESSON}.ipynb"
        assert feedback.is_file() == autograded.is_file() == (result["status"] == "graded"), student
    flood = course / "autograder" / "autograded" / "floods_output" / LESSON / f"{LESSON}.ipynb"
    assert flood.stat().st_size < 5 * 1024 ** 2
    html = (course / "autograder" / "feedback" / "wrong" / LESSON / f"{LESSON}.html").read_text()
    assert "the bias b is missing" in html  # the trusted message reaches the student
