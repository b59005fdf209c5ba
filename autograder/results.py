"""One student's result for one lesson, in the shape ``bpcourse grade --json`` prints::

    {"score": float, "max_score": float, "status": "graded" | "failed", "flags": [str, ...],
     "cells": {grade_id: {"score": float, "max_score": float, "message": str}}}
"""

from autograder import notebooks


def graded(released, trusted, flags=()):
    """The result of a trusted grading (:class:`autograder.trusted.TrustedGrade`)."""
    cells = {}
    for name, points in notebooks.graded_cells(released).items():
        verdict = trusted.results.get(name)
        passed = bool(verdict and verdict.passed)
        cells[name] = {"score": float(points) if passed else 0.0, "max_score": float(points),
                       "message": verdict.message if verdict else f"{name}: not graded"}
        if verdict is not None and verdict.not_implemented:
            cells[name]["not_implemented"] = True
    return _total(cells, "graded", list(flags) + list(trusted.flags))


def failed(released, reason, flags=()):
    """A submission that could not be graded: score 0, the reason first among the flags."""
    cells = {name: {"score": 0.0, "max_score": float(points), "message": f"not graded: {reason}"}
             for name, points in notebooks.graded_cells(released).items()}
    return _total(cells, "failed", [reason, *flags])


def _total(cells, status, flags):
    return {"score": sum(c["score"] for c in cells.values()),
            "max_score": sum(c["max_score"] for c in cells.values()),
            "status": status, "flags": flags, "cells": cells}


def render(result, title):
    """A few lines for a terminal: a tick or cross per exercise, then the flags."""
    lines = [f"{title}: {result['score']:g} / {result['max_score']:g} points ({result['status']})"]
    for name, cell in result["cells"].items():
        mark = "\u2714" if cell["score"] == cell["max_score"] else "\u2718"
        lines.append(f"  {mark} {name} ({cell['score']:g}/{cell['max_score']:g})")
        if cell["score"] != cell["max_score"]:
            lines.extend("      " + line for line in cell["message"].splitlines())
    lines.extend(f"  ! {flag}" for flag in result["flags"])
    return "\n".join(lines)
