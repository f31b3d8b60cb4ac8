"""The hidden cases of each assignment's spec (`HIDDEN_CASES`): never shipped to students.

`grader.specs.load_spec(name)` adds them to the public cases of `grader/specs/<name>.py`
when this package is installed; `dlgrade release` leaves it out.
"""
