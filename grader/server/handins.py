"""`dlgrade collect`: hand-ins with trustworthy times from a shared exchange folder.

It fills a private data folder, as `dlgrade serve` does (grader.classroom.receipts), with
the collection time as each receipt's time: grade-batch then reads those times, never a
student's `manifest.json` or a file's mtime.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from grader.catalog import assignment_names, get_assignment
from grader.classroom.receipts import SubmissionStore, utc_now
from grader.errors import UserError
from grader.grading.intake import Found, Refusal, scan_exchange
from grader.grading.submission import STUDENT_ID, SUFFIXES
from grader.server.checks import MAX_UPLOAD_BYTES


@dataclass
class Collected:
    taken: list[tuple[str, str]] = field(default_factory=list)  # (student, assignment), new
    unchanged: int = 0  # already collected, same bytes
    refused: list[str] = field(default_factory=list)  # one line each


def collect(exchange: Path, data_dir: Path, assignments: Sequence[str] | None = None,
            now: datetime | None = None) -> Collected:
    """Copy each student's files from a shared exchange into `data_dir`, stamped now.

    The collection time is this machine's clock at the time of collection. A file already
    collected with the same bytes keeps its earlier stamp, so collecting again (say, every
    ten minutes before the deadline) never makes anybody later.
    """
    if not Path(exchange).is_dir():
        raise UserError(f"no such folder: {exchange}")
    names = [get_assignment(a).name for a in assignments] if assignments else assignment_names()
    wanted = {f"{a}{s}": a for a in names for s in SUFFIXES}
    store = SubmissionStore(data_dir)
    when = now or utc_now()
    result = Collected()
    for item in scan_exchange(Path(exchange), wanted, MAX_UPLOAD_BYTES,
                              is_student=lambda s: bool(STUDENT_ID.fullmatch(s))):
        if isinstance(item, Refusal):
            result.refused.append(item.message)
            continue
        assert isinstance(item, Found)
        assignment, suffix = wanted[item.name], Path(item.name).suffix
        # a file that does not parse is still collected: grading gives it its failed cases
        _, duplicate = store.accept(item.student, assignment, suffix, item.data, source="collect",
                                    now=when)
        if duplicate:
            result.unchanged += 1
        else:
            result.taken.append((item.student, assignment))
    return result
