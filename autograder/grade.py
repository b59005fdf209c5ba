"""``bpcourse grade LESSON``: grade every submission; the recorded score is the trusted one.

In the main process, holding the course's grading lock (:mod:`autograder.runs`):

1. every folder of the submissions directory is either taken as a student's submission or named
   in the summary with the reason it was skipped (hidden folders, files, students without this
   lesson); links are never followed (:mod:`autograder.files`): a submission that is, or sits
   behind, a link gets status "failed" and score 0;
2. each submission's notebook is read (bounded, no links) and sent, as bytes, to a worker
   (:mod:`autograder.worker`): a local pool of processes (:mod:`autograder.pool`), or a Dask
   cluster;
3. one student at a time, the autograded notebook and the feedback page are put in place
   (replacing the previous ones only once the new ones are complete) and the scores recorded in
   the gradebook in one transaction, keeping every manual grade (:mod:`autograder.gradebook`).

Student submissions are only ever read. A submission that cannot be graded gets status "failed",
score 0 and the reason in its flags; the batch always goes on.
"""

import json
import os
import shutil
import sys
import tempfile
import traceback
from pathlib import Path

from autograder import files, gradebook, notebooks, pool, results, runs, sandbox, worker
from autograder.course import REPO, CourseError, nbgrader_config, release_notebook, source_notebook

MAX_STUDENT_ID = 128  # nbgrader's gradebook stores student ids as VARCHAR(128)


def discover(submissions, lesson):
    """``(students, skipped)``: {student id: None} for each folder holding a ``lesson`` folder
    (or a link where one should be, graded as failed), and {name: reason} for every other entry."""
    submissions = Path(submissions)
    try:
        root = files.open_folder(str(submissions))
    except (OSError, files.UnsafeFile) as error:
        raise CourseError(f"cannot read the submissions folder {submissions}: {error}") from None
    students, skipped = {}, {}
    try:
        listed, more = files.entries(root, limit=100_000)
        if more:
            raise CourseError(f"{submissions} holds more than 100,000 entries")
        for name, info in listed:
            problem = _unusable_id(name)
            if problem:
                skipped[name] = problem
            elif name.startswith("."):
                skipped[name] = ("hidden (the name starts with '.'); nbgrader does not treat it as a "
                                 "student either: rename it to grade it")
            elif files.stat.S_ISLNK(info.st_mode):
                students[name] = None  # graded as failed: a link is not followed
            elif not files.stat.S_ISDIR(info.st_mode):
                skipped[name] = f"not a folder ({files.kind(info.st_mode, info.st_nlink)})"
            else:
                folder = files.open_folder(name, root)
                try:
                    os.stat(lesson, dir_fd=folder, follow_symlinks=False)
                    students[name] = None
                except OSError:
                    skipped[name] = f"no {lesson} folder (nothing submitted for this lesson)"
                finally:
                    os.close(folder)
    finally:
        os.close(root)
    if not students:
        raise CourseError(f"no submissions of {lesson} in {submissions} (expected "
                          f"{submissions}/<student>/{lesson}/{lesson}.ipynb)"
                          + (f"; skipped: {', '.join(files._printable(n) for n in sorted(skipped)[:5])}"
                             if skipped else ""))
    return students, skipped


