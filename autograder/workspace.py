"""The learner's workspace: their own copy of the released lessons, outside git's tracked files.

``bpcourse lab`` and ``bpcourse update`` copy every released lesson (``lessons/<lesson>/``) into the
workspace: ``work/`` in the course folder by default (git-ignored, so ``git pull`` never meets the
learner's work), or any folder given with ``--workspace DIR``. The learner works there; the course's
``lessons/`` stays as released.

Edited or not: a manifest (``.bpcourse/manifest.json`` in the workspace) records the digest of each
file as it was copied. A notebook's digest covers what a learner writes, each cell's type and source,
not outputs or metadata, so a notebook that was only opened and run is not "edited". On each update,
for every released file:

* not in the workspace: copied (so deleting or renaming a notebook starts that lesson afresh);
* its release did not change since the last update: left alone, edited or not;
* its release changed and the learner did not edit it: replaced by the new release (the old file is
  kept in ``.bpcourse/previous/``, outputs and all);
* its release changed and the learner edited it: left alone; the new release is written beside it
  as ``<name>.new.ipynb`` (once per release; an edited ``.new`` file is never overwritten either).

Nothing is ever deleted, and nothing is written through a symbolic link: a link where a lesson's
folder or file should be is reported and left alone.
"""

import hashlib
import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from autograder.course import REPO, CourseError

DEFAULT = REPO / "work"
STATE = ".bpcourse"  # the workspace's own state: manifest, backups, progress cache, Lab config
MANIFEST_VERSION = 1
SKIPPED_NAMES = {".ipynb_checkpoints", "__pycache__", ".DS_Store"}

README = """\
# Your workspace

Your own copy of the course's lessons: work here, everything you write is saved here (JupyterLab
saves as you go; Ctrl+S saves at once). The course's `lessons/` folder stays as released.

* `bpcourse lab` starts JupyterLab here (run it again tomorrow to continue);
* `bpcourse progress` shows every lesson's points and what to do next (so does `progress.ipynb`);
* `bpcourse update` brings in new or updated lessons (after `git pull`) without touching the
  notebooks you edited: a new version of one of those is written beside it as `<lesson>.new.ipynb`;
* `bpcourse check 01-forward-pass/01-forward-pass.ipynb` (in this folder) checks one notebook.

To start a lesson afresh, rename your notebook and run `bpcourse update`: the lesson's release comes
back under its own name. Files replaced by an update are kept in `.bpcourse/previous/`.
"""

PROGRESS_INTRO = """\
# Your progress

Run the cell below (Shift+Enter) for every lesson's points per exercise and what to do next. It runs
the same checks as `bpcourse check` on each of your notebooks (save them first: Ctrl+S), in
parallel; a notebook whose code has not changed since the last time is not checked again.
The same view is written to `progress.html`, and `bpcourse progress` prints it in a terminal."""

PROGRESS_CODE = """\
from autograder.progress import show

show()"""


@dataclass
class SyncReport:
    """What an update did, file by file (paths relative to the workspace)."""
    workspace: Path
    created: bool = False
    added: list = field(default_factory=list)
    updated: list = field(default_factory=list)      # (path, backup path)
    offered: list = field(default_factory=list)      # (edited path, where the new release went)
    left_alone: list = field(default_factory=list)   # (path, why)

    @property
    def changed(self):
        return bool(self.added or self.updated or self.offered)

    def lines(self):
        """A few lines for the terminal."""
        head = "created" if self.created else ("updated" if self.changed else "up to date")
        lines = [f"Your workspace: {self.workspace} ({head})"]
        notebooks = [p for p in self.added if p.endswith(".ipynb") and "/" in p]
        others = [p for p in self.added if p not in notebooks]
        if notebooks:
            lines.append(f"  copied {len(notebooks)} lesson notebook{'s' * (len(notebooks) != 1)}: "
                         + ", ".join(p.split("/")[0] for p in notebooks))
        if others:
            lines.append(f"  added {', '.join(others)}")
        for path, backup in self.updated:
            lines.append(f"  updated {path} to the course's new version (you had not edited it; "
                         f"the old file is in {backup})")
        for path, beside in self.offered:
            lines.append(f"  {path}: the course has a new version and you edited yours, which stays "
                         f"as it is; the new version is beside it: {beside}")
        for path, why in self.left_alone:
            lines.append(f"  left alone {path}: {why}")
        return lines

    def __str__(self):
        return "\n".join(self.lines())


# --- where the workspace is ----------------------------------------------------------------------

