"""Lessons 04-06: what the typical wrong answers are told, the policy on calling bplib, and graders
that judge a method rather than a remembered answer (bugs planted at grading time, a training loop
watched while it runs)."""

import importlib

import hint_coverage
import numpy as np
import pytest
from notebook_tools import namespace_for

from autograder import notebooks
from autograder.course import source_notebook
from autograder.exercises import LESSONS, exercises
from autograder.exercises import gradient_checking as keys_04
from bplib.grading import check_exercise
from bplib.probes.planted_bugs import build_network

OURS = ("04-gradient-checking", "05-update-rule", "06-efficiency-and-scale")


def wrong(lesson, exercise, label):
    return importlib.import_module(f"wrong_answers.{LESSONS[lesson]}").WRONG[exercise][label]


def message(lesson, exercise, label):
    """The message the fixture gets from the hidden checks (hint_coverage's fixed seed)."""
    text = hint_coverage.failure_message(lesson, exercise, wrong(lesson, exercise, label))
    assert text is not None, f"{lesson} {exercise} [{label}] passes"
    return text


# --- the policy on calling bplib ------------------------------------------------------------------

def test_implemented_by_covers_what_bplib_already_does():
    # the lesson-wide names (the autodiff engines) join every exercise; here the exercise's own
    assert set(keys_04.OFF_LIMITS) == {"bplib.autograd", "bplib.tensor"}
    assert all(set(keys_04.OFF_LIMITS) <= set(e.implemented_by)
               for e in exercises("04-gradient-checking").values())
    in_04 = {name: set(e.implemented_by) - set(keys_04.OFF_LIMITS)
             for name, e in exercises("04-gradient-checking").items()}
    assert "bplib.gradcheck.numerical_gradient" in in_04["numerical_gradient"]
    assert "bplib.gradcheck.relative_error" in in_04["relative_error"]
    assert in_04["check_network_gradients"] == {"bplib.gradcheck.check_network"}
    assert "bplib.gradcheck.check_network" in in_04["wrong_parameters"]
    assert in_04["wrong_layers"] == {"bplib.gradcheck.check_layer"}
    assert in_04["fix_1"] == in_04["fix_2"] >= {"bplib.layers.Linear.backward"}
    # a bplib call in an earlier answer must not cost the later exercises that build on it
    assert not (in_04["relative_error"] | in_04["numerical_gradient"]) & (
        in_04["check_network_gradients"] | in_04["wrong_parameters"] | in_04["wrong_layers"])
    in_05 = {name: set(e.implemented_by) for name, e in exercises("05-update-rule").items()}
    assert in_05["sgd_step"] == in_05["momentum_step"] == {"bplib.optim.SGD"}
    assert in_05["adam_step"] == {"bplib.optim.Adam"}
    assert {"bplib.train.fit", "bplib.optim.Optimizer.step"} <= in_05["train"]
    # lesson 06 counts and times: bplib has nothing that does it, and the brief lets it use bplib
    assert not any(e.implemented_by for e in exercises("06-efficiency-and-scale").values())


@pytest.mark.parametrize("lesson, exercise, label, call", [
    ("04-gradient-checking", "relative_error", "calls bplib", "bplib.gradcheck.relative_error"),
    ("04-gradient-checking", "numerical_gradient", "calls bplib", "bplib.gradcheck.numerical_gradient"),
    ("04-gradient-checking", "wrong_layers", "calls bplib's check_layer", "bplib.gradcheck.check_layer"),
    ("04-gradient-checking", "fix_1", "bplib's layers do the backward", "bplib.layers.Linear.backward"),
    ("05-update-rule", "train", "calls bplib's fit", "bplib.train.fit"),
    ("05-update-rule", "sgd_step", "bplib's SGD does the step", "bplib.optim.SGD"),
])
def test_an_answer_that_calls_bplib_is_told_which_call(lesson, exercise, label, call):
    text = message(lesson, exercise, label)
    assert f"your code calls {call}," in text and "scores 0 points" in text


# --- the messages of the new and reworked checks ------------------------------------------------

