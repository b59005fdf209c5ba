"""Grading one submission, in a worker process (a local pool, or a Dask worker).

A worker receives only what it needs -- the student id, the lesson, the notebook's bytes and
timestamp, flags from reading the folder -- never a path into the submissions folder, and
returns plain data: the result (:mod:`autograder.results`) and the bytes of the autograded
notebook and the feedback page. For each submission it

1. rebuilds the notebook from the released lesson (:mod:`autograder.submission`);
2. decides every exercise with the trusted checks (:mod:`autograder.trusted`), in a sandbox;
3. runs nbgrader's own ``autograde`` on the rebuilt notebook in the worker's private copy of the
   course, its kernel sandboxed too, with the trusted verdicts as the test cells' results
   (:mod:`bplib.checks`), cells that hung or crashed the trusted run skipped, and its output
   bounded; appends each test cell's trusted verdict; makes every output inert
   (:mod:`autograder.inert`); and generates the feedback HTML (maths rendered offline).

A disagreement between nbgrader's run and the trusted checks is flagged: a test cell that passed in
the notebook but failed the trusted check means the notebook's tests were tampered with; one that
did not finish in nbgrader's run (timed out, kernel died) is named as such.
"""

import ctypes
import json
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
import warnings
from pathlib import Path

import nbformat

from autograder import gradebook, inert, notebooks, offline_math, results, sandbox, submission, trusted
from autograder.course import nbgrader_config, release_notebook
from bplib.checks import VERDICTS_VARIABLE
from bplib.grading import not_implemented, render_block

KERNEL_NAME = "bpcourse-sandbox"
SKIP_TAG = "skip-execution"  # nbclient's tag for cells it must not run
# The student id inside a worker's private nbgrader course (one submission at a time): nbgrader
# matches its folders with regular expressions that a real id with a newline or a "/"-like
# character breaks, so its run sees this name; the grader records under the real id.
ALIAS = "submission"

_WORKER = {}