def resolve(path=None, course_root=REPO):
    """The workspace folder for ``path`` (default: ``work/`` in the course), checked; it may not
    exist yet. Raises CourseError for a file, a symbolic link, or a folder of the course itself."""
    course_root = Path(course_root).absolute()
    workspace = Path(path).expanduser().absolute() if path else course_root / "work"
    if workspace.is_symlink():
        raise CourseError(f"the workspace {workspace} is a symbolic link (to {os.readlink(workspace)}); "
                          f"give the folder itself: --workspace {workspace.resolve()}")
    if workspace.exists() and not workspace.is_dir():
        raise CourseError(f"the workspace {workspace} is a file, not a folder: move it away, or give "
                          "another folder with --workspace DIR")
    real, course = workspace.resolve(), course_root.resolve()
    tracked = [course / name for name in ("lessons", "solutions", "autograder", "bplib", "tests")]
    if real == course or any(real == t or t in real.parents for t in tracked):
        raise CourseError(f"the workspace cannot be {workspace}, a folder of the course itself (git "
                          "tracks it): use the default work/ or a folder of your own")
    return workspace


def find(start=None):
    """The workspace holding ``start`` (default: the current folder): the nearest folder, going up,
    with a manifest. Raises CourseError if there is none."""
    start = Path(start or Path.cwd()).absolute()
    for folder in (start, *start.parents):
        if (folder / STATE / "manifest.json").is_file():
            return folder
    raise CourseError(f"{start} is not in a workspace (no {STATE}/manifest.json above it): give one "
                      "with --workspace DIR, or run `bpcourse lab` to create work/")


# --- digests -------------------------------------------------------------------------------------

def digest(data, name):
    """What counts as the content of a file: for a notebook, each cell's type and source (outputs,
    execution counts and metadata are not the learner's writing); for anything else, its bytes.
    A notebook that is not valid JSON is digested as bytes (so it counts as edited)."""
    if name.endswith(".ipynb"):
        try:
            cells = json.loads(data)["cells"]
            parts = [[c.get("cell_type"), _text(c.get("source", ""))] for c in cells]
            return "cells:" + hashlib.sha256(json.dumps(parts).encode()).hexdigest()
        except (ValueError, KeyError, TypeError, AttributeError):
            pass
    return "bytes:" + hashlib.sha256(data).hexdigest()


def _text(source):
    return "".join(source) if isinstance(source, list) else str(source)


# --- what the course releases --------------------------------------------------------------------

def released_lessons(course_root=REPO):
    """The lessons in ``lessons/`` (folders holding ``<lesson>/<lesson>.ipynb``), in order."""
    release = Path(course_root) / "lessons"
    if not release.is_dir():
        return []
    return sorted(p.name for p in release.iterdir() if (p / f"{p.name}.ipynb").is_file())


def release_files(course_root=REPO):
    """{path relative to the workspace: bytes}: every file of every released lesson, plus the
    workspace's README.md and progress.ipynb."""
    files = {}
    release = Path(course_root) / "lessons"
    for lesson in released_lessons(course_root):
        for path in sorted((release / lesson).rglob("*")):
            parts = path.relative_to(release).parts
            if path.is_file() and not path.is_symlink() and not SKIPPED_NAMES & set(parts):
                files["/".join(parts)] = path.read_bytes()
    files["README.md"] = README.encode()
    files["progress.ipynb"] = _progress_notebook()
    return files


def _progress_notebook():
    """progress.ipynb (nbformat 4.5 JSON, written by hand: importing nbformat takes seconds)."""
    def cell(index, kind, source):
        cell = {"cell_type": kind, "id": f"progress-{index}", "metadata": {}, "source": source}
        if kind == "code":
            cell.update(execution_count=None, outputs=[])
        return cell

    nb = {"cells": [cell(0, "markdown", PROGRESS_INTRO), cell(1, "code", PROGRESS_CODE)],
          "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}},
          "nbformat": 4, "nbformat_minor": 5}
    return (json.dumps(nb, indent=1, sort_keys=True) + "\n").encode()


# --- bringing the workspace up to date -----------------------------------------------------------

