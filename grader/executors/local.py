"""`--executor local`: worker threads on this machine sharing one warm Grader.

The Grader's `grade` is thread-safe (each call forks its own sandboxed child), so the
threads only wait; `jobs` of them keep `jobs` children busy.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from typing import TYPE_CHECKING

from grader.errors import UserError
from grader.executors.base import Done, GradesFiles
from grader.grading.results import Report

if TYPE_CHECKING:
    from grader.classroom.batch import Submission


def _grade_one(grader: GradesFiles, sub: Submission) -> Report:
    if sub.file is None:
        raise RuntimeError(sub.problem)
    return grader.grade(sub.file, sub.assignment, sub.student)


class LocalExecutor:
    """`make_grader` is called only when there is something to grade (a warm start costs
    seconds); the grader is closed by `close` when it has a `close`."""

    name = "local"

    def __init__(self, make_grader: Callable[[], GradesFiles], jobs: int = 1) -> None:
        if jobs < 1:
            raise UserError(f"--jobs must be at least 1 (got {jobs})")
        self.make_grader = make_grader
        self.jobs = jobs
        self.where = f"local://{socket.gethostname()}"
        self._grader: GradesFiles | None = None
        self._pool: ThreadPoolExecutor | None = None

    def grade(self, todo: Sequence[Submission]) -> Iterator[Done]:
        if not todo:
            return
        self._grader = self.make_grader()
        self._pool = ThreadPoolExecutor(max_workers=self.jobs, thread_name_prefix="grade")
        futures: dict[Future[Report], Submission] = {
            self._pool.submit(_grade_one, self._grader, sub): sub for sub in todo}
        for fut in as_completed(futures):
            sub = futures.pop(fut)
            try:
                report = fut.result()
            except Exception as exc:  # a grader failure on one submission must not stop the class
                yield Done(sub, error=sub.problem or f"{type(exc).__name__}: {exc}",
                           where=self.where)
            else:
                yield Done(sub, report=report, where=self.where)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
        close = getattr(self._grader, "close", None)
        if close is not None:
            close()  # kills the sandboxed children still running after an interrupt
        self._grader = None
