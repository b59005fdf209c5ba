"""How the grader calls your functions: one module per lesson, one *probe* per exercise.

A probe takes your function(s) and one check's inputs, calls your code the way the exercise
describes (building the network, the graph or the data it needs first) and returns what is to be
judged, as plain numbers. Probes run wherever your code runs: in your notebook's kernel for the
visible checks, and inside the grading sandbox for the graded ones. They hold no expected values:
the answer keys are grading-side code (``autograder.exercises``) that the sandbox does not contain.
"""
