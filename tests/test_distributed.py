"""Grading on a Dask cluster (autograder/distributed.py, issue 14), on temp copies of the course
and a LocalCluster of 2 worker processes started here: the adversarial submissions of
test_grading.py get exactly the grades local grading gives them; a Dask worker or a grading
process killed mid-batch costs no student; a worker with another version of the course gives a
failed status with the reason, never a grade; a scheduler lost mid-batch stops the run with what
was graded recorded, and the re-run grades everyone; nothing is left running on the client.
"""

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from http.server import HTTPServer
from pathlib import Path

import pytest
from notebook_tools import answer_sources, copy_course, filled_in

from autograder import distributed as grading
from autograder import gradebook, notebooks, sandbox
from autograder.course import REPO, CourseError
from autograder.grade import grade
from autograder.trusted import Timeouts

distributed = pytest.importorskip("distributed")
import test_grading  # noqa: E402  (its submissions and helpers, reused as they are)
from distributed.diagnostics.plugin import WorkerPlugin  # noqa: E402

LESSON = test_grading.LESSON
FULL = test_grading.FULL
TIMEOUTS = Timeouts()  # the defaults: nothing in these batches hangs, and the machine may be busy
CHILD_MARK = "from autograder.distributed import _child"
# The adversarial submissions graded both ways: tests patched or tampered with, fake equality,
# forged outputs, crashes, a cell that kills its parent and every process it can, snooping,
# network, unreadable files. Left out: the slow ones (hangs, floods, disk, daemon).
ADVERSARIAL = ["correct", "wrong", "patches_checks", "fakes_equality", "swallows_failures", "edits_tests",
               "forges_outputs", "kills_process", "kills_grader", "memory_bomb", "snoops", "uses_network",
               "empty_file", "truncated"]

pytestmark = [pytest.mark.grading,
              pytest.mark.skipif(not sandbox.capabilities().isolated, reason="needs isolation")]


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as local:
        yield local


@pytest.fixture(scope="module")
def server():
    httpd = HTTPServer(("127.0.0.1", 0), test_grading.Recorder)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield httpd.server_address[1]
    httpd.shutdown()


def make_course(root):
    return copy_course(root)


def submit(course, student, nb):
    target = course / "autograder" / "submitted" / student / LESSON
    target.mkdir(parents=True)
    (target / f"{LESSON}.ipynb").write_text(json.dumps(nb))


def slow(seconds):
    """Right answers, one of which takes ``seconds`` to define (in both of the grader's runs)."""
    solution = answer_sources(notebooks.read(REPO / "solutions" / LESSON / f"{LESSON}.ipynb"))
    return filled_in(LESSON, {"sigmoid": f"import time\ntime.sleep({seconds})\n" + solution["sigmoid"]})


def grading_processes():
    """{pid: parent pid} of the grading processes below this process (inside Dask workers)."""
    import psutil

    found = {}
    for process in psutil.Process().children(recursive=True):
        try:
            if CHILD_MARK in " ".join(process.cmdline()):
                found[process.pid] = process.ppid()
        except psutil.NoSuchProcess:
            continue
    return found


def extra_threads(before):
    """Threads started since ``before`` and still running, except distributed's own shared offload
    thread (one per process, idle, created by the library on first use)."""
    return sorted(t.name for t in threading.enumerate()
                  if t.ident not in before and not t.name.startswith("Dask-Offload"))


def summary(out):
    return {s: (r["score"], r["status"], {n: c["score"] for n, c in r["cells"].items()})
            for s, r in out["students"].items()}


