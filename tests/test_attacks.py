"""Issue 9's attacks on grading, each as a student's submission graded by ``bpcourse grade`` (one
batch on a temp copy of the course). Each kind succeeded against the previous design; each test
below failed there (run this file on commit 11ec0dc to see it) and holds now.

Where an attack's success cannot be seen from outside, the student's code makes it visible in the
grade: e.g. the fork bomb defines a right answer only if it managed to fork past the limit.
"""

import csv
import io
import json
import os
import resource
import shutil
import socket
import tempfile
import threading
import time
from pathlib import Path

import nbformat
import pytest
from notebook_tools import after_setup, code, copy_course, filled_in

from autograder import notebooks, sandbox
from autograder.course import release_notebook
from autograder.grade import grade

try:
    from autograder.export import export
except ImportError:  # the design before issue 9
    from autograder.gradebook import export

LESSON = "01-forward-pass"
POINTS = notebooks.graded_cells(notebooks.read(release_notebook(LESSON)))
FULL = sum(POINTS.values())
BLANK = {name: "" for name in POINTS}
PAYLOAD = "bpcourse-live-script-marker"
FORK_MARK = "61.2345"  # the fork bomb's children run `sleep 61.2345`: easy to find afterwards
SECRET = "grader-only-secret-0451"

pytestmark = [pytest.mark.grading,
              pytest.mark.skipif(not sandbox.capabilities().isolated, reason="needs isolation")]


class SocketServer:
    """A Unix socket on the host, like a PostgreSQL gradebook with peer authentication: records
    every connection and what was sent."""

    def __init__(self):
        self.folder = Path(tempfile.mkdtemp(prefix="bpcourse-attack-"))
        self.folder.chmod(0o755)
        self.path = self.folder / ".s.PGSQL.5432"
        self.server = socket.socket(socket.AF_UNIX)
        self.server.bind(str(self.path))
        self.path.chmod(0o777)
        self.server.listen(16)
        self.received = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                connection, _ = self.server.accept()
            except OSError:
                return
            connection.settimeout(2)
            try:
                self.received.append(connection.recv(1000))
            except OSError:
                self.received.append(b"")
            connection.close()

    def close(self):
        self.server.close()
        shutil.rmtree(self.folder, ignore_errors=True)


@pytest.fixture(scope="module")
def host_socket():
    server = SocketServer()
    yield server
    server.close()


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    root = copy_course(tmp_path_factory.mktemp("course"), config="c.Execute.timeout = 15")
    (root / "autograder" / "grader-only.txt").write_text(SECRET + " " * 200)
    return root


