"""bpcourse: the course's command line. Each command's --help says what it does."""

import argparse
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


class UsageError(Exception):
    """A problem the user can fix: printed as one line, exit status 2."""


def cmd_lab(args):
    """Start the learner's JupyterLab on their workspace (created or brought up to date first), or
    with --instructor the instructor's, on the whole course with every nbgrader tool."""
    command = [sys.executable, "-m", "jupyterlab"]
    env = dict(os.environ)
    if args.instructor:
        command.append(f"--ServerApp.root_dir={REPO}")
        # started from a terminal of the learner's Lab: not with the learner's configuration
        kept = [p for p in env.pop("JUPYTER_CONFIG_PATH", "").split(os.pathsep)
                if p and Path(p).parts[-2:] != (".bpcourse", "jupyter")]
        if kept:
            env["JUPYTER_CONFIG_PATH"] = os.pathsep.join(kept)
    else:
        from autograder import workspace

        folder = workspace.resolve(args.workspace)
        print(workspace.sync(folder))
        config = workspace.lab_config(folder)
        env["JUPYTER_CONFIG_PATH"] = os.pathsep.join(
            [str(config)] + [p for p in env.get("JUPYTER_CONFIG_PATH", "").split(os.pathsep) if p])
        command.append(f"--ServerApp.root_dir={folder}")
        print(f"Your work is saved in {folder}. To continue another day, run the same command "
              "again; `bpcourse progress` shows where you are.", flush=True)
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")  # Jupyter refuses to start as root without it
    os.execve(sys.executable, command + args.jupyter_args, env)


def cmd_update(args):
    """Bring new and updated lessons into the workspace without touching edited notebooks."""
    from autograder import workspace

    print(workspace.sync(workspace.resolve(args.workspace)))


def cmd_progress(args):
    """Check every lesson of the workspace; print points per exercise and what to do next."""
    from autograder.progress import main

    return main(args)


def cmd_release(args):
    """Regenerate lessons/ from solutions/ (nbgrader generate_assignment, safely)."""
    from autograder.release import release

    release(args.lessons)


def cmd_check(args):
    """Grade one notebook with the trusted checks; exit status 0 only with full marks."""
    from autograder.check import main

    released = (REPO / "lessons").resolve()
    if released in args.notebook.resolve().parents and (REPO / "work").is_dir():
        mine = REPO / "work" / args.notebook.resolve().relative_to(released)
        print(f"note: {args.notebook} is the course's release, not your work; yours is {mine}",
              file=sys.stderr)
    return main(args)


def cmd_grade(args):
    """Grade every submission of a lesson; record trusted scores; write feedback."""
    from autograder.grade import main

    return main(args)


def cmd_export(args):
    """Write every lesson's grades to a CSV file."""
    from autograder.export import export
    from autograder.gradebook import db_url

    target = Path(args.to)
    tmp = target.with_name(f".{target.name}.tmp")
    export(db_url(), tmp)
    tmp.replace(target)  # a complete file or the previous one, never half of one
    print(f"grades written to {target}")


