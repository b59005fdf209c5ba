"""The course gradebook (nbgrader's database): the lesson definitions, trusted scores, CSV export.

Only the grading process writes here, one student at a time in one transaction, so other
students' grades are never touched and an interrupted batch leaves every finished student recorded.
"""

import tempfile
import warnings

from autograder import notebooks
from autograder.course import REPO, CourseError, nbgrader_config, release_notebook


def db_url(root=REPO):
    return nbgrader_config(root).CourseDirectory.db_url


def shown(url):
    """The URL with its password masked, for messages."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - not a URL at all
        return "the configured gradebook URL"


def check_connection(url):
    """Open the gradebook once; CourseError saying what to do if the driver is missing or the
    database cannot be reached (BPCOURSE_DB_URL / autograder/nbgrader_config.py)."""
    from nbgrader.api import Gradebook
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError

    try:
        with Gradebook(url):
            return
    except (ModuleNotFoundError, NoSuchModuleError) as error:
        name = getattr(error, "name", None) or str(error).split("'")[-2:-1] or [str(error)]
        hint = (" Install the PostgreSQL driver with the course's extra: pip install -e '.[postgres]'"
                if url.startswith("postgres") else "")
        raise CourseError(f"the gradebook {shown(url)} needs a database driver that is not installed "
                          f"({name if isinstance(name, str) else name[0]}).{hint}") from None
    except ArgumentError as error:
        raise CourseError(f"the gradebook URL {shown(url)} is not a database URL: {error}") from None
    except OperationalError as error:
        first = str(error.orig if getattr(error, "orig", None) else error).strip().splitlines()[0][:300]
        raise CourseError(f"cannot connect to the gradebook {shown(url)}: {first}") from None


def ensure_lesson(lesson, url, root=REPO):
    """Make sure the gradebook at ``url`` knows ``lesson`` with the graded cells of solutions/.

    A missing lesson is added (nbgrader's generate_assignment into a throwaway folder, so
    lessons/ is not touched). A lesson whose graded cells differ is an error: grading it would
    mix two versions of the exercises.
    """
    from nbgrader.api import Gradebook, MissingEntry

    expected = notebooks.graded_cells(notebooks.read(release_notebook(lesson, root)))
    check_connection(url)
    with Gradebook(url) as gb:
        try:
            assignment = gb.find_assignment(lesson)
        except MissingEntry:
            assignment = None
        if assignment is not None:
            have = {cell.name: cell.max_score for nb in assignment.notebooks for cell in nb.grade_cells}
            if have != {name: float(points) for name, points in expected.items()}:
                raise CourseError(
                    f"the gradebook's {lesson} has other graded cells than solutions/{lesson} "
                    f"({sorted(have)} vs {sorted(expected)}). Update it with `nbgrader "
                    f"generate_assignment {lesson} --force` (before any submission is graded) or "
                    "grade with the matching version of the course.")
            return False
    create_lesson(lesson, url, root)
    return True


def create_lesson(lesson, url, root=REPO):
    """Record ``lesson``'s notebooks and cells in the gradebook at ``url``."""
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    with tempfile.TemporaryDirectory(prefix="bpcourse-gradebook-") as tmp:
        config = nbgrader_config(root, **{"CourseDirectory.release_directory": tmp,
                                          "CourseDirectory.db_url": url})
        result = NbGraderAPI(CourseDirectory(config=config), config=config).generate_assignment(lesson)
        if not result["success"]:
            raise CourseError(f"could not add {lesson} to the gradebook:\n{result['error'] or result['log']}")


def record(url, lesson, student, result, timestamp=None, reset_manual=False):
    """Store one student's trusted scores (``results`` dict) for ``lesson``, in one transaction.

    Manual grades and comments entered in the formgrader are kept (a manual score overrides the
    automatic one, as nbgrader's ``Grade.score`` does) unless ``reset_manual``. Returns how many
    manual grades and comments were kept. The timestamp is recorded for failed submissions too.
    """
    from nbgrader.api import Gradebook

    kept = 0
    with warnings.catch_warnings(), Gradebook(url) as gb:
        warnings.simplefilter("ignore")  # SQLAlchemy notes from nbgrader's add_submission
        gb.update_or_create_student(student)
        kwargs = {"timestamp": timestamp} if timestamp else {}
        submission = gb.update_or_create_submission(lesson, student, **kwargs)
        for notebook in submission.notebooks:
            for grade in notebook.grades:
                cell = result["cells"].get(grade.name)
                grade.auto_score = cell["score"] if cell else 0.0
                if reset_manual:
                    grade.manual_score = None
                    grade.extra_credit = None
                elif grade.manual_score is not None:
                    kept += 1
            for comment in notebook.comments:
                if reset_manual:
                    comment.manual_comment = None
                elif comment.manual_comment:
                    kept += 1
        gb.db.commit()
    return kept


def scores(url, lesson):
    """{student: (score, max_score)} as recorded for ``lesson``."""
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(url) as gb:
        try:
            submissions = gb.assignment_submissions(lesson)
        except MissingEntry:
            return {}
        return {s.student_id: (float(s.score), float(s.max_score)) for s in submissions}