def build(course, host_socket):
    """Write every attacking submission; return the submissions folder."""
    folder = course / "autograder" / "submitted"
    solution = course / "solutions" / LESSON / f"{LESSON}.ipynb"

    def submit(student, nb):
        target = folder / student / LESSON
        target.mkdir(parents=True)
        nbformat.write(nb, str(target / f"{LESSON}.ipynb"))
        return target

    submit("honest", filled_in(LESSON, root=course))
    # kind 1: the answer key is one import away
    submit("imports_keys", filled_in(LESSON, {**BLANK, "mlp_forward": (
        "try:\n    from bplib.exercises.forward_pass import reference_mlp as mlp_forward\n"
        "except ImportError:\n"
        "    from autograder.exercises.forward_pass import reference_mlp as mlp_forward"),
        "sigmoid": ("try:\n    from bplib.exercises.forward_pass import stable_sigmoid as sigmoid\n"
                    "except ImportError:\n    from autograder.exercises.forward_pass import stable_sigmoid "
                    "as sigmoid")}, root=course))
    # kind 1: bplib's public API solves the exercise; once imported, once reached at run time
    submit("calls_bplib", filled_in(LESSON, {
        "relu": "from bplib.layers import ReLU\n\ndef relu(z):\n    return ReLU().forward(z)",
        "sigmoid": ("import importlib\n\ndef sigmoid(z):\n"
                    "    return getattr(importlib.import_module('bplib.' + 'layers'), 'sig' + 'moid')(z)")},
        root=course))
    # kind 2: links in the submissions folder
    target = folder / "symlinked_notebook" / LESSON
    target.mkdir(parents=True)
    (target / f"{LESSON}.ipynb").symlink_to(solution)
    target = folder / "hardlinked_notebook" / LESSON
    target.mkdir(parents=True)
    os.link(solution, target / f"{LESSON}.ipynb")
    (folder / "symlinked_student").symlink_to(folder / "honest")
    (folder / "symlinked_lesson").mkdir()
    (folder / "symlinked_lesson" / LESSON).symlink_to(folder / "honest" / LESSON)
    target = submit("symlinked_timestamp", filled_in(LESSON, BLANK, root=course))
    (target / "timestamp.txt").symlink_to(course / "autograder" / "grader-only.txt")
    target = submit("sparse_timestamp", filled_in(LESSON, BLANK, root=course))
    with open(target / "timestamp.txt", "wb") as file:
        file.truncate(1024 ** 3)  # 1 GB of zeros, 0 bytes on disk
    target = submit("fifo_timestamp", filled_in(LESSON, BLANK, root=course))
    os.mkfifo(target / "timestamp.txt")
    # kind 3: a host Unix socket (a PostgreSQL gradebook with peer authentication)
    submit("connects_socket", after_setup(filled_in(LESSON, {**BLANK, "relu": ""}, root=course), code(
        "import socket\nreached = False\n"
        f"try:\n    s = socket.socket(socket.AF_UNIX); s.connect({str(host_socket.path)!r})\n"
        "    s.sendall(b\"INSERT INTO grade VALUES ('connects_socket', 100)\"); reached = True\n"
        "except OSError:\n    pass\n"
        "if reached:\n    def relu(z):\n        return np.maximum(z, 0)")))
    # kind 4: a fork bomb (bounded: 2,000 forks); a right relu only if it got past the limit
    submit("fork_bomb", after_setup(filled_in(LESSON, {**BLANK, "relu": ""}, root=course), code(
        "import os, time\nforked = 0\n"
        "try:\n    for _ in range(2000):\n        if os.fork() == 0:\n"
        f"            os.execv('/bin/sleep', ['sleep', '{FORK_MARK}'])\n"
        "        forked += 1\nexcept OSError:\n    pass\n"
        "if forked >= 300:\n    def relu(z):\n        return np.maximum(z, 0)")))
    # kind 5: live script in what the instructor opens
    submit("live_script", after_setup(filled_in(LESSON, root=course), code(
        "from IPython.display import HTML, SVG, Javascript, Markdown, display\n"
        f"display(HTML('<script>window.{PAYLOAD.replace('-', '_')} = 1</script>"
        f"<img src=x onerror=\"alert(\\'{PAYLOAD}\\')\">'))\n"
        f"display(SVG('<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(\"{PAYLOAD}\")</script></svg>'))\n"
        f"display(Javascript('alert(\"{PAYLOAD}\")'))\n"
        f"display(Markdown('<img src=x onerror=\"alert(\\'{PAYLOAD}\\')\">'))")))
    # bounded work: one display shown 400 times then updated with 1 MB (nbclient copies the update
    # into every copy); 100 cells of 1 MB each; 17 MB written to the kernel's log
    submit("display_flood", after_setup(filled_in(LESSON, root=course), code(
        "from IPython.display import display, update_display\n"
        "for _ in range(400):\n    display({'text/plain': 'x'}, raw=True, display_id='amp')\n"
        "update_display({'text/plain': 'A' * 1_000_000}, raw=True, display_id='amp')")))
    submit("output_volume", after_setup(filled_in(LESSON, root=course),
                                        *[code("print('B' * 1_000_000)") for _ in range(100)]))
    submit("log_flood", after_setup(filled_in(LESSON, root=course), code(
        "import os\nfor _ in range(17):\n    os.write(2, b'x' * 2 ** 20)")))
    # kind 6: names a spreadsheet runs, and a name that forges a CSV row
    submit('=HYPERLINK("evil.example","click")', filled_in(LESSON, root=course))
    submit("mallory,\nforged-student,01-forward-pass", filled_in(LESSON, root=course))
    return folder


def fork_bomb_processes():
    """The fork bomb's children still alive (in any sandbox, of this test or before it)."""
    found, mark = [], f"sleep\0{FORK_MARK}\0".encode()
    for entry in os.listdir("/proc"):
        try:
            if entry.isdigit() and Path(f"/proc/{entry}/cmdline").read_bytes() == mark:
                found.append(int(entry))
        except OSError:
            continue
    return found


