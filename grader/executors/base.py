"""The one interface every executor offers the batch driver."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from grader.grading.results import Report
from grader.grading.submission import SourceFile

if TYPE_CHECKING:
    from grader.classroom.batch import Submission


class InfrastructureError(RuntimeError):
    """The grading machinery failed (a worker, a transfer, a sandbox): never the student's fault.

    Raised on a worker, it makes the cluster retry the task; seen by the driver, it is
    recorded as a failure to grade, and the submission is graded again on the next run.
    """


class GradesFiles(Protocol):
    """What grades one submission already read (grader.grading.grader.Grader, a test's fake)."""

    def grade(self, file: SourceFile, assignment: str | None = None,
              student: str | None = None) -> Report: ...


@dataclass
class Done:
    """One submission's end: its report, or why the grader could not grade it."""

    submission: Submission
    report: Report | None = None
    error: str | None = None
    where: str | None = None  # the worker that ran it (local://HOST for this machine)


class Executor(Protocol):
    """Grades submissions somewhere and hands each result back as soon as it is there.

    `grade` yields exactly one `Done` per submission, in completion order; a submission
    that could not be read (`file` None) comes back at once with its `problem` as the
    error. Closing the generator early (Ctrl-C) cancels what has not finished; `close`
    releases the rest.
    """

    name: str

    def grade(self, todo: Sequence[Submission]) -> Iterator[Done]: ...

    def close(self) -> None: ...
