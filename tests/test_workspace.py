"""The learner's workspace (autograder/workspace.py, `bpcourse update`, `bpcourse lab`'s first start):
the released lessons copied outside git's tracked files, updates that never overwrite an edited
notebook, never lose a file and never write through a link.

Each test builds a small course in a temp folder (lessons/<lesson>/<lesson>.ipynb) and changes its
release the way `git pull` would.
"""

import json
import subprocess
import sys

import nbformat
import pytest

from autograder import cli, workspace
from autograder.course import REPO, CourseError


def lesson_notebook(*sources):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# A lesson")]
    nb.cells += [nbformat.v4.new_code_cell(source) for source in sources]
    for index, cell in enumerate(nb.cells):
        cell.id = f"cell-{index}"
    return nb


def release(course, lesson, *sources):
    """Write (or rewrite) the release of ``lesson`` in the temp course."""
    path = course / "lessons" / lesson / f"{lesson}.ipynb"
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(lesson_notebook(*sources), str(path))
    return path


def edit(path, cell, source):
    nb = nbformat.read(str(path), 4)
    nb.cells[cell].source = source
    nbformat.write(nb, str(path))


def run_cells(path):
    """What JupyterLab saves after the learner only ran the cells: outputs and counts, same code."""
    nb = nbformat.read(str(path), 4)
    for count, cell in enumerate(c for c in nb.cells if c.cell_type == "code"):
        cell.execution_count = count + 1
        cell.outputs = [nbformat.v4.new_output("stream", text=f"ran {count}\n")]
    nb.metadata["widgets"] = {"state": {}}
    nbformat.write(nb, str(path))