def start(stage, insecure=False):
    """Once per worker process: a home folder in ``stage``, the sandboxed kernelspec, a subreaper
    (anything a student's code leaves behind is re-parented here and can be killed)."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
    home = Path(tempfile.mkdtemp(prefix="worker-", dir=stage))
    runtime = home / "runtime"
    runtime.mkdir()
    os.environ["JUPYTER_RUNTIME_DIR"] = str(runtime)
    os.environ["JUPYTER_PATH"] = str(home / "jupyter")
    os.environ["TMPDIR"] = str(runtime)  # nbclient writes kernel connection files to a temp file
    tempfile.tempdir = None
    warnings.filterwarnings("ignore", module="nbgrader")  # SQLAlchemy chatter from nbgrader's gradebook
    verdicts_file = home / "verdicts.json"
    verdicts_file.write_text("{}")
    isolated = sandbox.capabilities().isolated  # --insecure only matters where it is not
    inside = f"{sandbox.INSIDE}/verdicts.json"
    policy = sandbox.Policy(kernel=True, insecure=not isolated,  # each kernel logs beside its sockets
                            files={str(verdicts_file): inside},
                            env={"NBGRADER_EXECUTION": "autograde", "BPCOURSE_HEADLESS": "1",
                                 VERDICTS_VARIABLE: inside if isolated else str(verdicts_file)},
                            limits=sandbox.Limits(cpu_seconds=600, memory_bytes=3 * 1024 ** 3))
    argv = sandbox.command_line(policy, [sys.executable, "-I", "-m", "ipykernel_launcher", "-f",
                                         "{connection_file}"])
    spec = home / "jupyter" / "kernels" / KERNEL_NAME
    spec.mkdir(parents=True)
    # interrupts go as messages: the kernel runs in a session of its own, out of reach of signals
    (spec / "kernel.json").write_text(json.dumps({"argv": argv, "display_name": "sandboxed Python",
                                                  "language": "python", "interrupt_mode": "message"}))
    _WORKER.update(home=home, runtime=runtime, verdicts=verdicts_file, insecure=insecure)


def grade(student, lesson, root, notebook_name, notebook, timestamp, flags, timeouts=None, seed=None):
    """Grade one submission (its bytes); returns {"result", "files"} or {"error"} (plain data).
    ``files``: {"autograded/<name>" or "feedback/<name>": bytes}. ``seed`` draws the hidden cases
    (None: a fresh one; a Dask task sends its own, so a retried task draws the same cases)."""
    home = _WORKER["home"]
    course = home / "course"
    try:
        return _grade(lesson, Path(root), notebook_name, notebook, timestamp, list(flags),
                      course, timeouts, seed)
    except submission.SubmissionError as error:
        return {"error": str(error)}
    finally:
        kill_leftovers()
        for path in (course / "submitted", course / "autograded", course / "feedback"):
            shutil.rmtree(path / ALIAS, ignore_errors=True)
        for leftover in _WORKER["runtime"].iterdir():
            shutil.rmtree(leftover, ignore_errors=True) if leftover.is_dir() else leftover.unlink()


def _grade(lesson, root, notebook_name, notebook, timestamp, flags, course, timeouts, seed):
    released = notebooks.read(release_notebook(lesson, root))
    loaded = submission.load(notebook, notebook_name, lesson, released)
    flags += loaded.flags
    verdict = trusted.grade_cells(lesson, loaded.cells, seed=seed, insecure=_WORKER["insecure"],
                                  timeouts=timeouts)
    result = results.graded(released, verdict, flags)
    for name, cell in result["cells"].items():
        if name in loaded.claimed_passes and cell["score"] < cell["max_score"]:
            result["flags"].append(f"the submitted notebook shows test {name!r} passing, but the "
                                   "grader's checks fail (an edited output, or code changed after)")

    db = _course_copy(course, lesson, root)
    target = course / "submitted" / ALIAS / lesson
    target.mkdir(parents=True, exist_ok=True)
    rebuilt = loaded.notebook
    for cell in rebuilt.cells:  # what hung or crashed the trusted run is not run again
        if cell.get("id") in verdict.skipped_cells or \
                (notebooks.nbgrader_meta(cell) or {}).get("grade_id") in verdict.skipped_cells:
            cell.metadata.setdefault("tags", []).append(SKIP_TAG)
    notebooks.write(rebuilt, target / f"{lesson}.ipynb")
    if timestamp:
        (target / "timestamp.txt").write_text(timestamp)
    _WORKER["verdicts"].write_text(json.dumps({lesson: verdicts(lesson, result)}))
    sockets = Path(tempfile.mkdtemp(prefix="k", dir=_WORKER["runtime"]))
    api = _api(root, course, db, sockets)
    # nbgrader answers a timed-out cell and goes on without stopping the kernel, so a loop that
    # ignores interrupts makes every later cell wait out its timeout: past the budget, kill it.
    budget = (timeouts or trusted.Timeouts()).notebook
    watchdog = threading.Timer(budget, kill_leftovers)
    watchdog.start()
    started = time.monotonic()
    try:
        run = api.autograde(lesson, ALIAS, force=True, create=True)
    finally:
        watchdog.cancel()
    autograded = course / "autograded" / ALIAS / lesson / f"{lesson}.ipynb"
    in_kernel = _in_kernel_scores(db, lesson, ALIAS)
    if not run["success"] or not autograded.is_file():
        killed = time.monotonic() - started >= budget
        result["flags"].append("nbgrader's run of the notebook did not finish ("
                               + ("it ran out of time" if killed else "a cell timed out or the kernel died")
                               + "); the feedback shows what ran, the trusted scores stand")
        autograded.parent.mkdir(parents=True, exist_ok=True)
        if not autograded.is_file():
            notebooks.write(rebuilt, autograded)
    _compare(result, in_kernel, notebooks.read(autograded))
    _annotate(autograded, result, verdict.skipped_cells,
              {name: v["needs"] for name, v in verdicts(lesson, result).items()})
    gradebook.record(f"sqlite:///{db}", lesson, ALIAS, result, timestamp)
    feedback = api.generate_feedback(lesson, ALIAS, force=True)
    if not feedback["success"]:
        result["flags"].append("nbgrader could not generate the feedback HTML")
    for page in (course / "feedback" / ALIAS / lesson).glob("*.html"):
        page.write_text(offline_math.render(page.read_text(encoding="utf-8"), notebooks.read(autograded)),
                        encoding="utf-8")
    files = {}
    for kind, folder in (("autograded", autograded.parent),
                         ("feedback", course / "feedback" / ALIAS / lesson)):
        if folder.is_dir():
            for path in folder.iterdir():
                if path.is_file() and not path.is_symlink():
                    files[f"{kind}/{path.name}"] = path.read_bytes()
    return {"result": result, "files": files}


def _course_copy(course, lesson, root):
    """This worker's private nbgrader course with ``lesson`` in its gradebook (made once)."""
    db = course / "gradebook.db"
    known = _WORKER.setdefault("lessons", set())
    if lesson not in known:
        course.mkdir(parents=True, exist_ok=True)
        gradebook.ensure_lesson(lesson, f"sqlite:///{db}", root)
        known.add(lesson)
    return db


def verdicts(lesson, result):
    """{exercise: {"passed", "message", "status", "needs"}}: what the test cells of the graded
    notebook report (bplib.checks), so nbgrader's run shows the trusted verdicts."""
    from autograder.exercises import exercises

    definitions = exercises(lesson)
    return {name: {"passed": cell["score"] == cell["max_score"], "message": cell["message"],
                   "status": "not implemented" if cell.get("not_implemented") else "checked",
                   "needs": list(definitions[name].needs) if name in definitions else [name]}
            for name, cell in result["cells"].items()}


