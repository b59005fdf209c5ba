"""Lessons 01-03: the messages typical wrong answers get, the policy on calling bplib, and the
checks that a right answer must not slip through.

Each message test runs one fixture of tests/wrong_answers/ through the lesson's hidden checks
(seed 7, as tests/hint_coverage.py does) and asserts the text that names the mistake.
"""

import ast
import importlib
import re

import hint_coverage
import numpy as np
import pytest
from notebook_tools import answer_sources, is_setup, namespace_for

from autograder import notebooks, policy
from autograder.course import source_notebook
from autograder.exercises import LESSONS, exercises
from bplib.grading import run_case

OUR_LESSONS = ("01-forward-pass", "02-chain-rule", "03-backward-pass")


def wrong(lesson, exercise, label):
    return importlib.import_module(f"wrong_answers.{LESSONS[lesson]}").WRONG[exercise][label]


def message(lesson, exercise, label):
    text = hint_coverage.failure_message(lesson, exercise, wrong(lesson, exercise, label))
    assert text is not None, f"{lesson} {exercise} [{label}] passes"
    return text


def body(text):
    """The message without its first line ("name: check i of n (label) failed.") and seed note."""
    return text.split("failed.\n", 1)[1].split("\n  (These inputs came from seed")[0].strip()


# --- hints that missed or misled (issue C) --------------------------------------------------------

def test_a_softmax_with_one_global_max_is_told_so_before_the_generic_overflow_message():
    text = message("01-forward-pass", "softmax", "global max")
    assert "you subtracted ONE maximum, the largest score of the whole array (s.max())" in text
    assert "s - s.max(axis=1, keepdims=True)" in text
    assert "never take exp of a large positive number" not in text


def test_the_naive_softmax_still_gets_the_overflow_message():
    text = message("01-forward-pass", "softmax", "naive overflows")
    assert "never take exp of a large positive number" in text
    assert "ONE maximum" not in text


def test_gradients_in_reverse_layer_order_are_recognised_before_a_transpose():
    text = body(message("03-backward-pass", "mlp_loss_and_grads", "grads in reverse order"))
    assert text.startswith("your grads are in reverse order: grads[0] has the shapes of the LAST "
                           "layer's parameters (dW2 (3, 2), where W1 is (2, 3))")
    assert "transposed" not in text


def test_relu_with_pythons_max_gets_the_elementwise_hint():
    text = message("01-forward-pass", "relu", "Python's max")
    assert "truth value of an array with more than one element is ambiguous" in text
    assert "Hint: Python's own `max`, `min`, `if` and `and` look at a whole array at once" in text
    assert "np.maximum(z, 0)" in text


@pytest.mark.parametrize("exercise, label, shapes", [
    ("dense_forward", "W.T @ x",
     "x (N, D) = (1, 2), W (D, M) = (2, 3), b (M,) = (3,) -> out (N, M) = (1, 3)"),
    ("dense_forward", "transposed weights",
     "x (N, D) = (1, 2), W (D, M) = (2, 3), b (M,) = (3,) -> out (N, M) = (1, 3)"),
])
def test_shape_errors_in_dense_forward_show_the_shapes_of_the_case(exercise, label, shapes):
    text = message("01-forward-pass", exercise, label)
    assert "your code raised ValueError: matmul" in text
    assert f"Hint: the shapes in this check: {shapes}." in text


@pytest.mark.parametrize("label", ["dx without the transpose", "dW = x @ dout"])
def test_shape_errors_in_dense_backward_show_the_shapes_of_the_case(label):
    text = message("03-backward-pass", "dense_backward", label)
    assert "your code raised ValueError: matmul" in text
    assert ("Hint: the shapes in this check: dout (N, M) = (4, 3), cache: x (N, D) = (4, 2), "
            "W (D, M) = (2, 3), b (M,) = (3,) -> dx (N, D) = (4, 2), dW (D, M) = (2, 3), "
            "db (M,) = (3,).") in text


def test_a_shape_error_in_mlp_loss_and_grads_shows_each_layers_shapes():
    text = message("03-backward-pass", "mlp_loss_and_grads", "dscores sent to every layer")
    assert re.search(r"the shapes in this check: x \(N, D\) = \((\d+), 2\), W1 \(2, 3\), W2 \(3, 2\); "
                     r"each layer's output, and so the dout it receives: \(\1, 3\) for layer 1, "
                     r"\(\1, 2\) for layer 2", text), text


