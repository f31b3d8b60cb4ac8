"""Import path kept for nbgrader notebooks exported before the move to grader.interop.

Their grade cells run `from grader.nbgrader_checks import award, check_target`.
"""

from grader.interop.nbgrader_checks import award, check_target

__all__ = ["award", "check_target"]
