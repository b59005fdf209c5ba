"""``nbgrader collect`` with the course's configuration (autograder/exchange.py): what students
put in the exchange is copied without following a link, and a submission time claimed before the
folder existed is replaced by the folder's ctime. On temp copies of the course and exchange.

Each attack below gave the instructor a wrong submission with nbgrader's own collect (run the
module with ``BPCOURSE_TEST_PLAIN_COLLECT=1`` to see them fail against it): the solution notebook
copied in as a student's, through a link to the file or to the folder; a hard link collected; a
submission time in January accepted as such; and one file in place of a submission folder stopped
the whole collection (every test fails against it).
"""

import datetime
import os
import shutil
import subprocess
import sys

import nbformat
import pytest
from notebook_tools import copy_course, filled_in

LESSON = "01-forward-pass"
pytestmark = pytest.mark.grading
CLAIMED = "2026-01-05 09:00:00.000000 UTC"  # long before any folder of this test existed


def inbound_folder(inbound, student, timestamp):
    folder = inbound / f"{student}+{LESSON}+{timestamp}+{student[:4]}"
    folder.mkdir()
    (folder / "timestamp.txt").write_text(timestamp)
    return folder


@pytest.fixture(scope="module")
def collected(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("exchange")
    root = copy_course(tmp / "course")
    solution = root / "solutions" / LESSON / f"{LESSON}.ipynb"
    inbound = tmp / "exchange" / "backprop" / "inbound"
    inbound.mkdir(parents=True)
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f UTC")

    honest = inbound_folder(inbound, "honest", now)
    nbformat.write(filled_in(LESSON, root=root), str(honest / f"{LESSON}.ipynb"))
    (honest / "notes").mkdir()
    (honest / "notes" / "todo.txt").write_text("ask about dW")
    # the notebook is a link to the instructor's solution (readable by the instructor's collect)
    os.symlink(solution, inbound_folder(inbound, "links_file", now) / f"{LESSON}.ipynb")
    # the submission folder itself is a link to the solutions' folder
    os.symlink(solution.parent, inbound / f"links_folder+{LESSON}+{now}+link")
    # a file where a submission folder should be
    (inbound / f"not_a_folder+{LESSON}+{now}+file").write_text("{}")
    # a hard link to a copy of the solution on the same file system
    spare = tmp / "spare.ipynb"
    shutil.copy(solution, spare)
    os.link(spare, inbound_folder(inbound, "hard_link", now) / f"{LESSON}.ipynb")
    # a submission that claims to have come in January
    early = inbound_folder(inbound, "early", CLAIMED)
    nbformat.write(filled_in(LESSON, root=root), str(early / f"{LESSON}.ipynb"))

    # one bad submission must cost only itself (red-team pass on this plugin)
    odd = inbound_folder(inbound, "dir_stamp", now)
    nbformat.write(filled_in(LESSON, root=root), str(odd / f"{LESSON}.ipynb"))
    (odd / "timestamp.txt").unlink()
    (odd / "timestamp.txt").mkdir()  # a folder where nbgrader's time should be
    zone = inbound_folder(inbound, "zone_path", now)  # a "time zone" that is a path to a file
    (zone / "timestamp.txt").write_text("2026-11-30 10:00:00 ../../../../etc/passwd")
    nbformat.write(filled_in(LESSON, root=root), str(zone / f"{LESSON}.ipynb"))
    (inbound / f"bad_time+{LESSON}+not-a-time+x").mkdir()
    os.symlink("/nonexistent", inbound / f"dangling+{LESSON}+{now}+x")
    (inbound / f"+{LESSON}+{now}+noid").mkdir()  # no student id: would become a student named LESSON
    sparse = inbound_folder(inbound, "sparse", now)
    for i in range(3):  # each under the per-file limit, together over the submission's
        with open(sparse / f"big{i}.bin", "wb") as file:
            file.truncate(20 * 1024 ** 2)

    extra = []
    if os.environ.get("BPCOURSE_TEST_PLAIN_COLLECT") == "1":
        extra = ["--ExchangeFactory.collect=nbgrader.exchange.default.collect.ExchangeCollect"]
    started = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
    done = subprocess.run([os.path.join(os.path.dirname(sys.executable), "nbgrader"), "collect", LESSON,
                           f"--Exchange.root={tmp / 'exchange'}", *extra],
                          cwd=root, capture_output=True, text=True)
    return {"root": root, "done": done, "solution": solution, "started": started,
            "submitted": root / "autograder" / "submitted"}


def notebook(collected, student):
    return collected["submitted"] / student / LESSON / f"{LESSON}.ipynb"


def test_an_honest_submission_is_collected_whole(collected):
    assert collected["done"].returncode == 0, collected["done"].stderr
    assert notebook(collected, "honest").is_file() and not notebook(collected, "honest").is_symlink()
    assert nbformat.read(str(notebook(collected, "honest")), 4).cells
    assert (collected["submitted"] / "honest" / LESSON / "notes" / "todo.txt").read_text() == "ask about dW"


def test_a_linked_notebook_is_copied_as_a_link_never_as_the_file_it_points_to(collected):
    path = notebook(collected, "links_file")
    assert path.is_symlink(), "the linked file's content was copied in"
    assert "links_file" in collected["done"].stderr and "symbolic link" in collected["done"].stderr


def test_a_linked_submission_folder_is_kept_as_a_link(collected):
    path = collected["submitted"] / "links_folder" / LESSON
    assert not path.is_symlink() and notebook(collected, "links_folder").is_symlink(), \
        "the folder the link points to was copied in"
    assert "links_folder" in collected["done"].stderr


def test_a_file_in_place_of_a_submission_folder_stops_nothing(collected):
    assert not (collected["submitted"] / "not_a_folder" / LESSON).exists()
    assert "not_a_folder" in collected["done"].stderr and collected["done"].returncode == 0
    assert notebook(collected, "honest").is_file()


def test_a_hard_link_is_left_out_with_a_warning(collected):
    assert not notebook(collected, "hard_link").exists()
    assert "hard link" in collected["done"].stderr


def test_a_submission_time_before_the_folder_existed_is_replaced_by_the_folders_ctime(collected):
    from nbgrader.utils import parse_utc

    stamp = parse_utc((collected["submitted"] / "early" / LESSON / "timestamp.txt").read_text())
    assert stamp >= collected["started"] - datetime.timedelta(minutes=10), stamp
    assert "claimed submission time 2026-01-05" in collected["done"].stderr
    # an honest time is kept as the student's submit wrote it
    honest = parse_utc((collected["submitted"] / "honest" / LESSON / "timestamp.txt").read_text())
    assert abs((honest - collected["started"]).total_seconds()) < 600


def test_one_bad_submission_costs_only_itself(collected):
    from autograder import exchange

    err = collected["done"].stderr
    assert collected["done"].returncode == 0, err
    # a folder named timestamp.txt, a zone that is a path: collected, with the folder's time
    for student in ("dir_stamp", "zone_path"):
        stamp = collected["submitted"] / student / LESSON / "timestamp.txt"
        assert notebook(collected, student).is_file() and stamp.is_file(), student
        assert "/" not in stamp.read_text(), stamp.read_text()
    # a name without a time, a dangling link, no student id: left out, each named in an error
    for name in ("bad_time", "dangling"):
        assert f"{name}+{LESSON}" in err and not (collected["submitted"] / name / LESSON).exists()
    assert not (collected["submitted"] / LESSON).exists(), "a student named after the lesson"
    # the submission's files together stay within the budget
    copied = sum(p.stat().st_size for p in (collected["submitted"] / "sparse" / LESSON).iterdir())
    assert copied <= exchange.MAX_BYTES and "big2.bin not collected" in err