@pytest.fixture(scope="module")
def graded(course, host_socket):
    folder = build(course, host_socket)
    outside = {p: p.read_bytes() for p in (course / "solutions").rglob("*") if p.is_file()}
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    out = grade(LESSON, submissions=folder, root=course, workers=2, log=lambda *a: None)
    time.sleep(1)
    return {"out": out, "course": course, "outside": outside, "folder": folder,
            "rss_kb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
            "rss_before_kb": children_before, "left": fork_bomb_processes()}


def student(graded, name):
    return graded["out"]["students"][name]


def flags(graded, name):
    return "\n".join(student(graded, name)["flags"])


def test_an_honest_submission_still_gets_full_marks(graded):
    assert student(graded, "honest")["score"] == FULL


def test_kind_1_the_answer_keys_cannot_be_imported(graded):
    result = student(graded, "imports_keys")
    assert result["cells"]["mlp_forward"]["score"] == 0
    assert result["cells"]["sigmoid"]["score"] == 0
    assert result["score"] == 0


def test_kind_1_bplibs_own_implementation_scores_0_with_a_flag_naming_the_call(graded):
    result = student(graded, "calls_bplib")
    assert result["cells"]["relu"]["score"] == 0 and result["cells"]["sigmoid"]["score"] == 0
    assert result["score"] == FULL - POINTS["relu"] - POINTS["sigmoid"] - POINTS["mlp_forward"]
    text = flags(graded, "calls_bplib")
    assert "bplib.layers.ReLU" in text and "bplib.layers.sigmoid" in text  # static / run time


@pytest.mark.parametrize("name", ["symlinked_notebook", "hardlinked_notebook", "symlinked_student",
                                  "symlinked_lesson"])
def test_kind_2_links_in_the_submissions_folder_are_refused(graded, name):
    result = student(graded, name)
    assert result["score"] == 0 and result["status"] == "failed", result["flags"]
    assert "link" in flags(graded, name)


def test_kind_2_a_linked_side_file_is_not_read(graded):
    assert SECRET not in json.dumps(graded["out"])
    assert "symbolic link" in flags(graded, "symlinked_timestamp")


def test_kind_2_side_files_are_read_within_a_bound(graded):
    # a 1 GB sparse timestamp.txt: the previous design read it whole (2 GB resident in a worker)
    assert graded["rss_kb"] < 512 * 1024, f"a process of the grading used {graded['rss_kb'] / 1024:.0f} MB"
    assert student(graded, "sparse_timestamp")["status"] == "graded"
    assert "FIFO" in flags(graded, "fifo_timestamp")
    assert student(graded, "fifo_timestamp")["status"] == "graded"


def test_kind_3_host_unix_sockets_are_unreachable(graded, host_socket):
    assert host_socket.received == []
    assert student(graded, "connects_socket")["cells"]["relu"]["score"] == 0


def test_kind_4_a_fork_bomb_is_capped_and_leaves_nothing_behind(graded):
    result = student(graded, "fork_bomb")
    assert result["cells"]["relu"]["score"] == 0  # it never got past the process limit
    assert result["status"] == "graded"
    assert graded["left"] == [], f"processes left running: {graded['left']}"


def test_kind_5_nothing_live_reaches_the_autograded_notebook_or_the_feedback(graded):
    course = graded["course"]
    autograded = nbformat.read(str(course / "autograder" / "autograded" / "live_script" / LESSON
                                   / f"{LESSON}.ipynb"), as_version=4)
    feedback = (course / "autograder" / "feedback" / "live_script" / LESSON / f"{LESSON}.html").read_text()
    assert student(graded, "live_script")["score"] == FULL
    outputs = json.dumps([c.get("outputs", []) for c in autograded.cells])
    assert PAYLOAD not in outputs and PAYLOAD.replace("-", "_") not in outputs
    # the student's source code is shown, escaped; nothing of it is live markup
    for live in (f"<script>window.{PAYLOAD.replace('-', '_')}", "<img src=x onerror", "<svg xmlns",
                 f'alert("{PAYLOAD}")</script>'):
        assert live not in feedback


def test_kind_6_the_csv_export_is_spreadsheet_safe(graded, tmp_path):
    from autograder import gradebook

    path = export(gradebook.db_url(graded["course"]), tmp_path / "grades.csv")
    rows = list(csv.DictReader(io.StringIO(path.read_text())))
    ids = [row["student_id"] for row in rows]
    assert len(rows) == len(graded["out"]["students"])  # no forged row
    assert "mallory,\nforged-student,01-forward-pass" in ids
    assert not any(value.startswith(("=", "+", "@")) for row in rows for value in row.values())
    assert "formula" in flags(graded, '=HYPERLINK("evil.example","click")')
    assert "commas" in flags(graded, "mallory,\nforged-student,01-forward-pass")


