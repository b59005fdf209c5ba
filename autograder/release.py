"""``bpcourse release``: regenerate lessons/ from solutions/ with nbgrader, never losing lessons/.

nbgrader's generate_assignment deletes a lesson's release folder *before* it can fail (nbgrader
#1646). So each lesson is generated into a temporary directory first, checked, and only then
swapped into lessons/<lesson>/ by two renames; on any error the committed lesson is untouched.
"""

import shutil
import tempfile
from pathlib import Path

from autograder import notebooks
from autograder.course import REPO, CourseError, lessons, nbgrader_config, source_notebook
from autograder.exercises import LESSONS, exercises


def check_source(lesson, nb):
    """Problems with a source notebook: test cells and exercise definitions must agree."""
    problems = []
    graded = notebooks.graded_cells(nb)
    answers = {m["grade_id"] for c in nb.cells if (m := notebooks.nbgrader_meta(c)) and m.get("solution")}
    defined = set(exercises(lesson)) if lesson in LESSONS else set()
    if lesson not in LESSONS:
        problems.append(f"{lesson} is not registered in autograder/exercises/__init__.py (LESSONS)")
    for name in sorted(set(graded) - defined):
        problems.append(f"test cell {name!r} has no exercise definition in autograder.exercises")
    for name in sorted(defined - set(graded)):
        problems.append(f"exercise {name!r} has no test cell (grade_id {name!r}) in the notebook")
    for name in sorted(graded):
        if f"{name}-answer" not in answers:
            problems.append(f"exercise {name!r} has no solution cell (grade_id {name + '-answer'!r})")
        if not graded[name]:
            problems.append(f"test cell {name!r} is worth 0 points")
    return problems


def release(selected=None, root=REPO, log=print):
    """Regenerate the selected lessons (default: all). Returns the released notebook paths."""
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    root = Path(root)
    selected = list(selected or lessons(root))
    if not selected:
        raise CourseError(f"no lessons found in {root / 'solutions'}")
    released = []
    for lesson in selected:
        path = source_notebook(lesson, root)
        nb = notebooks.read(path)
        if not notebooks.is_clean(nb):  # instructors save outputs; the repository keeps none
            notebooks.write(notebooks.clean(nb), path)
            log(f"{lesson}: removed outputs from {path.relative_to(root)}")
        problems = check_source(lesson, nb)
        if problems:
            raise CourseError(f"{lesson}: " + "; ".join(problems))
        with tempfile.TemporaryDirectory(prefix="bpcourse-release-", dir=root / "lessons") as tmp:
            config = nbgrader_config(root, **{"CourseDirectory.release_directory": tmp,
                                              "GenerateAssignment.no_database": True,
                                              "SaveCells.enabled": False})  # = --no-db
            api = NbGraderAPI(CourseDirectory(config=config), config=config)
            result = api.generate_assignment(lesson)
            generated = Path(tmp) / lesson
            if not result["success"] or not (generated / f"{lesson}.ipynb").is_file():
                raise CourseError(f"{lesson}: nbgrader could not generate the student version; "
                                  f"lessons/{lesson} is unchanged.\n{result.get('error') or result['log']}")
            target = root / "lessons" / lesson
            backup = Path(tmp) / "previous"
            if target.exists():
                target.rename(backup)
            generated.rename(target)
            shutil.rmtree(backup, ignore_errors=True)
        released.append(target / f"{lesson}.ipynb")
        log(f"{lesson}: released lessons/{lesson}/{lesson}.ipynb")
    return released
