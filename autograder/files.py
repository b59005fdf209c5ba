"""Reading a folder of submissions without following a link or trusting a path from it.

Every path below the submissions folder is walked one name at a time with ``openat`` and
``O_NOFOLLOW`` (a directory file descriptor at each step), so nothing a student put there can
lead the grader outside the student's own folder: a symbolic link is refused where it is met
(ELOOP), whatever it points to, and there is no window between a check and the use of a path.
Files are opened with ``O_NONBLOCK`` (a FIFO cannot block the grader), checked with ``fstat`` on the
open descriptor (regular files only, one link: a hard link to ``solutions/`` has two; no devices),
and read up to a bound: a sparse multi-gigabyte file costs nothing.

The submissions folder itself is the instructor's (trusted); everything under it is not.
"""

import errno
import os
import re
import stat
from dataclasses import dataclass, field

MAX_NOTEBOOK_BYTES = 20 * 1024 ** 2
MAX_TIMESTAMP_BYTES = 200
MAX_ENTRIES = 1000           # names listed per folder: a folder of a million files is not read whole
EXCHANGE_FILES = {"timestamp.txt", "submission_secret.txt"}  # written by nbgrader's exchange
IGNORED = EXCHANGE_FILES | {".ipynb_checkpoints"}


class UnsafeFile(Exception):
    """A path of a submission that the grader refuses to use; the message says why."""


def kind(mode, links=1):
    """A few words for what a file is: "a symbolic link", "a FIFO", "a hard link (2 names)"..."""
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISREG(mode) and links > 1:
        return f"a hard link ({links} names for one file)"
    return "a regular file" if stat.S_ISREG(mode) else "not a regular file"


def open_folder(name, dir_fd=None):
    """A file descriptor of the folder ``name`` (relative to ``dir_fd``), never through a link.
    Raises UnsafeFile for a link or anything that is not a folder, FileNotFoundError if absent."""
    try:
        return os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=dir_fd)
    except OSError as error:
        if error.errno in (errno.ELOOP, errno.ENOTDIR):
            st = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
            raise UnsafeFile(f"{name!r} is {kind(st.st_mode, st.st_nlink)}, not a folder: "
                             "not followed") from None
        raise


def entries(dir_fd, limit=MAX_ENTRIES):
    """[(name, lstat result)] of a folder, sorted, at most ``limit`` (and whether there were more)."""
    names = []
    with os.scandir(dir_fd) as it:
        for entry in it:
            if len(names) == limit:
                return sorted(names), True
            try:
                names.append((entry.name, entry.stat(follow_symlinks=False)))
            except OSError:
                continue
    return sorted(names), False


def _open_own_file(name, dir_fd):
    """A descriptor of the regular file ``name`` in folder ``dir_fd`` and its ``fstat``; refuses
    a link, a hard link, a FIFO or a device (UnsafeFile). FileNotFoundError if absent."""
    try:
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC,
                     dir_fd=dir_fd)
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise UnsafeFile(f"{name} is a symbolic link: not followed") from None
        raise
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode) or st.st_nlink != 1:
        os.close(fd)
        raise UnsafeFile(f"{name} is {kind(st.st_mode, st.st_nlink)}, not a file of its own: refused")
    return fd, st


