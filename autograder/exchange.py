"""``nbgrader collect`` without following a link: :class:`SafeCollect`, which the course's
nbgrader configuration sets (``c.ExchangeFactory.collect``).

nbgrader's own collect copies each submission out of the exchange with ``shutil.copytree``, which
follows symbolic links: a student who submits a link to a file only the instructor can read (the
solutions, say) has that file copied in as their notebook, by the instructor's own process. Here
each submission is copied one name at a time with :mod:`autograder.files` (``openat`` and
``O_NOFOLLOW``; regular files of one link, up to nbgrader's ``max_file_size``): a symbolic link is
copied as a link (never followed), so ``bpcourse grade`` refuses and flags it; a hard link, FIFO or
device is left out, with a warning naming the student and the file. A submission copies at most
:data:`MAX_BYTES` and :data:`MAX_NAMES` in all (sparse files cost the student nothing, the copy
would cost the instructor's disk), and one bad submission (a name without a time, a dangling
link, a failure while copying it) is logged and skipped: the others are collected.

The submission time is checked too. nbgrader takes it from the folder's name and the student's
``timestamp.txt``, both written by the student's own process; the folder's *ctime*, set by the
kernel and never moved back by a user, bounds it from below (the latest ctime of the folder and
of everything copied from it, so rewriting a file in place after the deadline shows). A
submission that claims a time more than :data:`TOLERANCE` seconds before that gets the ctime in
its ``timestamp.txt``, with a warning (late penalties then use the real time).

What this does not cover: which student submitted. On a shared exchange any user can write a
folder named after another; nbgrader warns when the folder's owner is not the student
(``CollectApp.check_owner``), which only helps where every student has a Unix account of their own.
See docs/instructor.md, "The workflow".
"""

import datetime
import fnmatch
import os
import shutil
import stat

from nbgrader.exchange.default.collect import ExchangeCollect

from autograder import files

TOLERANCE = 300      # seconds a claimed submission time may precede the folder's ctime
MAX_DEPTH = 8        # folders below a submission's own
MAX_BYTES = 50 * 1024 ** 2   # bytes copied per submission, all files together
MAX_NAMES = 2000             # files, folders and links copied per submission
TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S.%f UTC"  # nbgrader's (Exchange.timestamp_format), in UTC


class SafeCollect(ExchangeCollect):
    """nbgrader's collect, copying each submission without following links (see module doc).
    One bad submission costs only itself: a folder name that is not ``student+lesson+time+...``
    (with a time as nbgrader writes it), or any failure while copying it, is logged and skipped."""

    def _path_to_record(self, path):
        name = os.path.basename(path)
        parts = name.rsplit("+", 3)
        try:
            if len(parts) < 3 or not parts[0] or parts[0].startswith(".") or "/" in parts[0]:
                raise ValueError("not student+lesson+time")
            when = files.parse_timestamp(parts[2])
            return {"username": parts[0], "filename": name, "timestamp": when}
        except ValueError as error:  # kept apart from every student, and skipped in copy_files
            return {"username": f"\0{name}", "filename": name, "timestamp": datetime.datetime.min,
                    "refused": str(error)}

    def copy_files(self):
        records = self.src_records
        try:
            for record in records:
                shown = files._printable(record["filename"])
                if "refused" in record:
                    self.log.error(f"{shown} not collected: {record['refused']}")
                    continue
                self.src_records = [record]
                try:
                    super().copy_files()
                except Exception as error:  # noqa: BLE001 - one submission must not stop the rest
                    self.log.error(f"{shown} not collected: {type(error).__name__}: {error}")
        finally:
            self.src_records = records

    def do_copy(self, src, dest, log=None):
        log = log or self.log
        parent, name = os.path.split(os.path.normpath(src))
        parent_fd = files.open_folder(parent)  # the exchange's inbound folder: the instructor's
        try:
            info = os.stat(name, dir_fd=parent_fd, follow_symlinks=False)
            if stat.S_ISLNK(info.st_mode):
                # kept as the notebook's link inside a folder of its own: bpcourse grade refuses
                # and flags it, and a later `collect --update` can remove the folder
                os.makedirs(dest)
                os.symlink(os.readlink(name, dir_fd=parent_fd),
                           os.path.join(dest, f"{self.coursedir.assignment_id}.ipynb"))
                log.warning(f"{name} is a symbolic link: kept as a link, not followed "
                            "(bpcourse grade refuses it)")
                return
            folder = files.open_folder(name, parent_fd)
        except (files.UnsafeFile, OSError) as error:
            log.error(f"{name} not collected: {error}")
            return
        finally:
            os.close(parent_fd)
        budget = {"bytes": MAX_BYTES, "names": MAX_NAMES, "ctime": info.st_ctime}
        try:
            max_bytes = min(int(self.coursedir.max_file_size) * 1000, MAX_BYTES)  # nbgrader's unit: kB
            copy_folder(folder, dest, name, list(self.coursedir.ignore), max_bytes, log, budget)
        finally:
            os.close(folder)
        check_timestamp(dest, budget["ctime"], name, log)


