"""Final grades, derived on every read: raw score + submission time + course.toml + adjustments.

The gradebook stores what grading observed (raw score, results, submission time, flags).
Everything that depends on the course's rules is computed here whenever a table, report
or export is made: the due date (the course's, or an extension's), late days, the
penalty, an override, an excuse; and, for the roster's students who handed nothing
in, a "missing" row worth 0. So a changed late policy or a new extension applies at
once, without regrading.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from grader.catalog import assignment_names
from grader.classroom.adjustments import Adjustment, read_adjustments
from grader.classroom.gradebook import Gradebook, GradeRecord
from grader.classroom.handin import iso_utc, parse_iso, utc_now
from grader.classroom.late import assess
from grader.classroom.roster import roster_students
from grader.course import Course, NoLatePolicy
from grader.grading.results import Report

DEFAULT_MAX = 100.0  # every assignment's total


def _latest(adjs: Sequence[Adjustment], kind: str) -> Adjustment | None:
    active = [a for a in adjs if a.kind == kind and a.active]
    return active[-1] if active else None


def apply_course(rec: GradeRecord, course: Course | None,
                 adjustments: Sequence[Adjustment] = ()) -> GradeRecord:
    """One record with its late days, penalty, final score and status for today's rules."""
    extension = _latest(adjustments, "extend")
    due = parse_iso(extension.until) if extension and extension.until else (
        course.due_date(rec.assignment) if course else None)
    policy = course.late_policy if course else NoLatePolicy()
    active = tuple(a.as_dict() for a in adjustments if a.active)
    if rec.status == "missing":
        lateness = None
    elif rec.submitted_at:
        lateness = assess(rec.raw_score, parse_iso(rec.submitted_at), due, policy)
    else:
        lateness = None
    out = replace(rec, due=iso_utc(due) if due else None, adjustments=active,
                  late_days=lateness.days if lateness else 0,
                  penalty_percent=lateness.percent if lateness else 0.0,
                  penalty=lateness.penalty if lateness else 0.0,
                  score=lateness.score if lateness else rec.raw_score, override=None)
    overridden = _latest(adjustments, "override")
    if overridden is not None and overridden.points is not None:
        out = replace(out, override=overridden.points, score=overridden.points)
    if _latest(adjustments, "excuse") is not None:
        out = replace(out, status="excused")
    return out


def missing_record(student: str, assignment: str, max_score: float) -> GradeRecord:
    """A row for an assignment a student never handed in: 0 of max_score."""
    return GradeRecord(id=0, student=student, assignment=assignment, sha256="", path="",
                       submitted_at=None, submitted_at_source="", graded_at="", late_days=0,
                       penalty_percent=0.0, penalty=0.0, raw_score=0.0, score=0.0,
                       max_score=max_score, report=Report(assignment, student, "", ""),
                       status="missing")


def _in_play(course: Course | None, graded: Iterable[str], now: datetime) -> list[str]:
    """Assignments a student can be missing: graded for someone, or past their due date."""
    names = set(graded)
    if course is not None:
        names |= {a for a, due in course.due.items() if isinstance(due, datetime) and due <= now}
    order = {n: i for i, n in enumerate(assignment_names())}
    return sorted(names, key=lambda n: (order.get(n, 99), n))


def standings(gb: Gradebook, course: Course | None = None, *,
              students: Iterable[str] | None = None, assignments: Iterable[str] | None = None,
              pairs: set[tuple[str, str]] | None = None, with_missing: bool = True,
              now: datetime | None = None) -> list[GradeRecord]:
    """The final grade of every (student, assignment), sorted by student then assignment.

    With `with_missing`, every student of the class (the roster, and anyone graded) gets a
    row for every assignment in play (graded for someone, or past its due date); those
    not handed in are `missing` (0 points) unless excused. `students`/`assignments` keep
    only those; `pairs` keeps only those graded pairs (a batch's own submissions).
    """
    now = now or utc_now()
    keep_s = set(students) if students is not None else None
    keep_a = set(assignments) if assignments is not None else None
    adjustments: dict[tuple[str, str], list[Adjustment]] = {}
    for adj in read_adjustments(gb):
        adjustments.setdefault((adj.student, adj.assignment), []).append(adj)
    graded = gb.current()
    if pairs is not None:
        graded = [r for r in graded if (r.student, r.assignment) in pairs]
    out = {(r.student, r.assignment): apply_course(r, course, adjustments.get((r.student, r.assignment), ()))
           for r in graded}
    if with_missing:
        roster = roster_students(course)
        class_ids = {r.student for r in graded} | {row["student"] for row in roster or []}
        maxima = gb.assignments()
        names = [a for a in _in_play(course, maxima if pairs is None else {a for _, a in pairs}, now)
                 if keep_a is None or a in keep_a]
        for student in class_ids:
            for name in names:
                if (student, name) not in out:
                    rec = missing_record(student, name, maxima.get(name, DEFAULT_MAX))
                    out[(student, name)] = apply_course(rec, course, adjustments.get((student, name), ()))
    order = {n: i for i, n in enumerate(assignment_names())}
    rows = [r for r in out.values() if (keep_s is None or r.student in keep_s)
            and (keep_a is None or r.assignment in keep_a)]
    return sorted(rows, key=lambda r: (r.student, order.get(r.assignment, 99), r.assignment))


def final_grades(db: Path, course: Course | None = None, **kwargs: object) -> list[GradeRecord]:
    """`standings` of the gradebook at `db` (which must exist)."""
    with Gradebook(db, create=False) as gb:
        return standings(gb, course, **kwargs)  # type: ignore[arg-type]


def counted(records: Iterable[GradeRecord]) -> list[GradeRecord]:
    """The records that count towards totals: excused ones count neither points nor maximum."""
    return [r for r in records if r.status != "excused"]
