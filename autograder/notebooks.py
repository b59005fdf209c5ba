"""Reading, writing, cleaning and authoring nbgrader notebooks.

Every cell the course writes carries nbgrader metadata: solution cells (the learner's answer),
autograded test cells, and read-only cells (text, demos, setup). So in a submission, a cell
*without* nbgrader metadata is one the student added. Read-only code cells tagged ``setup`` are
the ones the trusted grader runs before the student's answers (imports, data, given helpers).
"""

import hashlib
import json
from pathlib import Path

import nbformat

NBGRADER_SCHEMA = 3
SETUP_TAG = "setup"


def _meta(grade_id, *, grade=False, solution=False, locked=False, points=None):
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked,
            "schema_version": NBGRADER_SCHEMA, "solution": solution, "task": False}
    if points is not None:
        meta["points"] = points
    return {"nbgrader": meta}


def _readonly_id(kind, source):
    return f"{kind}-{hashlib.sha1(source.encode()).hexdigest()[:10]}"


def markdown(text):
    """A read-only markdown cell."""
    text = text.strip("\n")
    cell = nbformat.v4.new_markdown_cell(text, metadata=_meta(_readonly_id("md", text), locked=True))
    return cell


def code(source, setup=False):
    """A read-only code cell: an example or demo; ``setup=True`` if answers depend on it."""
    source = source.strip("\n")
    metadata = _meta(_readonly_id("code", source), locked=True)
    if setup:
        metadata["tags"] = [SETUP_TAG]
    return nbformat.v4.new_code_cell(source, metadata=metadata)


def answer(name, source):
    """The solution cell of exercise ``name`` (``### BEGIN/END SOLUTION`` marks what is removed)."""
    return nbformat.v4.new_code_cell(source.strip("\n"),
                                     metadata=_meta(f"{name}-answer", solution=True))


def tests(name, points, source):
    """The autograded test cell of exercise ``name``; its grade_id is the exercise's name."""
    return nbformat.v4.new_code_cell(source.strip("\n"),
                                     metadata=_meta(name, grade=True, locked=True, points=points))


def new_notebook(cells):
    """A notebook of ``cells`` with unique, stable cell ids (the grade_ids)."""
    seen = {}
    for cell in cells:
        grade_id = cell.metadata["nbgrader"]["grade_id"]
        if grade_id in seen:  # two identical read-only cells
            seen[grade_id] += 1
            grade_id = f"{grade_id}-{seen[grade_id]}"
            cell.metadata["nbgrader"]["grade_id"] = grade_id
        seen.setdefault(grade_id, 0)
        cell["id"] = grade_id[:64]
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata = {"kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python",
                                  "name": "python3"},
                   "language_info": {"name": "python"}}
    return nb


def read(path):
    """Read a notebook (any nbformat 4.x)."""
    return nbformat.read(str(path), as_version=4)


def write(nb, path):
    """Write ``nb`` in nbformat's canonical JSON (sorted keys, indent 1): stable diffs."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))


def clean(nb):
    """Drop outputs, execution counts and per-run metadata; keep nbgrader metadata and tags."""
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        for key in ("execution", "collapsed", "scrolled", "jp-MarkdownHeadingCollapsed"):
            cell.metadata.pop(key, None)
    nb.metadata.pop("widgets", None)
    return nb


def is_clean(nb):
    return all(not (c.cell_type == "code" and (c.get("outputs") or c.get("execution_count")))
               for c in nb.cells)


def nbgrader_meta(cell):
    return cell.get("metadata", {}).get("nbgrader")


def graded_cells(nb):
    """{grade_id: points} of the autograded test cells."""
    return {m["grade_id"]: m.get("points", 0) for c in nb.cells if (m := nbgrader_meta(c))
            and m.get("grade") and not m.get("solution")}


def notebook_text(nb):
    """Canonical JSON text of a notebook (for comparing two notebooks exactly)."""
    return json.dumps(nb, sort_keys=True, indent=1, ensure_ascii=False)
