"""An instructor's adjustments of one grade: override the points, extend the due date, excuse.

Each is a row of the gradebook's `adjustments` table with who made it, when and why; none
touches the graded submission itself. Reverting one marks it reverted (by whom, when)
and keeps it, so the history stays readable and a revert can be traced. The latest
active adjustment of a kind wins. grader.classroom.standing applies them whenever grades are read.

Plain functions taking the gradebook's path, so a command line and a web dashboard call
the same code.
"""

from __future__ import annotations

import getpass
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time, timezone, tzinfo
from pathlib import Path
from typing import Literal

from grader.catalog import get_assignment
from grader.classroom.gradebook import Gradebook
from grader.classroom.handin import iso_utc, utc_now
from grader.errors import UserError
from grader.grading.submission import check_student_id

Kind = Literal["override", "extend", "excuse"]
KINDS: tuple[str, ...] = ("override", "extend", "excuse")


@dataclass(frozen=True)
class Adjustment:
    id: int
    student: str
    assignment: str
    kind: str
    points: float | None
    until: str | None  # ISO UTC
    reason: str
    made_by: str
    made_at: str
    reverted_by: str | None = None
    reverted_at: str | None = None

    @property
    def active(self) -> bool:
        return self.reverted_at is None

    def describe(self, shown: Callable[[str | None], str] | None = None) -> str:
        """'override to 90 points: why'; times through `shown` (e.g. Course.show_time)."""
        until = shown(self.until) if shown else self.until
        what = {"override": f"override to {self.points:g} points" if self.points is not None else "override",
                "extend": f"extension until {until}", "excuse": "excused"}.get(self.kind, self.kind)
        return f"{what}: {self.reason}" if self.reason else what

    def as_dict(self) -> dict[str, object]:
        return dict(self.__dict__)


def current_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry, no LOGNAME
        return "unknown"


def parse_when(text: str, zone: tzinfo = timezone.utc) -> datetime:
    """An ISO date-time or date (a date: the end of that day); no zone means `zone`."""
    try:
        if "T" in text or " " in text.strip():
            when = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
        else:
            when = datetime.combine(datetime.fromisoformat(text.strip()).date(), time(23, 59, 59))
    except ValueError:
        raise UserError(f"not a date or date-time: {text!r} (like 2025-03-20 or 2025-03-20T23:59+09:00)") from None
    return when if when.tzinfo else when.replace(tzinfo=zone)


def _row(row: object) -> Adjustment:
    keys = Adjustment.__dataclass_fields__
    return Adjustment(**{k: row[k] for k in keys})  # type: ignore[index]


def _add(db: Path, student: str, assignment: str, kind: str, *, points: float | None = None,
         until: datetime | None = None, reason: str, by: str | None) -> Adjustment:
    get_assignment(assignment)
    check_student_id(student)
    reason = " ".join(reason.split())
    if not reason:
        raise UserError(f"say why with --reason (it is recorded with the {kind})")
    with Gradebook(db, create=False) as gb, gb.write() as c:
        cur = c.execute(
            "INSERT INTO adjustments(student, assignment, kind, points, until, reason, made_by, made_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (student, assignment, kind, points, iso_utc(until) if until else None, reason,
             by or current_user(), iso_utc(utc_now())))
        row = c.execute("SELECT * FROM adjustments WHERE id = ?", (cur.lastrowid,)).fetchone()
    return _row(row)


def max_points(db: Path, assignment: str) -> float:
    """The assignment's maximum as graded, or 100 (every assignment's total) before any grading."""
    with Gradebook(db, create=False) as gb:
        return gb.assignments().get(assignment, 100.0)


def override(db: Path, student: str, assignment: str, points: float, *, reason: str,
             by: str | None = None) -> Adjustment:
    """Replace the computed score of (student, assignment) with `points` (late penalty included)."""
    top = max_points(db, assignment)
    if not 0 <= points <= top:
        raise UserError(f"points must be between 0 and {top:g} for {assignment} (got {points:g})")
    return _add(db, student, assignment, "override", points=float(points), reason=reason, by=by)


def extend(db: Path, student: str, assignment: str, until: datetime, *, reason: str,
           by: str | None = None) -> Adjustment:
    """A due date of this student's own; late days are then counted from `until`."""
    if until.tzinfo is None:
        raise UserError("an extension needs a time zone (parse it with parse_when)")
    return _add(db, student, assignment, "extend", until=until, reason=reason, by=by)


def excuse(db: Path, student: str, assignment: str, *, reason: str, by: str | None = None) -> Adjustment:
    """Leave the assignment out of this student's total (neither points nor maximum)."""
    return _add(db, student, assignment, "excuse", reason=reason, by=by)


def revert(db: Path, adjustment_id: int, *, by: str | None = None) -> Adjustment:
    """Mark one adjustment reverted; the grade is computed as if it had never been made."""
    with Gradebook(db, create=False) as gb, gb.write() as c:
        row = c.execute("SELECT * FROM adjustments WHERE id = ?", (adjustment_id,)).fetchone()
        if row is None:
            raise UserError(f"no adjustment {adjustment_id} in {db} (see: dlgrade gradebook adjustments)")
        if row["reverted_at"] is not None:
            raise UserError(f"adjustment {adjustment_id} was already reverted by {row['reverted_by']} "
                            f"at {row['reverted_at']}")
        c.execute("UPDATE adjustments SET reverted_by = ?, reverted_at = ? WHERE id = ?",
                  (by or current_user(), iso_utc(utc_now()), adjustment_id))
        row = c.execute("SELECT * FROM adjustments WHERE id = ?", (adjustment_id,)).fetchone()
    return _row(row)


def undo(db: Path, student: str, assignment: str, kind: str, *, by: str | None = None) -> Adjustment:
    """Revert the latest active adjustment of `kind` for (student, assignment)."""
    latest = [a for a in list_adjustments(db, student=student)
              if a.assignment == assignment and a.kind == kind and a.active]
    if not latest:
        raise UserError(f"{student} has no active {kind} for {assignment} to undo")
    return revert(db, latest[-1].id, by=by)


def list_adjustments(db: Path, *, student: str | None = None) -> list[Adjustment]:
    """Every adjustment, reverted ones too, oldest first."""
    with Gradebook(db, create=False) as gb:
        return read_adjustments(gb, student=student)


def read_adjustments(gb: Gradebook, *, student: str | None = None) -> list[Adjustment]:
    sql = "SELECT * FROM adjustments" + (" WHERE student = ?" if student else "") + " ORDER BY id"
    return [_row(r) for r in gb.conn.execute(sql, (student,) if student else ())]
