"""Reading a student's submission without trusting it.

A submission is rebuilt from the lesson's released notebook (trusted): every read-only and test
cell comes from there, only the student's answers (matched by grade_id) and the cells they added
are taken from their file. Everything unusual is recorded as a flag for the instructor: edited,
deleted or retyped test cells, changed points, corrupted nbgrader metadata, duplicated answer
cells, an unusual nbformat version or kernel. A notebook that cannot be read at all, or is over
the limits below, raises :class:`SubmissionError` with a one-line reason.

Limits (a submission over one is not graded: status "failed", score 0, the reason in its flags):
:data:`autograder.files.MAX_NOTEBOOK_BYTES` (20 MB) per notebook, :data:`MAX_CELLS` cells,
:data:`MAX_LINES_PER_CELL` lines and :data:`MAX_CELL_CHARS` characters per cell.
"""

import copy
import json
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from autograder import notebooks
from autograder.files import MAX_NOTEBOOK_BYTES, UnsafeFile, read_file
from autograder.notebooks import SETUP_TAG, nbgrader_meta

MAX_CELLS = 2000
MAX_LINES_PER_CELL = 5000
MAX_CELL_CHARS = 500_000


class SubmissionError(Exception):
    """The submission cannot be graded; the message says why, in one line."""


@dataclass
class Submission:
    lesson: str
    name: str                            # the notebook's file name in the submission
    notebook: object                     # the rebuilt notebook (nbformat), outputs cleared
    cells: list                          # [(cell id, source)] for the trusted run, in order
    flags: list = field(default_factory=list)
    claimed_passes: set = field(default_factory=set)  # test cells whose saved output shows a pass


def read_path(path):
    """The bytes of a notebook given by path (``bpcourse check``), without following a link."""
    path = Path(path)
    import os

    try:
        folder = os.open(str(path.parent), os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError as error:
        raise SubmissionError(f"{path.parent}: {error.strerror}") from None
    try:
        return read_file(path.name, folder, MAX_NOTEBOOK_BYTES)
    except UnsafeFile as error:
        raise SubmissionError(str(error)) from None
    except OSError as error:
        raise SubmissionError(f"{path}: {error.strerror}") from None
    finally:
        os.close(folder)


def parse(data, name):
    """The notebook's JSON (bytes) as a dict, or SubmissionError saying what is wrong with it."""
    if not data:
        raise SubmissionError(f"{name} is empty")
    if len(data) > MAX_NOTEBOOK_BYTES:
        raise SubmissionError(f"{name} is {len(data) / 1024 ** 2:.0f} MB; notebooks over "
                              f"{MAX_NOTEBOOK_BYTES // 1024 ** 2} MB are not graded")
    try:
        notebook = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise SubmissionError(f"{name} is not text (UTF-8)") from None
    except RecursionError:
        raise SubmissionError(f"{name} is nested too deeply to be a notebook") from None
    except ValueError as error:
        raise SubmissionError(f"{name} is not valid notebook JSON (truncated?): {error}") from None
    if not isinstance(notebook, dict) or not isinstance(notebook.get("cells"), list):
        raise SubmissionError(f"{name} is not a notebook (no list of cells)")
    if notebook.get("nbformat") != 4:
        raise SubmissionError(f"{name} has nbformat {notebook.get('nbformat')!r}; only version 4 "
                              "notebooks (Jupyter 4.x and later) can be graded")
    if len(notebook["cells"]) > MAX_CELLS:
        raise SubmissionError(f"{name} has {len(notebook['cells'])} cells; notebooks of more than "
                              f"{MAX_CELLS} cells are not graded")
    return notebook


def _format_flags(data):
    """Flags for a notebook that declares a newer nbformat or a non-Python kernel."""
    flags = []
    minor = data.get("nbformat_minor")
    if not isinstance(minor, int) or minor > nbformat.current_nbformat_minor:
        flags.append(f"the notebook declares nbformat 4.{minor!r}, newer than this grader knows "
                     f"(4.{nbformat.current_nbformat_minor}); it was read as such")
    meta = data.get("metadata") if isinstance(data.get("metadata"), dict) else {}
    spec = meta.get("kernelspec") if isinstance(meta.get("kernelspec"), dict) else {}
    language = str(spec.get("language") or (meta.get("language_info") or {}).get("name") or "python")
    if language.lower() != "python":
        flags.append(f"the notebook declares a {language[:40]!r} kernel; it was run with Python")
    return flags


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
        shown = "".join(_text(o.get("text", "")) for o in outputs[:100] if isinstance(o, dict))[:100_000]
        source = _text(cell.get("source", ""))
        if source.count("\n") >= MAX_LINES_PER_CELL or len(source) > MAX_CELL_CHARS:
            raise SubmissionError(f"cell {index} has {source.count(chr(10)) + 1} lines and {len(source)} "
                                  f"characters; cells over {MAX_LINES_PER_CELL} lines or "
                                  f"{MAX_CELL_CHARS} characters are not graded")
        cells.append((cell.get("cell_type"), source, nbgrader, shown))
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


def load(data, name, lesson, released):
    """Rebuild the submission (``data``: the notebook's bytes, ``name``: its file name) against the
    released notebook ``released`` (nbformat). Raises SubmissionError."""
    notebook = parse(data, name)
    flags = _format_flags(notebook)
    student = _student_cells(notebook, flags)
    reference = {nbgrader_meta(c)["grade_id"]: c for c in released.cells}
    answers = {gid for gid, c in reference.items() if nbgrader_meta(c).get("solution")}
    # Which of the student's cells stands for each cell of the lesson: the LAST copy of an answer
    # cell (the student's kernel keeps the last definition), the first copy of any other cell.
    # Earlier copies of an answer are the student's own cells, run in their place.
    chosen, copies = {}, {}
    for index, (_, _, meta, _) in enumerate(student):
        grade_id = meta.get("grade_id") if meta else None
        if not (isinstance(grade_id, str) and grade_id in reference):
            continue
        if grade_id in answers:
            if grade_id in chosen:
                copies.setdefault(grade_id, []).append(chosen[grade_id])
            chosen[grade_id] = index
        elif grade_id in chosen:
            copies.setdefault(grade_id, []).append(index)
        else:
            chosen[grade_id] = index
    for grade_id, indices in copies.items():
        if grade_id in answers:
            flags.append(f"answer cell {grade_id!r} appears {len(indices) + 1} times: every copy was "
                         "run in notebook order, so the last one's definitions count, as in your kernel")
        else:
            flags.append(f"cell {grade_id!r} appears {len(indices) + 1} times (the copies were ignored)")
    by_id = {grade_id: student[index] for grade_id, index in chosen.items()}
    copy_of = {index: grade_id for grade_id, indices in copies.items() if grade_id in answers
               for index in indices}

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

    # Code cells the student added (no grade_id of the lesson), and earlier copies of an answer,
    # stay after the cell they followed.
    after, previous, count, copy_count = {}, None, 0, {}
    for index, (cell_type, source, meta, _) in enumerate(student):
        grade_id = meta.get("grade_id") if meta else None
        if chosen.get(grade_id) == index:
            previous = grade_id
            continue
        if index in copy_of:
            if cell_type == "code" and source.strip():
                copy_count[grade_id] = copy_count.get(grade_id, 0) + 1
                after.setdefault(previous, []).append(
                    nbformat.v4.new_code_cell(source, id=f"{grade_id}-copy{copy_count[grade_id]}"[:64]))
            continue
        if grade_id in reference:  # an ignored copy of a test or read-only cell
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
    return Submission(lesson, name, rebuilt, _trusted_cells(rebuilt), flags, claimed)


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