@pytest.fixture(scope="module")
def both(tmp_path_factory, cluster, server):
    """The same adversarial batch graded locally and on the cluster (two copies of the course)."""
    runs = {}
    for kind in ("local", "dask"):
        course = make_course(tmp_path_factory.mktemp(kind))
        folder = course / "autograder" / "submitted"
        expected = test_grading.build_submissions(folder, server, course)
        for student in set(expected) - set(ADVERSARIAL):
            shutil.rmtree(folder / student)
            del expected[student]
        before = test_grading.tree_digest(folder)
        threads = {t.ident for t in threading.enumerate()}
        options = {"scheduler": cluster.scheduler_address} if kind == "dask" else {"workers": 2}
        window, grading.IN_FLIGHT = grading.IN_FLIGHT, 1  # 8 in flight (4 per thread): refills run
        try:
            out = grade(LESSON, root=course, timeouts=TIMEOUTS, log=lambda *a: None, **options)
        finally:
            grading.IN_FLIGHT = window
        runs[kind] = {"out": out, "course": course, "expected": expected, "folder": folder,
                      "untouched": test_grading.tree_digest(folder) == before,
                      "threads": extra_threads(threads), "children": grading_processes()}
    return runs


def test_dask_gives_every_adversarial_submission_the_grade_local_grading_gives(both):
    local, dask = both["local"]["out"], both["dask"]["out"]
    assert set(dask["students"]) == set(ADVERSARIAL)
    differ = {s: {"dask": (dask["students"][s], "local", local["students"][s])}
              for s in ADVERSARIAL if summary(dask)[s] != summary(local)[s]}
    assert not differ, json.dumps(differ, indent=1)[:6000]
    problems = []
    for student, (score, status, flags) in both["dask"]["expected"].items():
        got = dask["students"][student]
        if (got["score"], got["status"], got["max_score"]) != (score, status, FULL):
            problems.append(f"{student}: {got['score']} {got['status']}, expected {score} {status}")
        problems += [f"{student}: no flag {flag!r} in {got['flags']}" for flag in flags
                     if not any(flag in f for f in got["flags"])]
    assert not problems, "\n".join(problems)


def test_dask_output_has_the_local_shape_and_reaches_the_gradebook_and_feedback(both):
    local, dask, course = both["local"]["out"], both["dask"]["out"], both["dask"]["course"]
    assert set(dask) == set(local)
    assert "bubblewrap" in dask["isolation"] and "Dask, 2 worker(s)" in dask["isolation"]
    for student, result in dask["students"].items():
        assert set(result) == set(local["students"][student])
        feedback = course / "autograder" / "feedback" / student / LESSON / f"{LESSON}.html"
        autograded = course / "autograder" / "autograded" / student / LESSON / f"{LESSON}.ipynb"
        assert feedback.is_file() == autograded.is_file() == (result["status"] == "graded"), student
    assert gradebook.scores(gradebook.db_url(course), LESSON) == \
        {s: (r["score"], r["max_score"]) for s, r in dask["students"].items()}
    json.dumps(dask)


def test_dask_workers_isolate_as_local_workers_do_and_nothing_is_left_running(both):
    dask = both["dask"]
    assert dask["untouched"], "a submission changed"
    assert test_grading.Recorder.hits == []
    assert not (dask["course"] / "daemon-was-here.txt").exists()
    assert dask["threads"] == [], f"threads left on the client: {dask['threads']}"
    assert dask["children"] == {}, f"grading processes left on the workers: {dask['children']}"


def test_a_killed_dask_worker_and_a_killed_grading_process_cost_no_student(tmp_path, cluster):
    import psutil

    course = make_course(tmp_path / "course")
    students = [f"slow{i}" for i in range(6)]
    for student in students:
        submit(course, student, slow(3))
    result = {}
    thread = threading.Thread(target=lambda: result.update(out=grade(
        LESSON, root=course, scheduler=cluster.scheduler_address, timeouts=TIMEOUTS, log=lambda *a: None)))
    thread.start()

    def busy_grading_process(exclude=()):
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            for pid, parent in grading_processes().items():
                try:
                    if pid not in exclude and psutil.Process(pid).children():  # grading a submission
                        return pid, parent
                except psutil.NoSuchProcess:
                    continue
            time.sleep(0.2)
        raise AssertionError("no grading process started")

    child, worker = busy_grading_process()
    child_process = psutil.Process(child)
    os.kill(worker, signal.SIGKILL)  # a whole Dask worker process, mid-task
    _, outlived = psutil.wait_procs([child_process], timeout=20)
    second, _ = busy_grading_process(exclude={child})
    os.kill(second, signal.SIGKILL)  # a grading process, mid-task: Dask retries its task
    thread.join(timeout=600)
    out = result["out"]
    assert {s: (r["score"], r["status"]) for s, r in out["students"].items()} == \
        {s: (FULL, "graded") for s in students}
    assert outlived == [], "the killed worker's grading process outlived it"
    assert gradebook.scores(gradebook.db_url(course), LESSON) == {s: (FULL, FULL) for s in students}
    cluster.wait_for_workers(2, timeout=120)  # the nanny restarted the worker
    assert grading_processes() == {}
    # the killed worker's scratch folder was removed by its successor
    assert not list(Path(tempfile.gettempdir()).glob(f"{grading.STAGE_PREFIX}{worker}-*"))


