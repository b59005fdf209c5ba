"""The course's grading side: nbgrader configuration, the ``bpcourse`` command and trusted grading.

Student code is never trusted here: see :mod:`autograder.sandbox` and :mod:`autograder.trusted`.
"""
