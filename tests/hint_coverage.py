"""How many typical wrong answers get a message that names the mistake.

Every fixture of ``tests/wrong_answers/<module>.py`` is checked with the hidden checks of a fixed
seed, in this process, as a learner's notebook would be; its failure message is *specific* when it
says more than a bare mismatch ("you returned 0.5, expected 1") or a bare error ("your code raised
ValueError: ..."): a hint, or an explanation written for that exercise. Run it to see the figures:

    .venv/bin/python tests/hint_coverage.py          # per lesson, then every bare message

tests/test_lessons.py requires at least ``TARGET`` of all fixtures to get a specific message.
"""

import importlib
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from notebook_tools import namespace_for  # noqa: E402

from autograder import notebooks  # noqa: E402
from autograder.course import lessons, source_notebook  # noqa: E402
from autograder.exercises import LESSONS, exercises  # noqa: E402
from bplib.grading import check_exercise  # noqa: E402

TARGET = 0.90
SEED = 7

# A message is bare when, after its "name: check i of n (...) failed." line, all it says is one of:
BARE = [
    re.compile(r"^(\S+: )?wrong value( at index \([^)]*\))?: you returned \S+, expected \S+ "
               r"\(relative error [^)]*\)( \(\d+ of \d+ entries are wrong\))?$"),
    re.compile(r"^(\S+: )?you returned [^\n]*, expected [^\n]*$"),
    re.compile(r"^your code raised [A-Za-z]*Error: [^\n]*(\n  \(raised in [^\n]*\))?$"),
]


def failure_message(lesson, exercise, source):
    """The message a wrong answer gets (None if it passes, which tests/test_lessons.py forbids)."""
    nb = notebooks.read(source_notebook(lesson))
    namespace = namespace_for(nb, replace={exercise: source})
    definition = exercises(lesson)[exercise]
    try:
        check_exercise(exercises(lesson), exercise, *[namespace[n] for n in definition.needs],
                       hidden=True, seed=SEED)
    except Exception as error:  # noqa: BLE001 - the message is what we want
        return str(error)
    return None


def is_specific(message):
    """A hint, a "--" remark, a guiding question, or anything but a bare mismatch or error."""
    body = message.split("failed.\n", 1)[-1].split("\n  (These inputs came from seed")[0].strip()
    if "Hint:" in body or " -- " in body or "?" in body:
        return True
    return not any(pattern.match(body) for pattern in BARE)


def measure(selected=None):
    """{lesson: [(exercise, label, specific, message), ...]}"""
    out = {}
    for lesson in selected or lessons():
        try:
            module = importlib.import_module(f"wrong_answers.{LESSONS[lesson]}")
        except (ModuleNotFoundError, KeyError):
            continue
        rows = []
        for exercise, variants in module.WRONG.items():
            for label, source in variants.items():
                message = failure_message(lesson, exercise, source)
                rows.append((exercise, label, message is not None and is_specific(message), message))
        out[lesson] = rows
    return out


def main():
    results = measure(sys.argv[1:] or None)
    total = specific = 0
    for lesson, rows in results.items():
        hits = sum(row[2] for row in rows)
        total, specific = total + len(rows), specific + hits
        print(f"{lesson:28s} {hits:3d} / {len(rows):3d} specific ({hits / max(1, len(rows)):.0%})")
    print(f"{'all lessons':28s} {specific:3d} / {total:3d} specific ({specific / max(1, total):.1%}); "
          f"target {TARGET:.0%}")
    for lesson, rows in results.items():
        for exercise, label, ok, message in rows:
            if not ok:
                print(f"\n--- {lesson} {exercise} [{label}]\n{message}")


if __name__ == "__main__":
    main()
