"""``bpcourse grade LESSON``: grade every submission; the recorded score is the trusted one.

For each ``<submissions>/<student>/<LESSON>/`` (nbgrader's layout), in a pool of worker processes:

1. read the notebook without trusting it and rebuild it from the released lesson
   (:mod:`autograder.submission`): every anomaly becomes a flag;
2. trusted grading (:mod:`autograder.trusted`): the scores;
3. nbgrader's own ``autograde`` of the rebuilt notebook in the worker's private copy of the
   course, its kernel sandboxed too (:mod:`autograder.sandbox`): the autograded notebook the
   formgrader shows, with each test cell's trusted verdict appended, and nbgrader's feedback HTML
   generated from the trusted scores. Where the notebook's own tests disagree with the trusted
   checks, that is flagged.

The main process then, one student at a time, moves the autograded notebook and the feedback into
``autograder/autograded`` and ``autograder/feedback`` (replacing the previous ones only once the new
ones are complete) and records the scores in the gradebook in one transaction. Student submissions
are only ever read. A submission that cannot be graded gets status "failed", score 0 and the reason
in its flags; the batch always goes on.
"""

import concurrent.futures
import ctypes
import json
import multiprocessing
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
import traceback
import warnings
from pathlib import Path

from autograder import gradebook, notebooks, results, sandbox, submission, trusted
from autograder.course import REPO, CourseError, nbgrader_config, release_notebook, source_notebook

KERNEL_NAME = "bpcourse-sandbox"
MAX_OUTPUT_CHARS = 100_000


def discover(submissions, lesson):
    """{student id: their folder for ``lesson``}, sorted by student."""
    submissions = Path(submissions)
    if not submissions.is_dir():
        raise CourseError(f"no submissions folder {submissions}")
    found = {}
    for student_dir in sorted(p for p in submissions.iterdir() if p.is_dir()):
        if student_dir.name.startswith("."):
            continue
        if (student_dir / lesson).is_dir():
            found[student_dir.name] = student_dir / lesson
    if not found:
        raise CourseError(f"no submissions of {lesson} in {submissions} (expected "
                          f"{submissions}/<student>/{lesson}/{lesson}.ipynb)")
    return found


def grade(lesson, submissions=None, workers=None, root=REPO, insecure=False, log=print,
          timeouts=None):
    """Grade every submission of ``lesson``; return {"lesson": ..., "students": {...}}.

    ``timeouts`` (:class:`autograder.trusted.Timeouts`) bound the trusted run of each submission;
    nbgrader's own run uses the course's ``Execute.timeout`` per cell.
    """
    root = Path(root)
    source_notebook(lesson, root)  # a clear error for an unknown lesson
    if not release_notebook(lesson, root).is_file():
        raise CourseError(f"lessons/{lesson} has not been released: run `bpcourse release {lesson}`")
    caps = sandbox.capabilities()
    if not caps.isolated and not insecure:
        raise CourseError(f"this machine cannot isolate student code ({caps.describe()}); grading "
                          "needs Linux with Landlock (kernel 5.13+). --insecure grades anyway.")
    config = nbgrader_config(root)
    default = Path(root) / config.CourseDirectory.submitted_directory
    submissions = Path(submissions) if submissions else default
    students = discover(submissions, lesson)
    url = config.CourseDirectory.db_url
    gradebook.ensure_lesson(lesson, url, root)
    workers = max(1, min(workers or os.cpu_count() or 1, len(students)))
    log(f"grading {len(students)} submission(s) of {lesson} with {workers} worker(s); isolation: "
        f"{caps.describe() if caps.isolated else 'NONE (--insecure)'}")
    out = {"lesson": lesson, "students": {}}
    with tempfile.TemporaryDirectory(prefix="bpcourse-grade-") as stage:
        template = Path(stage) / "template.db"
        gradebook.create_lesson(lesson, f"sqlite:///{template}", root)
        jobs = {student: (str(folder), lesson, str(root), str(template), insecure, timeouts)
                for student, folder in students.items()}
        for student, outcome in _run_pool(jobs, workers, stage, log):
            out["students"][student] = _commit(root, config, url, lesson, student, outcome)
            entry = out["students"][student]
            log(f"  {student}: {entry['score']:g}/{entry['max_score']:g} {entry['status']}"
                + (f" ({len(entry['flags'])} flag(s))" if entry["flags"] else ""))
    return out