def _unusable_id(name):
    """Why a folder name cannot be a student id in the gradebook, or ""."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return "the name is not valid UTF-8 text, which the gradebook cannot store: rename it"
    if len(name) > MAX_STUDENT_ID:
        return (f"the name is {len(name)} characters long; the gradebook stores student ids of at most "
                f"{MAX_STUDENT_ID}: rename it")
    return ""


def student_id_flags(student):
    """Flags for a student id that would be dangerous in a spreadsheet or a CSV row."""
    flags = []
    if any(not c.isprintable() for c in student) or "," in student:
        flags.append(f"the student id {files._printable(student)!s} contains control characters, "
                     "line breaks or commas: check it (the CSV export quotes it safely)")
    if student[:1] in ("=", "+", "-", "@", "\t", "\r"):
        flags.append(f"the student id {files._printable(student)!s} starts with "
                     f"{student[:1]!r}, which spreadsheets read as a formula (the CSV export "
                     "neutralises it)")
    if ";" in student:
        flags.append(f"the student id {files._printable(student)!s} contains ';', a column separator "
                     "in some spreadsheets (the CSV export quotes every field)")
    return flags


def grade(lesson, submissions=None, workers=None, root=REPO, insecure=False, log=print,
          timeouts=None, reset_manual=False, scheduler=None):
    """Grade every submission of ``lesson``; return ``{"lesson", "students", "skipped",
    "manual_grades_kept", "isolation"}`` (the shape ``--json`` prints).

    ``timeouts`` (:class:`autograder.trusted.Timeouts`) bound the trusted run of each submission;
    ``reset_manual`` clears the manual grades a re-grade would otherwise keep; ``scheduler``: the
    address of a Dask scheduler to grade on (:mod:`autograder.distributed`) instead of locally.
    """
    root = Path(root)
    source_notebook(lesson, root)  # a clear error for an unknown lesson
    if not release_notebook(lesson, root).is_file():
        raise CourseError(f"lessons/{lesson} has not been released: run `bpcourse release {lesson}`")
    caps = sandbox.capabilities()
    if not caps.isolated and not insecure and not scheduler:  # on Dask, each worker checks its own
        raise CourseError(f"this machine cannot isolate student code: {caps.describe()}. "
                          "--insecure grades anyway (only for notebooks you trust).")
    config = nbgrader_config(root)
    default = Path(root) / config.CourseDirectory.submitted_directory
    submissions = Path(submissions) if submissions else default
    url = config.CourseDirectory.db_url
    with runs.course_lock(root, log):
        runs.remove_stale(root, log)
        students, skipped = discover(submissions, lesson)
        gradebook.ensure_lesson(lesson, url, root)
        isolation = caps.describe() if caps.isolated else "NONE (--insecure)"
        if scheduler:
            isolation = "checked by each Dask worker" + ("; --insecure: one without grades anyway"
                                                         if insecure else "")
        log(f"grading {len(students)} submission(s) of {lesson}"
            + (f" on the Dask cluster at {scheduler}" if scheduler else
               f" with {max(1, min(workers or os.cpu_count() or 1, len(students)))} worker(s)")
            + f"; isolation: {isolation}")
        for name, reason in skipped.items():
            log(f"  skipped {files._printable(name)}: {reason}")
        out = {"lesson": lesson, "isolation": isolation, "students": {}, "skipped": skipped,
               "manual_grades_kept": 0}
        released = notebooks.read(release_notebook(lesson, root))
        jobs, failed = {}, {}
        for student in students:
            read = files.read_submission(submissions, student, lesson)
            flags = student_id_flags(student) + read.flags
            if read.problem:
                failed[student] = ({"error": read.problem}, read.timestamp, flags)
            else:
                jobs[student] = (lesson, str(root), read.notebook_name, read.notebook, read.timestamp,
                                 flags, timeouts)
        for student, (outcome, timestamp, flags) in failed.items():
            _record(out, root, config, url, lesson, student, outcome, timestamp, flags, released,
                    reset_manual, log)
        with runs.stage(root) as stage:
            if scheduler:
                from autograder import distributed

                outcomes = distributed.run(jobs, scheduler, log, insecure=insecure)
            else:
                outcomes = pool.run(jobs, max(1, min(workers or os.cpu_count() or 1, max(1, len(jobs)))),
                                    worker.grade, initializer=worker.start,
                                    initargs=(str(stage), insecure), log=log)
            try:
                for student, outcome in outcomes:
                    timestamp, flags = jobs[student][4], jobs[student][5]
                    _record(out, root, config, url, lesson, student, outcome, timestamp, flags, released,
                            reset_manual, log)
            finally:
                outcomes.close()  # now, not when collected: the workers (or the Dask client) go
        if scheduler:
            out["isolation"] = outcomes.isolation
    if out["manual_grades_kept"]:
        log(f"kept {out['manual_grades_kept']} manual grade(s) entered in the formgrader "
            "(--reset-manual clears them)")
    return out


def _record(out, root, config, url, lesson, student, outcome, timestamp, flags, released,
            reset_manual, log):
    """Put one student's files in place and record the scores (main process, one at a time)."""
    if "error" in outcome:
        result = results.failed(released, outcome["error"], [f for f in flags if f != outcome["error"]])
    else:
        result = outcome["result"]
        for kind, directory in (("autograded", config.CourseDirectory.autograded_directory),
                                ("feedback", config.CourseDirectory.feedback_directory)):
            contents = {name.split("/", 1)[1]: data for name, data in outcome.get("files", {}).items()
                        if name.startswith(kind + "/")}
            if contents:
                _replace_tree(contents, Path(root) / directory / student / lesson)
    try:
        kept = gradebook.record(url, lesson, student, result, timestamp, reset_manual=reset_manual)
    except Exception as error:  # noqa: BLE001 - one student's record must not stop the batch
        out["skipped"][student] = (f"graded, but the gradebook refused the record "
                                   f"({type(error).__name__}: {str(error).splitlines()[0][:200]})")
        log(f"  {files._printable(student)}: NOT RECORDED: {out['skipped'][student]}")
        return
    out["manual_grades_kept"] += kept
    if kept:
        result["flags"].append(f"{kept} manual grade(s) from the formgrader kept")
    out["students"][student] = result
    log(f"  {files._printable(student)}: {result['score']:g}/{result['max_score']:g} {result['status']}"
        + (f" ({len(result['flags'])} flag(s))" if result["flags"] else ""))


def _replace_tree(contents, target):
    """Put the files ``contents`` ({name: bytes}) at ``target``, keeping the old ``target`` until
    the new one is complete."""
    target.parent.mkdir(parents=True, exist_ok=True)
    incoming = Path(tempfile.mkdtemp(prefix=f".{target.name}.incoming-", dir=target.parent))
    for name, data in contents.items():
        if "/" in name or name in ("", ".", ".."):
            continue
        (incoming / name).write_bytes(data)
    outgoing = target.with_name(f".{target.name}.previous")
    if target.is_symlink():
        target.unlink()
    if target.exists():
        shutil.rmtree(outgoing, ignore_errors=True)
        target.rename(outgoing)
    incoming.rename(target)
    shutil.rmtree(outgoing, ignore_errors=True)


def format_summary(out):
    rows = [("student", "score", "status", "flags")]
    for student, r in out["students"].items():
        rows.append((files._printable(student), f"{r['score']:g}/{r['max_score']:g}", r["status"],
                     str(len(r["flags"]))))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = ["  ".join(v.ljust(w) for v, w in zip(row, widths)) for row in rows]
    for name, reason in out.get("skipped", {}).items():
        lines.append(f"skipped {files._printable(name)}: {reason}")
    return "\n".join(lines)


def main(args):
    try:
        out = grade(args.lesson, args.submissions, args.workers, insecure=args.insecure,
                    log=(lambda *a: print(*a, file=sys.stderr)) if args.json else print,
                    reset_manual=args.reset_manual,
                    scheduler=args.scheduler or os.environ.get("BPCOURSE_DASK_SCHEDULER"))
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
    recorded_all = not any(reason.startswith("graded, but") for reason in out["skipped"].values())
    return 0 if recorded_all and all(r["status"] == "graded" for r in out["students"].values()) else 1
