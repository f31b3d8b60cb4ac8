"""Running a class: hand-in, batch grading, the gradebook, late policy, feedback, exports
and the student release."""
