"""Reading a student's submission without trusting it.

A submission is rebuilt from the lesson's released notebook (trusted): every read-only and test
cell comes from there, only the student's answers (matched by grade_id) and the cells they added
are taken from their file. Everything unusual is recorded as a flag for the instructor: edited,
deleted or retyped test cells, changed points, corrupted nbgrader metadata, renamed or extra
notebooks, files shipped beside the notebook. Files that cannot be read at all raise
:class:`SubmissionError` with a one-line reason.
"""

import copy
import json
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from autograder import notebooks
from autograder.notebooks import SETUP_TAG, nbgrader_meta

MAX_NOTEBOOK_BYTES = 20 * 1024 ** 2
IGNORED_FILES = {"timestamp.txt", ".ipynb_checkpoints"}


class SubmissionError(Exception):
    """The submission cannot be graded; the message says why, in one line."""


@dataclass
class Submission:
    lesson: str
    path: Path
    notebook: object                     # the rebuilt notebook (nbformat), outputs cleared
    cells: list                          # [(cell id, source)] for the trusted run, in order
    flags: list = field(default_factory=list)
    claimed_passes: set = field(default_factory=set)  # test cells whose saved output shows a pass


def find_notebook(directory, lesson):
    """The notebook to grade in ``directory`` (a student's lesson folder) and flags about it."""
    directory = Path(directory)
    expected = directory / f"{lesson}.ipynb"
    notebooks_found = sorted(p for p in directory.glob("*.ipynb") if p.is_file())
    flags = []
    extra = sorted(p.name for p in directory.iterdir()
                   if p.name not in IGNORED_FILES and p.suffix != ".ipynb")
    if extra:
        flags.append(f"files beside the notebook were ignored: {', '.join(extra[:10])}")
    if expected in notebooks_found:
        others = [p.name for p in notebooks_found if p != expected]
        if others:
            flags.append(f"other notebooks were ignored: {', '.join(others)}")
        return expected, flags
    if not notebooks_found:
        raise SubmissionError(f"no notebook in {directory} (expected {lesson}.ipynb)")
    if len(notebooks_found) == 1:
        flags.append(f"the notebook was renamed to {notebooks_found[0].name} (graded anyway)")
        return notebooks_found[0], flags
    raise SubmissionError(f"{len(notebooks_found)} notebooks in {directory} and none is called "
                          f"{lesson}.ipynb: {', '.join(p.name for p in notebooks_found)}")


def read_untrusted(path):
    """The notebook's JSON as a dict, or SubmissionError saying what is wrong with the file."""
    path = Path(path)
    size = path.stat().st_size
    if size == 0:
        raise SubmissionError(f"{path.name} is empty")
    if size > MAX_NOTEBOOK_BYTES:
        raise SubmissionError(f"{path.name} is {size / 1024 ** 2:.0f} MB; notebooks over "
                              f"{MAX_NOTEBOOK_BYTES // 1024 ** 2} MB are not graded")
    try:
        data = json.loads(path.read_bytes().decode("utf-8"))
    except UnicodeDecodeError:
        raise SubmissionError(f"{path.name} is not text (UTF-8)") from None
    except ValueError as error:
        raise SubmissionError(f"{path.name} is not valid notebook JSON (truncated?): {error}") from None
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
        raise SubmissionError(f"{path.name} is not a notebook (no list of cells)")
    if data.get("nbformat") != 4:
        raise SubmissionError(f"{path.name} has nbformat {data.get('nbformat')!r}; only version 4 "
                              "notebooks (Jupyter 4.x and later) can be graded")
    return data


def _text(value):
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return "".join(value)
    return ""


def _student_cells(data, flags):
    """(cell type, source, nbgrader metadata or None, outputs text) for each readable cell."""
    cells, not_cells, corrupted, versions = [], [], [], {}
    for index, cell in enumerate(data["cells"]):
        if not isinstance(cell, dict):
            not_cells.append(index)
            continue
        meta = cell.get("metadata") if isinstance(cell.get("metadata"), dict) else {}
        nbgrader = meta.get("nbgrader")
        if nbgrader is not None and not isinstance(nbgrader, dict):
            corrupted.append(index)
            nbgrader = None
        if nbgrader is not None and nbgrader.get("schema_version") not in (None, 3):
            versions.setdefault(repr(nbgrader.get("schema_version")), []).append(index)
        outputs = cell.get("outputs") if isinstance(cell.get("outputs"), list) else []
        shown = "".join(_text(o.get("text", "")) for o in outputs if isinstance(o, dict))
        cells.append((cell.get("cell_type"), _text(cell.get("source", "")), nbgrader, shown))
    if not_cells:
        flags.append(f"{_count(not_cells, 'entry')} of the cell list not a cell object (ignored)")
    if corrupted:
        flags.append(f"{_count(corrupted, 'cell')} with corrupted nbgrader metadata (ignored)")
    for version, indices in versions.items():
        flags.append(f"{_count(indices, 'cell')} with nbgrader metadata schema_version {version} "
                     "(repaired)")
    return cells