def _run_pool(jobs, workers, stage, log):
    """Yield (student, outcome) for every job; a crashed worker costs only its current student,
    who is retried once in a fresh pool."""
    pending = dict(jobs)
    attempts = {student: 0 for student in jobs}
    while pending:
        context = multiprocessing.get_context("spawn")
        pool = concurrent.futures.ProcessPoolExecutor(workers, mp_context=context,
                                                      initializer=_worker_start, initargs=(stage,))
        futures = {pool.submit(_worker_grade, student, *job): student for student, job in pending.items()}
        broken = False
        for future in concurrent.futures.as_completed(futures):
            student = futures[future]
            try:
                outcome = future.result()
            except concurrent.futures.process.BrokenProcessPool:
                broken = True
                continue
            except Exception as error:  # noqa: BLE001 - a bug must not stop the batch
                outcome = {"error": f"grading failed: {type(error).__name__}: {error}"}
            del pending[student]
            yield student, outcome
        pool.shutdown(wait=True, cancel_futures=True)
        if broken:  # we cannot tell which job killed the worker: each pending one gets 3 tries
            for student in list(pending):
                attempts[student] += 1
                if attempts[student] >= 3:
                    del pending[student]
                    yield student, {"error": "grading crashed (a worker process died) three times"}
            log(f"  a worker process died; retrying {len(pending)} submission(s)")


def _commit(root, config, url, lesson, student, outcome):
    """Move one student's graded files into place and record the scores (main process)."""
    released = notebooks.read(release_notebook(lesson, root))
    if "error" in outcome:
        result = results.failed(released, outcome["error"])
    else:
        result = outcome["result"]
        for kind, directory in (("autograded", config.CourseDirectory.autograded_directory),
                                ("feedback", config.CourseDirectory.feedback_directory)):
            if outcome.get(kind):
                _replace_tree(Path(outcome[kind]), Path(root) / directory / student / lesson)
    gradebook.record(url, lesson, student, result, outcome.get("timestamp"))
    for kind in ("autograded", "feedback"):
        if outcome.get(kind):
            shutil.rmtree(outcome[kind], ignore_errors=True)
    return result


def _replace_tree(new, target):
    """Put ``new`` at ``target``, keeping the old ``target`` until the new one is in place."""
    target.parent.mkdir(parents=True, exist_ok=True)
    incoming = target.with_name(f".{target.name}.incoming")
    outgoing = target.with_name(f".{target.name}.previous")
    shutil.rmtree(incoming, ignore_errors=True)
    shutil.copytree(new, incoming)
    if target.exists():
        shutil.rmtree(outgoing, ignore_errors=True)
        target.rename(outgoing)
    incoming.rename(target)
    shutil.rmtree(outgoing, ignore_errors=True)


# --- in the worker processes ------------------------------------------------------------------------

_WORKER = {}


