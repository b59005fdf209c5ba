"""Helpers for tests that execute or take apart the course's notebooks (always on temp copies)."""

import shutil
from pathlib import Path

import nbclient
import nbformat

from autograder import notebooks
from autograder.notebooks import SETUP_TAG, nbgrader_meta


def execute(path, workdir, timeout=120):
    """Execute a temp copy of the notebook at ``path`` in ``workdir``; errors stay in the outputs."""
    copy = Path(workdir) / Path(path).name
    shutil.copy(path, copy)
    nb = notebooks.read(copy)
    nbclient.NotebookClient(nb, allow_errors=True, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(workdir)}}).execute()
    return nb


def errors(cell):
    return [o for o in cell.get("outputs", []) if o.output_type == "error"]


def grade_id(cell):
    meta = nbgrader_meta(cell) or {}
    return meta.get("grade_id", "")


def is_test(cell):
    meta = nbgrader_meta(cell) or {}
    return bool(meta.get("grade")) and not meta.get("solution")


def is_answer(cell):
    return bool((nbgrader_meta(cell) or {}).get("solution"))


def is_setup(cell):
    return SETUP_TAG in cell.get("metadata", {}).get("tags", [])


def answer_sources(nb):
    """{exercise name: source of its solution cell} (grade_id "<name>-answer")."""
    return {grade_id(c).removesuffix("-answer"): c.source for c in nb.cells if is_answer(c)}


def namespace_for(nb, replace=None):
    """Execute a notebook's setup cells and answer cells (some ``replace``d) into a dict."""
    replace = replace or {}
    namespace = {}
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        if is_setup(cell):
            exec(compile(cell.source, "<setup>", "exec"), namespace)
        elif is_answer(cell):
            name = grade_id(cell).removesuffix("-answer")
            exec(compile(replace.get(name, cell.source), f"<answer {name}>", "exec"), namespace)
    return namespace


def filled_in(lesson, replace=None, root=None):
    """A realistic submission: the released notebook with the solution's answers filled in
    (``replace`` = {exercise: other source} for some of them)."""
    from autograder.course import REPO, release_notebook, source_notebook

    root = root or REPO
    answers = answer_sources(notebooks.read(source_notebook(lesson, root)))
    answers.update(replace or {})
    nb = notebooks.read(release_notebook(lesson, root))
    for cell in nb.cells:
        if is_answer(cell):
            cell.source = answers[grade_id(cell).removesuffix("-answer")]
    return nb


def copy_course(root, lessons=("01-forward-pass",), config=""):
    """A throwaway course at ``root`` (made if missing) for a test: ``solutions/`` and ``lessons/``
    of ``lessons``, the course's nbgrader configuration with ``config`` appended (Python lines such
    as ``"c.Execute.timeout = 5"``) and the root ``nbgrader_config.py`` that loads it, so nbgrader's
    own commands also run from ``root``. Returns ``root``."""
    from autograder.course import REPO

    root = Path(root)
    for lesson in lessons:
        for part in ("solutions", "lessons"):
            shutil.copytree(REPO / part / lesson, root / part / lesson)
    (root / "autograder").mkdir(parents=True, exist_ok=True)
    text = (REPO / "autograder" / "nbgrader_config.py").read_text()
    (root / "autograder" / "nbgrader_config.py").write_text(text + (f"\n{config}\n" if config else ""))
    shutil.copy(REPO / "nbgrader_config.py", root)
    return root


def code(source):
    """A code cell of the student's own."""
    return nbformat.v4.new_code_cell(source)


def after_setup(nb, *cells):
    """``nb`` with ``cells`` inserted right after its setup cell (the first code cell)."""
    at = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code") + 1
    nb.cells[at:at] = list(cells)
    return nb


def find_cell(nb, grade_id_):
    return next(c for c in nb.cells if grade_id(c) == grade_id_)
