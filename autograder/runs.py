"""One grading run at a time per course, and a scratch folder that never outlives a run.

``course_lock(root)`` takes an exclusive ``flock`` on ``autograder/.grading.lock`` (the kernel
drops it when the process dies, even by SIGKILL); a second ``bpcourse grade`` on the same course
says it is waiting and waits. ``stage(root)`` makes the run's scratch folder (short paths in the
system's temp directory: Unix socket paths are limited to 108 bytes) and records it in
``autograder/.staging/``; a run that was killed leaves its record behind, and the next run, which
holds the lock, removes the folder it names (after checking it is a real folder of ours).
"""

import contextlib
import fcntl
import json
import os
import shutil
import stat
import tempfile
import time
from pathlib import Path

PREFIX = "bpcourse-grade-"


@contextlib.contextmanager
def course_lock(root, log=print, what="grading"):
    """Hold the course's grading lock for the duration of the ``with`` block."""
    path = Path(root) / "autograder" / ".grading.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 200, 0).decode(errors="replace").strip() or "another process"
            log(f"another {what} run holds this course's lock ({holder}); waiting for it to finish")
            start = time.monotonic()
            fcntl.flock(fd, fcntl.LOCK_EX)
            log(f"the other run finished after {time.monotonic() - start:.0f} s; {what} now")
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()}, since {time.strftime('%H:%M:%S')}".encode(), 0)
        yield
    finally:
        os.close(fd)  # releases the lock


def _records(root):
    return Path(root) / "autograder" / ".staging"


def remove_stale(root, log=print):
    """Remove the scratch folders of runs that were killed (call with the lock held). Returns how
    many were removed."""
    records = _records(root)
    removed = 0
    if not records.is_dir():
        return 0
    for record in records.glob("*.json"):
        try:
            folder = json.loads(record.read_text())["folder"]
            info = os.lstat(folder)
            ours = (stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid()
                    and Path(folder).name.startswith(PREFIX)
                    and Path(folder).parent == Path(tempfile.gettempdir()))
            if ours:
                shutil.rmtree(folder, ignore_errors=True)
                removed += 1
        except (OSError, ValueError, KeyError):
            pass
        record.unlink(missing_ok=True)
    if removed:
        log(f"removed {removed} scratch folder(s) left by a grading run that was killed")
    return removed


@contextlib.contextmanager
def stage(root):
    """A fresh scratch folder for this run (a Path), recorded until the run ends."""
    folder = Path(tempfile.mkdtemp(prefix=PREFIX))
    records = _records(root)
    records.mkdir(parents=True, exist_ok=True)
    record = records / f"{os.getpid()}-{folder.name}.json"
    record.write_text(json.dumps({"folder": str(folder), "pid": os.getpid()}))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        record.unlink(missing_ok=True)
