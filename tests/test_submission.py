"""Reading submissions without trusting them: rebuilt from the release, anomalies flagged."""

import json
import re

import nbformat
import pytest
from notebook_tools import filled_in, find_cell

from autograder import files, notebooks, submission
from autograder.course import release_notebook

LESSON = "01-forward-pass"


@pytest.fixture
def released():
    return notebooks.read(release_notebook(LESSON))


def write(tmp_path, nb, name=f"{LESSON}.ipynb"):
    path = tmp_path / name
    nbformat.write(nb, str(path))
    return path


def load(path, lesson, released):
    return submission.load(path.read_bytes(), path.name, lesson, released)


def test_a_normal_submission_keeps_its_answers_and_has_no_flags(tmp_path, released):
    loaded = load(write(tmp_path, filled_in(LESSON)), LESSON, released)
    assert loaded.flags == []
    ids = [cid for cid, _ in loaded.cells]
    assert ids[0].startswith("code-") and "sigmoid-answer" in ids  # the setup cell, then answers
    assert "np.where(z >= 0" in dict(loaded.cells)["sigmoid-answer"]


def test_test_cells_come_from_the_release_whatever_the_student_did(tmp_path, released):
    nb = filled_in(LESSON)
    find_cell(nb, "sigmoid").source = "pass  # no more testing"
    find_cell(nb, "relu").metadata["nbgrader"]["points"] = 100
    find_cell(nb, "softmax").cell_type = "markdown"
    nb.cells.remove(find_cell(nb, "cross_entropy"))
    find_cell(nb, "mlp_forward").metadata["nbgrader"]["grade_id"] = "renamed"
    loaded = load(write(tmp_path, nb), LESSON, released)
    flags = "\n".join(loaded.flags)
    assert "test cell 'sigmoid' was edited" in flags
    assert "points changed from 1 to 100" in flags
    assert "test cell 'softmax' was edited" in flags
    assert "test cell 'cross_entropy' was deleted (restored)" in flags
    assert "test cell 'mlp_forward' was deleted" in flags and "'renamed'" in flags
    rebuilt = {notebooks.nbgrader_meta(c)["grade_id"]: c for c in loaded.notebook.cells
               if notebooks.nbgrader_meta(c)}
    for name in ("sigmoid", "relu", "softmax", "cross_entropy", "mlp_forward"):
        original = find_cell(released, name)
        assert rebuilt[name].source == original.source and rebuilt[name].cell_type == "code"
        assert rebuilt[name].metadata["nbgrader"]["points"] == original.metadata["nbgrader"]["points"]


def test_corrupted_metadata_is_repaired_and_flagged(tmp_path, released):
    nb = filled_in(LESSON)
    for cell in nb.cells:
        if "nbgrader" in cell.metadata:
            cell.metadata["nbgrader"]["schema_version"] = 99
    loaded = load(write(tmp_path, nb), LESSON, released)
    assert any("schema_version 99" in f for f in loaded.flags)
    assert all(notebooks.nbgrader_meta(c)["schema_version"] == 3 for c in loaded.notebook.cells)
    assert "np.where(z >= 0" in dict(loaded.cells)["sigmoid-answer"]  # answers still found


def test_added_cells_are_kept_in_order_and_marked_as_the_students(tmp_path, released):
    nb = filled_in(LESSON)
    position = nb.cells.index(find_cell(nb, "relu-answer"))
    nb.cells.insert(position, nbformat.v4.new_code_cell("def helper(z):\n    return z"))
    nb.cells.insert(0, nbformat.v4.new_code_cell("import os"))
    loaded = load(write(tmp_path, nb), LESSON, released)
    ids = [cid for cid, _ in loaded.cells]
    assert ids.index("student-2") < ids.index("relu-answer") and ids[0] == "student-1"
    assert dict(loaded.cells)["student-2"].startswith("def helper")


def test_forged_passing_outputs_are_remembered(tmp_path, released):
    nb = filled_in(LESSON)
    find_cell(nb, "sigmoid").outputs = [nbformat.v4.new_output(
        "stream", name="stdout", text="\u2714 sigmoid: all 7 checks passed.\n")]
    loaded = load(write(tmp_path, nb), LESSON, released)
    assert loaded.claimed_passes == {"sigmoid"}
    assert all(not c.get("outputs") for c in loaded.notebook.cells if c.cell_type == "code")


@pytest.mark.parametrize("content, reason", [
    (b"", "is empty"),
    (b'{"cells": [', "not valid notebook JSON (truncated?)"),
    (b"\xff\xfe\x00", "not text"),
    (b"[1, 2, 3]", "not a notebook"),
    (json.dumps({"cells": [], "nbformat": 3}).encode(), "nbformat 3"),
])
def test_unreadable_files_give_a_one_line_reason(tmp_path, released, content, reason):
    path = tmp_path / f"{LESSON}.ipynb"
    path.write_bytes(content)
    with pytest.raises(submission.SubmissionError, match=re.escape(reason)):
        load(path, LESSON, released)


