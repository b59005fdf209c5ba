"""``bpcourse check NOTEBOOK``: grade one notebook with the same trusted checks as ``grade``."""

import json
from pathlib import Path

from autograder import notebooks, results, submission, trusted
from autograder.course import CourseError, lessons, release_notebook


def detect_lesson(path):
    """The lesson a notebook belongs to: by its name, its folder, or the grade_ids inside it."""
    path = Path(path)
    known = lessons()
    for candidate in (path.stem, path.parent.name):
        if candidate in known:
            return candidate
    try:
        ids = {c.get("metadata", {}).get("nbgrader", {}).get("grade_id")
               for c in submission.parse(submission.read_path(path), path.name)["cells"]
               if isinstance(c, dict)}
    except (submission.SubmissionError, AttributeError):
        ids = set()
    overlap = {lesson: len(ids & set(notebooks.graded_cells(notebooks.read(release_notebook(lesson)))))
               for lesson in known if release_notebook(lesson).is_file()}
    best = max(overlap, key=overlap.get, default=None)
    if best and overlap[best]:
        return best
    raise CourseError(f"cannot tell which lesson {path.name} belongs to; name it <lesson>.ipynb, "
                      f"one of: {', '.join(f'{name}.ipynb' for name in known)}")


def check(path, seed=None):
    """Grade the notebook at ``path``: (lesson, result dict)."""
    path = Path(path)
    if not path.is_file():
        raise CourseError(f"{path}: no such notebook")
    lesson = detect_lesson(path)
    released = notebooks.read(release_notebook(lesson))
    try:
        loaded = submission.load(submission.read_path(path), path.name, lesson, released)
    except submission.SubmissionError as error:
        return lesson, results.failed(released, str(error))
    # A learner checks their own code on their own machine: isolation is used when available but
    # not required (grading other people's code, `bpcourse grade`, does require it).
    grade = trusted.grade_cells(lesson, loaded.cells, seed=seed, insecure=True)
    return lesson, results.graded(released, grade, loaded.flags)


def main(args):
    lesson, result = check(args.notebook)
    if args.json:
        print(json.dumps({"lesson": lesson, "notebook": str(args.notebook), **result}, indent=1))
    else:
        print(results.render(result, f"{lesson} ({args.notebook})"))
    return 0 if result["status"] == "graded" and result["score"] == result["max_score"] else 1
