"""Reading a submissions folder without following links (autograder/files.py): each kind of
path a student can plant is refused, and what is read is bounded."""

import os
import resource
import stat
import struct

import pytest

from autograder import files

LESSON = "01-forward-pass"


@pytest.fixture
def submissions(tmp_path):
    folder = tmp_path / "submitted"
    (folder / "ann" / LESSON).mkdir(parents=True)
    (folder / "ann" / LESSON / f"{LESSON}.ipynb").write_text('{"cells": [], "nbformat": 4}')
    (tmp_path / "secret.ipynb").write_text('{"cells": ["SECRET"], "nbformat": 4}')
    return folder


def read(submissions, student="ann"):
    return files.read_submission(submissions, student, LESSON)


def test_a_plain_submission_is_read(submissions):
    found = read(submissions)
    assert found.problem == "" and found.notebook == b'{"cells": [], "nbformat": 4}'


def test_a_symlinked_notebook_is_refused(submissions):
    notebook = submissions / "ann" / LESSON / f"{LESSON}.ipynb"
    notebook.unlink()
    notebook.symlink_to(submissions.parent / "secret.ipynb")
    found = read(submissions)
    assert "symbolic link" in found.problem and found.notebook is None


def test_a_hard_link_is_refused(submissions):
    notebook = submissions / "ann" / LESSON / f"{LESSON}.ipynb"
    notebook.unlink()
    os.link(submissions.parent / "secret.ipynb", notebook)
    assert "hard link (2 names" in read(submissions).problem


@pytest.mark.parametrize("where", ["student", "lesson"])
def test_a_symlinked_folder_is_refused(submissions, where):
    (submissions / "eve").symlink_to(submissions / "ann") if where == "student" else None
    if where == "lesson":
        (submissions / "eve").mkdir()
        (submissions / "eve" / LESSON).symlink_to(submissions / "ann" / LESSON)
    found = read(submissions, "eve")
    assert "symbolic link" in found.problem and "not followed" in found.problem


def test_a_fifo_notebook_is_refused_without_blocking(submissions):
    notebook = submissions / "ann" / LESSON / f"{LESSON}.ipynb"
    notebook.unlink()
    os.mkfifo(notebook)
    assert "FIFO" in read(submissions).problem  # O_NONBLOCK: no writer, no wait


@pytest.mark.skipif(os.geteuid() != 0, reason="making a device node needs root")
def test_a_device_is_refused(submissions):
    notebook = submissions / "ann" / LESSON / f"{LESSON}.ipynb"
    notebook.unlink()
    os.mknod(notebook, stat.S_IFCHR | 0o666, os.makedev(1, 5))  # /dev/zero
    assert "a device" in read(submissions).problem


def test_an_oversized_notebook_is_refused_without_reading_it(submissions):
    notebook = submissions / "ann" / LESSON / f"{LESSON}.ipynb"
    with open(notebook, "wb") as file:
        file.truncate(4 * 1024 ** 3)  # 4 GB, sparse
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    found = read(submissions)
    assert "the limit is 20 MB" in found.problem
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 50 * 1024  # kB


def test_side_files_read_only_their_first_bytes(submissions, tmp_path):
    folder = submissions / "ann" / LESSON
    with open(folder / "timestamp.txt", "wb") as file:
        file.write(b"2026-11-20 10:00:00")
        file.truncate(2 * 1024 ** 3)  # 2 GB, sparse
    import nbgrader.utils  # noqa: F401 - imported first, so its memory is not counted below

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    assert read(submissions).timestamp == "2026-11-20 10:00:00"
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 50 * 1024  # kB
    (folder / "timestamp.txt").write_bytes(b"\x1b[2J=cmd|' /C calc'!A0")
    found = read(submissions)
    assert found.timestamp is None and "not a date" in "\n".join(found.flags)
    # a "time zone" that is a path: nbgrader's parse_utc would read that file as a zone file
    # a valid TZif file of one zone, written by the student: harmless here, but its counts could
    # claim 10^9 entries, which dateutil would allocate in the grader
    zone = tmp_path / "zone"
    zone.write_bytes(struct.pack(">4sc15x6l", b"TZif", b"\0", 0, 0, 0, 0, 1, 4)
                     + struct.pack(">lbb", 0, 0, 0) + b"UTC\0")
    (folder / "timestamp.txt").write_text(f"2026-11-20 10:00:00 {zone}")
    found = read(submissions)
    assert found.timestamp is None and "not a date" in "\n".join(found.flags)


def test_many_files_beside_the_notebook_are_listed_within_a_bound(submissions):
    folder = submissions / "ann" / LESSON
    for i in range(files.MAX_ENTRIES + 10):
        (folder / f"junk{i:05d}.txt").write_text("")
    found = read(submissions)
    assert found.problem == "" and found.flags[0].endswith(", ...")


def test_names_in_flags_are_printable(submissions):
    (submissions / "ann" / LESSON / "evil\nname\x1b[31m.py").write_text("")
    flag = read(submissions).flags[0]
    assert "\n" not in flag and "\x1b" not in flag and "evil\\nname" in flag
