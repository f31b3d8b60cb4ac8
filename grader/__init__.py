"""dlgrade's engine: specs, running, comparing, scoring, gradebook, reports, quizzes."""

__version__ = "0.1.0"