def _worker_start(stage):
    """Each worker: a private course folder, its own kernelspec and runtime dir; a subreaper, so
    anything a student's code leaves behind is re-parented here and can be killed."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
    home = Path(tempfile.mkdtemp(prefix="worker-", dir=stage))
    runtime, kernels = home / "runtime", home / "kernels"
    runtime.mkdir()
    kernels.mkdir()
    os.environ["JUPYTER_RUNTIME_DIR"] = str(runtime)
    os.environ["JUPYTER_PATH"] = str(home / "jupyter")
    os.environ["TMPDIR"] = str(runtime)  # nbclient writes kernel connection files to a temp file
    tempfile.tempdir = None
    warnings.filterwarnings("ignore", module="nbgrader")  # SQLAlchemy chatter from nbgrader's gradebook
    policy = sandbox.Policy(workdir=str(kernels / "kernel"), sockets=[str(runtime)],
                            log=str(home / "kernels.log"),
                            seed_files=sandbox.matplotlib_font_cache(),
                            env={"NBGRADER_EXECUTION": "autograde", "BPCOURSE_HEADLESS": "1"},
                            limits=sandbox.Limits(cpu_seconds=600, memory_bytes=3 * 1024 ** 3))
    argv = sandbox.command_line(policy, [sys.executable, "-I", "-m", "ipykernel_launcher", "-f",
                                         "{connection_file}"])
    spec = home / "jupyter" / "kernels" / KERNEL_NAME
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({"argv": argv, "display_name": "sandboxed Python",
                                                  "language": "python"}))
    _WORKER.update(home=home, kernels=kernels)


def _worker_grade(student, folder, lesson, root, template, insecure, timeouts):
    home = _WORKER["home"]
    course = home / "course"
    try:
        return _grade_student(student, Path(folder), lesson, Path(root), Path(template), course,
                              insecure, timeouts)
    except submission.SubmissionError as error:
        return {"error": str(error)}
    finally:
        _kill_leftovers()
        for path in (course / "submitted", course / "autograded", course / "feedback"):
            shutil.rmtree(path / student, ignore_errors=True)
        shutil.rmtree(_WORKER["kernels"], ignore_errors=True)
        _WORKER["kernels"].mkdir(exist_ok=True)


def _grade_student(student, folder, lesson, root, template, course, insecure, timeouts):
    released = notebooks.read(release_notebook(lesson, root))
    path, flags = submission.find_notebook(folder, lesson)
    loaded = submission.load(path, lesson, released)
    flags += loaded.flags
    verdict = trusted.grade_cells(lesson, loaded.cells, insecure=insecure, timeouts=timeouts)
    result = results.graded(released, verdict, flags)
    for name, cell in result["cells"].items():
        if name in loaded.claimed_passes and cell["score"] < cell["max_score"]:
            result["flags"].append(f"the submitted notebook shows test {name!r} passing, but the "
                                   "grader's checks fail (an edited output, or code changed after)")

    # nbgrader's own autograde and feedback, in this worker's private copy of the course.
    db = course / "gradebook.db"
    if not db.exists():
        course.mkdir(parents=True, exist_ok=True)
        shutil.copy(template, db)
    target = course / "submitted" / student / lesson
    target.mkdir(parents=True, exist_ok=True)
    notebooks.write(loaded.notebook, target / f"{lesson}.ipynb")
    timestamp = _timestamp(folder, result["flags"])
    if timestamp:
        (target / "timestamp.txt").write_text(timestamp)
    api = _api(root, course, db)
    # nbgrader answers a timed-out cell and goes on without stopping the kernel, so a loop that
    # ignores interrupts makes every later cell wait out its timeout: past the budget, kill it.
    budget = (timeouts or trusted.Timeouts()).notebook
    watchdog = threading.Timer(budget, _kill_leftovers)
    watchdog.start()
    try:
        run = api.autograde(lesson, student, force=True, create=True)
    finally:
        watchdog.cancel()
    autograded = course / "autograded" / student / lesson / f"{lesson}.ipynb"
    in_kernel = _in_kernel_scores(db, lesson, student)
    if not run["success"] or not autograded.is_file():
        result["flags"].append("nbgrader could not run the whole notebook (a cell timed out or the "
                               "kernel died); the feedback shows what ran")
        autograded.parent.mkdir(parents=True, exist_ok=True)
        if not autograded.is_file():
            notebooks.write(loaded.notebook, autograded)
    for name, cell in result["cells"].items():
        kernel_score = in_kernel.get(name)
        if kernel_score is not None and (kernel_score > 0) != (cell["score"] > 0):
            said = "passed" if kernel_score > 0 else "failed"
            result["flags"].append(f"{name}: the notebook's own test {said} but the trusted check "
                                   f"{'passed' if cell['score'] > 0 else 'failed'}"
                                   + (" (were the tests tampered with?)" if kernel_score > 0 else ""))
    _annotate(autograded, result)
    gradebook.record(f"sqlite:///{db}", lesson, student, result, timestamp)
    feedback = api.generate_feedback(lesson, student, force=True)
    if not feedback["success"]:
        result["flags"].append("nbgrader could not generate the feedback HTML")
    # Hand the files over outside this worker's course folder, which is emptied for the next student.
    handover = _WORKER["home"].parent / "out" / student
    shutil.rmtree(handover, ignore_errors=True)
    shutil.copytree(autograded.parent, handover / "autograded")
    feedback_dir = course / "feedback" / student / lesson
    if feedback_dir.is_dir():
        shutil.copytree(feedback_dir, handover / "feedback")
    return {"result": result, "timestamp": timestamp, "autograded": str(handover / "autograded"),
            "feedback": str(handover / "feedback") if feedback_dir.is_dir() else None}


def _api(root, course, db):
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    config = nbgrader_config(root, **{
        "CourseDirectory.root": str(course), "CourseDirectory.submitted_directory": "submitted",
        "CourseDirectory.autograded_directory": "autograded",
        "CourseDirectory.feedback_directory": "feedback", "CourseDirectory.db_url": f"sqlite:///{db}",
        "Execute.kernel_name": KERNEL_NAME, "KernelManager.transport": "ipc",
        # an absolute socket prefix: jupyter_client's default ("kernel-ipc") is relative, and the
        # sandboxed kernel's working directory is not the worker's
        "KernelManager.ip": os.path.join(os.environ.get("JUPYTER_RUNTIME_DIR", str(course)), "kernel")})
    return NbGraderAPI(CourseDirectory(config=config), config=config)


def _in_kernel_scores(db, lesson, student):
    """{grade cell: score} as nbgrader's in-kernel tests gave them (before trusted scores)."""
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(f"sqlite:///{db}") as gb:
        try:
            sub = gb.find_submission(lesson, student)
        except MissingEntry:
            return {}
        return {g.name: g.auto_score for nb in sub.notebooks for g in nb.grades
                if g.auto_score is not None}


