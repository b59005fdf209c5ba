"""Every lesson: the solution runs and passes, the student version fails only with
NotImplementedError, lessons/ is a fresh release of solutions/, notebooks are committed clean, and
typical wrong answers lose their points."""

import importlib
import shutil

import pytest
from notebook_tools import answer_sources, errors, execute, grade_id, is_answer, is_test, namespace_for

from autograder import notebooks
from autograder.course import REPO, lessons, release_notebook, source_notebook
from autograder.exercises import LESSONS, exercises
from autograder.release import check_source, release

LESSON_NAMES = lessons()


def test_there_are_lessons_and_each_is_registered():
    assert LESSON_NAMES, "no lessons found in solutions/"
    assert set(LESSON_NAMES) <= set(LESSONS)


@pytest.mark.parametrize("lesson", LESSON_NAMES)
def test_test_cells_and_exercise_definitions_agree(lesson):
    assert check_source(lesson, notebooks.read(source_notebook(lesson))) == []


@pytest.mark.notebooks
@pytest.mark.parametrize("lesson", LESSON_NAMES)
def test_solution_notebook_runs_and_every_test_passes(lesson, tmp_path):
    nb = execute(source_notebook(lesson), tmp_path)
    failures = [f"cell {i} [{grade_id(c)}]: {e.ename}: {e.evalue[:300]}"
                for i, c in enumerate(nb.cells) for e in errors(c)]
    assert not failures, "\n".join(failures)
    for cell in nb.cells:
        if is_test(cell):
            text = "".join(o.get("text", "") for o in cell.outputs)
            assert text.count("\u2714") >= 2, f"{grade_id(cell)}: visible and hidden checks must both run"


@pytest.mark.notebooks
@pytest.mark.parametrize("lesson", LESSON_NAMES)
def test_student_notebook_fails_only_with_not_implemented(lesson, tmp_path):
    nb = execute(release_notebook(lesson), tmp_path)
    seen_answer = False
    for i, cell in enumerate(nb.cells):
        seen_answer |= is_answer(cell)
        for error in errors(cell):
            assert error.ename == "NotImplementedError", f"cell {i}: {error.ename}: {error.evalue}"
            assert seen_answer, f"cell {i} fails before any exercise: explanations must not need answers"
        if is_test(cell):
            assert errors(cell), f"test cell {grade_id(cell)} passes on the empty stub"


@pytest.mark.parametrize("lesson", LESSON_NAMES)
def test_lessons_match_a_fresh_release(lesson, tmp_path):
    shutil.copytree(REPO / "solutions" / lesson, tmp_path / "solutions" / lesson)
    (tmp_path / "autograder").mkdir()
    shutil.copy(REPO / "autograder" / "nbgrader_config.py", tmp_path / "autograder")
    (tmp_path / "lessons").mkdir()
    fresh = release([lesson], root=tmp_path, log=lambda *_: None)[0]
    committed = release_notebook(lesson)
    assert committed.is_file(), f"run `bpcourse release {lesson}` and commit lessons/{lesson}"
    assert notebooks.notebook_text(notebooks.read(fresh)) == notebooks.notebook_text(
        notebooks.read(committed)), f"lessons/{lesson} is out of date: run `bpcourse release {lesson}`"


def test_committed_notebooks_are_clean_and_keep_nbgrader_metadata():
    paths = sorted((REPO / "solutions").glob("*/*.ipynb")) + sorted((REPO / "lessons").glob("*/*.ipynb"))
    assert paths
    for path in paths:
        nb = notebooks.read(path)
        assert notebooks.is_clean(nb), f"{path} carries outputs or execution counts"
        unmarked = [i for i, c in enumerate(nb.cells) if notebooks.nbgrader_meta(c) is None]
        assert not unmarked, f"{path}: cells {unmarked} lack nbgrader metadata"


# --- typical wrong answers (tests/wrong_answers/<module>.py) lose the exercise's points ----------

