"""The class's figures from its current grades: per assignment, per student, a histogram.

Shared by the terminal summary (grader.ui.batch) and the instructor's feedback page.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from grader.catalog import in_catalog_order
from grader.classroom.gradebook import GradeRecord, by_assignment


@dataclass(frozen=True)
class AssignmentStats:
    assignment: str
    n: int
    mean: float
    median: float
    min: float
    max: float
    fully_correct: int  # full marks before any late penalty
    late: int
    max_score: float
    missing: int = 0  # on the roster (or graded elsewhere), nothing handed in: 0 points
    excused: int = 0  # left out of n and of every figure
    flagged: int = 0


def assignment_stats(records: Sequence[GradeRecord]) -> list[AssignmentStats]:
    """Per assignment (catalog order): n, mean/median/min/max of the final score, full marks, late."""
    groups = by_assignment(records)
    stats = []
    for name in in_catalog_order(groups):
        every = groups[name]
        rs = [r for r in every if r.status != "excused"]  # missing ones count as 0
        scores = [r.score for r in rs] or [0.0]
        stats.append(AssignmentStats(
            assignment=name, n=len(rs), mean=statistics.fmean(scores),
            median=statistics.median(scores), min=min(scores), max=max(scores),
            fully_correct=sum(r.fully_correct for r in rs), late=sum(r.late_days > 0 for r in rs),
            max_score=max(r.max_score for r in every), missing=sum(r.status == "missing" for r in rs),
            excused=len(every) - len(rs), flagged=sum(bool(r.flags) for r in rs)))
    return stats


def student_totals(records: Sequence[GradeRecord]) -> tuple[dict[str, float], float]:
    """Each student's total final score, and the most a student could have had.

    A student who did not hand in an assignment of the batch scores 0 for it. An excused
    assignment is left out of the student's total (so it is out of a smaller maximum for
    them: see `student_maximum`); the maximum returned is the class's.
    """
    max_by_assignment: dict[str, float] = {}
    totals: dict[str, float] = {}
    for r in records:
        totals.setdefault(r.student, 0.0)
        if r.status != "excused":
            totals[r.student] = round(totals[r.student] + r.score, 6)
        max_by_assignment[r.assignment] = max(max_by_assignment.get(r.assignment, 0.0), r.max_score)
    return dict(sorted(totals.items())), sum(max_by_assignment.values())


def student_maximum(records: Sequence[GradeRecord], student: str) -> float:
    """The most `student` could have had: the class's maximum less their excused assignments."""
    max_by_assignment: dict[str, float] = {}
    for r in records:
        max_by_assignment[r.assignment] = max(max_by_assignment.get(r.assignment, 0.0), r.max_score)
    excused = {r.assignment for r in records if r.student == student and r.status == "excused"}
    return sum(v for a, v in max_by_assignment.items() if a not in excused)


def histogram(values: Sequence[float], top: float, bins: int = 10) -> list[tuple[float, float, int]]:
    """Equal-width bins over [0, top]; the last bin includes `top`. (low, high, count) each."""
    if top <= 0:
        return [(0.0, 0.0, len(values))]
    width = top / bins
    counts = [0] * bins
    for v in values:
        counts[min(bins - 1, max(0, int(v / width)))] += 1
    return [(i * width, (i + 1) * width, c) for i, c in enumerate(counts)]