def _annotate(path, result):
    """Append the trusted verdict to each test cell's outputs; cap huge outputs."""
    nb = notebooks.read(path)
    for cell in nb.cells:
        meta = notebooks.nbgrader_meta(cell) or {}
        for output in cell.get("outputs", []):
            for key in ("text",):
                if isinstance(output.get(key), str) and len(output[key]) > MAX_OUTPUT_CHARS:
                    output[key] = output[key][:MAX_OUTPUT_CHARS] + "\n[... output truncated ...]"
        verdict = result["cells"].get(meta.get("grade_id")) if meta.get("grade") else None
        if verdict is not None and cell.cell_type == "code":
            import nbformat

            mark = "\u2714" if verdict["score"] == verdict["max_score"] else "\u2718"
            cell.outputs.append(nbformat.v4.new_output(
                "stream", name="stdout",
                text=f"\n[grader, checked outside your notebook] {mark} "
                     f"{verdict['score']:g}/{verdict['max_score']:g}\n{verdict['message']}\n"))
    notebooks.write(nb, path)


def _timestamp(folder, flags):
    path = Path(folder) / "timestamp.txt"
    if not path.is_file():
        return None
    from nbgrader.utils import parse_utc

    text = path.read_text(errors="replace").strip()[:100]
    try:
        parse_utc(text)
    except Exception:  # noqa: BLE001 - any unparsable timestamp
        flags.append(f"timestamp.txt is not a date ({text!r}); ignored")
        return None
    return text


def _kill_leftovers():
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


def format_summary(out):
    rows = [("student", "score", "status", "flags")]
    for student, r in out["students"].items():
        rows.append((student, f"{r['score']:g}/{r['max_score']:g}", r["status"], str(len(r["flags"]))))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    return "\n".join("  ".join(v.ljust(w) for v, w in zip(row, widths)) for row in rows)


def main(args):
    try:
        out = grade(args.lesson, args.submissions, args.workers, insecure=args.insecure,
                    log=(lambda *a: print(*a, file=sys.stderr)) if args.json else print)
    except CourseError:
        raise
    except Exception:  # noqa: BLE001 - an unexpected bug: say so clearly, keep the traceback
        traceback.print_exc()
        raise CourseError("grading stopped by an internal error (see above); already graded "
                          "students are recorded") from None
    if args.json:
        print(json.dumps(out, indent=1))
    else:
        print(format_summary(out))
    return 0 if all(r["status"] == "graded" for r in out["students"].values()) else 1
