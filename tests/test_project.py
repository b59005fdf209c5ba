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


def test_the_readme_lint_command_passes():
    """`ruff check .` (README, Development): the code and the solution notebooks are lint-clean."""
    done = subprocess.run([sys.executable, "-m", "ruff", "check", "."], capture_output=True,
                          text=True, cwd=REPO)
    assert done.returncode == 0, done.stdout + done.stderr


def test_bpcourse_help_lists_the_subcommands():
    out = subprocess.run([sys.executable, "-m", "autograder.cli", "--help"], capture_output=True,
                         text=True, check=True, cwd=REPO)
    assert "lab" in out.stdout


def test_the_start_command_serves_jupyterlab_on_the_lessons(tmp_path):
    """`bpcourse lab` (the README's start command) copies the lessons to a workspace and starts a
    JupyterLab that lists them (here the workspace is a temp folder instead of the course's work/)."""
    import json
    import os
    import socket
    import time
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(tmp_path / "config"),
               JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"),
               JUPYTERLAB_WORKSPACES_DIR=str(tmp_path / "workspaces"))
    server = subprocess.Popen(
        [os.path.join(os.path.dirname(sys.executable), "bpcourse"), "lab", "--no-browser",
         f"--workspace={tmp_path / 'work'}",
         f"--port={port}", "--ServerApp.ip=127.0.0.1", "--IdentityProvider.token=test-token"],
        cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}/api/contents?token=test-token"
        for _ in range(120):
            assert server.poll() is None, "bpcourse lab exited"
            try:
                listing = json.load(urllib.request.urlopen(url, timeout=2))
                break
            except OSError:
                time.sleep(0.5)
        else:
            raise AssertionError("JupyterLab did not answer within 60 s")
        names = {item["name"] for item in listing["content"]}
        assert "01-forward-pass" in names and "README.md" in names and "progress.ipynb" in names
        assert (tmp_path / "work" / "01-forward-pass" / "01-forward-pass.ipynb").is_file()
    finally:
        server.terminate()
        server.wait(timeout=30)
