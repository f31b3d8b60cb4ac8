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


def assignment_stats(records: Sequence[GradeRecord]) -> list[AssignmentStats]:
    """Per assignment (catalog order): n, mean/median/min/max of the final score, full marks, late."""
    groups = by_assignment(records)
    stats = []
    for name in in_catalog_order(groups):
        rs = groups[name]
        scores = [r.score for r in rs]
        stats.append(AssignmentStats(
            assignment=name, n=len(rs), mean=statistics.fmean(scores),
            median=statistics.median(scores), min=min(scores), max=max(scores),
            fully_correct=sum(r.fully_correct for r in rs), late=sum(r.late_days > 0 for r in rs),
            max_score=max(r.max_score for r in rs)))
    return stats


def student_totals(records: Sequence[GradeRecord]) -> tuple[dict[str, float], float]:
    """Each student's total final score, and the most a student could have had.

    A student who did not hand in an assignment of the batch scores 0 for it.
    """
    max_by_assignment: dict[str, float] = {}
    totals: dict[str, float] = {}
    for r in records:
        totals[r.student] = totals.get(r.student, 0.0) + r.score
        max_by_assignment[r.assignment] = max(max_by_assignment.get(r.assignment, 0.0), r.max_score)
    return dict(sorted(totals.items())), sum(max_by_assignment.values())


def histogram(values: Sequence[float], top: float, bins: int = 10) -> list[tuple[float, float, int]]:
    """Equal-width bins over [0, top]; the last bin includes `top`. (low, high, count) each."""
    if top <= 0:
        return [(0.0, 0.0, len(values))]
    width = top / bins
    counts = [0] * bins
    for v in values:
        counts[min(bins - 1, max(0, int(v / width)))] += 1
    return [(i * width, (i + 1) * width, c) for i, c in enumerate(counts)]
