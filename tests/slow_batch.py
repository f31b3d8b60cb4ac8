"""A real batch (the real engine, the real gradebook) that waits before each submission.

Run as a script: `python slow_batch.py ROOT DB DELAY`. The wait comes from a wrapper around
the real Grader, so a test can kill the batch in the middle of its work; production code
has no delay to read. `slow_down_graders` does the same to every Grader of a process (a
cluster's worker, where a test's wrapper cannot reach the Grader that its plugin makes).
"""

from __future__ import annotations

import functools
import sys
import time
from collections.abc import Callable
from pathlib import Path

from grader.classroom.batch import default_grader, grade_class, gradebook_files
from grader.grading.results import Report
from grader.grading.submission import SourceFile

_GRADE: dict[str, Callable[..., Report]] = {}  # Grader.grade as dlgrade defines it


def slow_down_graders(seconds: float) -> None:
    """Every Grader of this process waits `seconds` before each submission; 0 undoes it."""
    from grader.grading.grader import Grader

    original = _GRADE.setdefault("grade", Grader.grade)
    if seconds <= 0:
        Grader.grade = original
        return

    def grade(self: Grader, file: SourceFile, assignment: str | None = None,
              student: str | None = None) -> Report:
        time.sleep(seconds)
        return original(self, file, assignment, student)

    Grader.grade = grade


class SlowGrader:
    def __init__(self, inner, delay: float) -> None:
        self.inner, self.delay = inner, delay

    def grade(self, file: SourceFile, assignment: str | None = None,
              student: str | None = None) -> Report:
        time.sleep(self.delay)
        return self.inner.grade(file, assignment, student)

    def close(self) -> None:
        self.inner.close()


def main(root: str, db: str, delay: str) -> None:
    make = functools.partial(default_grader, protect=gradebook_files(Path(db).resolve()))
    result = grade_class(Path(root), db=Path(db), jobs=2,
                         make_grader=lambda: SlowGrader(make(), float(delay)))
    print(f"graded {len(result.batch.graded)}, skipped {len(result.batch.skipped)}")


if __name__ == "__main__":
    main(*sys.argv[1:])
