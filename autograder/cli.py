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


def build_parser():
    parser = argparse.ArgumentParser(prog="bpcourse", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    lab = sub.add_parser("lab", help="start JupyterLab on lessons/",
                         description="Start JupyterLab on the student notebooks in lessons/. "
                                     "Extra arguments go to jupyter lab (e.g. --port=8890).")
    lab.add_argument("jupyter_args", nargs=argparse.REMAINDER)
    lab.set_defaults(run=cmd_lab)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        return args.run(args) or 0
    except UsageError as error:
        print(f"bpcourse {args.command}: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
