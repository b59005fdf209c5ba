"""Where things are in a course directory, and nbgrader's configuration for it."""

import os
from pathlib import Path

from traitlets.config import Config, PyFileConfigLoader

REPO = Path(__file__).resolve().parent.parent


class CourseError(Exception):
    """Something about the course or its input is wrong; the message says what and how to fix it."""


def lessons(root=REPO):
    """The lessons, in order: every solutions/<lesson>/<lesson>.ipynb."""
    source = Path(root) / "solutions"
    return sorted(p.name for p in source.iterdir() if (p / f"{p.name}.ipynb").is_file()) \
        if source.is_dir() else []


def source_notebook(lesson, root=REPO):
    path = Path(root) / "solutions" / lesson / f"{lesson}.ipynb"
    if not path.is_file():
        raise CourseError(f"no lesson {lesson!r}: {path} does not exist. Lessons: "
                          f"{', '.join(lessons(root)) or 'none'}")
    return path


def release_notebook(lesson, root=REPO):
    return Path(root) / "lessons" / lesson / f"{lesson}.ipynb"


def nbgrader_config(root=REPO, **overrides):
    """The course's nbgrader Config (autograder/nbgrader_config.py) for a course at ``root``.

    ``overrides`` like ``{"CourseDirectory.release_directory": "/tmp/x"}`` are applied on top.
    """
    config = PyFileConfigLoader("nbgrader_config.py", path=str(Path(root) / "autograder")).load_config()
    config.CourseDirectory.root = str(root)
    extra = Config()
    for dotted, value in overrides.items():
        section, name = dotted.split(".")
        extra[section][name] = value
    config.merge(extra)
    return config


def quiet_environment():
    """Environment for nbgrader subprocess kernels: no stray user config."""
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    return env