MESSAGES = [
    # lesson 04: bug finders on bugs planted at grading time
    ("04-gradient-checking", "wrong_parameters", "the names from the notebook's first network",
     ["the gradient of 2.W is right", "This network has no bug at all", "planted anew"]),
    ("04-gradient-checking", "wrong_parameters", "only the highest parameter that fails",
     ["more fail the check", "BELOW it fail too"]),
    ("04-gradient-checking", "wrong_parameters", "names the layers, not the parameters",
     ["is not a parameter of this network", "model.parameters() yields"]),
    ("04-gradient-checking", "wrong_layers", "the layer from the notebook's example",
     ["layer 1 (tanh) is correct", "no bug at all", "planted anew"]),
    ("04-gradient-checking", "wrong_layers", "only the parameter gradients",
     ["layer 1 (sigmoid) has a wrong backward", "without parameters is checked through what its "
      "backward returns"]),
    ("04-gradient-checking", "wrong_layers", "checked through the network's output",
     ["layer 0 (Linear) is correct", "a layer below a wrong one receives a wrong dout"]),
    ("04-gradient-checking", "wrong_layers", "gradients picked up before backward",
     ["layer 2 (Linear) is correct", "stores NEW gradient arrays"]),
    ("04-gradient-checking", "wrong_layers", "never checks the first layer's dx",
     ["layer 0 (Linear) has a wrong backward: dx", "even in the first layer"]),
    # lesson 04: the fixes
    ("04-gradient-checking", "fix_1", "unchanged", ["exactly the gradients of the original TanhNetwork"]),
    ("04-gradient-checking", "fix_1", "finite differences inside backward",
     ["your backward ran the network's forward", "not a fix"]),
    ("04-gradient-checking", "fix_1", "transposed the wrong product",
     ["4 of 7 gradients are wrong (0.W, 0.b, 2.W, dx)", "the highest wrong parameter is 2.W"]),
    ("04-gradient-checking", "fix_1", "forgot to return dx", ["backward returned None"]),
    ("04-gradient-checking", "fix_2", "sigmoid derivative also for the data",
     ["only dx, what backward returns, is wrong"]),
    ("04-gradient-checking", "fix_2", "a fix that counts on three layers",
     ["hidden_layers=3", "the highest wrong parameter is 4.W"]),
    # lesson 05: the training loop, watched
    ("05-update-rule", "train", "shuffles once, never reshuffles",
     ["every epoch fed the examples in the same order", "never reshuffled",
      "rng.permutation(N) INSIDE the epoch loop"]),
    ("05-update-rule", "train", "never shuffles", ["stored order", "never shuffled"]),
    ("05-update-rule", "train", "one batch per epoch", ["made 30 updates", "make 300 updates",
                                                        "one update per epoch"]),
    ("05-update-rule", "train", "labels of other examples", ["X[batch] and y[batch]"]),
    ("05-update-rule", "train", "trains a new model", ["never ran a backward pass through the model"]),
    ("05-update-rule", "train", "rebinds the name instead of updating in place",
     ["the weights never changed", "IN PLACE"]),
    ("05-update-rule", "train", "learning rate divided by the batch size",
     ["learning_rate / batch_size", "already averages over the batch"]),
    ("05-update-rule", "train", "learning rate squared", ["learning_rate squared"]),
    ("05-update-rule", "train", "updates before the backward pass", ["BEFORE the backward pass"]),
    ("05-update-rule", "train", "steps uphill", ["blew up", "AGAINST the gradient"]),
    # lesson 06: the two messages that were bare
    ("06-efficiency-and-scale", "count_forward_calls", "forgot nonlocal", ["nonlocal calls"]),
    ("06-efficiency-and-scale", "forward_flops", "one square matrix per layer",
     ["zip(sizes[:-1], sizes[1:])"]),
    # timings predicted from one forward pass, not measured (red-team finding F7)
    ("06-efficiency-and-scale", "time_gradients", "predicted from one forward pass",
     ["ran the model's forward pass", "time the real computation"]),
]


@pytest.mark.parametrize("lesson, exercise, label, expected", MESSAGES,
                         ids=[f"{m[1]}-{m[2]}" for m in MESSAGES])
def test_wrong_answer_gets_a_message_that_names_the_mistake(lesson, exercise, label, expected):
    text = message(lesson, exercise, label)
    for part in expected:
        assert part in text, f"{part!r} not in:\n{text}"


def test_at_least_95_percent_of_the_wrong_answers_get_a_specific_message():
    rows = [row for rows in hint_coverage.measure(list(OURS)).values() for row in rows]
    specific = sum(row[2] for row in rows)
    assert specific >= 0.95 * len(rows), [row[:2] for row in rows if not row[2]]


# --- lesson 04: the bug finders are graded on bugs drawn when the check runs ----------------------

def _planted(exercise, seeds):
    """{(layer, bug)} over the hidden cases of ``seeds`` (the specs are the first case argument)."""
    found = set()
    for seed in seeds:
        for case in exercise.cases(np.random.default_rng(seed), True):
            found |= {(i, item[-1]) for i, item in enumerate(case.args[0]) if item[-1]}
    return found


@pytest.mark.parametrize("name", ["wrong_parameters", "wrong_layers"])
def test_bug_finders_meet_bugs_drawn_at_grading_time(name):
    exercise = exercises("04-gradient-checking")[name]
    first, second = _planted(exercise, range(0, 6)), _planted(exercise, range(6, 12))
    assert len(first | second) >= 12 and first != second
    assert len({layer for layer, _ in first | second}) >= 4
    assert len({bug for _, bug in first | second}) >= 7


