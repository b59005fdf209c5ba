"""Typical wrong answers to each exercise, one module per lesson (named like autograder.exercises).

``WRONG = {exercise: {label: source of a wrong solution cell}}``; tests/test_lessons.py checks that
each one loses the exercise's points, while the real solution gets them.
"""