@pytest.mark.parametrize("lesson, exercise, label", [
    ("01-forward-pass", "cross_entropy", "probs[:, labels]"),
    ("03-backward-pass", "softmax_cross_entropy", "probs[:, labels] in the loss"),
])
def test_fancy_indexing_with_every_row_is_named(lesson, exercise, label):
    text = message(lesson, exercise, label)
    assert "probs[:, labels] picks the labels' columns in EVERY row" in text
    assert "probs[np.arange(N), labels]" in text


@pytest.mark.parametrize("lesson, exercise, label", [
    ("01-forward-pass", "cross_entropy", "sum instead of mean"),
    ("01-forward-pass", "cross_entropy_from_scores", "summed over the batch"),
    ("03-backward-pass", "softmax_cross_entropy", "loss summed over the batch"),
])
def test_a_summed_loss_is_called_n_times_too_large_with_n(lesson, exercise, label):
    assert "your loss is exactly N times too large, N = 2 examples" in message(lesson, exercise, label)


@pytest.mark.parametrize("label", ["return inside the layer loop", "only the first layer"])
def test_a_return_inside_the_layer_loop_is_named(label):
    text = body(message("01-forward-pass", "mlp_forward", label))
    assert text.startswith("you returned the output of the FIRST layer only: is your `return` "
                           "inside the `for` loop?")


@pytest.mark.parametrize("label, hint", [
    ("quotient: sign of d/dy", "the sign of d(x/y)/dy is wrong: d(x/y)/dy = -x / y**2"),
    ("quotient: x missing from the numerator",
     "the numerator of d(x/y)/dy is wrong: d(x/y)/dy = -x / y**2. The factor x is missing"),
    ("quotient rule numerator mixed up",
     "the numerator of d(x/y)/dy is wrong: d(x/y)/dy = -x / y**2. In the quotient rule"),
    ("quotient: y not squared", "the denominator of d(x/y)/dy is wrong"),
])
def test_wrong_derivatives_of_a_quotient_are_named(label, hint):
    text = message("02-chain-rule", "local_derivatives", label)
    assert text.split("\n")[1].strip().startswith('"x / y", d/dy: wrong value')
    assert f"Hint: {hint}" in text


def test_local_derivatives_name_the_parts_d_dx_and_d_dy_not_output_2():
    text = message("02-chain-rule", "local_derivatives", "sum: zero for y")
    assert '"x + y", d/dy: wrong value: you returned 0, expected 1' in text
    assert "output 2" not in text


def test_softmax_cases_are_labelled_with_the_argument_s():
    text = message("01-forward-pass", "softmax", "normalised over columns")
    assert "check 1 of 7 (s = [[1, 2, 3], [0, 0, 0]])" in text
    assert "z =" not in text


def test_no_message_of_lessons_01_to_03_shows_a_python_list_of_names():
    rows = [row for rows in hint_coverage.measure(list(OUR_LESSONS)).values() for row in rows]
    shown = [(exercise, label, text) for exercise, label, _, text in rows
             if re.search(r"\[\s*'|\(\s*'[^)]*',|output \d", body(text))]
    assert not shown


# --- exercises that could be passed without understanding (issue B) -----------------------------

def test_a_softmax_cross_entropy_without_the_max_shift_fails_on_large_scores():
    text = message("03-backward-pass", "softmax_cross_entropy", "own softmax without the max shift")
    assert "very large scores, [[1000, 999, 998], [-1000, -1001, -999]]" in text
    assert "a softmax computed without subtracting each row's maximum overflows" in text


