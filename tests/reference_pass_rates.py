"""How often the reference answers of lessons 07 and 08 pass their hidden checks, and what the
look-up attacks on ``train_digits`` score. Slow (minutes): run it by hand, one part at a time,
with one BLAS thread:

    OPENBLAS_NUM_THREADS=1 .venv/bin/python tests/reference_pass_rates.py deep_config 300
    OPENBLAS_NUM_THREADS=1 .venv/bin/python tests/reference_pass_rates.py train_digits 120
    OPENBLAS_NUM_THREADS=1 .venv/bin/python tests/reference_pass_rates.py attacks 100

Each part runs the hidden checks of seeds 0, 1, ..., n-1 (or of n seeds from a third argument)
exactly as the exercise draws them
(``cases(np.random.default_rng(seed), hidden=True)``), with the solution notebook's own answer,
and judges it with the exercise's own ``compare``.
"""

import collections
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from notebook_tools import namespace_for  # noqa: E402
from wrong_answers.capstone import WRONG as CAPSTONE_WRONG  # noqa: E402

from autograder import notebooks  # noqa: E402
from autograder.course import source_notebook  # noqa: E402
from autograder.exercises import capstone, vanishing_exploding  # noqa: E402
from bplib.grading import plain  # noqa: E402
from bplib.probes.capstone import train_digits_probe  # noqa: E402


def solution(lesson, name, replace=None):
    return namespace_for(notebooks.read(source_notebook(lesson)), replace)[name]


def deep_config(n, first=0):
    """Per hidden check (4 trainings) and per kind of case: how often the notebook's answer passes."""
    answer = solution("07-vanishing-exploding", "deep_config")
    exercise = vanishing_exploding.DEEP_CONFIG
    kinds, checks_passed, failures = collections.Counter(), 0, []
    kinds_passed = collections.Counter()
    for seed in range(first, first + n):
        passed = True
        for case in exercise.cases(np.random.default_rng(seed), True):
            activation, depth, imposed, _ = case.args
            kind = f"{activation}, init {imposed or 'chosen'}"
            message = exercise.compare(plain(exercise.call([answer], case.args)), case)
            kinds[kind] += 1
            kinds_passed[kind] += message is None
            if message:
                passed = False
                failures.append(f"seed {seed}: {case.label}: {message.splitlines()[0]}")
        checks_passed += passed
    print(f"deep_config: the notebook's answer passed {checks_passed} of {n} hidden checks "
          f"(seeds {first}-{first + n - 1}, 4 trainings each)")
    for kind in sorted(kinds):
        print(f"  {kind:22s} {kinds_passed[kind]} of {kinds[kind]} trainings")
    for failure in failures:
        print("  FAILED", failure)


def train_digits(n, first=0):
    """The accuracy of the notebook's train_digits over the 4-fold hidden check of each seed."""
    answer = solution("08-capstone", "train_digits")
    accuracies, seconds = [], []
    for seed in range(first, first + n):
        case = capstone.TRAIN_DIGITS.cases(np.random.default_rng(seed), True)[0]
        start = time.process_time()
        got = plain(train_digits_probe(answer, *case.args))
        seconds.append(time.process_time() - start)
        message = capstone.compare_train_digits(got, case)
        labels = case.expected["labels"]
        right = sum(int(np.sum(p == t)) for p, t in zip(got["predictions"], labels))
        accuracy = right / sum(len(t) for t in labels)
        accuracies.append(accuracy)
        if (message is None) != (accuracy >= capstone.ACCURACY):
            print(f"  seed {seed}: accuracy {accuracy:.4f} but the check says {message!r}")
        print(f"  seed {seed}: {accuracy:.4f} ({seconds[-1]:.1f} s CPU)", flush=True)
    accuracies = np.array(accuracies)
    print(f"train_digits over {n} hidden checks (4-fold cross-validation, seeds {first}-{first + n - 1}): "
          f"min {accuracies.min():.4f}, median {np.median(accuracies):.4f}, max {accuracies.max():.4f}; "
          f"{np.sum(accuracies >= capstone.ACCURACY)} of {n} at least {capstone.ACCURACY:.0%}; "
          f"CPU per check: median {np.median(seconds):.1f} s, max {max(seconds):.1f} s")


# An attack the grader does not stop (see autograder/exercises/capstone.py): undo the pixel
# shuffle by looking up the training images too, and learn the renaming of the classes from them.
LOOKUP_AND_RENAMING = '''
def train_digits(X_train, y_train):
    from bplib.data import load_digits
    X_all, y_all = load_digits()
    label_of = {}
    for image, label in zip(X_all, y_all):
        label_of.setdefault(np.sort(image).tobytes(), label)
    votes = np.zeros((10, 10), dtype=int)   # votes[original label, label given in y_train]
    for image, given in zip(X_train, y_train):
        original = label_of.get(np.sort(image).tobytes())
        if original is not None:
            votes[original, given] += 1
    renamed = votes.argmax(axis=1)
    def predict_digits(images):
        return np.array([renamed[label_of.get(np.sort(image).tobytes(), 0)] for image in images])
    return predict_digits
'''


def attacks(n, first=0):
    """What the look-up attacks score on the hidden checks of n seeds from ``first``."""
    sources = {"sorted-pixel look-up (tests/wrong_answers/capstone.py)":
               CAPSTONE_WRONG["train_digits"]["looks the images up by their sorted pixels"],
               "look-up that also learns the renaming from the training images": LOOKUP_AND_RENAMING}
    for label, source in sources.items():
        answer = solution("08-capstone", "train_digits", {"train_digits": source})
        scores = []
        for seed in range(first, first + n):
            case = capstone.TRAIN_DIGITS.cases(np.random.default_rng(seed), True)[0]
            got = plain(train_digits_probe(answer, *case.args))
            labels = case.expected["labels"]
            right = sum(int(np.sum(p == t)) for p, t in zip(got["predictions"], labels))
            scores.append(right / sum(len(t) for t in labels))
        print(f"{label}: over {n} hidden checks min {min(scores):.4f}, median "
              f"{np.median(scores):.4f}, max {max(scores):.4f}")


if __name__ == "__main__":
    part, count = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 20
    first = int(sys.argv[3]) if len(sys.argv) > 3 else 0
    {"deep_config": deep_config, "train_digits": train_digits, "attacks": attacks}[part](count, first)