def wrong_answer_cases():
    for lesson in LESSON_NAMES:
        try:
            module = importlib.import_module(f"wrong_answers.{LESSONS[lesson]}")
        except ModuleNotFoundError:
            continue
        for exercise, variants in module.WRONG.items():
            for label, source in variants.items():
                yield pytest.param(lesson, exercise, source, id=f"{lesson}-{exercise}-{label}")


@pytest.mark.parametrize("lesson", LESSON_NAMES)
def test_every_exercise_has_three_typical_wrong_answers(lesson):
    module = importlib.import_module(f"wrong_answers.{LESSONS[lesson]}")
    for name in exercises(lesson):
        assert len(module.WRONG.get(name, {})) >= 3, f"{lesson}: {name} needs 3 wrong answers"


@pytest.mark.parametrize("lesson, exercise, source", list(wrong_answer_cases()))
def test_wrong_answer_loses_the_points(lesson, exercise, source):
    nb = notebooks.read(source_notebook(lesson))
    exercise_def = exercises(lesson)[exercise]
    namespace = namespace_for(nb, replace={exercise: source})
    with pytest.raises(Exception) as failure:  # noqa: PT011 - any failure is a lost point
        exercise_def_check(exercise_def, namespace, lesson)
    assert not isinstance(failure.value, NotImplementedError)


@pytest.mark.parametrize("lesson", LESSON_NAMES)
def test_right_answers_get_the_points_on_many_seeds(lesson):
    nb = notebooks.read(source_notebook(lesson))
    namespace = namespace_for(nb)
    for exercise in exercises(lesson).values():
        for seed in range(5):
            exercise_def_check(exercise, namespace, lesson, seed=seed)
    assert set(answer_sources(nb)) == set(exercises(lesson))


def exercise_def_check(exercise, namespace, lesson, seed=None):
    from bplib.grading import check_exercise

    objects = [namespace[name] for name in exercise.needs]
    check_exercise(exercises(lesson), exercise.name, *objects, hidden=True, seed=seed)


def test_lesson_04_notebook_and_grader_share_the_buggy_networks():
    """The find-the-bug networks are written into the notebook from bplib's source: the learner
    must debug exactly the code the grader's probes use."""
    import inspect

    from bplib.probes import gradient_checking

    setup = "\n".join(c.source for c in notebooks.read(source_notebook("04-gradient-checking")).cells
                      if c.cell_type == "code")
    for network in (gradient_checking.TanhNetwork, gradient_checking.SigmoidNetwork):
        assert inspect.getsource(network).strip() in setup, network.__name__


def test_most_wrong_answers_get_a_message_that_names_the_mistake():
    """Issue 11: >= 90% of the typical wrong answers get a specific message (tests/hint_coverage.py
    prints the figures and every bare message)."""
    import hint_coverage

    rows = [row for lesson_rows in hint_coverage.measure().values() for row in lesson_rows]
    specific = sum(row[2] for row in rows)
    assert specific >= hint_coverage.TARGET * len(rows), (
        f"{specific} of {len(rows)} wrong answers get a specific message; run tests/hint_coverage.py")


# --- the policy on calling bplib (autograder/policy.py, bplib.grading.Tripwire) --------------------

@pytest.mark.parametrize("lesson", LESSON_NAMES)
def test_each_lesson_states_the_rule_naming_every_off_limits_bplib_function(lesson):
    """The first cell tells the learner which bplib names the lesson's exercises may not call."""
    first = next(c for c in notebooks.read(source_notebook(lesson)).cells if c.cell_type == "markdown").source
    names = {name for exercise in exercises(lesson).values() for name in exercise.implemented_by}
    missing = sorted(name for name in names if f"`{name}`" not in first)
    assert not missing, f"{lesson}: the first markdown cell does not name {missing}"


@pytest.mark.parametrize("lesson", LESSON_NAMES)
def test_every_off_limits_name_is_real_bplib_code(lesson):
    from bplib.grading import _code_objects

    for exercise in exercises(lesson).values():
        for name in exercise.implemented_by:
            assert name.startswith("bplib.") and _code_objects([name]), f"{exercise.name}: {name}"
