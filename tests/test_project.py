"""The project's promises to a newcomer: the README's commands are the ones CI runs."""

import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def readme_commands():
    return re.findall(r"```bash\n(.+?)\n```", (REPO / "README.md").read_text())


def test_ci_runs_the_readme_test_command():
    start, test = readme_commands()[:2]
    assert "pytest" in test and "bpcourse lab" in start
    ci_lines = [line.strip() for line in (REPO / ".ci" / "run").read_text().splitlines()]
    assert test in ci_lines


def test_bpcourse_help_lists_the_subcommands():
    out = subprocess.run([sys.executable, "-m", "autograder.cli", "--help"], capture_output=True,
                         text=True, check=True, cwd=REPO)
    assert "lab" in out.stdout