def read_file(name, dir_fd, max_bytes):
    """The bytes of the regular file ``name`` in folder ``dir_fd`` (see :func:`_open_own_file`);
    a file over ``max_bytes`` is refused (UnsafeFile) without being read."""
    fd, st = _open_own_file(name, dir_fd)
    try:
        if st.st_size > max_bytes:
            raise UnsafeFile(f"{name} is {st.st_size / 1024 ** 2:.1f} MB; the limit is "
                             f"{max_bytes / 1024 ** 2:.0f} MB")
        chunks, left = [], max_bytes + 1
        while left > 0:
            chunk = os.read(fd, min(left, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        data = b"".join(chunks)
        if len(data) > max_bytes:  # it grew while we read
            raise UnsafeFile(f"{name} is over the limit of {max_bytes / 1024 ** 2:.0f} MB")
        return data
    finally:
        os.close(fd)


def read_prefix(name, dir_fd, max_bytes):
    """At most the first ``max_bytes`` of a small side file (e.g. timestamp.txt), with the same
    refusals as :func:`read_file` but no size limit: only those bytes are read."""
    fd, _ = _open_own_file(name, dir_fd)
    try:
        return os.read(fd, max_bytes)
    finally:
        os.close(fd)


@dataclass
class SubmittedFiles:
    """What the grader takes from one ``<student>/<lesson>/`` folder: the notebook's bytes (None
    with ``problem`` saying why it cannot be graded), its timestamp, and flags about the folder."""
    notebook_name: str = ""
    notebook: bytes = None
    timestamp: str = None
    problem: str = ""
    flags: list = field(default_factory=list)


def read_submission(submissions, student, lesson):
    """Read ``submissions/<student>/<lesson>/`` without following any link (see module doc)."""
    out = SubmittedFiles()
    root = open_folder(str(submissions))
    folders = []
    try:
        try:
            folders.append(open_folder(student, root))
            folders.append(open_folder(lesson, folders[-1]))
        except UnsafeFile as error:
            out.problem = f"the submission folder {error}"
            return out
        except FileNotFoundError:
            out.problem = f"no {lesson} folder"
            return out
        folder = folders[-1]
        listed, more = entries(folder)
        notebooks = [(n, st) for n, st in listed if n.endswith(".ipynb")]
        extra = [n for n, st in listed if n not in IGNORED and not n.endswith(".ipynb")]
        if extra or more:
            shown = ", ".join(_printable(n) for n in extra[:10])
            shown += ", ..." if more or len(extra) > 10 else ""
            out.flags.append(f"files beside the notebook were ignored: {shown}")
        expected = f"{lesson}.ipynb"
        names = [n for n, _ in notebooks]
        if expected in names:
            chosen = expected
            if len(names) > 1:
                out.flags.append("other notebooks were ignored: "
                                 + ", ".join(_printable(n) for n in names if n != expected))
        elif len(names) == 1:
            chosen = names[0]
            out.flags.append(f"the notebook was renamed to {_printable(chosen)} (graded anyway)")
        elif not names:
            out.problem = f"no notebook in the {lesson} folder (expected {expected})"
            return out
        else:
            out.problem = (f"{len(names)} notebooks in the {lesson} folder and none is called {expected}: "
                           + ", ".join(_printable(n) for n in names[:10]))
            return out
        out.notebook_name = chosen
        try:
            out.notebook = read_file(chosen, folder, MAX_NOTEBOOK_BYTES)
        except UnsafeFile as error:
            out.problem = str(error)
        out.timestamp = _timestamp(folder, out.flags)
        return out
    finally:
        for fd in reversed(folders):
            os.close(fd)
        os.close(root)


def _timestamp(folder, flags):
    """nbgrader's timestamp.txt, validated, or None (with a flag if it is there but unusable)."""
    try:
        data = read_prefix("timestamp.txt", folder, MAX_TIMESTAMP_BYTES)
    except FileNotFoundError:
        return None
    except UnsafeFile as error:
        flags.append(str(error))
        return None
    text = data.decode("utf-8", errors="replace").split("\x00")[0].strip()
    try:
        parse_timestamp(text)
    except ValueError:
        flags.append(f"timestamp.txt is not a date ({_printable(text[:60])}); ignored")
        return None
    return text


# nbgrader's timestamp format (Exchange.timestamp_format) with a zone abbreviation of letters
# only: the text is the student's, and nbgrader's parse_utc hands the zone to dateutil's gettz,
# which reads any file path it is given as a time-zone file
TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{1,6})?( [A-Za-z]{1,5})?")


def parse_timestamp(text):
    """A submission time written by nbgrader (``2026-11-30 10:00:00.123456 UTC``) as a naive UTC
    datetime (nbgrader.utils.parse_utc); ValueError for anything else."""
    from nbgrader.utils import parse_utc

    if not TIMESTAMP.fullmatch(text):
        raise ValueError(f"not a submission time: {text[:60]!r}")
    try:
        return parse_utc(text)
    except Exception as error:  # noqa: BLE001 - dateutil's errors, whatever their class
        raise ValueError(f"not a submission time: {text[:60]!r} ({error})") from None


def _printable(text):
    """``text`` for a flag: control characters shown escaped, at most 80 characters."""
    shown = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
    return shown if len(shown) <= 80 else shown[:77] + "..."