def tree(folder):
    """{relative path: bytes} of every file under ``folder``, the state folder included."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file()}


@pytest.fixture
def course(tmp_path):
    root = tmp_path / "course"
    release(root, "01-first", "def f():\n    raise NotImplementedError()")
    release(root, "02-second", "def g():\n    raise NotImplementedError()")
    return root


@pytest.fixture
def work(tmp_path):
    return tmp_path / "work"


def test_the_first_start_copies_every_lesson_and_a_second_changes_nothing(course, work):
    report = workspace.sync(work, course)
    assert report.created and report.added
    for lesson in ("01-first", "02-second"):
        ours = work / lesson / f"{lesson}.ipynb"
        assert ours.read_bytes() == (course / "lessons" / lesson / f"{lesson}.ipynb").read_bytes()
    assert (work / "progress.ipynb").is_file() and (work / "README.md").is_file()
    assert "bpcourse lab" in (work / "README.md").read_text()
    nbformat.validate(nbformat.read(str(work / "progress.ipynb"), 4))
    before = tree(work)
    again = workspace.sync(work, course)
    assert not again.created and not again.changed and not again.left_alone
    assert tree(work) == before
    assert "up to date" in str(again)


def test_an_unedited_notebook_follows_the_release_and_the_old_file_is_kept(course, work):
    workspace.sync(work, course)
    ours = work / "01-first" / "01-first.ipynb"
    run_cells(ours)  # opened and run, nothing written: not an edit
    ran = ours.read_bytes()
    new_release = release(course, "01-first", "def f():\n    raise NotImplementedError()", "# new cell")
    report = workspace.sync(work, course)
    assert report.updated == [("01-first/01-first.ipynb", ".bpcourse/previous/01-first/01-first.ipynb")]
    assert ours.read_bytes() == new_release.read_bytes()
    assert (work / ".bpcourse" / "previous" / "01-first" / "01-first.ipynb").read_bytes() == ran
    assert "you had not edited it" in str(report)


def test_an_edited_notebook_is_never_overwritten_and_the_new_release_goes_beside_it(course, work):
    workspace.sync(work, course)
    ours = work / "01-first" / "01-first.ipynb"
    edit(ours, 1, "def f():\n    return 42")
    mine = ours.read_bytes()

    # the release does not change: nothing happens
    assert not workspace.sync(work, course).changed
    assert ours.read_bytes() == mine

    # the release changes: mine stays, the new one is written beside it, once
    first = release(course, "01-first", "def f():\n    raise NotImplementedError()", "# version 2")
    report = workspace.sync(work, course)
    beside = work / "01-first" / "01-first.new.ipynb"
    assert report.offered == [("01-first/01-first.ipynb", "01-first/01-first.new.ipynb")]
    assert ours.read_bytes() == mine
    assert beside.read_bytes() == first.read_bytes()
    assert "you edited yours, which stays as it is" in str(report)
    assert not workspace.sync(work, course).changed

    # a third version: the unedited offer is refreshed in place
    second = release(course, "01-first", "def f():\n    raise NotImplementedError()", "# version 3")
    offered = workspace.sync(work, course).offered
    assert offered == [("01-first/01-first.ipynb", "01-first/01-first.new.ipynb")]
    assert beside.read_bytes() == second.read_bytes() and ours.read_bytes() == mine

    # the learner starts working in the offer: a fourth version goes to a new name
    edit(beside, 1, "def f():\n    return 43")
    edited_offer = beside.read_bytes()
    third = release(course, "01-first", "def f():\n    raise NotImplementedError()", "# version 4")
    report = workspace.sync(work, course)
    assert report.offered == [("01-first/01-first.ipynb", "01-first/01-first.new-2.ipynb")]
    assert (work / "01-first" / "01-first.new-2.ipynb").read_bytes() == third.read_bytes()
    assert ours.read_bytes() == mine and beside.read_bytes() == edited_offer


def test_a_notebook_the_learner_renamed_comes_back_fresh_and_new_lessons_arrive(course, work):
    workspace.sync(work, course)
    ours = work / "01-first" / "01-first.ipynb"
    edit(ours, 1, "def f():\n    return 42")
    renamed = ours.with_name("my attempt.ipynb")
    ours.rename(renamed)
    release(course, "03-third", "def h():\n    raise NotImplementedError()")
    report = workspace.sync(work, course)
    assert sorted(report.added) == ["01-first/01-first.ipynb", "03-third/03-third.ipynb"]
    assert "return 42" in renamed.read_text() and "return 42" not in ours.read_text()


def test_a_file_the_learner_put_where_a_lesson_goes_is_kept(course, work):
    (work / "01-first").mkdir(parents=True)
    theirs = work / "01-first" / "01-first.ipynb"
    theirs.write_text("not even JSON")
    report = workspace.sync(work, course)
    assert theirs.read_text() == "not even JSON"
    assert report.offered == [("01-first/01-first.ipynb", "01-first/01-first.new.ipynb")]


def test_links_are_never_written_through(course, work, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    work.mkdir()
    (work / "01-first").symlink_to(elsewhere, target_is_directory=True)
    (work / "02-second").mkdir()
    (work / "02-second" / "02-second.ipynb").symlink_to(tmp_path / "nowhere.ipynb")
    report = workspace.sync(work, course)
    assert list(elsewhere.iterdir()) == [] and not (tmp_path / "nowhere.ipynb").exists()
    left = dict(report.left_alone)
    assert "is a symbolic link" in left["01-first/01-first.ipynb"]
    assert "is a symbolic link" in left["02-second/02-second.ipynb"]
    assert "left alone 01-first/01-first.ipynb" in str(report)


def test_a_workspace_that_is_a_file_a_link_or_part_of_the_course_is_refused(course, tmp_path):
    a_file = tmp_path / "file"
    a_file.write_text("x")
    with pytest.raises(CourseError, match="is a file, not a folder"):
        workspace.sync(a_file, course)
    target = tmp_path / "real"
    target.mkdir()
    (tmp_path / "link").symlink_to(target, target_is_directory=True)
    with pytest.raises(CourseError, match=f"symbolic link .*--workspace {target}"):
        workspace.sync(tmp_path / "link", course)
    assert list(target.iterdir()) == []
    for inside in ("lessons", "lessons/01-first", "."):
        with pytest.raises(CourseError, match="a folder of the course itself"):
            workspace.sync(course / inside, course)


def test_the_default_workspace_is_work_and_git_ignores_it():
    assert workspace.resolve() == REPO / "work"
    done = subprocess.run(["git", "check-ignore", "-q", "work/01-forward-pass/01-forward-pass.ipynb"],
                          cwd=REPO)
    assert done.returncode == 0, "work/ is not git-ignored"


def test_the_digest_of_a_notebook_is_its_code_not_its_outputs(course, work):
    workspace.sync(work, course)
    ours = work / "01-first" / "01-first.ipynb"
    before = workspace.digest(ours.read_bytes(), ours.name)
    run_cells(ours)
    assert workspace.digest(ours.read_bytes(), ours.name) == before
    edit(ours, 1, "def f():\n    return 1")
    assert workspace.digest(ours.read_bytes(), ours.name) != before


def test_bpcourse_update_prints_what_it_did(work, capsys):
    """On the real course: every released lesson is copied, then nothing is left to do."""
    assert cli.main(["update", "--workspace", str(work)]) == 0
    out = capsys.readouterr().out
    count = len(workspace.released_lessons())
    assert count >= 10 and f"Your workspace: {work} (created)" in out
    assert f"copied {count} lesson notebooks" in out
    assert cli.main(["update", "--workspace", str(work)]) == 0
    assert "(up to date)" in capsys.readouterr().out
    assert cli.main(["update", "--workspace", str(work / "README.md")]) == 2
    assert "is a file, not a folder" in capsys.readouterr().err


def test_the_learner_lab_config_disables_nbgrader_and_the_news(work):
    folder = workspace.lab_config(work)
    page = json.loads((folder / "labconfig" / "page_config.json").read_text())
    assert page["disabledExtensions"]["@jupyter/nbgrader"] is True
    assert page["disabledExtensions"]["@jupyterlab/apputils-extension:announcements"] is True
    server = json.loads((folder / "jupyter_server_config.json").read_text())
    assert server["ServerApp"]["jpserver_extensions"]["nbgrader.server_extensions.formgrader"] is False


def test_bpcourse_help_has_no_literal_double_backticks():
    out = subprocess.run([sys.executable, "-m", "autograder.cli", "--help"], capture_output=True,
                         text=True, check=True, cwd=REPO).stdout
    assert "``" not in out
    for command in ("lab", "update", "progress"):
        assert command in out


def test_bpcourse_check_of_a_released_notebook_points_at_the_learners_copy(tmp_path, monkeypatch, capsys):
    """With a workspace, `bpcourse check lessons/...` (as the notebooks' first cell puts it) says
    that this is the release, and where the learner's own notebook is."""
    import autograder.check

    course = tmp_path / "course"
    released = release(course, "01-first", "x = 1")
    (course / "work").mkdir()
    monkeypatch.setattr(cli, "REPO", course)
    monkeypatch.setattr(autograder.check, "main", lambda args: 0)  # the check itself is not the point
    assert cli.main(["check", str(released)]) == 0
    assert capsys.readouterr().err == (f"note: {released} is the course's release, not your work; "
                                       f"yours is {course / 'work' / '01-first' / '01-first.ipynb'}\n")
    (course / "work").rmdir()
    assert cli.main(["check", str(released)]) == 0
    assert capsys.readouterr().err == ""


def test_bpcourse_lab_points_jupyter_at_the_workspace_and_the_learners_config(work, monkeypatch, capsys):
    """What `bpcourse lab` hands to JupyterLab (os.execve caught): the workspace as root, the
    learner's config first on JUPYTER_CONFIG_PATH, the user's own config folder untouched; and the
    instructor's Lab on the whole course, without the learner's config even when started from a
    terminal of the learner's Lab."""
    import os

    started = []
    monkeypatch.setattr(os, "execve", lambda path, argv, env: started.append((argv, env)))
    monkeypatch.setenv("JUPYTER_CONFIG_PATH", "/somewhere/else")
    monkeypatch.setenv("JUPYTER_CONFIG_DIR", "/the/users/own")
    assert cli.main(["lab", f"--workspace={work}", "--port=8890"]) == 0
    argv, env = started.pop()
    learner_config = work / ".bpcourse" / "jupyter"
    assert f"--ServerApp.root_dir={work}" in argv and argv[-1] == "--port=8890"
    assert env["JUPYTER_CONFIG_PATH"].split(os.pathsep) == [str(learner_config), "/somewhere/else"]
    assert env["JUPYTER_CONFIG_DIR"] == "/the/users/own"
    assert (learner_config / "labconfig" / "page_config.json").is_file()
    assert "Your work is saved in" in capsys.readouterr().out

    monkeypatch.setenv("JUPYTER_CONFIG_PATH", env["JUPYTER_CONFIG_PATH"])
    assert cli.main(["lab", "--instructor"]) == 0
    argv, env = started.pop()
    assert f"--ServerApp.root_dir={REPO}" in argv
    assert env["JUPYTER_CONFIG_PATH"] == "/somewhere/else"