class OtherAnswerKeys(WorkerPlugin):
    """On the workers: this course's answer keys for lesson 01 differ from the grader's."""

    def setup(self, worker=None):
        from autograder import distributed as grading

        self.original = grading.course_version

        def skewed(lesson, root=REPO):
            version = self.original(lesson, root)
            version["autograder/exercises/forward_pass.py"] = "0" * 64
            return version

        grading.course_version = skewed

    def teardown(self, worker=None):
        from autograder import distributed as grading

        grading.course_version = self.original


@contextlib.contextmanager
def on_the_workers(cluster, plugin):
    """``plugin`` installed on every worker of ``cluster`` for the ``with`` block."""
    client = distributed.Client(cluster, set_as_default=False)
    name = type(plugin).__name__
    try:
        client.register_plugin(plugin, name=name)
        yield
        client.unregister_worker_plugin(name)
    finally:
        client.close()


def test_a_worker_with_another_version_of_the_course_fails_the_submission_with_the_reason(tmp_path, cluster):
    course = make_course(tmp_path / "course")
    submit(course, "right", filled_in(LESSON))
    with on_the_workers(cluster, OtherAnswerKeys()):
        out = grade(LESSON, root=course, scheduler=cluster.scheduler_address, log=lambda *a: None)
    result = out["students"]["right"]
    assert (result["score"], result["status"]) == (0, "failed")
    reason = result["flags"][0]
    assert "another version of the course" in reason
    assert "autograder/exercises/forward_pass.py: 000000000000 on this worker" in reason
    assert all("not graded" in cell["message"] for cell in result["cells"].values())
    assert gradebook.scores(gradebook.db_url(course), LESSON) == {"right": (0, FULL)}
    assert not (course / "autograder" / "autograded").exists(), "graded anyway"


class NoIsolation(WorkerPlugin):
    """On the workers: bubblewrap cannot start a sandbox."""

    def setup(self, worker=None):
        from autograder import sandbox as worker_sandbox

        self.original = worker_sandbox._CAPABILITIES
        worker_sandbox._CAPABILITIES = worker_sandbox.Capabilities(
            "/usr/bin/bwrap", "0.8.0", False, "bwrap could not start a sandbox: (simulated)", 0)

    def teardown(self, worker=None):
        from autograder import sandbox as worker_sandbox

        worker_sandbox._CAPABILITIES = self.original


def test_a_worker_that_cannot_isolate_refuses_unless_insecure(tmp_path, cluster):
    course = make_course(tmp_path / "course")
    submit(course, "right", filled_in(LESSON))
    with on_the_workers(cluster, NoIsolation()):
        out = grade(LESSON, root=course, scheduler=cluster.scheduler_address, log=lambda *a: None)
        anyway = grade(LESSON, root=course, scheduler=cluster.scheduler_address, insecure=True,
                       log=lambda *a: None)
    result = out["students"]["right"]
    assert (result["score"], result["status"]) == (0, "failed")
    assert "cannot isolate student code" in result["flags"][0] and "(simulated)" in result["flags"][0]
    assert "refused" in out["isolation"]
    # --insecure: the instructor's explicit choice grades it, and the summary says without isolation
    assert (anyway["students"]["right"]["score"], anyway["students"]["right"]["status"]) == (FULL, "graded")
    assert "NONE (--insecure)" in anyway["isolation"]