def build_parser():
    parser = argparse.ArgumentParser(prog="bpcourse", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    lab = sub.add_parser(
        "lab", help="start JupyterLab on your workspace (work/)",
        description="Start JupyterLab on your own workspace: work/ in the course folder (git ignores "
                    "it), or --workspace DIR. The first start copies the course's lessons there; later "
                    "starts bring in new or updated lessons as `bpcourse update` does, never touching "
                    "a notebook you edited. This Lab has no nbgrader instructor tools and no news "
                    "pop-up; --instructor starts the instructor's Lab (the whole course, every "
                    "nbgrader tool: what plain `jupyter lab` gives in the course folder). Other "
                    "arguments go to jupyter lab, e.g. --port=8890, or --no-browser --ip=127.0.0.1 "
                    "on a remote machine (then forward the port with ssh -L).")
    lab.add_argument("--workspace", metavar="DIR", help="your workspace folder (default: work/ in the "
                                                         "course folder)")
    lab.add_argument("--instructor", action="store_true",
                     help="the instructor's Lab on the whole course, with nbgrader's tools")
    lab.set_defaults(run=cmd_lab)
    update = sub.add_parser(
        "update", help="bring new or updated lessons into your workspace",
        description="Copy new lessons, and new versions of lessons (after `git pull`), from lessons/ "
                    "into your workspace. A notebook you edited is never overwritten: the new version "
                    "is written beside it as <lesson>.new.ipynb. A notebook you only opened and ran is "
                    "replaced (the old file is kept in .bpcourse/previous/). A notebook you deleted or "
                    "renamed comes back fresh. Nothing is ever deleted.")
    update.add_argument("--workspace", metavar="DIR", help="default: work/ in the course folder")
    update.set_defaults(run=cmd_update)
    progress = sub.add_parser(
        "progress", help="points per exercise of every lesson, and what to do next",
        description="Check every lesson's notebook in your workspace with the same checks as "
                    "`bpcourse check`, in parallel, and print each exercise's points and what to do "
                    "next. Notebooks whose code did not change since the last call are not checked "
                    "again (the results are cached in the workspace). Also writes progress.html "
                    "there; progress.ipynb shows the same view in JupyterLab.")
    progress.add_argument("--workspace", metavar="DIR", help="default: work/ in the course folder")
    progress.add_argument("--json", action="store_true", help="print the result as JSON")
    progress.add_argument("--workers", type=int, metavar="N",
                          help="check N lessons at a time (default: the number of CPUs)")
    progress.add_argument("--no-cache", action="store_true",
                          help="check every notebook again, with new random inputs")
    progress.set_defaults(run=cmd_progress)
    release = sub.add_parser(
        "release", help="regenerate lessons/ from solutions/",
        description="Regenerate the student notebooks in lessons/ from the instructor notebooks in "
                    "solutions/ with nbgrader: outputs are stripped from the sources, test cells are "
                    "checked against the exercise definitions, and a lesson is replaced only after "
                    "its new version was generated, so a failure never loses lessons/.")
    release.add_argument("lessons", nargs="*", metavar="LESSON",
                         help="lessons to release, e.g. 01-forward-pass (default: all)")
    release.set_defaults(run=cmd_release)
    check = sub.add_parser(
        "check", help="check one notebook (self-study)",
        description="Grade one notebook with the same trusted checks as `bpcourse grade`: fresh "
                    "random inputs, compared outside your notebook's process. Prints each "
                    "exercise's result and what is wrong; exit status 0 only with full marks.")
    check.add_argument("notebook", type=Path, metavar="NOTEBOOK",
                       help="e.g. lessons/01-forward-pass/01-forward-pass.ipynb")
    check.add_argument("--json", action="store_true", help="print the result as JSON")
    check.set_defaults(run=cmd_check)
    grade = sub.add_parser(
        "grade", help="grade every submission of a lesson",
        description="Grade every SUBMISSIONS/<student>/LESSON/LESSON.ipynb (nbgrader's layout). "
                    "Scores come from trusted checks run outside the students' code, in a sandbox; "
                    "nbgrader's autograded notebooks and feedback are kept (autograder/autograded, "
                    "autograder/feedback) and the scores are recorded in the gradebook. A "
                    "submission that cannot be graded gets status 'failed' and score 0, and the "
                    "batch goes on. Exit status 0 when every submission was graded, 1 otherwise.")
    grade.add_argument("lesson", metavar="LESSON", help="e.g. 01-forward-pass")
    grade.add_argument("--submissions", type=Path, metavar="DIR",
                       help="folder of <student>/<LESSON>/ (default: autograder/submitted)")
    grade.add_argument("--workers", type=int, metavar="N",
                       help="grade N students in parallel (default: the number of CPUs)")
    grade.add_argument("--json", action="store_true", help="print the results as JSON")
    grade.add_argument("--insecure", action="store_true",
                       help="grade even where student code cannot be isolated (trusted students only)")
    grade.add_argument("--reset-manual", action="store_true",
                       help="clear the manual grades and comments entered in the formgrader "
                            "(by default a re-grade keeps them and says how many)")
    grade.add_argument("--scheduler", metavar="ADDRESS",
                       help="grade on a Dask cluster (tcp://host:8786; default: the environment "
                            "variable BPCOURSE_DASK_SCHEDULER, else on this machine)")
    grade.set_defaults(run=cmd_grade)
    export = sub.add_parser("export", help="write all grades to CSV",
                            description="Write the grades of every lesson and student, as recorded "
                                        "in the gradebook, to a CSV file (nbgrader's export format).")
    export.add_argument("--to", default="grades.csv", metavar="FILE", help="default: grades.csv")
    export.set_defaults(run=cmd_export)
    return parser


def main(argv=None):
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if args.command == "lab":
        args.jupyter_args = extra  # everything else goes to jupyter lab (--port=..., --no-browser)
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    from autograder.course import CourseError

    try:
        return args.run(args) or 0
    except (UsageError, CourseError) as error:
        print(f"bpcourse {args.command}: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