def test_layer_cases_name_exactly_the_layers_with_a_visible_planted_bug():
    for seed in range(6):
        for case in keys_04.wrong_layers_cases(np.random.default_rng(seed), True):
            planted = {i for i, bug in enumerate(case.expected["planted"])
                       if bug and bug != keys_04.FRESH_ARRAYS}
            assert set(case.expected["wrong"]) <= planted, case.label
            for i in planted - set(case.expected["wrong"]):  # only a ReLU that saw no negative input
                assert case.expected["kinds"][i] == "relu", case.label


def test_graded_networks_hide_which_layers_are_planted():
    case = keys_04.wrong_layers_cases(np.random.default_rng(0), False)[3]  # a fresh-array and a dW bug
    spec, weights, x = case.args
    plain, disguised = build_network(spec, weights), build_network(spec, weights, disguise=True)
    names = [type(layer).__name__ for layer in disguised.layers]
    assert names == ["Linear", "ReLU", "Linear", "ReLU", "Linear"]
    for layer in disguised.layers:
        assert "forward" in vars(type(layer)) and "backward" in vars(type(layer))
    dout = np.random.default_rng(1).normal(size=(len(x), spec[-1][2]))
    plain.forward(x)
    disguised.forward(x)
    np.testing.assert_array_equal(plain.backward(dout), disguised.backward(dout))


def test_float32_central_difference_is_zero_below_3e_8_as_the_text_says():
    x = np.float32(1.0)
    fine = np.geomspace(1e-9, 1e-6, 3001)
    central = max(h for h in fine if np.sin(x + np.float32(h)) == np.sin(x - np.float32(h)))
    forward = max(h for h in fine if np.sin(x + np.float32(h)) == np.sin(x))
    assert 2.5e-8 < central < 3.5e-8 and 5.5e-8 < forward < 6.5e-8
    text = next(c.source for c in notebooks.read(source_notebook("04-gradient-checking")).cells
                if "round back to $x$" in c.source)
    assert "3 \\times 10^{-8}" in text and "6 \\times 10^{-8}" in text


# --- lesson 05: other correct loops pass ----------------------------------------------------------

_LOOPS = {
    "param -= and backward_parameters": '''
from bplib.network import backward_parameters

def train(model, loss, X, y, epochs=30, batch_size=20, learning_rate=0.1, rng=None):
    rng = np.random.default_rng(rng)
    for epoch in range(epochs):
        order = rng.permutation(len(X))
        for start in range(0, len(X), batch_size):
            batch = order[start:start + batch_size]
            loss.forward(model.forward(X[batch]), y[batch])
            backward_parameters(model, loss.backward())
            for _, param, grad in model.parameters():
                param -= learning_rate * grad
    return model
''',
    "shuffled copies, a loss printed every epoch": '''
def train(model, loss, X, y, epochs=30, batch_size=20, learning_rate=0.1, rng=None):
    rng = np.random.default_rng(rng)
    index = np.arange(len(X))
    for epoch in range(epochs):
        rng.shuffle(index)
        X_epoch, y_epoch = X[index], y[index]
        for start in range(0, len(X), batch_size):
            out = model.forward(X_epoch[start:start + batch_size])
            loss.forward(out, y_epoch[start:start + batch_size])
            model.backward(loss.backward())
            for name, param, grad in model.parameters():
                param[...] = sgd_step(param, grad, learning_rate)
        epoch_loss = loss.forward(model.forward(X), y)   # monitoring: no backward, no update
    return model
''',
}


@pytest.mark.parametrize("label", list(_LOOPS))
def test_other_correct_training_loops_pass(label):
    nb = notebooks.read(source_notebook("05-update-rule"))
    namespace = namespace_for(nb, replace={"train": _LOOPS[label]})
    for seed in (1, 2):
        check_exercise(exercises("05-update-rule"), "train", namespace["train"], hidden=True, seed=seed)


# --- lesson 06: the vectorisation section compares equal gradients --------------------------------

def test_per_example_loop_and_batched_pass_give_the_same_gradient():
    nb = notebooks.read(source_notebook("06-efficiency-and-scale"))
    namespace = namespace_for(nb)
    source = next(c.source for c in nb.cells if "def per_example_gradients" in c.source)
    exec(compile(source.split("\n\n\nsizes =")[0], "<per_example_gradients>", "exec"), namespace)
    model, loss, x, y = namespace["classification_problem"]([5, 7, 3], batch=6)
    looped = namespace["per_example_gradients"](model, loss, x, y)
    batched = namespace["backprop_gradients"](model, loss, x, y)
    for name in batched:
        np.testing.assert_allclose(looped[name], batched[name], rtol=1e-10, atol=1e-13)