def _count(indices, noun):
    shown = ", ".join(str(i) for i in indices[:5]) + (", ..." if len(indices) > 5 else "")
    return f"{len(indices)} {noun}{'s' if len(indices) != 1 else ''} ({shown})"


def load(path, lesson, released):
    """Rebuild the submission at ``path`` against the released notebook ``released`` (nbformat)."""
    data = read_untrusted(path)
    flags = []
    student = _student_cells(data, flags)
    by_id = {}
    for cell_type, source, meta, shown in student:
        grade_id = meta.get("grade_id") if meta else None
        if isinstance(grade_id, str) and grade_id:
            if grade_id in by_id:
                flags.append(f"cell {grade_id!r} appears twice (the first one is used)")
                continue
            by_id[grade_id] = (cell_type, source, meta, shown)
    reference = {nbgrader_meta(c)["grade_id"] for c in released.cells}

    rebuilt = copy.deepcopy(released)
    rebuilt.cells = []
    claimed = set()
    for cell in released.cells:
        meta = nbgrader_meta(cell)
        grade_id = meta["grade_id"]
        mine = by_id.get(grade_id)
        new = copy.deepcopy(cell)
        if meta.get("solution"):
            if mine is None:
                flags.append(f"answer cell {grade_id!r} is missing (deleted or renamed): graded "
                             "as unanswered unless the code is in another cell")
            elif mine[0] != cell.cell_type:
                flags.append(f"answer cell {grade_id!r} was changed to a {mine[0]} cell")
            else:
                new.source = mine[1]
        elif mine is None:
            if meta.get("grade"):
                flags.append(f"test cell {grade_id!r} was deleted (restored)")
        else:
            kind = "test" if meta.get("grade") else "read-only"
            if (mine[0] != cell.cell_type or mine[1] != cell.source) and (
                    kind == "test" or cell.cell_type == "code"):
                flags.append(f"{kind} cell {grade_id!r} was edited (the original was restored)")
            if meta.get("grade") and mine[2].get("points") != meta.get("points"):
                flags.append(f"test cell {grade_id!r}: points changed from {meta.get('points')} "
                             f"to {mine[2].get('points')!r} (ignored)")
            if meta.get("grade") and "\u2714" in mine[3]:
                claimed.add(grade_id)
        rebuilt.cells.append(new)

    # Code cells the student added (no grade_id of the lesson) stay after the cell they followed.
    after, previous, count = {}, None, 0
    for cell_type, source, meta, _ in student:
        grade_id = meta.get("grade_id") if meta else None
        if grade_id in reference:
            previous = grade_id
            continue
        if meta and (meta.get("grade") or meta.get("solution")):
            flags.append(f"a cell claims to be nbgrader cell {grade_id!r}, which the lesson does "
                         "not have (treated as the student's own cell)")
        if cell_type == "code" and source.strip():
            count += 1
            after.setdefault(previous, []).append(
                nbformat.v4.new_code_cell(source, id=f"student-{count}"))
    ordered = list(after.get(None, []))
    for cell in rebuilt.cells:
        ordered.append(cell)
        ordered.extend(after.get(nbgrader_meta(cell)["grade_id"], []))
    rebuilt.cells = ordered
    notebooks.clean(rebuilt)
    return Submission(lesson, Path(path), rebuilt, _trusted_cells(rebuilt), flags, claimed)


def _trusted_cells(nb):
    """Setup cells, answers and the student's own code cells, in notebook order."""
    cells = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        meta = nbgrader_meta(cell)
        if meta is None:  # the student's own cell
            cells.append((cell.get("id") or "student", cell.source))
        elif meta.get("solution") or SETUP_TAG in cell.metadata.get("tags", []):
            cells.append((meta["grade_id"], cell.source))
    return cells