def test_notebook_names(tmp_path):
    folder = tmp_path / "s" / LESSON
    folder.mkdir(parents=True)

    def read():
        return files.read_submission(tmp_path, "s", LESSON)
    assert "no notebook" in read().problem
    nbformat.write(filled_in(LESSON), str(folder / "my copy.ipynb"))
    found = read()
    assert found.notebook_name == "my copy.ipynb" and "renamed to my copy.ipynb" in found.flags[0]
    nbformat.write(filled_in(LESSON), str(folder / "other.ipynb"))
    assert re.search("2 notebooks .* none is called", read().problem)
    nbformat.write(filled_in(LESSON), str(folder / f"{LESSON}.ipynb"))
    (folder / "numpy.py").write_text("x = 1")
    (folder / "timestamp.txt").write_text("2026-11-20 10:00:00")
    (folder / "submission_secret.txt").write_text("abc")  # nbgrader's exchange writes it
    found = read()
    assert found.notebook_name == f"{LESSON}.ipynb" and found.timestamp == "2026-11-20 10:00:00"
    assert any("files beside the notebook were ignored: numpy.py" in f for f in found.flags)
    assert not any("submission_secret" in f or "timestamp" in f for f in found.flags)
    assert any("other notebooks were ignored" in f for f in found.flags)


def test_too_big_a_file_is_refused(tmp_path, released, monkeypatch):
    monkeypatch.setattr(submission, "MAX_NOTEBOOK_BYTES", 1000)
    with pytest.raises(submission.SubmissionError, match="notebooks over"):
        load(write(tmp_path, filled_in(LESSON)), LESSON, released)


def test_notebooks_over_the_documented_limits_are_refused_with_the_reason(released):
    many = filled_in(LESSON)
    many.cells += [nbformat.v4.new_code_cell("x = 1") for _ in range(submission.MAX_CELLS)]
    limit = f"notebooks of more than {submission.MAX_CELLS} cells"
    with pytest.raises(submission.SubmissionError, match=limit):
        submission.load(nbformat.writes(many).encode(), "a.ipynb", LESSON, released)
    long_cell = filled_in(LESSON)
    find_cell(long_cell, "relu-answer").source = "x = 1\n" * submission.MAX_LINES_PER_CELL
    with pytest.raises(submission.SubmissionError, match="cells over 5000 lines"):
        submission.load(nbformat.writes(long_cell).encode(), "a.ipynb", LESSON, released)
    nested = b'{"cells": ' + b"[" * 100_000 + b"]" * 100_000 + b', "nbformat": 4}'
    with pytest.raises(submission.SubmissionError, match="nested too deeply|not a notebook"):
        submission.load(nested, "a.ipynb", LESSON, released)


def test_unusual_formats_and_kernels_are_flagged_and_still_graded(released):
    nb = filled_in(LESSON)
    nb.nbformat_minor = 99
    nb.metadata["kernelspec"] = {"name": "ir", "language": "R", "display_name": "R"}
    loaded = submission.load(json.dumps(nb).encode(), "a.ipynb", LESSON, released)
    flags = "\n".join(loaded.flags)
    assert "nbformat 4.99" in flags and "'R' kernel" in flags
    assert "np.where(z >= 0" in dict(loaded.cells)["sigmoid-answer"]
    plain = submission.load(nbformat.writes(filled_in(LESSON)).encode(), "a.ipynb", LESSON, released)
    assert plain.flags == []


def test_a_duplicated_answer_cell_runs_in_order_and_the_last_copy_counts(released):
    nb = filled_in(LESSON)
    answer = find_cell(nb, "relu-answer")
    copy = nbformat.from_dict(json.loads(json.dumps(answer)))
    copy["id"] = "copy"
    copy.source = "def relu(z):\n    return np.maximum(z, 0)  # the copy"
    answer.source = "def relu(z):\n    raise NotImplementedError()"
    nb.cells.insert(nb.cells.index(find_cell(nb, "relu")) + 1, copy)
    loaded = submission.load(nbformat.writes(nb).encode(), "a.ipynb", LESSON, released)
    ids = [cid for cid, _ in loaded.cells]
    assert "relu-answer-copy1" in ids and ids.index("relu-answer-copy1") < ids.index("relu-answer")
    assert "# the copy" in dict(loaded.cells)["relu-answer"]
    assert "NotImplementedError" in dict(loaded.cells)["relu-answer-copy1"]
    assert any("appears 2 times" in f for f in loaded.flags)
