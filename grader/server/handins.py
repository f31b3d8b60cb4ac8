"""Hand-ins with trustworthy times, for grading: from the server's receipts, or collected.

`iter_handins(data)` yields (student, assignment, path, time) of each current hand-in in a
data folder: `dlgrade serve`'s, or the private area `dlgrade collect` fills from a shared
exchange folder. The time is always a receipt's, stamped by the machine that took the
file in; a student's `manifest.json` or a file's mtime never decides lateness.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from grader.catalog import assignment_names, get_assignment
from grader.errors import UserError
from grader.intake import Found, Refusal, scan_exchange
from grader.server.checks import MAX_UPLOAD_BYTES
from grader.server.store import RECEIPTS, SubmissionStore, utc_now
from grader.submission import SUFFIXES
from grader.submit import STUDENT_ID


def is_data_folder(path: Path) -> bool:
    return (Path(path) / RECEIPTS).is_file()


def iter_handins(data_dir: Path, assignments: Sequence[str] | None = None
                 ) -> Iterator[tuple[str, str, Path, datetime]]:
    """(student, assignment, path, receipt time) of each current hand-in, sorted."""
    if not is_data_folder(data_dir):
        raise UserError(f"{data_dir} holds no {RECEIPTS}: not a dlgrade serve or collect data folder")
    wanted = set(assignments or assignment_names())
    store = SubmissionStore(data_dir)
    for (student, assignment), receipt in sorted(store.latest().items()):
        if assignment in wanted:
            yield student, assignment, store.path_of(receipt), receipt.time


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