def _api(root, course, db, sockets):
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    config = nbgrader_config(root, **{
        "CourseDirectory.root": str(course), "CourseDirectory.submitted_directory": "submitted",
        "CourseDirectory.autograded_directory": "autograded",
        "CourseDirectory.feedback_directory": "feedback", "CourseDirectory.db_url": f"sqlite:///{db}",
        "Execute.kernel_name": KERNEL_NAME, "KernelManager.transport": "ipc",
        # an absolute socket prefix in a fresh directory per student: jupyter_client's default
        # ("kernel-ipc") is relative; the sandbox binds this directory (sockets only) into the kernel
        "KernelManager.ip": str(sockets / "kernel"),
        "Autograde.exporter_class": "nbconvert.exporters.NotebookExporter",  # not the guard
        "Autograde.autograde_preprocessors": _autograde_preprocessors(),
        "Execute.store_widget_state": False,
        "GenerateFeedback.preprocessors": _feedback_preprocessors(),
    })
    return NbGraderAPI(CourseDirectory(config=config), config=config)


def _autograde_preprocessors():
    """nbgrader's autograde steps with its Execute replaced by
    :class:`autograder.bounded_execute.BoundedExecute`."""
    from nbgrader.converters.autograde import Autograde

    steps = Autograde.class_traits()["autograde_preprocessors"].default()
    return ["autograder.bounded_execute.BoundedExecute" if getattr(s, "__name__", "") == "Execute" else s
            for s in steps]


def _feedback_preprocessors():
    from nbgrader.converters.generate_feedback import GenerateFeedback

    return ["autograder.offline_math.HideMath", *GenerateFeedback.class_traits()["preprocessors"].default()]


def _in_kernel_scores(db, lesson, student):
    """{grade cell: score} as nbgrader's run gave them (before the trusted scores)."""
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(f"sqlite:///{db}") as gb:
        try:
            sub = gb.find_submission(lesson, student)
        except MissingEntry:
            return {}
        return {g.name: g.auto_score for nb in sub.notebooks for g in nb.grades
                if g.auto_score is not None}


def _compare(result, in_kernel, autograded):
    """Flag each test cell whose result in nbgrader's run differs from the trusted check."""
    cells = {(notebooks.nbgrader_meta(c) or {}).get("grade_id"): c for c in autograded.cells}
    for name, cell in result["cells"].items():
        kernel_score = in_kernel.get(name)
        if kernel_score is None or (kernel_score > 0) == (cell["score"] > 0):
            continue
        if kernel_score > 0:
            result["flags"].append(f"{name}: the notebook's own test passed but the trusted check "
                                   "failed (were the tests tampered with?)")
            continue
        errors = [o for o in cells.get(name, {}).get("outputs", []) if o.get("output_type") == "error"]
        if errors and errors[-1].get("ename") == "CellTimeoutError":
            why = "it timed out"
        elif errors:
            why = f"it raised {errors[-1].get('ename', 'an error')}"
        else:
            why = "it did not run (the kernel died or the run was stopped)"
        result["flags"].append(f"{name}: the test cell did not pass in nbgrader's run of the notebook "
                               f"({why}); the trusted check passed and its score is recorded")


def _annotate(path, result, skipped, needs):
    """Each test cell shows the trusted verdict in place of what nbgrader's run printed there (a
    kernel that ran student code can draw anything, a green tick included); skipped cells say so;
    every output is made inert. ``needs``: {exercise: the names its stub message lists}."""
    nb = notebooks.read(path)
    for cell in nb.cells:
        meta = notebooks.nbgrader_meta(cell) or {}
        if cell.cell_type != "code":
            continue
        if cell.get("id") in skipped or meta.get("grade_id") in skipped:
            cell.outputs.append(nbformat.v4.new_output("stream", name="stdout", text=(
                "[grader] this cell was not run: in the grader's run it did not finish in time or "
                "stopped the process, so its definitions are missing below\n")))
        verdict = result["cells"].get(meta.get("grade_id")) if meta.get("grade") else None
        if verdict is not None:
            cell.outputs = _verdict_outputs(verdict, needs.get(meta["grade_id"], [meta["grade_id"]]))
    inert.clean_notebook(nb)
    notebooks.write(nb, path)


def _verdict_outputs(verdict, needs):
    """The trusted verdict as a test cell's outputs, as the learner's kernel shows a check
    (bplib.grading): a tick, the compact failure block, or the stub's one line; then whose it is."""
    header = nbformat.v4.new_output("stream", name="stdout", text=(
        f"[grader, checked outside your notebook] {verdict['score']:g}/{verdict['max_score']:g}\n"))
    if verdict["score"] == verdict["max_score"]:
        return [nbformat.v4.new_output("stream", name="stdout", text=verdict["message"] + "\n"), header]
    if verdict.get("not_implemented"):
        stub = not_implemented(needs)
        return [nbformat.v4.new_output("error", ename="NotImplementedError", evalue=str(stub),
                                       traceback=stub._render_traceback_()), header]
    return [nbformat.v4.new_output("error", ename="ExerciseFailed", evalue=verdict["message"][:5000],
                                   traceback=render_block(verdict["message"][:5000])), header]


def kill_leftovers():
    """Kill every process still below this worker (it is a subreaper, so orphans land here)."""
    if not sys.platform.startswith("linux"):
        return
    me = os.getpid()
    for _ in range(20):
        children = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == me:
                children.append(int(entry))
        if not children:
            return
        for pid in children:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        for pid in children:
            try:
                os.waitpid(pid, 0)
            except OSError:
                pass
        time.sleep(0.05)
