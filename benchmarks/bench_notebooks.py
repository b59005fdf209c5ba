"""How long each solution notebook takes to execute top to bottom (kernel start included), one
after the other, as a learner's "Run All" or nbgrader's autograde would.

    .venv/bin/python benchmarks/bench_notebooks.py

Target (issue 13): all solution notebooks together in <= 150 s on a 2-core machine.
"""

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import nbclient
import nbformat

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from autograder.course import lessons, source_notebook  # noqa: E402


def main():
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # as the test suite runs them
    total = 0.0
    for lesson in lessons():
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / f"{lesson}.ipynb"
            shutil.copy(source_notebook(lesson), path)
            nb = nbformat.read(str(path), as_version=4)
            start = time.perf_counter()
            nbclient.NotebookClient(nb, timeout=600, kernel_name="python3",
                                    resources={"metadata": {"path": tmp}}).execute()
            seconds = time.perf_counter() - start
        total += seconds
        print(f"{lesson:28s} {seconds:6.1f} s", flush=True)
    print(f"{'all solution notebooks':28s} {total:6.1f} s (target <= 150 s)")


if __name__ == "__main__":
    main()
