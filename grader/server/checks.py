"""What the server checks about a hand-in before keeping it, and what it says about time.

A hand-in must parse as Python (`ast.parse`: the code is never imported or run here), or
be a Jupyter notebook nbformat reads whose code cells parse. Its lateness is judged on the
server's clock under the course's late policy.
"""

from __future__ import annotations

import ast
import re
from datetime import datetime
from pathlib import PurePosixPath
from typing import Any

from grader.classroom.late import assess
from grader.classroom.receipts import iso
from grader.course import Course
from grader.grading.submission import MAX_SOURCE_BYTES, SUFFIXES

MAX_UPLOAD_BYTES = MAX_SOURCE_BYTES
PLAIN_NAME = re.compile(r"[A-Za-z0-9_.-]{1,128}")


class Refused(ValueError):
    """A hand-in that is not kept; the message is one line for the student."""

    def __init__(self, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.status = status


def suffix_of(filename: str) -> str:
    """The suffix of the student's file name; the name itself is never used as a path."""
    if not PLAIN_NAME.fullmatch(filename) or filename.startswith(".") or ".." in filename:
        raise Refused(f"file name {filename!r} must be a plain name like losses.py "
                      "(letters, digits, . _ -; no folders)", 400)
    suffix = PurePosixPath(filename).suffix
    if suffix not in SUFFIXES:
        raise Refused(f"{filename}: a hand-in is a {' or '.join(SUFFIXES)} file", 415)
    return suffix


def check_parses(data: bytes, suffix: str, label: str) -> None:
    """Refuse what is not Python (or a notebook of Python); parse only."""
    source: bytes | str = data
    if suffix == ".ipynb":
        from grader.grading.notebook import NotebookError, notebook_to_source

        try:
            source, _ = notebook_to_source(data.decode("utf-8"))
        except UnicodeDecodeError:
            raise Refused(f"{label} is not a Jupyter notebook: the file is not UTF-8 text") from None
        except NotebookError as exc:
            raise Refused(f"{label}: {exc}") from None
    elif b"\0" in data:
        raise Refused(f"{label} is not Python source: it contains NUL bytes (a binary file?)")
    try:
        ast.parse(source, filename=label)
    except SyntaxError as exc:
        where = f" (line {exc.lineno})" if exc.lineno else ""
        raise Refused(f"{label} is not valid Python{where}: {exc.msg}") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise Refused(f"{label} is not valid Python: {exc}") from None
    except (RecursionError, MemoryError):
        raise Refused(f"{label} is nested too deeply to parse") from None


def lateness(course: Course | None, assignment: str, when: datetime) -> dict[str, Any]:
    """On time or late by how much, under the course's policy, for a receipt."""
    due = course.due_date(assignment) if course else None
    if due is None:
        return {"due": None, "late": False, "late_by_seconds": 0, "late_days": 0,
                "penalty_percent": 0.0, "summary": "no due date"}
    judged = assess(100.0, when, due, course.late_policy)  # type: ignore[union-attr]
    over = max(0.0, (when - due).total_seconds())
    if judged.late:
        summary = (f"late by {_duration(over)}: {judged.days} late day(s), "
                   f"-{judged.percent:g} % under the late policy")
    elif over > 0:
        summary = f"on time (within the grace period; {_duration(over)} after the due time)"
    else:
        summary = f"on time ({_duration(-(when - due).total_seconds())} before the due time)"
    return {"due": iso(due), "late": judged.late, "late_by_seconds": round(over, 3),
            "late_days": judged.days, "penalty_percent": judged.percent, "summary": summary}


def _duration(seconds: float) -> str:
    seconds = int(abs(seconds))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{days} d"] * bool(days) + [f"{hours} h"] * bool(hours) + [f"{minutes} min"] * bool(minutes)
    return " ".join(parts[:2]) if parts else f"{secs} s"
