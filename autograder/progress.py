"""``bpcourse progress``: every lesson of the learner's workspace, points per exercise, what next.

Each notebook is checked exactly as ``bpcourse check`` does (:func:`autograder.check.check`: the
trusted checks, fresh random inputs, sandboxed when bubblewrap is available), the lessons in
parallel, one process each. Results are cached in ``<workspace>/.bpcourse/progress-cache.json``,
keyed by what the checks read of the notebook (each cell's type, source, nbgrader metadata and tags:
not outputs, so running cells without changing them keeps the cache) and by the course's version
(the check code and the lesson's release), so a second call re-checks only the notebooks that
changed. ``--no-cache`` checks everything again, with new random inputs.

The same view is written to ``<workspace>/progress.html`` on every call, and ``show()`` displays it
in a notebook (the workspace's ``progress.ipynb``).
"""

import hashlib
import html
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime, timezone
from pathlib import Path

from autograder import workspace
from autograder.course import REPO, CourseError, release_notebook

CACHE_VERSION = 1
PASSED, FAILED, NOT_STARTED = "passed", "failed", "not started"
MARKS = {PASSED: "\u2714", FAILED: "\u2718", NOT_STARTED: "\u00b7"}


# --- cache keys ----------------------------------------------------------------------------------

def code_version():
    """A digest of the check code this process runs: every Python file of the autograder and bplib
    packages (answer keys, probes, the grader)."""
    import bplib

    digest = hashlib.sha256()
    for package in (Path(__file__).resolve().parent, Path(bplib.__file__).resolve().parent):
        for path in sorted(package.rglob("*.py")):
            digest.update(path.relative_to(package.parent).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def course_version(lesson, code, course_root=REPO):
    """What a lesson's result depends on besides the notebook: the check code (``code``, from
    :func:`code_version`) and the lesson's release."""
    release = release_notebook(lesson, course_root)
    data = release.read_bytes() if release.is_file() else b"no release"
    return hashlib.sha256(code.encode() + b"\0" + data).hexdigest()


def notebook_key(data):
    """A digest of what the checks read of a notebook (file bytes if it is not a notebook)."""
    try:
        nb = json.loads(data)
        cells = [[c.get("cell_type"), workspace._text(c.get("source", "")),
                  c.get("metadata", {}).get("nbgrader"), c.get("metadata", {}).get("tags")]
                 for c in nb["cells"]]
        language = nb.get("metadata", {}).get("kernelspec", {}).get("language")
        shape = [nb.get("nbformat"), nb.get("nbformat_minor"), language, cells]
        return "cells:" + hashlib.sha256(json.dumps(shape, sort_keys=True).encode()).hexdigest()
    except (ValueError, KeyError, TypeError, AttributeError):
        return "bytes:" + hashlib.sha256(data).hexdigest()


# --- checking ------------------------------------------------------------------------------------

def _check(path):
    """Run in a worker process: ``bpcourse check``'s result for one notebook, or the error."""
    from autograder.check import check

    try:
        return "graded", check(path)[1]
    except CourseError as error:
        return "error", str(error)
    except Exception as error:  # noqa: BLE001 - one lesson's trouble must not hide the others
        return "error", f"{type(error).__name__}: {error}"


def progress(folder=None, course_root=REPO, workers=None, use_cache=True):
    """Check every lesson's notebook in the workspace ``folder``; return the summary (the shape
    ``bpcourse progress --json`` prints) and write ``progress.html`` there."""
    start = time.monotonic()
    folder = workspace.resolve(folder, course_root)
    if not folder.is_dir():
        raise CourseError(f"no workspace at {folder} yet: `bpcourse lab` or `bpcourse update` creates it")
    cache = _load_cache(folder)
    code = code_version()
    rows, todo = [], {}
    for lesson in workspace.released_lessons(course_root):
        relative = f"{lesson}/{lesson}.ipynb"
        path = folder / relative
        row = {"lesson": lesson, "notebook": relative}
        rows.append(row)
        if path.is_symlink() or not path.is_file():
            row["state"] = "missing"
            continue
        key = f"{course_version(lesson, code, course_root)}:{notebook_key(path.read_bytes())}"
        row["key"] = key
        cached = cache.get(lesson) if use_cache else None
        if cached and cached.get("key") == key:
            row.update(result=cached["result"], cached=True, checked_at=cached.get("checked_at"))
        else:
            todo[lesson] = path
    if todo:
        count = min(len(todo), workers or os.cpu_count() or 1)
        if count > 1:
            with ProcessPoolExecutor(max_workers=count) as pool:
                outcomes = dict(zip(todo, pool.map(_check, todo.values())))
        else:
            outcomes = {lesson: _check(path) for lesson, path in todo.items()}
        now = datetime.now(timezone.utc).isoformat(timespec="seconds")
        for row in rows:
            if row["lesson"] in outcomes:
                kind, value = outcomes[row["lesson"]]
                if kind == "graded":
                    row.update(result=value, cached=False, checked_at=now)
                    cache[row["lesson"]] = {"key": row["key"], "result": value, "checked_at": now}
                else:
                    row.update(state="error", error=value, cached=False)
        _save_cache(folder, cache)
    summary = _summary(folder, rows, course_root)
    summary["seconds"] = round(time.monotonic() - start, 2)
    summary["checked"] = len(todo)
    summary["from_cache"] = sum(1 for row in rows if row.get("cached"))
    _write_html(folder, summary)
    return summary


# --- the summary ---------------------------------------------------------------------------------

def _summary(folder, rows, course_root):
    lessons = []
    for row in rows:
        entry = {"lesson": row["lesson"], "notebook": row["notebook"]}
        points = _points(release_notebook(row["lesson"], course_root))
        result = row.get("result")
        if result is None:
            exercises = [{"name": name, "score": 0.0, "max_score": float(p), "state": NOT_STARTED}
                         for name, p in points.items()]
            if row.get("state") == "missing":
                entry.update(state="missing", next="not in your workspace: run `bpcourse update`")
            else:
                entry.update(state="error", next=f"could not be checked: {row.get('error')}")
        else:
            exercises = [{"name": name, "score": cell["score"], "max_score": cell["max_score"],
                          "state": _state(cell), "message": cell["message"]}
                         for name, cell in result["cells"].items()]
            entry.update(state=_lesson_state(result, exercises), next=_next_step(result, exercises),
                         cached=row["cached"], checked_at=row.get("checked_at"), flags=result["flags"])
        entry.update(score=sum(e["score"] for e in exercises),
                     max_score=sum(e["max_score"] for e in exercises), exercises=exercises)
        lessons.append(entry)
    upcoming = next((e for e in lessons if e["state"] != "complete"), None)
    return {"workspace": str(folder),
            "score": sum(e["score"] for e in lessons), "max_score": sum(e["max_score"] for e in lessons),
            "next": f"{upcoming['lesson']}: {upcoming['next']}" if upcoming else "every lesson is complete",
            "lessons": lessons}


def _points(release):
    """{exercise: points} of a released notebook, as :func:`autograder.notebooks.graded_cells` gives
    (read as plain JSON: importing nbformat alone takes seconds, longer than a cached call)."""
    cells = json.loads(release.read_bytes())["cells"]
    return {m["grade_id"]: m.get("points", 0) for c in cells if (m := c.get("metadata", {}).get("nbgrader"))
            and m.get("grade") and not m.get("solution")}


def _state(cell):
    if cell["score"] == cell["max_score"]:
        return PASSED
    return NOT_STARTED if cell.get("not_implemented") else FAILED


def _lesson_state(result, exercises):
    if result["status"] != "graded":
        return "error"
    if all(e["state"] == PASSED for e in exercises):
        return "complete"
    return "not started" if all(e["state"] == NOT_STARTED for e in exercises) else "in progress"


def _next_step(result, exercises):
    if result["status"] != "graded":
        return f"could not be checked: {result['flags'][0] if result['flags'] else 'unknown reason'}"
    pending = next((e for e in exercises if e["state"] != PASSED), None)
    if pending is None:
        return "done"
    if pending["state"] == NOT_STARTED:
        return f"write {pending['name']}"
    return f"fix {pending['name']}: {problem(pending['name'], pending['message'])}"


def problem(name, message):
    """The line of a check's message that says what is wrong (not "name: check 2 of 8 (...) failed.")."""
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    if not lines:
        return "failed"
    if len(lines) > 1 and lines[0].endswith("failed."):
        text = lines[1]
    else:
        text = lines[0].removeprefix(f"{name}: ")
    return text if len(text) <= 160 else text[:157] + "..."


# --- text, HTML ----------------------------------------------------------------------------------

def render_text(summary, width=100):
    """The terminal view: one line per lesson, its exercises below, then what to do next."""
    total = f"{summary['score']:g} / {summary['max_score']:g} points"
    lines = [f"Your progress in {summary['workspace']}: {total}", ""]
    for entry in summary["lessons"]:
        head = f"{entry['lesson']:<26} {entry['score']:>4g}/{entry['max_score']:<4g}"
        lines.append(f"{head} {'complete' if entry['state'] == 'complete' else entry['next']}")
        line = "   "
        for exercise in entry["exercises"]:
            item = (f" {MARKS[exercise['state']]} {exercise['name']} "
                    f"{exercise['score']:g}/{exercise['max_score']:g}")
            if len(line) + len(item) > width and line.strip():
                lines.append(line)
                line = "   "
            line += item
        lines.append(line)
    lines += ["", f"Next: {summary['next']}",
              f"({MARKS[PASSED]} passes, {MARKS[FAILED]} fails, {MARKS[NOT_STARTED]} not written yet. "
              f"Checked {summary['checked']} notebook{'s' * (summary['checked'] != 1)} in "
              f"{summary['seconds']:.1f} s; {summary['from_cache']} unchanged since their last check. "
              f"Also in {Path(summary['workspace']) / 'progress.html'}.)"]
    return "\n".join(lines)


STYLE = """
.bp-progress { font-family: system-ui, sans-serif; font-size: 14px; line-height: 1.4; max-width: 64em;
               text-align: left; }
.bp-progress .bp-row { display: flex; gap: 1em; padding: 0.5em 0; border-bottom: 1px solid #ddd; }
.bp-progress .bp-lesson { flex: 0 0 15em; }
.bp-progress .bp-points { font-variant-numeric: tabular-nums; }
.bp-progress .bp-bar { width: 10em; height: 0.5em; margin-top: 0.2em; background: #eee; }
.bp-progress .bp-bar div { height: 100%; background: #2e7d32; }
.bp-progress .bp-detail { flex: 1; }
.bp-progress .bp-ex { display: inline-block; margin: 0.15em 0.3em 0 0; padding: 0 0.4em;
                      border-radius: 0.3em; font-family: monospace; font-size: 12px; }
.bp-progress .passed { background: #e8f5e9; color: #1b5e20; }
.bp-progress .failed { background: #ffebee; color: #b71c1c; }
.bp-progress .not-started { background: #f3f3f3; color: #555; }
.bp-progress .bp-done { color: #1b5e20; font-weight: bold; }
"""


def render_html(summary, page=False):
    """The same view as HTML: a page (``page=True``, progress.html) or a fragment for a notebook
    (laid out with divs: JupyterLab restyles tables in outputs)."""
    e = html.escape
    rows = []
    for entry in summary["lessons"]:
        share = entry["score"] / entry["max_score"] if entry["max_score"] else 0
        chips = "".join(
            f'<span class="bp-ex {x["state"].replace(" ", "-")}" title="{e(x.get("message", x["state"]))}">'
            f'{MARKS[x["state"]]} {e(x["name"])} {x["score"]:g}/{x["max_score"]:g}</span>'
            for x in entry["exercises"])
        status = ('<span class="bp-done">complete</span>' if entry["state"] == "complete"
                  else e(entry["next"]))
        rows.append(
            f'<div class="bp-row"><div class="bp-lesson"><a href="{e(entry["notebook"])}">'
            f'{e(entry["lesson"])}</a><div class="bp-points">{entry["score"]:g} / {entry["max_score"]:g} '
            f'points</div><div class="bp-bar"><div style="width: {100 * share:.0f}%"></div></div></div>'
            f'<div class="bp-detail"><div>{status}</div><div>{chips}</div></div></div>')
    body = (f'<div class="bp-progress"><style>{STYLE}</style>'
            f'<p><b>{summary["score"]:g} / {summary["max_score"]:g} points</b> in {e(summary["workspace"])}. '
            f'<b>Next:</b> {e(summary["next"])}</p>{"".join(rows)}'
            f'<p>{MARKS[PASSED]} passes, {MARKS[FAILED]} fails, {MARKS[NOT_STARTED]} not written yet '
            f'(hover over an exercise for its message). Checked {summary["checked"]} notebook(s) in '
            f'{summary["seconds"]:.1f} s; {summary["from_cache"]} unchanged since their last check.'
            '</p></div>')
    if not page:
        return body
    made = datetime.now().strftime("%Y-%m-%d %H:%M")
    return (f'<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>Your progress</title></head>'
            f'<body><h1>Your progress</h1><p>As of {made} (run <code>bpcourse progress</code>, or the '
            f'cell in progress.ipynb, to bring it up to date).</p>{body}</body></html>\n')


def _write_html(folder, summary):
    workspace._write(folder, folder / "progress.html", render_html(summary, page=True).encode())


def show(folder=None):
    """In a notebook of the workspace: run ``bpcourse progress`` and display the view.

    It runs as its own process (as in a terminal), so checking never disturbs this kernel."""
    from IPython.display import HTML, display

    folder = workspace.find(folder)
    done = subprocess.run([sys.executable, "-m", "autograder.cli", "progress", "--json",
                           "--workspace", str(folder)], capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"bpcourse progress failed:\n{done.stderr.strip()}")
    display(HTML(render_html(json.loads(done.stdout))))


# --- the cache -----------------------------------------------------------------------------------

def _cache_path(folder):
    return folder / workspace.STATE / "progress-cache.json"


def _load_cache(folder):
    try:
        data = json.loads(_cache_path(folder).read_text(encoding="utf-8"))
        if data.get("version") == CACHE_VERSION and isinstance(data.get("lessons"), dict):
            return data["lessons"]
    except (OSError, ValueError, AttributeError):
        pass
    return {}


def _save_cache(folder, lessons):
    (folder / workspace.STATE).mkdir(exist_ok=True)
    data = {"version": CACHE_VERSION, "lessons": lessons}
    workspace._write(folder, _cache_path(folder), (json.dumps(data) + "\n").encode())


def main(args):
    summary = progress(args.workspace, workers=args.workers, use_cache=not args.no_cache)
    print(json.dumps(summary, indent=1) if args.json else render_text(summary))
    return 0