CALLS_BPLIB = [
    ("01-forward-pass", "sigmoid", "calls bplib's sigmoid", "bplib.layers.sigmoid"),
    ("01-forward-pass", "relu", "calls bplib's ReLU layer", "bplib.layers.ReLU"),
    ("01-forward-pass", "cross_entropy", "calls bplib's loss", "bplib.losses.SoftmaxCrossEntropyLoss"),
    ("01-forward-pass", "cross_entropy_from_scores", "calls bplib's log_softmax",
     "bplib.losses.log_softmax"),
    ("02-chain-rule", "local_derivatives", "uses bplib's Value", "bplib.autograd.Value"),
    ("02-chain-rule", "neuron_gradients", "uses bplib's Value", "bplib.autograd.Value"),
    ("02-chain-rule", "add", "lets bplib's Value add", "bplib.autograd.Value.__add__"),
    ("02-chain-rule", "topological_order", "calls bplib's topological_order",
     "bplib.autograd.topological_order"),
    ("02-chain-rule", "backward", "calls bplib's backward", "bplib.autograd.Value.backward"),
    ("03-backward-pass", "dense_backward", "calls bplib's Linear", "bplib.layers.Linear.backward"),
    ("03-backward-pass", "dense_backward", "finite differences instead of a backward pass",
     "bplib.gradcheck.numerical_gradient"),
    ("03-backward-pass", "relu_backward", "calls bplib's ReLU", "bplib.layers.ReLU"),
    ("03-backward-pass", "sigmoid_backward", "calls bplib's Sigmoid layer", "bplib.layers.Sigmoid"),
    ("03-backward-pass", "softmax_cross_entropy", "calls bplib's loss",
     "bplib.losses.SoftmaxCrossEntropyLoss"),
    ("03-backward-pass", "softmax_backward", "finite differences", "bplib.gradcheck.numerical_gradient"),
    ("03-backward-pass", "mlp_loss_and_grads", "calls bplib's network", "bplib.network.Sequential"),
    # the autodiff engines are off limits lesson-wide (OFF_LIMITS), whole modules
    ("01-forward-pass", "relu", "uses bplib's array autodiff", "bplib.tensor"),
    ("03-backward-pass", "relu_backward", "uses bplib's array autodiff", "bplib.tensor"),
]


@pytest.mark.parametrize("lesson, exercise, label, name", CALLS_BPLIB)  # each lesson has some
def test_an_answer_that_calls_bplib_loses_the_points_with_a_message_naming_the_call(
        lesson, exercise, label, name):
    text = message(lesson, exercise, label)
    assert f"your code calls {name}, bplib's own version of what this exercise asks you to write" in text
    assert name in exercises(lesson)[exercise].implemented_by


def called_names(source):
    """The dotted names (import aliases resolved) of every call in ``source``."""
    tree = ast.parse(source)
    aliases, _ = policy._aliases(tree)
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and (dotted := policy._dotted(node.func)):
            head, _, rest = dotted.partition(".")
            names.add(aliases.get(head, head) + (f".{rest}" if rest else ""))
    return names


@pytest.mark.parametrize("lesson", OUR_LESSONS)
def test_setup_cells_and_probes_never_call_an_exercises_implemented_by_names(lesson):
    """Read statically in the setup cells' source (importing is fine: lesson 03's setup imports
    numerical_gradient for its demonstrations), and at run time: the solution's answers run
    through every probe on visible and hidden cases, and no forbidden call is noted."""
    nb = notebooks.read(source_notebook(lesson))
    setup = "\n".join(c.source for c in nb.cells if c.cell_type == "code" and is_setup(c))
    namespace = namespace_for(nb)
    for exercise in exercises(lesson).values():
        calls = {name for name in called_names(setup) for forbidden in exercise.implemented_by
                 if name == forbidden or name.startswith(forbidden + ".")}
        assert not calls, (exercise.name, calls)
        objects = [namespace[n] for n in exercise.needs]
        for hidden in (False, True):
            for case in exercise.cases(np.random.default_rng(3), hidden):
                status, value = run_case(exercise, objects, case)
                assert status == "ok", (exercise.name, case.label, status, value)


@pytest.mark.parametrize("lesson, exercise, source_name", [
    ("01-forward-pass", "cross_entropy_from_scores", "cross_entropy_from_scores"),
    ("02-chain-rule", "neuron_gradients", "neuron_gradients"),
    ("03-backward-pass", "softmax_backward", "softmax_backward"),
])
def test_each_lesson_has_a_derivation_exercise_worth_three_points(lesson, exercise, source_name):
    nb = notebooks.read(source_notebook(lesson))
    assert notebooks.graded_cells(nb)[exercise] == 3
    assert source_name in answer_sources(nb)


def test_the_static_reading_of_setup_cells_finds_a_call():
    """Lesson 03's setup calls bplib.layers.sigmoid (in sigmoid_forward): that is why
    sigmoid_backward's implemented_by names bplib.layers.Sigmoid, not bplib.layers.sigmoid."""
    nb = notebooks.read(source_notebook("03-backward-pass"))
    setup = "\n".join(c.source for c in nb.cells if c.cell_type == "code" and is_setup(c))
    assert "bplib.layers.sigmoid" in called_names(setup)
    assert "bplib.layers.sigmoid" not in exercises("03-backward-pass")["sigmoid_backward"].implemented_by
