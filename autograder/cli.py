"""``bpcourse``: the course's command line. Each subcommand's ``--help`` says what it does."""

import argparse
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


class UsageError(Exception):
    """A problem the user can fix: printed as one line, exit status 2."""


def cmd_lab(args):
    """Start JupyterLab on the student notebooks in lessons/."""
    command = [sys.executable, "-m", "jupyterlab", f"--ServerApp.root_dir={REPO / 'lessons'}"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")  # Jupyter refuses to start as root without it
    os.execv(sys.executable, command + args.jupyter_args)


def cmd_release(args):
    """Regenerate lessons/ from solutions/ (nbgrader generate_assignment, safely)."""
    from autograder.release import release

    release(args.lessons)


def build_parser():
    parser = argparse.ArgumentParser(prog="bpcourse", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    lab = sub.add_parser("lab", help="start JupyterLab on lessons/",
                         description="Start JupyterLab on the student notebooks in lessons/. "
                                     "Extra arguments go to jupyter lab (e.g. --port=8890).")
    lab.add_argument("jupyter_args", nargs=argparse.REMAINDER)
    lab.set_defaults(run=cmd_lab)
    release = sub.add_parser(
        "release", help="regenerate lessons/ from solutions/",
        description="Regenerate the student notebooks in lessons/ from the instructor notebooks in "
                    "solutions/ with nbgrader: outputs are stripped from the sources, test cells are "
                    "checked against the exercise definitions, and a lesson is replaced only after "
                    "its new version was generated, so a failure never loses lessons/.")
    release.add_argument("lessons", nargs="*", metavar="LESSON",
                         help="lessons to release, e.g. 01-forward-pass (default: all)")
    release.set_defaults(run=cmd_release)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    from autograder.course import CourseError

    try:
        return args.run(args) or 0
    except (UsageError, CourseError) as error:
        print(f"bpcourse {args.command}: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
