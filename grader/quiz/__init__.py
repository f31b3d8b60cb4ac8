"""Concept quizzes: the bank's schema, a pure grading engine, FSRS scheduling, durable progress.

Modules stay light (no numpy, no torch) so `dlgrade quiz` starts in well under a second.
"""