def test_the_course_version_names_each_file_that_decides_a_grade(tmp_path):
    course = make_course(tmp_path / "course")
    here = grading.course_version(LESSON)
    assert grading.course_version(LESSON, course) == here
    assert {"bpcourse", f"lessons/{LESSON}/{LESSON}.ipynb", "autograder/exercises/forward_pass.py",
            "bplib/grading.py"} <= set(here)
    released = course / "lessons" / LESSON / f"{LESSON}.ipynb"
    released.write_bytes(released.read_bytes() + b" ")
    differs = grading.version_differences(grading.course_version(LESSON, course), here)
    assert differs == [f"lessons/{LESSON}/{LESSON}.ipynb: "
                       f"{grading.course_version(LESSON, course)[f'lessons/{LESSON}/{LESSON}.ipynb'][:12]} "
                       f"on this worker, {here[f'lessons/{LESSON}/{LESSON}.ipynb'][:12]} on the grader"]
    with pytest.raises(CourseError, match="no lesson"):
        grading.course_version("99-no-such-lesson")


def start_scheduler(folder):
    dask = Path(sys.executable).parent / "dask"
    scheduler_file = folder / "scheduler.json"
    scheduler = subprocess.Popen([str(dask), "scheduler", "--host", "127.0.0.1", "--port", "0",
                                  "--no-dashboard", "--scheduler-file", str(scheduler_file)],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 60
    while not scheduler_file.is_file() and time.monotonic() < deadline:
        time.sleep(0.2)
    address = json.loads(scheduler_file.read_text())["address"]
    worker = subprocess.Popen([str(dask), "worker", address, "--nworkers", "1", "--nthreads", "1",
                               "--no-dashboard", "--death-timeout", "20"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    return address, scheduler, worker


def test_a_lost_scheduler_stops_the_run_cleanly_and_the_rerun_grades_everyone(tmp_path, cluster):
    course = make_course(tmp_path / "course")
    students = [f"s{i}" for i in range(3)]
    for student in students:
        submit(course, student, slow(2))
    address, scheduler, worker = start_scheduler(tmp_path)
    logs, result = [], {}
    threads = {t.ident for t in threading.enumerate()}

    def run():
        try:
            result["out"] = grade(LESSON, root=course, scheduler=address, timeouts=TIMEOUTS, log=logs.append)
        except CourseError as error:
            result["error"] = error

    thread = threading.Thread(target=run)
    try:
        thread.start()
        deadline = time.monotonic() + 300
        while not any(str(line).startswith(("  s0:", "  s1:", "  s2:")) for line in logs):
            assert time.monotonic() < deadline and thread.is_alive(), logs
            time.sleep(0.2)
        os.killpg(scheduler.pid, signal.SIGKILL)  # the scheduler dies after the first result
        thread.join(timeout=120)
        assert not thread.is_alive()
    finally:
        for process in (scheduler, worker):
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            process.wait()
    assert "error" in result, result
    message = str(result["error"])
    assert "lost the Dask scheduler" in message and "run the same command again" in message
    recorded = gradebook.scores(gradebook.db_url(course), LESSON)
    assert 1 <= len(recorded) < len(students) and all(v == (FULL, FULL) for v in recorded.values())
    assert extra_threads(threads) == []
    # the re-run (here on the test's cluster) grades everyone; the gradebook holds each once
    out = grade(LESSON, root=course, scheduler=cluster.scheduler_address, timeouts=TIMEOUTS,
                log=lambda *a: None)
    assert {s: r["score"] for s, r in out["students"].items()} == dict.fromkeys(students, FULL)
    assert gradebook.scores(gradebook.db_url(course), LESSON) == {s: (FULL, FULL) for s in students}


def test_an_unreachable_scheduler_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setattr(grading, "CONNECT_TIMEOUT", 3)
    course = make_course(tmp_path / "course")
    submit(course, "alice", filled_in(LESSON))
    with pytest.raises(CourseError, match="cannot reach the Dask scheduler at tcp://127.0.0.1:9"):
        grade(LESSON, root=course, scheduler="tcp://127.0.0.1:9", log=lambda *a: None)
    assert gradebook.scores(gradebook.db_url(course), LESSON) == {}
