"""The class roster: who should hand in, so that a student who never did shows as missing.

A roster is a list of ids in course.toml (`roster = ["ada", "ben"]`) or a CSV file
(`roster = "roster.csv"`) with a header row. Its `student` column (or `id`) holds the
dlgrade id, the folder name of the student's submissions. Optional columns are kept
for exports: `name`, `canvas_id`, `sis_user_id`, `sis_login_id`, `section`.
"""

from __future__ import annotations

import csv
from pathlib import Path

from grader.course import Course
from grader.errors import UserError
from grader.grading.submission import STUDENT_ID

ID_COLUMNS = ("student", "id", "student_id", "login")
KEPT_COLUMNS = ("name", "canvas_id", "sis_user_id", "sis_login_id", "section")


def roster_students(course: Course | None) -> list[dict[str, str]] | None:
    """The course's roster (each entry has at least `student`), or None when it has none."""
    if course is None or course.roster is None:
        return None
    if course.roster_file is not None:
        return read_roster(course.roster_file)
    return [{"student": s} for s in course.roster]


def read_roster(path: Path) -> list[dict[str, str]]:
    """Each row as {student, and any of KEPT_COLUMNS}; a UserError naming the file otherwise."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise UserError(f"roster {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"cannot read roster {path}: {exc}") from None
    reader = csv.DictReader(text.splitlines())
    header = [h.strip().lower() for h in reader.fieldnames or []]
    id_column = next((c for c in ID_COLUMNS if c in header), None)
    if id_column is None:
        raise UserError(f"roster {path}: no 'student' column in the header "
                        f"(found: {', '.join(header) or 'nothing'})")
    rows, seen = [], set()
    for line, raw in enumerate(reader, start=2):
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in raw.items() if isinstance(v, str)}
        student = row.get(id_column, "")
        if not student:
            continue
        if not STUDENT_ID.fullmatch(student):
            raise UserError(f"roster {path} line {line}: {student!r} is not a valid student id")
        if student in seen:
            raise UserError(f"roster {path} line {line}: {student!r} is listed twice")
        seen.add(student)
        rows.append({"student": student} | {k: row[k] for k in KEPT_COLUMNS if row.get(k)})
    return rows
