"""The gradebook as CSV, safe to open in a spreadsheet (``bpcourse export``, and ``nbgrader
export`` through :class:`SafeCsvExportPlugin`, which the course's nbgrader configuration sets).

nbgrader's own CSV plugin writes rows with string formatting: a student id containing a comma
and a line break forged an extra row, and one starting with ``=`` became a formula. Here the
``csv`` module quotes every field (so a spreadsheet reading ``;`` as the separator, as German or
French Excel does, cannot split one either) and :func:`spreadsheet_safe` neutralises formula starts
(OWASP, "CSV Injection").
"""

import csv
import re
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry
from nbgrader.plugins import ExportPlugin

EXPORT_COLUMNS = ["assignment", "duedate", "timestamp", "student_id", "last_name", "first_name",
                  "email", "raw_score", "late_submission_penalty", "score", "max_score"]
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


# a formula start right after a separator: a spreadsheet that splits on ";" ignores the quoting
# of a ","-separated file and makes a cell of what follows (an id "x;=1+1" gives a cell "=1+1")
FORMULA_AFTER_SEPARATOR = re.compile(r"([;,])(?=[=+\-@\t\r])")


def spreadsheet_safe(value):
    """A CSV cell that spreadsheets show as text: a string starting with = + - @ or a tab or
    carriage return gets a leading apostrophe (OWASP's advice on CSV injection), and so does every
    such start right after a ";" or a "," inside it (a spreadsheet splitting on another separator
    than the file's would make a cell of it); numbers and empty values are kept as they are."""
    if value is None:
        return ""
    if isinstance(value, (int, float)):
        return value
    text = FORMULA_AFTER_SEPARATOR.sub(r"\1'", str(value))
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def rows(gb):
    """One dict per (lesson, student), nbgrader's export columns (0 points when not submitted)."""
    for assignment in gb.assignments:
        for student in gb.students:
            row = {"assignment": assignment.name, "duedate": assignment.duedate,
                   "student_id": student.id, "last_name": student.last_name,
                   "first_name": student.first_name, "email": student.email,
                   "max_score": assignment.max_score}
            try:
                submission = gb.find_submission(assignment.name, student.id)
            except MissingEntry:
                row.update(timestamp="", raw_score=0.0, late_submission_penalty=0.0, score=0.0)
            else:
                penalty = submission.late_submission_penalty or 0.0
                row.update(timestamp=submission.timestamp, raw_score=submission.score,
                           late_submission_penalty=penalty, score=max(0.0, submission.score - penalty))
            yield row


def export(url, to):
    """Write the grades of every lesson and student as CSV (nbgrader's columns) with the csv
    module: every field is quoted (``csv.QUOTE_ALL``: a spreadsheet that splits unquoted fields on
    its own separator, ";" in many locales, cannot shift columns), so a comma, a ";" or a line
    break in a name cannot forge a row or a column, and text that spreadsheets would run as a
    formula is neutralised (:func:`spreadsheet_safe`)."""
    Path(to).parent.mkdir(parents=True, exist_ok=True)
    with Gradebook(url) as gb, open(to, "w", newline="", encoding="utf-8") as file:
        _write(file, gb)
    return Path(to)




def _write(file, gradebook, lessons=(), students=()):
    writer = csv.DictWriter(file, fieldnames=EXPORT_COLUMNS, quoting=csv.QUOTE_ALL)
    writer.writeheader()
    for row in rows(gradebook):
        if (lessons and row["assignment"] not in lessons) or (students and row["student_id"] not in students):
            continue
        writer.writerow({key: spreadsheet_safe(row[key]) for key in EXPORT_COLUMNS})


class SafeCsvExportPlugin(ExportPlugin):
    """nbgrader's export plugin interface, writing the same safe CSV as :func:`export`."""

    def export(self, gradebook):
        with open(self.to or "grades.csv", "w", newline="", encoding="utf-8") as file:
            _write(file, gradebook, [str(a) for a in self.assignment], [str(s) for s in self.student])