def copy_folder(folder, dest, label, ignore, max_bytes, log, budget, depth=0):
    """Copy the folder open as ``folder`` (a descriptor) to the new path ``dest``: regular files
    and folders; links recreated as links; anything else left out with a warning naming it.
    ``budget``: {"bytes", "names"} left for the whole submission (spent here), and "ctime", raised
    to the latest change time of anything copied."""
    os.makedirs(dest)
    listed, more = files.entries(folder)
    if more:
        log.warning(f"{label}: more than {files.MAX_ENTRIES} names; the rest were not collected")
    for name, info in listed:
        shown = f"{label}/{name}"
        if any(fnmatch.fnmatch(name, pattern) for pattern in ignore):
            continue
        if budget["names"] <= 0:
            log.warning(f"{label}: more than {MAX_NAMES} names in the submission; the rest were not "
                        "collected")
            return
        budget["names"] -= 1
        budget["ctime"] = max(budget["ctime"], info.st_ctime)
        target = os.path.join(dest, name)
        try:
            if stat.S_ISLNK(info.st_mode):
                os.symlink(os.readlink(name, dir_fd=folder), target)
                log.warning(f"{shown} is a symbolic link: copied as a link, not followed")
            elif stat.S_ISDIR(info.st_mode):
                if depth >= MAX_DEPTH:
                    log.warning(f"{shown}: folders nested deeper than {MAX_DEPTH}: not collected")
                    continue
                below = files.open_folder(name, folder)
                try:
                    copy_folder(below, target, shown, ignore, max_bytes, log, budget, depth + 1)
                finally:
                    os.close(below)
            else:
                data = files.read_file(name, folder, min(max_bytes, budget["bytes"]))
                budget["bytes"] -= len(data)
                with open(target, "xb") as out:
                    out.write(data)
        except (files.UnsafeFile, OSError) as error:
            log.warning(f"{shown} not collected: {error}")


def check_timestamp(dest, ctime, label, log):
    """Put ``ctime`` (the latest change time of the submission's folder and of everything copied
    from it) in ``dest/timestamp.txt`` when the claimed time is missing, unreadable or more than
    :data:`TOLERANCE` seconds earlier."""
    real = datetime.datetime.fromtimestamp(ctime, datetime.timezone.utc).replace(tzinfo=None)  # as parse_utc
    path = os.path.join(dest, "timestamp.txt")
    claimed = None
    if os.path.isfile(path) and not os.path.islink(path):  # our own copy: a file of one link
        try:
            with open(path, encoding="utf-8") as file:
                claimed = files.parse_timestamp(file.read(files.MAX_TIMESTAMP_BYTES).strip())
        except (ValueError, UnicodeDecodeError):
            claimed = None
    if claimed is not None and (real - claimed).total_seconds() <= TOLERANCE:
        return
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path)
    elif os.path.lexists(path):
        os.remove(path)
    with open(path, "x", encoding="utf-8") as file:
        file.write(real.strftime(TIMESTAMP_FORMAT))
    log.warning(f"{label}: claimed submission time {claimed or 'missing or unreadable'}, but its folder "
                f"was last changed at {real:%Y-%m-%d %H:%M:%S} UTC: that time is used")