@pytest.mark.parametrize("separator", [";", ","])
def test_the_csv_export_is_safe_in_a_spreadsheet_that_splits_on_another_separator(tmp_path, separator):
    """A ';'-separator spreadsheet (German or French Excel) ignores the ',' quoting and splits an
    id at its ';': no piece of it may start a formula."""
    from autograder import gradebook, results

    url = f"sqlite:///{tmp_path}/gradebook.db"
    gradebook.ensure_lesson(LESSON, url)
    released = notebooks.read(release_notebook(LESSON))
    for student in ("x;=1+1;", "y,+cmd|' /C calc'!A0,", "z;@SUM(1)", "w;-2+3"):
        gradebook.record(url, LESSON, student, results.failed(released, "demo"))
    text = export(url, tmp_path / "grades.csv").read_text()
    cells = [cell for row in csv.reader(io.StringIO(text), delimiter=separator) for cell in row]
    assert not [cell for cell in cells if cell.lstrip('"').startswith(("=", "+", "-", "@"))], cells
    # the ids are all there, readable, in the file as the csv module reads it
    ids = [row["student_id"] for row in csv.DictReader(io.StringIO(text))]
    assert sorted(i.replace("'", "") for i in ids) == sorted(
        i.replace("'", "") for i in ("x;=1+1;", "y,+cmd|' /C calc'!A0,", "z;@SUM(1)", "w;-2+3"))


def test_outputs_are_bounded_per_cell_and_per_notebook(graded):
    folder = graded["course"] / "autograder" / "autograded"
    for name in ("display_flood", "output_volume"):
        notebook = folder / name / LESSON / f"{LESSON}.ipynb"
        assert notebook.stat().st_size < 25 * 1024 ** 2, (name, notebook.stat().st_size)
        assert student(graded, name)["score"] == FULL


def test_a_kernel_writing_to_its_log_harms_no_other_student(graded):
    for name, result in graded["out"]["students"].items():
        if name != "log_flood":
            assert not any("did not finish" in f for f in result["flags"]), (name, result["flags"])


def test_no_file_outside_the_submissions_changed(graded):
    for path, data in graded["outside"].items():
        assert path.read_bytes() == data, path


# --- bounded work: a CPU limit cannot be dodged by patching the clocks inside the sandbox -----------

CLOCK_PATCHING = '''
import os, resource, time

for name in ("process_time", "perf_counter", "monotonic", "time", "thread_time"):
    setattr(time, name, lambda: 0.0)
    setattr(time, name + "_ns", lambda: 0)
os.times = lambda: os.times_result((0.0, 0.0, 0.0, 0.0, 0.0))
resource.getrusage = lambda who: None

def train_digits(X_train, y_train):
    end = 0
    for _ in range(6_000_000):   # about 2 s of CPU time that no patched clock admits to
        end += 1

    def predict(images):          # 1-nearest-neighbour: right often enough, and fast
        distances = ((images[:, None, :] - X_train[None, :, :]) ** 2).sum(axis=2)
        return y_train[distances.argmin(axis=1)]
    return predict
'''


@pytest.mark.parametrize("measured_outside", [True, False])
def test_a_cpu_limit_is_measured_outside_the_sandbox(monkeypatch, measured_outside):
    """With the grader's own measurement (psutil, from /proc) the attack fails; without it (the
    child's clocks only, as the previous design did) the same submission passes."""
    import dataclasses

    from autograder import submission, trusted

    if not measured_outside:
        monkeypatch.setattr(trusted, "cpu_seconds", lambda pid: 0.0)
    lesson = "08-capstone"
    definitions = trusted.exercises(lesson)
    monkeypatch.setitem(definitions, "train_digits",
                        dataclasses.replace(definitions["train_digits"], cpu_limit=1.0))
    nb = filled_in(lesson, {"train_digits": CLOCK_PATCHING})
    released = notebooks.read(release_notebook(lesson))
    loaded = submission.load(nbformat.writes(nb).encode(), f"{lesson}.ipynb", lesson, released)
    verdict = trusted.grade_cells(lesson, loaded.cells, seed=1)
    result = verdict.results["train_digits"]
    if measured_outside:
        assert not result.passed and "s of CPU time; the limit is 1 s" in result.message, result.message
    else:
        assert result.passed, result.message
