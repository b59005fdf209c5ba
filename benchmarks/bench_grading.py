"""Grading speed: hardened `bpcourse grade` vs plain `nbgrader autograde` on the same submissions,
and the speed-up from --workers. Everything runs on a temporary copy of the course.

    .venv/bin/python benchmarks/bench_grading.py [--students 100] [--speedup-students 30]

Targets (issue 5): 100 submissions of one lesson in <= 3 min on this 2-core machine; the hardened
grade at >= 0.5x the throughput of plain nbgrader autograde.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO / "tests"))

import nbformat  # noqa: E402
from notebook_tools import filled_in  # noqa: E402

from autograder import gradebook  # noqa: E402
from autograder.grade import grade  # noqa: E402

LESSON = "01-forward-pass"
VARIANTS = [  # a realistic class: most right, some partly wrong, some unfinished
    {},
    {},
    {},
    {"dense_forward": "def dense_forward(x, W, b):\n    return x @ W"},
    {"softmax": "def softmax(s):\n    e = np.exp(s)\n    return e / e.sum(axis=1, keepdims=True)"},
    {"cross_entropy": "", "softmax": ""},
]


def make_course(root, students):
    for part in (f"solutions/{LESSON}", f"lessons/{LESSON}"):
        shutil.copytree(REPO / part, root / part)
    (root / "autograder").mkdir()
    shutil.copy(REPO / "autograder" / "nbgrader_config.py", root / "autograder")
    shutil.copy(REPO / "nbgrader_config.py", root)
    for i in range(students):
        folder = root / "autograder" / "submitted" / f"student{i:03d}" / LESSON
        folder.mkdir(parents=True)
        nbformat.write(filled_in(LESSON, VARIANTS[i % len(VARIANTS)]), str(folder / f"{LESSON}.ipynb"))


def timed_grade(root, workers):
    start = time.perf_counter()
    out = grade(LESSON, root=root, workers=workers, log=lambda *a: None)
    seconds = time.perf_counter() - start
    statuses = [r["status"] for r in out["students"].values()]
    return seconds, statuses


def timed_plain_nbgrader(root, agg):
    gradebook.create_lesson(LESSON, gradebook.db_url(root), root)
    env = dict(os.environ, PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"])
    if agg:
        env["MPLBACKEND"] = "agg"
    start = time.perf_counter()
    done = subprocess.run([os.path.join(os.path.dirname(sys.executable), "nbgrader"), "autograde",
                           LESSON, "--force"], cwd=root, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    graded = len(list((root / "autograder" / "autograded").glob(f"*/{LESSON}/{LESSON}.ipynb")))
    return seconds, done.returncode, graded


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--students", type=int, default=100)
    parser.add_argument("--speedup-students", type=int, default=30)
    args = parser.parse_args()
    n = args.students
    with tempfile.TemporaryDirectory() as tmp:
        results = {}
        for label, kind in (("hardened bpcourse grade, 2 workers", "hardened"),
                            ("plain nbgrader autograde", "plain"),
                            ("plain nbgrader autograde, MPLBACKEND=agg", "plain-agg")):
            root = Path(tmp) / kind
            make_course(root, n)
            if kind == "hardened":
                seconds, statuses = timed_grade(root, 2)
                extra = f"{statuses.count('graded')} graded, {statuses.count('failed')} failed"
            else:
                seconds, code, graded = timed_plain_nbgrader(root, agg=kind == "plain-agg")
                extra = f"{graded} autograded notebooks, exit status {code}"
            results[kind] = seconds
            print(f"{label}: {n} submissions in {seconds:.0f} s ({n / seconds * 60:.1f} per minute; "
                  f"{extra})", flush=True)
        hardened = results["hardened"]
        print(f"100 submissions with the hardened grade: {hardened / n * 100:.0f} s (target <= 180 s)")
        for kind in ("plain", "plain-agg"):
            ratio = results[kind] / hardened
            print(f"hardened throughput / {kind} nbgrader throughput = {ratio:.2f} (target >= 0.5)")
        m = args.speedup_students
        times = {}
        for workers in (1, 2):
            root = Path(tmp) / f"speedup{workers}"
            make_course(root, m)
            times[workers], _ = timed_grade(root, workers)
            print(f"--workers {workers}: {m} submissions in {times[workers]:.0f} s", flush=True)
        print(f"speed-up of 2 workers over 1: {times[1] / times[2]:.2f}x on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
