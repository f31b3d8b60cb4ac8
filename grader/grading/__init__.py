"""The grading engine: one submission in, one Report out.

The path of one submission, module by module:

    spec        grader/specs/<assignment>.py — cases built from the case model (case.py):
                target, points, visibility, inputs generator, check
      → inputs     generated from a seed = hash(student, assignment, case) (case.py)
      → expected   the reference run in this process, or the shipped public outputs
                   (expected.py; grader/specs/expected/<assignment>.json)
      → sandbox    the student's module runs in a confined child (grader/sandbox/);
                   only plain data comes back (grader/sandbox/codec.py)
      → compare    shape, dtype, finiteness, tolerance, and a hint (compare.py)
      → score      TestResult per case, gathered in a Report (results.py)
      → report     Rich tables (grader/ui/report.py), Gradescope JSON
      → gradebook  SQLite, one transaction per submission (grader/classroom/gradebook.py)

grader.py holds the Grader that drives this path; submission.py reads a submission
(a .py file, or a notebook via notebook.py) and says which assignment it is.
"""