def sync(workspace, course_root=REPO):
    """Copy new and updated released files into ``workspace`` (see the module's docstring for the
    rules); return a :class:`SyncReport`."""
    workspace = resolve(workspace, course_root)
    report = SyncReport(workspace, created=not workspace.exists())
    workspace.mkdir(parents=True, exist_ok=True)
    manifest = _load_manifest(workspace)
    entries = manifest["files"]
    for relative, data in release_files(course_root).items():
        new = digest(data, relative)
        target = workspace / relative
        link = _link_on_the_way(workspace, target)
        if link is not None:
            report.left_alone.append((relative, f"{link.relative_to(workspace)} is a symbolic link"))
            continue
        entry = entries.get(relative)
        if not target.exists():
            _write(workspace, target, data)
            entries[relative] = {"release": new, "copied": new}
            report.added.append(relative)
            continue
        if not target.is_file():
            report.left_alone.append((relative, "not a regular file"))
            continue
        current = digest(target.read_bytes(), relative)
        if current == new:  # already this release (perhaps adopted by hand)
            entries[relative] = {"release": new, "copied": new}
            continue
        if entry is not None and entry.get("release") == new:
            continue  # the release did not change: the learner's edits are theirs
        if entry is not None and current == entry.get("copied"):
            backup = Path(STATE) / "previous" / relative
            (workspace / backup).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(target, workspace / backup)
            _write(workspace, target, data)
            entries[relative] = {"release": new, "copied": new}
            report.updated.append((relative, str(backup)))
            continue
        beside = _beside(workspace, target, entry, new)
        _write(workspace, beside, data)
        entries[relative] = {"release": new, "copied": (entry or {}).get("copied"),
                             "beside": beside.relative_to(workspace).as_posix(), "beside_digest": new}
        report.offered.append((relative, beside.relative_to(workspace).as_posix()))
    _save_manifest(workspace, manifest)
    return report


def _beside(workspace, target, entry, new):
    """Where to write a new release next to an edited ``target``: ``<stem>.new<suffix>``, or
    ``.new-2``, ... when that name holds something else (an edited earlier offer, a file of the
    learner's, a link)."""
    previous = (entry or {}).get("beside_digest")
    for number in range(1, 1000):
        name = f"{target.stem}.new{'' if number == 1 else f'-{number}'}{target.suffix}"
        candidate = target.with_name(name)
        if candidate.is_symlink():
            continue
        if not candidate.exists():
            return candidate
        if candidate.is_file():
            current = digest(candidate.read_bytes(), name)
            if current in (previous, new):
                return candidate
    raise CourseError(f"no free name next to {target} for the course's new version")


def _link_on_the_way(workspace, target):
    """The first symbolic link among ``target`` and its folders below ``workspace``, or None."""
    path = workspace
    for part in target.relative_to(workspace).parts:
        path = path / part
        if path.is_symlink():
            return path
    return None


def _write(workspace, target, data):
    """Write ``data`` to ``target`` (complete or not at all), never through a link."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if _link_on_the_way(workspace, target.parent) is not None:
        raise CourseError(f"{target.parent} is a symbolic link: not writing through it")
    temporary = target.with_name(f".{target.name}.bpcourse-tmp")
    if temporary.is_symlink() or temporary.exists():
        temporary.unlink()
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0),
                         0o644)
    with os.fdopen(descriptor, "wb") as file:
        file.write(data)
    os.replace(temporary, target)


def _load_manifest(workspace):
    path = workspace / STATE / "manifest.json"
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(manifest.get("files"), dict):
            return manifest
    except FileNotFoundError:
        pass
    except (ValueError, OSError, AttributeError):
        # A damaged manifest: every file then counts as possibly edited (kept; new versions beside).
        shutil.copy2(path, path.with_name("manifest.damaged.json"))
    return {"version": MANIFEST_VERSION, "files": {}}


def _save_manifest(workspace, manifest):
    (workspace / STATE).mkdir(exist_ok=True)
    _write(workspace, workspace / STATE / "manifest.json",
           (json.dumps(manifest, indent=1, sort_keys=True) + "\n").encode())


# --- the learner's JupyterLab --------------------------------------------------------------------

# The learner's Lab has none of nbgrader's instructor tools (the Nbgrader menu, the formgrader, the
# Create Assignment panel, the Validate button: the test cells, `bpcourse check` and `bpcourse
# progress` are the learner's) and no pop-up asking to fetch Jupyter news from the internet.
LAB_PAGE_CONFIG = {"disabledExtensions": {"@jupyter/nbgrader": True,
                                          "@jupyterlab/apputils-extension:announcements": True}}
NBGRADER_SERVER_EXTENSIONS = ("nbgrader.server_extensions.formgrader",
                              "nbgrader.server_extensions.validate_assignment",
                              "nbgrader.server_extensions.assignment_list",
                              "nbgrader.server_extensions.course_list")


def lab_config(workspace):
    """Write the learner's Jupyter configuration into ``<workspace>/.bpcourse/jupyter`` and return
    that folder, to be put first on JUPYTER_CONFIG_PATH (the user's own ~/.jupyter is not touched)."""
    folder = Path(workspace) / STATE / "jupyter"
    (folder / "labconfig").mkdir(parents=True, exist_ok=True)
    server = {"ServerApp": {"jpserver_extensions": {name: False for name in NBGRADER_SERVER_EXTENSIONS}}}
    for path, content in [(folder / "labconfig" / "page_config.json", LAB_PAGE_CONFIG),
                          (folder / "jupyter_server_config.json", server)]:
        _write(Path(workspace), path, (json.dumps(content, indent=1) + "\n").encode())
    return folder
