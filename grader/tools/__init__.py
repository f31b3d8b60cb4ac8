"""Instructor and student tools beside grading: the environment doctor, the optimizer plot."""
